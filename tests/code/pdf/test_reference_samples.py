"""Extraction on the public reference PDFs: every file gives a document or PdfError, the known
failure cases fail cleanly, and field accuracy on the invoice2data samples is scored against
their expected-output JSON."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from features.pdf import extract_pdf
from training.invoices.scoring import normalise_text
from workflow.errors import PdfError

pytestmark = pytest.mark.shared_data

SAMPLES_ACCURACY_FLOOR = 0.6
# invoice2data key -> (our field, how to compare)
TRUTH_FIELDS = {
    "issuer": ("vendor", "text_contains"),
    "invoice_number": ("invoice_number", "text"),
    "date": ("invoice_date", "date"),
    "date_due": ("due_date", "date"),
    "amount": ("total", "amount"),
    "amount_untaxed": ("subtotal", "amount"),
    "amount_tax": ("tax", "amount"),
    "currency": ("currency", "text"),
}


def _correct(kind: str, expected, found) -> bool:
    if found is None:
        return False
    if kind == "amount":
        return found.amount is not None and found.amount == Decimal(str(expected))
    if kind == "date":
        return found.date == dt.date.fromisoformat(expected)
    if kind == "text_contains":
        value, truth = normalise_text(found.value), normalise_text(expected)
        return bool(value) and (value in truth or truth in value)
    return normalise_text(found.value) == normalise_text(expected)


def test_every_sample_reads_or_raises_pdf_error(shared_pdfs):
    outcomes = {}
    for path in sorted(shared_pdfs.glob("*/*.pdf")):
        try:
            doc = extract_pdf(path)
        except PdfError:
            outcomes[path.name] = "PdfError"
            continue
        outcomes[path.name] = doc.kind
    assert outcomes["empty.pdf"] == "PdfError"
    assert outcomes["password-example.pdf"] == "PdfError"
    assert len(outcomes) == len(list(shared_pdfs.glob("*/*.pdf")))


@pytest.mark.parametrize("name", [
    "Azure-Samples__cognitive-services-REST-api-samples/invoice_sample_jpg_as_pdf.pdf",
    "IBM__Medical-Claims-Application-for-Datacap/ProfB_01.pdf",
    "IBM__Medical-Claims-Application-for-Datacap/InstB_01.pdf",
    "jsvine__pdfplumber/issue-192-example.pdf",
    "jsvine__pdfplumber/malformed-from-issue-932.pdf",
    "placerda__claim-preprocessing/nucc-claim-form.pdf",
])
def test_unreadable_pages_become_findings(shared_pdfs, name):
    doc = extract_pdf(shared_pdfs / name)
    assert [f.code for f in doc.findings if f.code == "pdf.no_text_layer"] == ["pdf.no_text_layer"]


def test_text_layer_is_judged_per_page(shared_pdfs):
    doc = extract_pdf(shared_pdfs / "rahul370139__doc2data/cms1500_blank.pdf")
    assert [page.has_text_layer for page in doc.pages] == [False, True]
    assert doc.kind == "claim_form"


def test_rotated_pages_are_read_without_error(shared_pdfs):
    for name in ("nics-background-checks-2015-11-rotated.pdf", "issue-140-example.pdf", "senate-expenditures.pdf"):
        doc = extract_pdf(shared_pdfs / "jsvine__pdfplumber" / name)
        assert doc.pages[0].rotation in (0, 90, 270)
        assert doc.pages[0].has_text_layer is True


def test_ruled_invoice_line_items_are_exact(shared_pdfs):
    doc = extract_pdf(shared_pdfs / "Azure-Samples__cognitive-services-REST-api-samples/invoice-logic-apps-tutorial.pdf")
    rows = [(r["description"].value, r["quantity"].amount, r["amount"].amount) for r in doc.line_items]
    assert rows == [("Consulting Services", Decimal("2"), Decimal("60.00")),
                    ("Document Fee", Decimal("3"), Decimal("30.00")),
                    ("Printing Fee", Decimal("10"), Decimal("10.00"))]
    assert doc.fields["po_number"].value == "PO-3333"


def test_multipage_line_items_continue(shared_pdfs):
    doc = extract_pdf(shared_pdfs / "invoice-x__invoice2data/QualityHosting.pdf")
    assert len(doc.line_items) == 7
    assert doc.line_items[-1]["amount"].page == 2
    assert sum(r["amount"].amount for r in doc.line_items) == doc.fields["total"].amount


def test_eob_claim_rows_are_read(shared_pdfs):
    doc = extract_pdf(shared_pdfs / "LuLu1016__clearbill-ai/sample_eob.pdf")
    assert doc.kind == "remittance_advice"
    assert len(doc.claims) == 6
    assert doc.claims[-1]["paid"].amount == Decimal("0.00")


def test_label_value_eob_gives_one_claim(shared_pdfs):
    doc = extract_pdf(shared_pdfs / "palsure__claimsphere-ai/insurance_eob_sample.pdf")
    (claim,) = doc.claims
    assert claim["paid"].amount == Decimal("160.00")
    assert claim["patient_responsibility"].amount == Decimal("90.00")


def test_invoice2data_field_accuracy(shared_pdfs):
    folder = shared_pdfs / "invoice-x__invoice2data"
    correct = total = 0
    misses = []
    for truth_path in sorted(folder.glob("*.json")):
        (truth,) = json.loads(truth_path.read_text(encoding="utf-8"))
        doc = extract_pdf(truth_path.with_suffix(".pdf"))
        for key, (name, kind) in TRUTH_FIELDS.items():
            if key not in truth:
                continue
            total += 1
            if _correct(kind, truth[key], doc.fields.get(name)):
                correct += 1
            else:
                found = doc.fields.get(name)
                misses.append(f"{truth_path.stem}.{name}: expected {truth[key]!r}, found {found.value if found else None!r}")
    accuracy = correct / total
    print(f"invoice2data samples: {correct}/{total} fields correct ({accuracy:.1%})")
    print("\n".join(misses))
    assert accuracy >= SAMPLES_ACCURACY_FLOOR
