"""Files that cannot be read raise PdfError; pages that cannot be read become findings."""

import pytest
from fpdf import FPDF

from features.pdf import extract_pdf
from tests.code.pdf.conftest import image_only_pdf, text_pdf
from workflow.errors import PdfError


def test_empty_file_raises_pdf_error(tmp_path):
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    with pytest.raises(PdfError, match="empty.pdf.*empty"):
        extract_pdf(path)


def test_missing_file_raises_pdf_error(tmp_path):
    with pytest.raises(PdfError, match="not found"):
        extract_pdf(tmp_path / "nothing.pdf")


def test_non_pdf_bytes_raise_pdf_error(tmp_path):
    path = tmp_path / "letter.pdf"
    path.write_bytes(b"Dear supplier, this is not a PDF at all.\n" * 20)
    with pytest.raises(PdfError, match="letter.pdf.*not a readable PDF"):
        extract_pdf(path)


def test_truncated_pdf_never_escapes_other_errors(tmp_path):
    whole = text_pdf(tmp_path / "whole.pdf", ["Invoice No: 123", "Total 10.00"]).read_bytes()
    for cut in (10, len(whole) // 3, len(whole) // 2, len(whole) - 40):
        path = tmp_path / f"cut_{cut}.pdf"
        path.write_bytes(whole[:cut])
        try:
            extract_pdf(path)
        except PdfError:
            pass


def test_encrypted_pdf_asks_for_unprotected_copy(tmp_path):
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(100, 10, "Invoice No: 77")
    pdf.set_encryption(owner_password="owner", user_password="user")
    path = tmp_path / "locked.pdf"
    pdf.output(str(path))
    with pytest.raises(PdfError, match="locked.pdf.*encrypted"):
        extract_pdf(path)


def test_image_only_page_becomes_finding(tmp_path):
    doc = extract_pdf(image_only_pdf(tmp_path / "scan.pdf"))
    (finding,) = [f for f in doc.findings if f.code == "pdf.no_text_layer"]
    assert finding.source.page == 1
    assert "OCR" in finding.message
    assert doc.pages[0].has_text_layer is False


def test_garbled_text_becomes_finding(tmp_path):
    # A scrambled font mapping turns every glyph into one of a few letters.
    lines = ["Agaaaaa: AAAA AAA/Aaabaaab 77-2A8A-2076 aaaab abba"] * 12
    doc = extract_pdf(text_pdf(tmp_path / "garbled.pdf", lines))
    assert doc.pages[0].garbled is True
    assert [f.code for f in doc.findings] == ["pdf.no_text_layer"]


def test_readable_text_is_not_garbled(tmp_path):
    doc = extract_pdf(text_pdf(tmp_path / "fine.pdf", ["Invoice No: INV-1", "Invoice Date: 2026-03-04",
                                                        "Total: $12.50"]))
    assert doc.pages[0].usable is True
    assert doc.fields["invoice_number"].value == "INV-1"


def test_arithmetic_mismatch_lowers_confidence(tmp_path):
    lines = ["Acme Test Supplies Inc", "Invoice No: T-100", "Invoice Date: 03/04/2026",
             "Subtotal: $100.00", "Tax: $8.00", "Total: $110.00"]
    doc = extract_pdf(text_pdf(tmp_path / "wrong_total.pdf", lines))
    (finding,) = [f for f in doc.findings if f.code == "pdf.arithmetic_mismatch"]
    assert finding.expected == "108.00"
    assert finding.value == "110.00"
    assert doc.fields["total"].confidence < 0.6
