"""Score an extracted invoice against the truth written beside a generated (or sample) PDF.

A field counts as correct when its parsed value equals the truth: amounts as Decimals, dates as
dates, text after folding case, spaces and punctuation. Line items are matched in order.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from features.pdf import ExtractedDocument, ExtractedField

__all__ = ["HEADER_FIELDS", "FieldScore", "normalise_text", "score_document"]

HEADER_FIELDS = ("vendor", "invoice_number", "invoice_date", "due_date", "po_number", "currency",
                 "subtotal", "tax", "total")
AMOUNT_FIELDS = {"subtotal", "tax", "total", "quantity", "unit_price", "amount"}
DATE_FIELDS = {"invoice_date", "due_date"}


@dataclass(frozen=True, slots=True)
class FieldScore:
    """One field of one document: the truth value, the extracted value, and whether they agree."""

    field: str
    expected: str | None
    found: str | None
    correct: bool


def normalise_text(text: str | None) -> str:
    """Fold case and drop everything but letters and digits, for comparing printed text."""
    return re.sub(r"[^0-9a-z]", "", (text or "").lower())


def _matches(name: str, expected: Any, found: ExtractedField | None) -> bool:
    if found is None:
        return False
    if name in AMOUNT_FIELDS:
        return found.amount is not None and found.amount == Decimal(str(expected))
    if name in DATE_FIELDS:
        return found.date is not None and found.date == dt.date.fromisoformat(str(expected))
    return normalise_text(found.value) == normalise_text(str(expected))


def score_document(doc: ExtractedDocument, truth: dict[str, Any], fields: tuple[str, ...] = HEADER_FIELDS,
                   with_lines: bool = True) -> list[FieldScore]:
    """Compare every truth field that is present (not None) with the extraction."""
    scores: list[FieldScore] = []
    for name in fields:
        expected = truth.get(name)
        if expected is None:
            continue
        found = doc.fields.get(name)
        scores.append(FieldScore(name, str(expected), found.value if found else None, _matches(name, expected, found)))
    if not with_lines:
        return scores
    for index, line in enumerate(truth.get("lines") or []):
        row = doc.line_items[index] if index < len(doc.line_items) else {}
        for key, expected in line.items():
            if key not in ("description", "quantity", "unit_price", "amount") or expected is None:
                continue
            found = row.get(key)
            scores.append(FieldScore(f"line.{key}", str(expected), found.value if found else None,
                                     _matches(key, expected, found)))
    return scores
