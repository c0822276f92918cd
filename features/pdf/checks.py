"""Checks on what was read: arithmetic, missing fields and unreadable pages become findings.

Arithmetic is a check on the reading as much as on the supplier: a total that does not add up
more often means a misread amount, so a mismatch lowers the confidence of the amounts involved.
"""

from __future__ import annotations

from decimal import Decimal

from features.pdf.document import ExtractedDocument, ExtractedField, PageInfo
from workflow.records import Finding, Severity, Source

__all__ = ["CENT", "LOW_CONFIDENCE", "check_arithmetic", "check_confidence", "page_findings"]

CENT = Decimal("0.01")
LOW_CONFIDENCE = 0.6
"""Fields read with less confidence than this are flagged for a person to confirm."""
MISMATCH_FACTOR = 0.6
REQUIRED_FIELDS = {
    "invoice": ("vendor", "invoice_number", "invoice_date", "total"),
    "remittance_advice": (),
    "claim_form": (),
    "unknown": (),
}


def _source(doc: ExtractedDocument, page: int | None = None, bbox=None) -> Source:
    return Source(file=doc.file, document_id=doc.document_id, page=page, bbox=bbox)


def page_findings(doc: ExtractedDocument, pages: list[PageInfo], form_pages: set[int]) -> list[Finding]:
    """Create a ``pdf.no_text_layer`` finding for every page whose text cannot be read."""
    findings = []
    for page in pages:
        if page.usable:
            continue
        what = "garbled text" if page.garbled else "no usable text layer"
        has_form = page.number in form_pages
        message = (f"Page {page.number} has {what} ({page.reason}); run OCR on it or key its values by hand.")
        if has_form:
            message += " Its form fields were read."
        findings.append(Finding(
            severity=Severity.WARNING if has_form else Severity.ERROR,
            code="pdf.no_text_layer",
            message=message,
            source=_source(doc, page.number),
            element=f"page {page.number}",
            value=page.reason,
            expected="a text layer (a born-digital PDF) or OCR output",
        ))
    return findings


def _lower(doc: ExtractedDocument, names: tuple[str, ...]) -> None:
    for name in names:
        if name in doc.fields:
            found = doc.fields[name]
            doc.fields[name] = found.with_confidence(found.confidence * MISMATCH_FACTOR)


def _mismatch(doc: ExtractedDocument, element: str, message: str, expected: Decimal, found: ExtractedField) -> Finding:
    return Finding(
        severity=Severity.WARNING,
        code="pdf.arithmetic_mismatch",
        message=message,
        source=_source(doc, found.page, found.bbox),
        element=element,
        value=str(found.amount),
        expected=str(expected),
    )


def _amount(doc: ExtractedDocument, name: str) -> ExtractedField | None:
    found = doc.fields.get(name)
    return found if found is not None and found.amount is not None else None


def check_arithmetic(doc: ExtractedDocument) -> list[Finding]:
    """Check that line amounts add up to the subtotal and subtotal plus tax to the total.

    Without a printed subtotal, the lines are checked against total minus tax. A difference of up
    to one cent per line is rounding and passes.
    """
    findings: list[Finding] = []
    subtotal, tax, total = _amount(doc, "subtotal"), _amount(doc, "tax"), _amount(doc, "total")
    line_amounts = [row["amount"].amount for row in doc.line_items
                    if "amount" in row and row["amount"].amount is not None]
    tax_amount = tax.amount if tax else Decimal("0")
    if line_amounts:
        lines_sum = sum(line_amounts, Decimal("0"))
        tolerance = CENT * len(line_amounts)
        target, element = (subtotal, "subtotal") if subtotal else (total, "total")
        expected = lines_sum if subtotal else lines_sum + tax_amount
        if target is not None and abs(target.amount - expected) > tolerance:
            findings.append(_mismatch(
                doc, element,
                f"The {len(line_amounts)} line amounts add up to {lines_sum}"
                + ("" if subtotal else f", {expected} with tax {tax_amount}")
                + f", but the {element} reads {target.amount}; a line or the {element} may be misread, "
                f"or the invoice is wrong.",
                expected, target,
            ))
            _lower(doc, (element,))
    if subtotal and total and abs(subtotal.amount + tax_amount - total.amount) > CENT:
        expected = subtotal.amount + tax_amount
        findings.append(_mismatch(
            doc, "total",
            f"Subtotal {subtotal.amount} plus tax {tax_amount} is {expected}, but the total reads {total.amount}.",
            expected, total,
        ))
        _lower(doc, ("subtotal", "tax", "total"))
    return findings


def check_confidence(doc: ExtractedDocument) -> list[Finding]:
    """Flag required fields that were not found and fields read with low confidence."""
    findings: list[Finding] = []
    if not any(page.usable for page in doc.pages) and not doc.form_fields:
        return findings  # the no-text-layer findings already report that nothing could be read
    for name in REQUIRED_FIELDS.get(doc.kind, ()):
        if name not in doc.fields:
            findings.append(Finding(
                severity=Severity.WARNING, code="pdf.low_confidence",
                message=f"The {name.replace('_', ' ')} was not found; key it by hand or add a template for this vendor.",
                source=_source(doc), element=name, value=None, expected=f"a {name.replace('_', ' ')}",
            ))
    for name, found in doc.fields.items():
        if found.confidence < LOW_CONFIDENCE:
            findings.append(Finding(
                severity=Severity.INFO, code="pdf.low_confidence",
                message=f"The {name.replace('_', ' ')} {found.value!r} was read with confidence "
                        f"{found.confidence:.2f}; confirm it.",
                source=_source(doc, found.page, found.bbox), element=name, value=found.value,
            ))
    return findings
