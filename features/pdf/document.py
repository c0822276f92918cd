"""What ``extract_pdf`` returns: fields with their page, position and confidence, and page quality."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from workflow.records import Finding, record_to_dict

__all__ = ["DOCUMENT_KINDS", "ExtractedDocument", "ExtractedField", "PageInfo"]

DOCUMENT_KINDS = ("invoice", "remittance_advice", "claim_form", "unknown")

BBox = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class ExtractedField:
    """One value read from a page: the text as printed, its parsed form, where it sits and how sure.

    ``bbox`` is (x0, top, x1, bottom) in PDF points from the page's top-left corner, as pdfplumber
    reports it. ``amount`` is set for money and quantities, ``date`` for dates. ``method`` names how
    the value was found (``template``, ``label_right``, ``label_below``, ``table``, ``form_field``,
    ``heading``), so a reviewer can judge the confidence.
    """

    value: str
    page: int | None
    bbox: BBox | None
    confidence: float
    amount: Decimal | None = None
    date: dt.date | None = None
    method: str = ""

    def with_confidence(self, confidence: float) -> ExtractedField:
        """Return a copy with another confidence, clamped to 0..1."""
        return ExtractedField(self.value, self.page, self.bbox, max(0.0, min(1.0, confidence)),
                              self.amount, self.date, self.method)


@dataclass(frozen=True, slots=True)
class PageInfo:
    """Quality of one page's text layer.

    ``has_text_layer`` is false when the page has no characters, or too few to read anything from.
    ``garbled`` is true when characters exist but decode to nonsense: ``(cid:N)`` runs, control or
    private-use characters, or letters with the statistics of a scrambled font mapping.
    ``rotation`` is the page's /Rotate value in degrees.
    """

    number: int
    has_text_layer: bool
    chars: int
    garbled: bool
    rotation: int
    width: float
    height: float
    reason: str | None = None

    @property
    def usable(self) -> bool:
        """Whether the text layer can be read: present and not garbled."""
        return self.has_text_layer and not self.garbled


@dataclass(slots=True)
class ExtractedDocument:
    """Everything read from one PDF.

    ``fields`` uses the names ``vendor``, ``invoice_number``, ``invoice_date``, ``due_date``,
    ``po_number``, ``currency``, ``subtotal``, ``tax`` and ``total`` for invoices; remittance advice
    adds ``payer``, ``payment_date``, ``check_number`` and ``payment_total``. Form fields of a
    fillable PDF are kept under ``form_fields`` by their own field names.
    ``line_items`` rows have the keys ``description``, ``quantity``, ``unit_price`` and ``amount``
    (a key is absent when the row does not show that column). ``claims`` rows of remittance advice
    have ``claim_number``, ``billed``, ``allowed``, ``paid``, ``patient_responsibility`` and
    ``adjustment_codes``.
    """

    file: str
    document_id: str
    kind: str
    fields: dict[str, ExtractedField] = field(default_factory=dict)
    line_items: list[dict[str, ExtractedField]] = field(default_factory=list)
    claims: list[dict[str, ExtractedField]] = field(default_factory=list)
    form_fields: dict[str, ExtractedField] = field(default_factory=dict)
    pages: list[PageInfo] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    template: str | None = None

    def value(self, name: str) -> str | None:
        """Return the printed value of a field, or None when it was not found."""
        found = self.fields.get(name)
        return found.value if found else None

    def to_dict(self) -> dict[str, Any]:
        """Convert to plain JSON types: amounts as decimal strings, dates as ISO strings."""
        return record_to_dict(self)
