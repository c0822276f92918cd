"""Three-way match: invoice lines against purchase order lines and goods receipts.

Each invoice is checked in order. First the vendor must be in the vendor master, the invoice must
not duplicate one seen before, and its PO must exist. Then each line must be on the PO, its unit
price within tolerance of the PO price, and its quantity within tolerance of what was received.
Every problem becomes an ExceptionRecord of kind ``invoice_mismatch``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from workflow.exceptions import exception_id_for
from workflow.invoices.records import GoodsReceipt, Invoice, InvoiceLine, PurchaseOrder, PurchaseOrderLine, Vendor
from workflow.records import ExceptionRecord

logger = logging.getLogger(__name__)

__all__ = ["MatchTolerances", "detect_invoice_exceptions", "find_vendor", "normalise_invoice_number"]

ZERO = Decimal("0")
KIND = "invoice_mismatch"


@dataclass(frozen=True, slots=True)
class MatchTolerances:
    """How far an invoice may differ from the PO and the receipt before it becomes an exception.

    A unit price passes when it exceeds the PO price by no more than ``price_pct`` percent or by
    no more than ``price_abs`` (in the invoice currency), whichever allows more. A quantity passes
    when it exceeds the quantity received by no more than ``qty_pct`` percent.
    ``duplicate_window_days`` is how far apart two invoices of the same vendor and amount may be
    dated and still count as a duplicate when their numbers are written differently.
    """

    price_pct: Decimal = Decimal("2")
    price_abs: Decimal = Decimal("0.05")
    qty_pct: Decimal = Decimal("0")
    duplicate_window_days: int = 7

    def price_limit(self, po_price: Decimal) -> Decimal:
        """Return the highest unit price that still passes against a PO price."""
        return po_price + max(po_price * self.price_pct / 100, self.price_abs)

    def quantity_limit(self, received: Decimal) -> Decimal:
        """Return the highest quantity that still passes against a received quantity."""
        return received * (1 + self.qty_pct / 100)


def normalise_invoice_number(number: str | None) -> str:
    """Fold an invoice number for comparison: no punctuation or spaces, lower case, no leading zeros
    in any run of digits ("INV-000123" and "inv123" both become "inv123")."""
    folded = re.sub(r"[^0-9a-z]", "", (number or "").lower())
    return re.sub(r"(?<![0-9])0+(?=[0-9])", "", folded)


def _normalise_name(name: str | None) -> str:
    folded = re.sub(r"[^0-9a-z ]", " ", (name or "").lower())
    words = [w for w in folded.split() if w not in {"inc", "llc", "ltd", "limited", "gmbh", "ag", "co", "corp",
                                                    "sarl", "bv", "b", "v", "the", "sa", "plc"}]
    return " ".join(words)


def find_vendor(invoice: Invoice, vendors: Sequence[Vendor]) -> Vendor | None:
    """Find the invoice's vendor by id, else by its name or an alias, ignoring case, punctuation and
    legal-form words (Inc, GmbH, Ltd)."""
    if invoice.vendor_id:
        for vendor in vendors:
            if vendor.vendor_id == invoice.vendor_id:
                return vendor
    printed = _normalise_name(invoice.vendor_name)
    if not printed:
        return None
    for vendor in vendors:
        if printed in {_normalise_name(name) for name in (vendor.name, *vendor.aliases)}:
            return vendor
    return None


def _evidence_fields(invoice: Invoice) -> dict[str, object]:
    return {
        "vendor_id": invoice.vendor_id,
        "vendor_name": invoice.vendor_name,
        "invoice_number": invoice.invoice_number,
        "invoice_date": invoice.invoice_date.isoformat() if invoice.invoice_date else None,
        "po_number": invoice.po_number,
        "currency": invoice.currency,
        "total": None if invoice.total is None else str(invoice.total),
        "file": invoice.source.file,
        "page": invoice.source.page,
    }


def _exception(invoice: Invoice, code: str, message: str, amount_at_risk: Decimal, detected_on: dt.date,
               evidence: Mapping[str, object], line: InvoiceLine | None = None) -> ExceptionRecord:
    full_evidence = _evidence_fields(invoice) | dict(evidence)
    if line is not None:
        full_evidence |= {"line_number": line.line_number, "description": line.description,
                          "page": line.page, "bbox": list(line.bbox) if line.bbox else None}
    return ExceptionRecord(
        exception_id=exception_id_for(invoice.source.document_id, invoice.invoice_number,
                                      line.line_number if line else None, code),
        kind=KIND,
        code=code,
        message=message,
        claim_id=None,
        payer_id=None,
        amount_at_risk=max(amount_at_risk, ZERO),
        service_date=invoice.invoice_date,
        detected_on=detected_on,
        claim_status=None,
        group_codes=(),
        carc_codes=(),
        rarc_codes=(),
        billed_amount=invoice.total,
        paid_amount=None,
        procedure_codes=(),
        diagnosis_codes=(),
        evidence=full_evidence,
        source=invoice.source,
        document_id=invoice.source.document_id,
    )


def _words(text: str) -> set[str]:
    return set(re.findall(r"[0-9a-z]+", text.lower()))


def _match_po_line(line: InvoiceLine, po_lines: Sequence[PurchaseOrderLine],
                   matched: set[int]) -> PurchaseOrderLine | None:
    """Find the PO line an invoice line bills: same item code if printed, else the closest description."""
    free = [po_line for po_line in po_lines if po_line.line_number not in matched]
    tokens = _words(line.description)
    for po_line in free:
        if po_line.item_code and po_line.item_code.lower() in line.description.lower():
            return po_line
    best, best_score = None, 0.0
    for po_line in free:
        overlap = len(tokens & _words(po_line.description)) / max(1, len(_words(po_line.description)))
        ratio = difflib.SequenceMatcher(None, line.description.lower(), po_line.description.lower()).ratio()
        score = max(overlap, ratio)
        if score > best_score:
            best, best_score = po_line, score
    return best if best_score >= 0.6 else None


def _received_by_line(receipts: Iterable[GoodsReceipt]) -> dict[tuple[str, int], Decimal]:
    received: dict[tuple[str, int], Decimal] = defaultdict(lambda: ZERO)
    for receipt in receipts:
        for line in receipt.lines:
            received[(receipt.po_number, line.po_line_number)] += line.quantity_received
    return received


def _line_exceptions(invoice: Invoice, order: PurchaseOrder, received: Mapping[tuple[str, int], Decimal],
                     tolerances: MatchTolerances, detected_on: dt.date) -> list[ExceptionRecord]:
    found: list[ExceptionRecord] = []
    matched_po_lines: set[int] = set()
    for line in invoice.lines:
        po_line = _match_po_line(line, order.lines, matched_po_lines)
        if po_line is None:
            found.append(_exception(
                invoice, "invoice.line_not_on_po",
                f"Invoice line {line.line_number} matches no line of {order.po_number}.",
                line.amount or ZERO, detected_on, {"expected": "a PO line", "found": line.description}, line))
            continue
        matched_po_lines.add(po_line.line_number)
        quantity = line.quantity if line.quantity is not None else ZERO
        if line.unit_price is not None and line.unit_price > tolerances.price_limit(po_line.unit_price):
            found.append(_exception(
                invoice, "invoice.price_over_po",
                f"Line {line.line_number} bills {line.unit_price} a unit; {order.po_number} line "
                f"{po_line.line_number} agreed {po_line.unit_price}.",
                (line.unit_price - po_line.unit_price) * quantity, detected_on,
                {"field": "unit_price", "expected": str(po_line.unit_price), "found": str(line.unit_price),
                 "po_line_number": po_line.line_number}, line))
        got = received.get((order.po_number, po_line.line_number), ZERO)
        if line.quantity is not None and line.quantity > tolerances.quantity_limit(got):
            price = line.unit_price if line.unit_price is not None else po_line.unit_price
            found.append(_exception(
                invoice, "invoice.qty_over_received",
                f"Line {line.line_number} bills {line.quantity} units; {got} were received against "
                f"{order.po_number} line {po_line.line_number}.",
                (line.quantity - got) * price, detected_on,
                {"field": "quantity", "expected": str(got), "found": str(line.quantity),
                 "po_line_number": po_line.line_number, "quantity_ordered": str(po_line.quantity)}, line))
    return found


def _same_vendor(first: Invoice, second: Invoice) -> bool:
    if first.vendor_id and second.vendor_id:
        return first.vendor_id == second.vendor_id
    name = _normalise_name(first.vendor_name)
    return bool(name) and name == _normalise_name(second.vendor_name)


def _duplicate_of(invoice: Invoice, earlier: Sequence[Invoice], window: int) -> Invoice | None:
    number = normalise_invoice_number(invoice.invoice_number)
    for other in earlier:
        if other.source.document_id == invoice.source.document_id:
            continue  # the same bytes read twice are one invoice, not a duplicate
        if not _same_vendor(invoice, other):
            continue
        if number and normalise_invoice_number(other.invoice_number) == number:
            return other
        close_dates = (invoice.invoice_date and other.invoice_date
                       and abs((invoice.invoice_date - other.invoice_date).days) <= window)
        if close_dates and invoice.total is not None and invoice.total == other.total:
            return other
    return None


def detect_invoice_exceptions(
    invoices: Sequence[Invoice],
    purchase_orders: Sequence[PurchaseOrder],
    receipts: Sequence[GoodsReceipt],
    vendors: Sequence[Vendor],
    *,
    tolerances: MatchTolerances,
    history: Sequence[Invoice] = (),
    detected_on: dt.date | None = None,
) -> list[ExceptionRecord]:
    """Match each invoice to its vendor, PO and receipts, and return an exception for every problem.

    ``history`` contains invoices accepted before. Each invoice is also compared with the ones
    before it in ``invoices``, so the second copy of a duplicate pair is the one flagged.
    Without ``detected_on`` an exception is dated by its invoice date, like a payment exception
    by its payment date.
    """
    orders = {order.po_number.strip().upper(): order for order in purchase_orders}
    received = _received_by_line(receipts)
    seen: list[Invoice] = [_with_known_vendor(invoice, vendors) for invoice in history]
    exceptions: list[ExceptionRecord] = []
    for invoice in invoices:
        today = detected_on or invoice.invoice_date or dt.date.today()
        total = invoice.total if invoice.total is not None else ZERO
        vendor = find_vendor(invoice, vendors)
        if vendor is None:
            exceptions.append(_exception(
                invoice, "invoice.unknown_vendor",
                f"The vendor {invoice.vendor_name!r} is not in the vendor master.", total, today,
                {"field": "vendor", "expected": "a vendor master entry", "found": invoice.vendor_name}))
        elif invoice.vendor_id != vendor.vendor_id:
            invoice = _with_vendor(invoice, vendor)

        if (original := _duplicate_of(invoice, seen, tolerances.duplicate_window_days)) is not None:
            exceptions.append(_exception(
                invoice, "invoice.duplicate",
                f"Invoice {invoice.invoice_number} duplicates invoice {original.invoice_number} of the same vendor.",
                total, today,
                {"field": "invoice_number", "expected": "a new invoice", "found": invoice.invoice_number,
                 "duplicate_of": original.invoice_number, "duplicate_of_file": original.source.file}))
            seen.append(invoice)
            continue
        seen.append(invoice)

        order = orders.get((invoice.po_number or "").strip().upper())
        if order is None:
            exceptions.append(_exception(
                invoice, "invoice.missing_po",
                "The invoice names no purchase order." if not invoice.po_number else
                f"The purchase order {invoice.po_number} is not in the PO export.", total, today,
                {"field": "po_number", "expected": "a known purchase order", "found": invoice.po_number}))
            continue
        exceptions.extend(_line_exceptions(invoice, order, received, tolerances, today))
    logger.info("matched %d invoices: %d exceptions", len(invoices), len(exceptions))
    return exceptions


def _with_vendor(invoice: Invoice, vendor: Vendor) -> Invoice:
    return replace(invoice, vendor_id=vendor.vendor_id)


def _with_known_vendor(invoice: Invoice, vendors: Sequence[Vendor]) -> Invoice:
    vendor = find_vendor(invoice, vendors)
    return invoice if vendor is None else _with_vendor(invoice, vendor)
