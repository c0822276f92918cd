"""Records of the invoice three-way match: the invoice, the purchase order, the goods receipt and
the vendor master entry. Money is Decimal and dates are datetime.date, as everywhere else."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from workflow.records import Source

__all__ = ["GoodsReceipt", "Invoice", "InvoiceLine", "PurchaseOrder", "PurchaseOrderLine", "ReceiptLine", "Vendor"]


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One invoiced line; ``page`` and ``bbox`` point at it on the PDF when it was read from one."""

    line_number: int
    description: str
    quantity: Decimal | None
    unit_price: Decimal | None
    amount: Decimal | None
    page: int | None = None
    bbox: tuple[float, float, float, float] | None = None


@dataclass(frozen=True, slots=True)
class Invoice:
    """A supplier invoice. ``vendor_id`` is set once the vendor is found in the vendor master."""

    vendor_id: str | None
    vendor_name: str | None
    invoice_number: str | None
    invoice_date: dt.date | None
    due_date: dt.date | None
    po_number: str | None
    currency: str | None
    lines: tuple[InvoiceLine, ...]
    subtotal: Decimal | None
    tax: Decimal | None
    total: Decimal | None
    source: Source


@dataclass(frozen=True, slots=True)
class PurchaseOrderLine:
    """One ordered line: what, how many and at what agreed unit price."""

    line_number: int
    item_code: str | None
    description: str
    quantity: Decimal
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class PurchaseOrder:
    """A purchase order from the ERP export, with its lines."""

    po_number: str
    vendor_id: str | None
    currency: str | None
    order_date: dt.date | None
    lines: tuple[PurchaseOrderLine, ...]


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    """Quantity received against one PO line."""

    po_line_number: int
    quantity_received: Decimal


@dataclass(frozen=True, slots=True)
class GoodsReceipt:
    """A goods receipt (delivery booked in) against a purchase order."""

    receipt_id: str
    po_number: str
    received_date: dt.date | None
    lines: tuple[ReceiptLine, ...]


@dataclass(frozen=True, slots=True)
class Vendor:
    """A vendor master entry; ``aliases`` are other names the vendor prints on invoices."""

    vendor_id: str
    name: str
    tax_id: str | None = None
    currency: str | None = None
    aliases: tuple[str, ...] = ()
