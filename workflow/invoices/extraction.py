"""Turn an extracted PDF into an Invoice, and its reading findings into exceptions."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

from features.pdf import ExtractedDocument, ExtractedField
from workflow.exceptions import exception_id_for
from workflow.invoices.records import Invoice, InvoiceLine
from workflow.records import ExceptionRecord, Finding, Severity, Source

logger = logging.getLogger(__name__)

__all__ = ["exceptions_from_extraction", "invoice_from_extracted"]

ZERO = Decimal("0")
EXTRACTION_CODES = ("pdf.no_text_layer", "pdf.arithmetic_mismatch", "pdf.low_confidence")


def _amount(found: ExtractedField | None) -> Decimal | None:
    return found.amount if found is not None else None


def _date(found: ExtractedField | None) -> dt.date | None:
    return found.date if found is not None else None


def _text(found: ExtractedField | None) -> str | None:
    return found.value if found is not None and found.value else None


def invoice_from_extracted(doc: ExtractedDocument) -> Invoice:
    """Build an Invoice from what extract_pdf read; fields it did not find are None.

    The vendor id is left empty: the match looks the printed name up in the vendor master.
    """
    fields = doc.fields
    lines = []
    for number, row in enumerate(doc.line_items, start=1):
        anchor = row.get("amount") or row.get("description")
        lines.append(InvoiceLine(
            line_number=number,
            description=_text(row.get("description")) or "",
            quantity=_amount(row.get("quantity")),
            unit_price=_amount(row.get("unit_price")),
            amount=_amount(row.get("amount")),
            page=anchor.page if anchor else None,
            bbox=anchor.bbox if anchor else None,
        ))
    first_page = next((f.page for f in fields.values() if f.page), None)
    return Invoice(
        vendor_id=None,
        vendor_name=_text(fields.get("vendor")),
        invoice_number=_text(fields.get("invoice_number")),
        invoice_date=_date(fields.get("invoice_date")),
        due_date=_date(fields.get("due_date")),
        po_number=_text(fields.get("po_number")),
        currency=_text(fields.get("currency")),
        lines=tuple(lines),
        subtotal=_amount(fields.get("subtotal")),
        tax=_amount(fields.get("tax")),
        total=_amount(fields.get("total")),
        source=Source(file=doc.file, document_id=doc.document_id, page=first_page),
    )


def _finding_exception(doc: ExtractedDocument, finding: Finding, index: int, detected_on: dt.date) -> ExceptionRecord:
    total = doc.fields.get("total")
    at_risk = total.amount if total is not None and total.amount is not None else ZERO
    if finding.code == "pdf.arithmetic_mismatch" and finding.value and finding.expected:
        at_risk = abs(Decimal(finding.value) - Decimal(finding.expected))
    evidence = {
        "field": finding.element,
        "expected": finding.expected,
        "found": finding.value,
        "page": finding.source.page,
        "bbox": list(finding.source.bbox) if finding.source.bbox else None,
        "severity": finding.severity.value,
        "document_kind": doc.kind,
        "invoice_number": doc.value("invoice_number"),
        "vendor_name": doc.value("vendor"),
    }
    invoice_date = doc.fields.get("invoice_date")
    return ExceptionRecord(
        exception_id=exception_id_for(doc.document_id, finding.source.page, finding.element, finding.code, index),
        kind="extraction",
        code=finding.code,
        message=finding.message,
        claim_id=None,
        payer_id=None,
        amount_at_risk=at_risk,
        service_date=invoice_date.date if invoice_date else None,
        detected_on=detected_on,
        claim_status=None,
        group_codes=(),
        carc_codes=(),
        rarc_codes=(),
        billed_amount=total.amount if total is not None else None,
        paid_amount=None,
        procedure_codes=(),
        diagnosis_codes=(),
        evidence=evidence,
        source=finding.source,
        document_id=doc.document_id,
    )


def exceptions_from_extraction(doc: ExtractedDocument, *, detected_on: dt.date | None = None) -> list[ExceptionRecord]:
    """Create an exception of kind ``extraction`` for each unreadable page, arithmetic mismatch and
    missing or low-confidence field; informational findings are left out."""
    today = detected_on or dt.date.today()
    exceptions = []
    for index, finding in enumerate(doc.findings):
        if finding.code not in EXTRACTION_CODES or finding.severity == Severity.INFO:
            continue
        exceptions.append(_finding_exception(doc, finding, index, today))
    return exceptions
