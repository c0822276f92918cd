"""End to end on generated invoices: extract, convert, match, and compare with the injected truth."""

import json
from collections import defaultdict

import pytest

from features.pdf import extract_pdf
from tests.code.pdf.conftest import image_only_pdf, text_pdf
from training.invoices import generate_invoices
from training.invoices.generator import truth_path
from workflow.invoices import (MatchTolerances, detect_invoice_exceptions, exceptions_from_extraction,
                               invoice_from_extracted, load_purchase_orders, load_receipts, load_vendors)


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    out = tmp_path_factory.mktemp("flow")
    paths = generate_invoices(out, count=16, seed=23)
    docs = [extract_pdf(path) for path in paths]
    truths = {doc.document_id: json.loads(truth_path(path).read_text()) for doc, path in zip(docs, paths)}
    exceptions = detect_invoice_exceptions(
        [invoice_from_extracted(doc) for doc in docs], load_purchase_orders(out / "purchase_orders.csv"),
        load_receipts(out / "receipts.csv"), load_vendors(out / "vendors.csv"), tolerances=MatchTolerances())
    return truths, exceptions


def test_injected_discrepancies_are_found(flow):
    truths, exceptions = flow
    found = defaultdict(set)
    for exception in exceptions:
        found[exception.document_id].add(exception.code)
    for document_id, truth in truths.items():
        assert found[document_id] == set(truth["expected_codes"]), truth["invoice_number"]


def test_every_exception_carries_amount_at_risk(flow):
    _, exceptions = flow
    assert all(exception.amount_at_risk > 0 for exception in exceptions)


def test_invoice_from_extracted_keeps_positions(flow, tmp_path):
    path = generate_invoices(tmp_path, count=1, seed=1)[0]
    invoice = invoice_from_extracted(extract_pdf(path))
    assert invoice.lines[0].page == 1
    assert invoice.lines[0].bbox is not None
    assert invoice.total == sum(line.amount for line in invoice.lines) + invoice.tax


def test_image_only_page_becomes_extraction_exception(tmp_path):
    (exception,) = exceptions_from_extraction(extract_pdf(image_only_pdf(tmp_path / "scan.pdf")))
    assert exception.kind == "extraction"
    assert exception.code == "pdf.no_text_layer"
    assert exception.evidence["page"] == 1


def test_arithmetic_mismatch_becomes_extraction_exception(tmp_path):
    lines = ["Acme Test Supplies Inc", "Invoice No: T-100", "Invoice Date: 03/04/2026",
             "Subtotal: $100.00", "Tax: $8.00", "Total: $110.00"]
    exceptions = exceptions_from_extraction(extract_pdf(text_pdf(tmp_path / "sum.pdf", lines)))
    (mismatch,) = [e for e in exceptions if e.code == "pdf.arithmetic_mismatch"]
    assert mismatch.amount_at_risk == 2
    assert mismatch.evidence["expected"] == "108.00"


def test_missing_required_field_is_low_confidence(tmp_path):
    doc = extract_pdf(text_pdf(tmp_path / "bare.pdf", ["Acme Test Supplies Inc", "Invoice", "Total: $5.00"]))
    codes = {(e.code, e.evidence["field"]) for e in exceptions_from_extraction(doc)}
    assert ("pdf.low_confidence", "invoice_number") in codes
