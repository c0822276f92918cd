"""Read the values of a fillable PDF form (AcroForm): what a user typed lives in the fields, not
in the page text."""

from __future__ import annotations

import logging
from typing import Any

from pdfminer.psparser import PSKeyword, PSLiteral
from pdfminer.pdftypes import PDFObjRef, resolve1
from pdfminer.utils import decode_text
from pdfplumber.pdf import PDF

from features.pdf.document import ExtractedField

logger = logging.getLogger(__name__)

__all__ = ["read_form_fields"]

FORM_CONFIDENCE = 0.95
MAX_FIELD_DEPTH = 10
"""Field trees nest parents and kids; deeper trees than this are treated as broken."""


def _decode(value: Any) -> str | None:
    value = resolve1(value)
    if isinstance(value, (PSLiteral, PSKeyword)):
        value = value.name
    if isinstance(value, bytes):
        value = decode_text(value)
    if isinstance(value, list):
        parts = [_decode(item) for item in value]
        return ", ".join(part for part in parts if part)
    if value is None:
        return None
    text = str(value).strip()
    # An unchecked box reads /Off; it carries no value for a reviewer.
    return None if text in ("", "Off") else text


def _position(field: dict[str, Any], pages: dict[int, int], pdf: PDF) -> tuple[int | None, tuple | None]:
    page_ref = field.get("P")
    page_number = pages.get(page_ref.objid) if isinstance(page_ref, PDFObjRef) else None
    rect = resolve1(field.get("Rect"))
    if page_number is None or not isinstance(rect, list) or len(rect) != 4:
        return page_number, None
    height = float(pdf.pages[page_number - 1].height)
    x0, y0, x1, y1 = (float(resolve1(v)) for v in rect)
    # PDF rectangles count y from the page bottom; pdfplumber boxes count it from the top.
    return page_number, (min(x0, x1), height - max(y0, y1), max(x0, x1), height - min(y0, y1))


def _walk(field_ref: Any, prefix: str, depth: int, out: dict[str, ExtractedField],
          pages: dict[int, int], pdf: PDF) -> None:
    field = resolve1(field_ref)
    if not isinstance(field, dict) or depth > MAX_FIELD_DEPTH:
        return
    partial = _decode(field.get("T"))
    name = f"{prefix}.{partial}" if prefix and partial else (partial or prefix)
    kids = resolve1(field.get("Kids"))
    if isinstance(kids, list) and kids:
        for kid in kids:
            _walk(kid, name, depth + 1, out, pages, pdf)
        if field.get("V") is None:
            return
    value = _decode(field.get("V"))
    if not name or value is None:
        return
    page, bbox = _position(field, pages, pdf)
    out[name] = ExtractedField(value, page, bbox, FORM_CONFIDENCE, method="form_field")


def read_form_fields(pdf: PDF) -> tuple[dict[str, ExtractedField], int]:
    """Return the filled form fields by full name, and the number of fields the form declares."""
    catalog = resolve1(pdf.doc.catalog)
    form = resolve1(catalog.get("AcroForm")) if isinstance(catalog, dict) else None
    if not isinstance(form, dict):
        return {}, 0
    fields = resolve1(form.get("Fields"))
    if not isinstance(fields, list):
        return {}, 0
    pages = {page.page_obj.pageid: page.page_number for page in pdf.pages}
    values: dict[str, ExtractedField] = {}
    for field_ref in fields:
        _walk(field_ref, "", 0, values, pages, pdf)
    return values, len(fields)
