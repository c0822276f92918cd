"""Read line-item tables (and remittance claim tables) from word positions, ruled or not.

A table starts at a header line whose words name at least two known columns, one of them an
amount. Each header word (or run of close words, "Unit Price") becomes a column anchor. A row is
a line with a number under the amount column. Its numbers are assigned to the nearest anchor,
and the words under the description anchor form the description. A line without numbers right below a
row continues that row's description (wrapped text). The table ends at a total or tax line; a
table left open at a page end continues on the next page, under a repeated header or, without
one, with rows whose amount lines up with the amount column.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from features.pdf.document import ExtractedField
from features.pdf.fields import ReadingContext, union_bbox
from features.pdf.layout import Line, Word
from features.pdf.numbers import looks_like_amount, parse_amount

logger = logging.getLogger(__name__)

__all__ = ["CLAIM_COLUMNS", "ITEM_COLUMNS", "TableSpec", "read_table_rows"]

ROW_CONFIDENCE = 0.85


@dataclass(frozen=True, slots=True)
class TableSpec:
    """Column names with their header patterns; ``text_column`` is the one built from words."""

    columns: dict[str, str]
    text_column: str
    amount_column: str
    numeric_columns: tuple[str, ...]
    stop_pattern: str
    required: int = 2
    strong_text: str = r"^$"
    """Header words that name the text column for certain, preferred over generic ones."""
    other_columns: str = r"^$"
    """Header words that name columns this reader skips; they keep numbers under them out of the others."""
    code_columns: tuple[str, ...] = ()
    """Columns read as text codes (adjustment reason codes), whatever the words under them look like."""


ITEM_COLUMNS = TableSpec(
    columns={
        "description": r"^(?:(?:item\s+)?description|omschrijving|beschreibung|bezeichnung|particulars|désignation|item|items|"
                       r"article|artikel|service|services|product|details|leistung)$",
        "quantity": r"^(?:qty|qty\.|quantity|menge|aantal|hoeveelheid|units|qté|quantité|anzahl|hours)$",
        "unit_price": r"^(?:unit\s*price|price|rate|unit\s*cost|prijs|preis|vk-preis|einzelpreis|"
                      r"prix\s*unitaire|prijs\s+per\s+stuk|rate\s*\(.*\)|price\s*\(.*\))$",
        "amount": r"^(?:amount|total|line\s*total|bedrag|betrag|zeilenbetrag|gesamt|montant|extended|"
                  r"ext\.?\s*price|prijs\s+incl\.?\s+btw|amount\s*\(.*\)|net\s*amount)$",
    },
    text_column="description",
    amount_column="amount",
    strong_text=r"^(?:(?:item\s+)?description|omschrijving|beschreibung|bezeichnung|particulars|désignation)$",
    other_columns=r"^(?:item\s*code|item\s*no\.?|code|sku|pos\.?|s\.?\s?no\.?|line|#|date|um|uom|unit|tax|taxes|"
                  r"disc\.?\s*%?|discount|rabatt\s*%?|btw|vat|mwst\.?)$",
    numeric_columns=("quantity", "unit_price", "amount"),
    stop_pattern=r"(?:^|\b)(?:(?:invoice\s+|grand\s+)?total|tax|sales\s+tax|vat|btw|mwst|totaal|balance\s+due|"
                 r"amount\s+due|subtotaal\s+ex|exclusief)\b",
)

CLAIM_COLUMNS = TableSpec(
    columns={
        "claim_number": r"^(?:claim\s*(?:#|no\.?|number|id)?|account\s*(?:#|no\.?)?|patient\s+account|icn|cpt|"
                        r"service|procedure)$",
        "billed": r"^(?:billed|charge|charges|billed\s+amount|amount\s+billed)$",
        "allowed": r"^(?:allowed|allowed\s+amount)$",
        "paid": r"^(?:paid|plan\s+paid|insurance\s+paid|payment|amount\s+paid)$",
        "patient_responsibility": r"^(?:patient\s+resp\.?|pt\s+resp\.?|patient\s+responsibility|you\s+owe|"
                                  r"member\s+resp\.?)$",
        # The codes column holds group and reason codes (CO-45, PR 2, N290) or free-text notes;
        # its words are kept as text and the codes in them are listed (see ``_code_list``).
        "adjustment_codes": r"^(?:reason|reason\s+codes?|carc|adj\.?\s+codes?|remarks?|codes?|notes)$",
    },
    text_column="claim_number",
    strong_text=r"^claim",
    amount_column="paid",
    numeric_columns=("billed", "allowed", "paid", "patient_responsibility"),
    code_columns=("adjustment_codes",),
    stop_pattern=r"^(?:total|totals)\b",
    required=3,
)


@dataclass(slots=True)
class _Anchor:
    name: str | None
    x0: float
    x1: float
    text: str = ""

    @property
    def center(self) -> float:
        return (self.x0 + self.x1) / 2


@dataclass(slots=True)
class _Row:
    page: int
    words: list[Word]
    values: dict[str, Word]
    text_words: list[Word] = field(default_factory=list)
    bottom: float = 0.0
    code_words: dict[str, list[Word]] = field(default_factory=dict)


def _header_anchors(line: Line, spec: TableSpec) -> list[_Anchor] | None:
    """Return the column anchors of a header line, or None when the line is not a header."""
    groups: list[list[Word]] = []
    for word in line.words:
        if groups and word.x0 - groups[-1][-1].x1 < word.height * 0.6:
            groups[-1].append(word)
        else:
            groups.append([word])
    anchors: list[_Anchor] = []
    for group in groups:
        anchors.extend(_anchors_for_group(group, spec))
    named = {a.name for a in anchors if a.name}
    if len(named) < spec.required or spec.amount_column not in named:
        return None
    return _drop_repeated_names(anchors, spec)


def _drop_repeated_names(anchors: list[_Anchor], spec: TableSpec) -> list[_Anchor]:
    """Keep one anchor per column name; the others become unnamed columns.

    For the text column a specific word ("Description") beats a generic one ("Item", "Artikel");
    otherwise the leftmost anchor wins.
    """
    text_anchors = [a for a in anchors if a.name == spec.text_column]
    strong = [a for a in text_anchors if re.match(spec.strong_text, a.text, re.IGNORECASE)]
    keep_text = (strong or text_anchors or [None])[0]
    seen: set[str] = set()
    for anchor in anchors:
        if anchor.name == spec.text_column and anchor is not keep_text:
            anchor.name = None
        elif anchor.name is not None and anchor.name in seen:
            anchor.name = None
        elif anchor.name is not None:
            seen.add(anchor.name)
    return anchors


def _anchors_for_group(group: list[Word], spec: TableSpec) -> list[_Anchor]:
    """Name the longest runs of close header words that match a column; other words stay unnamed."""
    anchors: list[_Anchor] = []
    start = 0
    while start < len(group):
        for stop in range(len(group), start, -1):
            text = " ".join(w.text for w in group[start:stop]).strip(":")
            if re.match(spec.other_columns, text, re.IGNORECASE):
                anchors.append(_Anchor(None, group[start].x0, group[stop - 1].x1, text))
                start = stop
                break
            name = next((n for n, p in spec.columns.items() if re.match(p, text, re.IGNORECASE)), None)
            if name is not None:
                anchors.append(_Anchor(name, group[start].x0, group[stop - 1].x1, text))
                start = stop
                break
        else:
            anchors.append(_Anchor(None, group[start].x0, group[start].x1, group[start].text))
            start += 1
    return anchors


def _nearest_anchor(word: Word, anchors: Sequence[_Anchor]) -> _Anchor:
    def distance(anchor: _Anchor) -> float:
        if word.x1 >= anchor.x0 and word.x0 <= anchor.x1:
            return 0.0
        # Numbers sit right-aligned under their header, so compare right edges as well as centres.
        return min(abs(word.x1 - anchor.x1), abs((word.x0 + word.x1) / 2 - anchor.center))
    return min(anchors, key=distance)


def _is_number(word: Word) -> bool:
    return looks_like_amount(word.text) and not word.text.endswith("%")


def _text_zone(anchors: Sequence[_Anchor], spec: TableSpec, line: Line) -> tuple[float, float, _Anchor | None]:
    """Return the x-range of the text column and the column anchor left of it, if any."""
    text_anchor = next((a for a in anchors if a.name == spec.text_column), None)
    if text_anchor is None:
        first_numeric = min((a.x0 for a in anchors if a.name in spec.numeric_columns), default=line.x1)
        return (line.x0 - 1, first_numeric - 1, None)
    right = min((a.x0 for a in anchors if a.x0 > text_anchor.x1), default=line.x1 + 1)
    left = max((a for a in anchors if a.x1 < text_anchor.x0), key=lambda a: a.x1, default=None)
    # A centred header starts right of its column's text, so the zone reaches back to the column on the left.
    start = text_anchor.x0 - 4 if left is None else min(text_anchor.x0 - 4, left.x1 + 2)
    return (start, right - 1, left)


def _in_text_zone(word: Word, zone: tuple[float, float, _Anchor | None], text_anchor: _Anchor | None) -> bool:
    start, end, left = zone
    if not (start <= word.x0 and word.x1 <= end + 2):
        return False
    if left is None or text_anchor is None or word.x0 >= text_anchor.x0 - 4:
        return True
    center = (word.x0 + word.x1) / 2
    return abs(center - text_anchor.center) < abs(center - left.center)


def _parse_row(line: Line, anchors: Sequence[_Anchor], spec: TableSpec, aligned_only: bool) -> _Row | None:
    values: dict[str, Word] = {}
    text_words: list[Word] = []
    zone = _text_zone(anchors, spec, line)
    text_anchor = next((a for a in anchors if a.name == spec.text_column), None)
    numeric_anchors = [a for a in anchors if a.name in spec.numeric_columns or a.name is None]
    has_code_column = any(a.name in spec.code_columns for a in anchors)
    code_words: dict[str, list[Word]] = {}
    for word in line.words:
        if _in_text_zone(word, zone, text_anchor):
            text_words.append(word)
            continue
        if has_code_column and (nearest := _nearest_anchor(word, anchors)).name in spec.code_columns:
            code_words.setdefault(nearest.name, []).append(word)
            continue
        if not _is_number(word):
            continue
        anchor = _nearest_anchor(word, numeric_anchors or anchors)
        if anchor.name in spec.numeric_columns:
            values[anchor.name] = word
    amount_word = values.get(spec.amount_column)
    if amount_word is None:
        return None
    if aligned_only:
        amount_anchor = next(a for a in anchors if a.name == spec.amount_column)
        if abs(amount_word.x1 - amount_anchor.x1) > 25 and not (amount_word.x0 <= amount_anchor.x1
                                                                and amount_word.x1 >= amount_anchor.x0):
            return None
    return _Row(line.page, list(line.words), values, text_words, line.bottom, code_words)


def _continues(line: Line, row: _Row, anchors: Sequence[_Anchor], spec: TableSpec) -> bool:
    """Tell whether a line without numbers is wrapped text of the row above."""
    if line.page != row.page or line.top - row.bottom > max(line.bottom - line.top, 6) * 1.8:
        return False
    if not any(a.name == spec.text_column for a in anchors):
        return False
    zone_start, zone_end, _ = _text_zone(anchors, spec, line)
    return line.x0 >= zone_start and line.x1 <= zone_end + 4


def _row_fields(row: _Row, spec: TableSpec, context: ReadingContext) -> dict[str, ExtractedField]:
    fields: dict[str, ExtractedField] = {}
    if row.text_words:
        text = " ".join(w.text for w in row.text_words)
        fields[spec.text_column] = ExtractedField(text, row.page, union_bbox(row.text_words), ROW_CONFIDENCE,
                                                  method="table")
    for name, word in row.values.items():
        amount = parse_amount(word.text, decimal_hint=context.decimal)
        fields[name] = ExtractedField(word.text, row.page, word.bbox, ROW_CONFIDENCE, amount=amount, method="table")
    for name, words in row.code_words.items():
        text = " ".join(w.text for w in words)
        codes = _code_list(text)
        fields[name] = ExtractedField(", ".join(codes) if codes else text, row.page, union_bbox(words),
                                      ROW_CONFIDENCE if codes else ROW_CONFIDENCE / 2, method="table")
    return fields


CODE_PATTERN = re.compile(r"\b(?:(CO|PR|OA|PI|CR)\s*[-:]?\s*)?([A-Z]{1,2}\d{1,4}|\d{1,3})\b")


def _code_list(text: str) -> list[str]:
    """List the adjustment codes in a cell: ``CO-45``, ``PR-2`` and remark codes such as ``N290``.

    A bare number counts as a reason code only next to a group code or as the whole cell, so free
    text such as "duplicate of line 3" yields no codes.
    """
    cell = text.strip().upper()
    codes = []
    for match in CODE_PATTERN.finditer(cell):
        group, code = match.groups()
        if group:
            codes.append(f"{group}-{code}")
        elif not code.isdigit() or cell == code:
            codes.append(code)
    return codes


def read_table_rows(lines: Sequence[Line], spec: TableSpec, context: ReadingContext) -> list[dict[str, ExtractedField]]:
    """Read the rows of every table of the given kind, across pages, in reading order."""
    rows: list[_Row] = []
    anchors: list[_Anchor] | None = None
    open_table = False
    header_on_page = False
    current_page = None
    for line in lines:
        if line.page != current_page:
            current_page, header_on_page = line.page, False
        header = _header_anchors(line, spec)
        if header is not None:
            anchors, open_table, header_on_page = header, True, True
            continue
        if not open_table or anchors is None:
            continue
        if re.search(spec.stop_pattern, line.text, re.IGNORECASE) and any(map(_is_number, line.words)):
            open_table = False
            continue
        if re.match(r"^sub[-\s]?total", line.text, re.IGNORECASE):
            continue
        row = _parse_row(line, anchors, spec, aligned_only=not header_on_page)
        if row is not None and (row.text_words or len(row.values) > 1):
            rows.append(row)
        elif rows and row is None and _continues(line, rows[-1], anchors, spec):
            rows[-1].text_words.extend(line.words)
            rows[-1].bottom = line.bottom
    return [_row_fields(row, spec, context) for row in rows]
