import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from workflow.invoices import (GoodsReceipt, Invoice, InvoiceLine, MatchTolerances, PurchaseOrder, PurchaseOrderLine,
                               ReceiptLine, Vendor, detect_invoice_exceptions, normalise_invoice_number)
from workflow.records import Source

VENDORS = [Vendor("V1", "Northwind Medical Supply Co.", aliases=("NW Medical",))]
ORDER = PurchaseOrder("PO-100", "V1", "USD", dt.date(2026, 3, 1), (
    PurchaseOrderLine(1, "GLV-100", "Nitrile exam gloves, size M", Decimal("10"), Decimal("8.40")),
    PurchaseOrderLine(2, "MSK-010", "Surgical face masks", Decimal("5"), Decimal("6.75")),
))
RECEIPT = GoodsReceipt("GR-1", "PO-100", dt.date(2026, 3, 5), (ReceiptLine(1, Decimal("10")), ReceiptLine(2, Decimal("5"))))
TODAY = dt.date(2026, 3, 20)


def _invoice(**changes) -> Invoice:
    invoice = Invoice(
        vendor_id=None, vendor_name="Northwind Medical Supply Co", invoice_number="NW-000123",
        invoice_date=dt.date(2026, 3, 10), due_date=dt.date(2026, 4, 9), po_number="PO-100", currency="USD",
        lines=(InvoiceLine(1, "GLV-100 Nitrile exam gloves, size M", Decimal("10"), Decimal("8.40"), Decimal("84.00"),
                           page=1, bbox=(50.0, 200.0, 300.0, 214.0)),
               InvoiceLine(2, "MSK-010 Surgical face masks", Decimal("5"), Decimal("6.75"), Decimal("33.75"))),
        subtotal=Decimal("117.75"), tax=Decimal("0"), total=Decimal("117.75"),
        source=Source(file="nw.pdf", document_id="doc-1", page=1),
    )
    return replace(invoice, **changes)


def _codes(invoices, tolerances=MatchTolerances(), history=()):
    found = detect_invoice_exceptions(invoices, [ORDER], [RECEIPT], VENDORS, tolerances=tolerances,
                                      history=history, detected_on=TODAY)
    return [e.code for e in found], found


def test_clean_invoice_has_no_exceptions():
    assert _codes([_invoice()])[0] == []


def test_price_over_po_beyond_tolerance():
    line = replace(_invoice().lines[0], unit_price=Decimal("9.00"))
    codes, found = _codes([_invoice(lines=(line, _invoice().lines[1]))])
    assert codes == ["invoice.price_over_po"]
    assert found[0].amount_at_risk == Decimal("6.00")
    assert found[0].evidence["expected"] == "8.40"
    assert found[0].evidence["bbox"] == [50.0, 200.0, 300.0, 214.0]


def test_price_within_percent_tolerance_passes():
    line = replace(_invoice().lines[0], unit_price=Decimal("8.50"))
    assert _codes([_invoice(lines=(line,))], MatchTolerances(price_pct=Decimal("2")))[0] == []


def test_price_within_absolute_tolerance_passes():
    line = replace(_invoice().lines[0], unit_price=Decimal("8.90"))
    tolerances = MatchTolerances(price_pct=Decimal("0"), price_abs=Decimal("0.50"))
    assert _codes([_invoice(lines=(line,))], tolerances)[0] == []


def test_quantity_over_received():
    line = replace(_invoice().lines[1], quantity=Decimal("8"))
    codes, found = _codes([_invoice(lines=(_invoice().lines[0], line))])
    assert codes == ["invoice.qty_over_received"]
    assert found[0].amount_at_risk == Decimal("20.25")


def test_quantity_tolerance_allows_small_excess():
    line = replace(_invoice().lines[0], quantity=Decimal("11"))
    assert _codes([_invoice(lines=(line,))], MatchTolerances(qty_pct=Decimal("10")))[0] == []


def test_missing_po_flags_whole_total():
    codes, found = _codes([_invoice(po_number="PO-999")])
    assert codes == ["invoice.missing_po"]
    assert found[0].amount_at_risk == Decimal("117.75")


def test_invoice_without_po_number_is_missing_po():
    assert _codes([_invoice(po_number=None)])[0] == ["invoice.missing_po"]


def test_unknown_vendor_is_flagged():
    assert _codes([_invoice(vendor_name="Quillfeather Linen Services LLC")])[0][0] == "invoice.unknown_vendor"


def test_vendor_alias_is_recognised():
    assert _codes([_invoice(vendor_name="NW Medical")])[0] == []


def test_line_not_on_po_is_flagged():
    extra = InvoiceLine(3, "Rental of a helicopter", Decimal("1"), Decimal("500"), Decimal("500"))
    assert _codes([_invoice(lines=(*_invoice().lines, extra))])[0] == ["invoice.line_not_on_po"]


@pytest.mark.parametrize(("first", "second"), [("NW-000123", "nw123"), ("INV 0042", "inv-42"), ("A.B/7", "ab7")])
def test_invoice_numbers_normalise_alike(first, second):
    assert normalise_invoice_number(first) == normalise_invoice_number(second)


def test_duplicate_by_rewritten_number():
    resent = _invoice(invoice_number="nw123", source=Source(file="nw2.pdf", document_id="doc-2"))
    codes, found = _codes([_invoice(), resent])
    assert codes == ["invoice.duplicate"]
    assert found[0].evidence["duplicate_of"] == "NW-000123"


def test_duplicate_by_amount_and_date_window():
    resent = _invoice(invoice_number="X-77", invoice_date=dt.date(2026, 3, 14),
                      source=Source(file="nw2.pdf", document_id="doc-2"))
    assert _codes([_invoice(), resent])[0] == ["invoice.duplicate"]


def test_same_amount_outside_window_is_not_duplicate():
    later = _invoice(invoice_number="X-77", invoice_date=dt.date(2026, 5, 14),
                     source=Source(file="nw2.pdf", document_id="doc-2"))
    assert _codes([_invoice(), later])[0] == []


def test_duplicate_of_history():
    assert _codes([_invoice(source=Source(file="new.pdf", document_id="doc-9"))], history=[_invoice()])[0] == [
        "invoice.duplicate"]


def test_exception_ids_are_stable():
    line = replace(_invoice().lines[0], unit_price=Decimal("9.00"))
    first = _codes([_invoice(lines=(line,))])[1][0].exception_id
    second = _codes([_invoice(lines=(line,))])[1][0].exception_id
    assert first == second


def test_exceptions_have_invoice_kind():
    (exception,) = _codes([_invoice(po_number="PO-999")])[1]
    assert exception.kind == "invoice_mismatch"
    assert exception.document_id == "doc-1"
    assert exception.detected_on == TODAY


def test_operator_tolerances_come_from_environment(monkeypatch):
    from decimal import Decimal

    from workflow.invoices.settings import InvoiceSettings

    monkeypatch.setenv("TRIAGE_INVOICE_PRICE_PCT", "5")
    monkeypatch.setenv("TRIAGE_INVOICE_QTY_PCT", "10")
    tolerances = InvoiceSettings().tolerances()

    assert tolerances.price_pct == Decimal("5")
    assert tolerances.qty_pct == Decimal("10")
    assert tolerances.price_limit(Decimal("100")) == Decimal("105")
