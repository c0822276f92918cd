"""Remittance advice tables: per-claim amounts and the adjustment codes of each row."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from fpdf import FPDF

from features.pdf import extract_pdf
from features.pdf.tables import _code_list

COLUMNS = (("Claim #", 50), ("Billed", 150), ("Allowed", 220), ("Paid", 290), ("Patient Resp.", 350), ("Reason Codes", 440))
ROWS = (
    ("ACCT-1001", "250.00", "180.00", "144.00", "36.00", "CO-45 PR-2"),
    ("ACCT-1002", "90.00", "0.00", "0.00", "0.00", "CO-197 N290"),
)


def _remittance_pdf(path: Path) -> Path:
    pdf = FPDF(unit="pt")
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    pdf.set_xy(50, 40)
    pdf.cell(300, 14, "Provider Remittance Advice - Fake Health Plan")
    for (title, x) in COLUMNS:
        pdf.set_xy(x, 80)
        pdf.cell(80, 14, title)
    for number, row in enumerate(ROWS):
        for (_, x), value in zip(COLUMNS, row, strict=True):
            pdf.set_xy(x, 100 + 16 * number)
            pdf.cell(80, 14, value)
    pdf.output(str(path))
    return path


def test_remittance_rows_carry_adjustment_codes(tmp_path):
    document = extract_pdf(_remittance_pdf(tmp_path / "advice.pdf"))

    assert document.kind == "remittance_advice"
    assert [c["claim_number"].value for c in document.claims] == ["ACCT-1001", "ACCT-1002"]
    assert document.claims[0]["paid"].amount == Decimal("144.00")
    assert document.claims[0]["adjustment_codes"].value == "CO-45, PR-2"
    assert document.claims[1]["adjustment_codes"].value == "CO-197, N290"


def test_free_text_notes_yield_no_codes():
    assert _code_list("duplicate of prior line item") == []


def test_bare_reason_code_cell_is_a_code():
    assert _code_list("45") == ["45"]
