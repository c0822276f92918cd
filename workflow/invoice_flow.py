"""The invoice half of the detection flow: PDFs, ERP exports, and the three-way match.

`triage run` hands every file that is not X12 to :func:`read_invoice_input`: a PDF is extracted
with pdfplumber, and a CSV export is recognised by its header as purchase orders, goods receipts
or the vendor master. :func:`detect_invoice_problems` then turns extraction findings and every
mismatch between invoice, order and receipt into exceptions.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from features.pdf import ExtractedDocument, extract_pdf
from workflow.errors import CsvError, InputError
from workflow.invoices import (
    GoodsReceipt,
    Invoice,
    MatchTolerances,
    PurchaseOrder,
    Vendor,
    detect_invoice_exceptions,
    exceptions_from_extraction,
    invoice_from_extracted,
    load_purchase_orders,
    load_receipts,
    load_vendors,
)
from workflow.invoices.loaders import PO_COLUMNS, RECEIPT_COLUMNS, VENDOR_COLUMNS
from workflow.records import ExceptionRecord

logger = logging.getLogger(__name__)

__all__ = [
    "InvoiceInputs",
    "classify_csv",
    "detect_invoice_problems",
    "is_pdf",
    "read_invoice_input",
]

PDF_MAGIC = b"%PDF"


@dataclass
class InvoiceInputs:
    """Everything on the invoice side that one run read."""

    extracted: list[ExtractedDocument] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    purchase_orders: list[PurchaseOrder] = field(default_factory=list)
    receipts: list[GoodsReceipt] = field(default_factory=list)
    vendors: list[Vendor] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.extracted or self.purchase_orders or self.receipts or self.vendors)


def is_pdf(path: Path) -> bool:
    """Tell whether a file is a PDF, by its first bytes, whatever its name."""
    with path.open("rb") as handle:
        return handle.read(1024).lstrip().startswith(PDF_MAGIC) or path.suffix.lower() == ".pdf"


def _normalised_header(path: Path) -> set[str]:
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        first = next(csv.reader(handle), [])
    return {name.strip().lower().replace(" ", "_").replace("-", "_") for name in first}


def classify_csv(path: Path) -> str | None:
    """Recognise an ERP export by its header: ``receipts``, ``purchase_orders``, ``vendors`` or None."""
    header = _normalised_header(path)

    def has(columns: dict[str, tuple[str, ...]], name: str) -> bool:
        return bool(header & set(columns[name]))

    if has(RECEIPT_COLUMNS, "receipt_id") and has(RECEIPT_COLUMNS, "po_number"):
        return "receipts"
    if has(PO_COLUMNS, "po_number") and has(PO_COLUMNS, "unit_price"):
        return "purchase_orders"
    if has(VENDOR_COLUMNS, "vendor_id") and has(VENDOR_COLUMNS, "name") and not has(PO_COLUMNS, "po_number"):
        return "vendors"
    return None


def read_invoice_input(path: Path, inputs: InvoiceInputs) -> str:
    """Read one PDF or CSV export into ``inputs``; return the document kind.

    Raises :class:`InputError` (a ``PdfError`` or ``CsvError``) naming the file when it cannot be
    used; the caller records the file as failed and goes on with the others.
    """
    if is_pdf(path):
        document = extract_pdf(path)
        inputs.extracted.append(document)
        if document.kind == "invoice":
            inputs.invoices.append(invoice_from_extracted(document))
        return f"pdf_{document.kind}"

    if path.suffix.lower() in (".csv", ".tsv", ".txt"):
        kind = classify_csv(path)
        if kind == "purchase_orders":
            inputs.purchase_orders.extend(load_purchase_orders(path))
        elif kind == "receipts":
            inputs.receipts.extend(load_receipts(path))
        elif kind == "vendors":
            inputs.vendors.extend(load_vendors(path))
        else:
            raise CsvError(
                f"{path}: the CSV header matches no known export (purchase orders, goods receipts or "
                "vendors); rename its columns as docs/pdf-extraction.md lists them"
            )
        return f"csv_{kind}"

    raise InputError(f"{path}: not an X12 interchange, a PDF or a CSV export; remove it from the input")


def detect_invoice_problems(
    inputs: InvoiceInputs,
    *,
    tolerances: MatchTolerances | None = None,
    history: Sequence[Invoice] = (),
    detected_on: dt.date | None = None,
) -> list[ExceptionRecord]:
    """Turn extraction findings and three-way match problems into exceptions."""
    exceptions: list[ExceptionRecord] = []
    dates = {invoice.source.document_id: invoice.invoice_date for invoice in inputs.invoices}
    for document in inputs.extracted:
        day = detected_on or dates.get(document.document_id)
        exceptions.extend(exceptions_from_extraction(document, detected_on=day))
    if inputs.invoices:
        exceptions.extend(detect_invoice_exceptions(
            inputs.invoices, inputs.purchase_orders, inputs.receipts, inputs.vendors,
            tolerances=tolerances or MatchTolerances(), history=history, detected_on=detected_on,
        ))
    logger.info("found %d invoice exceptions in %d PDFs", len(exceptions), len(inputs.extracted))
    return exceptions


def invoices_of(inputs: Iterable[InvoiceInputs]) -> list[Invoice]:
    """Every invoice of several inputs, in order."""
    return [invoice for item in inputs for invoice in item.invoices]
