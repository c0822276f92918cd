"""Supplier invoices: records, ERP CSV loaders, and the three-way match of invoice, PO and receipt."""

from workflow.invoices.extraction import exceptions_from_extraction, invoice_from_extracted
from workflow.invoices.loaders import load_purchase_orders, load_receipts, load_vendors
from workflow.invoices.matching import MatchTolerances, detect_invoice_exceptions, find_vendor, normalise_invoice_number
from workflow.invoices.records import (GoodsReceipt, Invoice, InvoiceLine, PurchaseOrder, PurchaseOrderLine,
                                       ReceiptLine, Vendor)

__all__ = [
    "GoodsReceipt",
    "Invoice",
    "InvoiceLine",
    "MatchTolerances",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "ReceiptLine",
    "Vendor",
    "detect_invoice_exceptions",
    "exceptions_from_extraction",
    "find_vendor",
    "invoice_from_extracted",
    "load_purchase_orders",
    "load_receipts",
    "load_vendors",
    "normalise_invoice_number",
]
