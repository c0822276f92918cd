"""Find header fields by their labels: the value is right of the label or below it.

Each field has label patterns in priority order, in English with the common German, Dutch and
French forms. A value must parse as the field's kind (a date, an amount, or an identifier with a
digit), so a label that is followed by something else is skipped for the next candidate.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from features.pdf.document import ExtractedField
from features.pdf.layout import Line, Word
from features.pdf.numbers import detect_currency, parse_amount, parse_date

logger = logging.getLogger(__name__)

__all__ = ["FieldRule", "INVOICE_RULES", "REMITTANCE_RULES", "LabelMatch", "ReadingContext",
           "find_labels", "read_field", "read_fields", "read_vendor", "read_currency", "union_bbox"]

# Confidence by how a value was found. A weak label (a bare "Date" or "#") costs a little more.
CONFIDENCE_RIGHT = 0.9
CONFIDENCE_BELOW = 0.8
WEAK_LABEL_PENALTY = 0.15
MAX_TEXT_GAP = 80.0
"""Points of empty space after which words right of a label no longer belong to its value."""


@dataclass(frozen=True, slots=True)
class FieldRule:
    """How to find one field: its value kind, label patterns (strongest first) and which match wins.

    ``pick`` is ``first`` for header fields and ``last`` for totals, because section subtotals and
    running totals come before the invoice's final figures.
    """

    name: str
    kind: str
    labels: tuple[str, ...]
    pick: str = "first"
    weak_from: int = 99
    """Index in ``labels`` from which patterns are weak and cost confidence."""


INVOICE_RULES: tuple[FieldRule, ...] = (
    FieldRule("invoice_number", "code", (
        r"invoice\s*(?:no\.?|number|num\.?|#|nr\.?|id)\s*:?",
        r"rechnungs?-?\s*(?:nr\.?|nummer)\s*:?",
        r"f\s?actuur\s*(?:nummer|nr\.?)\s*:?",
        r"num[ée]ro\s+de\s+facture\s*:?",
        r"(?:bill|statement|receipt|document)\s*(?:#\s*)?(?:no\.?|number|#)\s*:?",
        r"\binvoice\s*:",
        r"\bfactuur\b(?!\s*(?:datum|totaal|adres|nummer))",
        r"^(?:tax\s+)?invoice\b",
        r"^#",
    ), weak_from=6),
    FieldRule("invoice_date", "date", (
        r"invoice\s*date\s*:?",
        r"date\s+of\s+invoice\s*:?",
        r"rechnungsdatum\s*:?",
        r"f\s?actuur\s*datum\s*:?",
        r"date\s+de\s+(?:la\s+)?facture\s*:?",
        r"(?:bill|statement|issue)\s*date\s*:?",
        r"(?<!due )(?<!service )(?<!order )\bdate\s*:",
        r"^date\b(?!\s+of\s+service)",
    ), weak_from=6),
    FieldRule("due_date", "date", (
        r"(?:payment\s+)?due\s*date\s*:?",
        r"date\s+due\s*:?",
        r"payment\s+due\s*(?:by|on)?\s*:?",
        r"vervaldatum\s*:?",
        r"f[äa]llig(?:keitsdatum)?(?:\s+am)?\s*:?",
        r"zahlungsziel\s*:?",
        r"[ée]ch[ée]ance\s*:?",
        r"\bdue\s*(?:on|by)?\s*:",
    ), weak_from=7),
    FieldRule("po_number", "code", (
        r"p\.?\s?o\.?\s*(?:number|no\.?|#|nr\.?)\s*:?",
        r"purchase\s*order\s*(?:number|no\.?|#)?\s*:?",
        r"(?:customer\s+)?order\s*(?:number|no\.?|#)\s*:?",
        r"bestel(?:l)?nummer\s*:?",
        r"ordernummer\s*:?",
        r"\bpo\b\s*[:#]",
    ), weak_from=5),
    FieldRule("subtotal", "amount", (
        r"total\s+(?:excl\.?|before\s+tax|net)\b(?:\s+(?:vat|tax|btw))?\s*:?",
        r"exclusief\s+btw\s*:?",
        r"subtotaal(?:\s+ex\.?\s+btw)?\s*:?",
        r"sub[-\s]?total\b\s*:?",
        r"zwischensumme\s*:?",
        r"net\s+(?:amount|total)\s*:?",
        r"nettobetrag\s*:?",
        r"sous[-\s]total\s*:?",
    ), pick="last"),
    FieldRule("tax", "amount", (
        r"(?:sales\s+)?tax\b(?!\s*(?:id|no|number|#|rate))(?:\s*\([^)]*\))?\s*:?",
        r"\b(?:vat|gst|hst)\b(?!\s*(?:id|no|number|#|reg))\s*:?",
        r"(?<!incl\. )(?<!incl )(?<!ex\. )(?<!exclusief )\b(?:\d+\s*%\s*)?btw\b(?!\s*(?:nr|nummer))\s*:?",
        r"\b(?:mwst|ust)\.?\b\s*:?",
        r"\btva\b\s*:?",
    ), pick="last"),
    FieldRule("total", "amount", (
        r"(?:invoice\s+|grand\s+)?(?<!sub)(?<!sub-)(?<!sub )\btotal\b(?!\s*(?:excl|ex\.|before|net|days|billed))"
        r"(?:\s+(?:amount|due|payable|for this invoice))*\s*:?",
        r"(?:factuur\s+)?totaal(?:bedrag)?\s*:?",
        r"gesamt(?:betrag|summe)\s*:?",
        r"rechnungsbetrag\s*:?",
        r"montant\s+total\s*:?",
        r"(?:amount|balance)\s+due\s*:?",
    ), pick="last"),
)

REMITTANCE_RULES: tuple[FieldRule, ...] = (
    FieldRule("payer", "text", (r"(?:insurance\s+company|payer|plan)\s*(?:name)?\s*:",)),
    FieldRule("payment_date", "date", (
        r"(?:payment|check|eft|remittance|processed)\s*date\s*:?", r"date\s+processed\s*:?", r"processed\s*:",
    )),
    FieldRule("check_number", "code", (
        r"(?:check|cheque|eft|trace)\s*(?:no\.?|number|#)\s*:?", r"payment\s*(?:no\.?|number|#|id)\s*:?",
    )),
    FieldRule("claim_number", "code", (r"claim\s*(?:no\.?|number|#|id)\s*:?",)),
    FieldRule("billed", "amount", (r"(?:total\s+)?(?:billed|charged?)\s*(?:amount|by provider)?\s*:?",)),
    FieldRule("allowed", "amount", (r"allowed\s*(?:amount)?\s*:?",)),
    FieldRule("paid", "amount", (r"(?:insurance|plan)\s+paid\s*:?", r"(?:amount|total)\s+paid\s*:?")),
    FieldRule("patient_responsibility", "amount", (
        r"(?:total\s+)?patient\s+resp(?:onsibility|\.)?\s*:?", r"you\s+owe\s*:?",
    )),
    FieldRule("payment_total", "amount", (r"(?:total\s+)?payment\s+(?:amount|total)\s*:?", r"check\s+amount\s*:?")),
)


@dataclass(frozen=True, slots=True)
class ReadingContext:
    """Document-wide conventions: the decimal separator and whether numeric dates put the day first."""

    decimal: str = "."
    day_first: bool = False


@dataclass(frozen=True, slots=True)
class LabelMatch:
    """A label found on a line: the words it covers and the rest of its last word, if any."""

    rule: FieldRule
    priority: int
    line: Line
    first_word: int
    last_word: int
    tail: str
    start_char: int

    @property
    def x0(self) -> float:
        return self.line.words[self.first_word].x0

    @property
    def x1(self) -> float:
        return self.line.words[self.last_word].x1

    @property
    def weak(self) -> bool:
        return self.priority >= self.rule.weak_from


def union_bbox(words: Sequence[Word]) -> tuple[float, float, float, float]:
    """Return the smallest box around the words."""
    return (min(w.x0 for w in words), min(w.top for w in words),
            max(w.x1 for w in words), max(w.bottom for w in words))


def _word_offsets(line: Line) -> list[tuple[int, int]]:
    offsets, position = [], 0
    for word in line.words:
        offsets.append((position, position + len(word.text)))
        position += len(word.text) + 1
    return offsets


def _word_at(offsets: list[tuple[int, int]], char: int) -> int:
    """Return the index of the word that contains the character offset, or the next word."""
    for index, (_, end) in enumerate(offsets):
        if char < end:
            return index
    return len(offsets) - 1


def find_labels(lines: Sequence[Line], rules: Sequence[FieldRule]) -> list[LabelMatch]:
    """Find every label of every rule on every line, in reading order.

    Where labels overlap ("Invoice" inside "Invoice Date:"), the longest wins, then the strongest.
    """
    matches: list[LabelMatch] = []
    for line in lines:
        text = line.text
        offsets = _word_offsets(line)
        candidates = []
        for rule in rules:
            for priority, pattern in enumerate(rule.labels):
                for found in re.finditer(pattern, text, re.IGNORECASE):
                    end = len(text[:found.end()].rstrip())
                    if end <= found.start():
                        continue
                    if found.start() > 0 and text[found.start() - 1].isalnum():
                        continue  # the pattern starts inside a word ("Subtotal" for "total")
                    candidates.append((found.start(), end, rule, priority))
        taken: list[tuple[int, int]] = []
        for start, end, rule, priority in sorted(candidates, key=lambda c: (c[0] - c[1], c[3])):
            if any(s < end and start < e for s, e in taken):
                continue
            taken.append((start, end))
            last = _word_at(offsets, end - 1)
            tail = text[end:offsets[last][1]].strip()
            matches.append(LabelMatch(rule, priority, line, _word_at(offsets, start), last, tail, start))
    matches.sort(key=lambda m: (m.line.page, m.line.top, m.start_char))
    return matches


def _segment(match: LabelMatch, all_matches: Sequence[LabelMatch]) -> list[Word]:
    """Return the words right of a label, up to the next label on the same line."""
    next_start = min((m.first_word for m in all_matches
                      if m.line is match.line and m.first_word > match.last_word), default=len(match.line.words))
    words = list(match.line.words[match.last_word + 1:next_start])
    if match.tail.strip(":#."):
        last = match.line.words[match.last_word]
        words.insert(0, Word(match.tail, last.x0, last.top, last.x1, last.bottom))
    return words


def _below(match: LabelMatch, lines: Sequence[Line], all_matches: Sequence[LabelMatch]) -> list[Word]:
    """Return the words under a label's column on the next line or two."""
    right = min((m.x0 for m in all_matches if m.line is match.line and m.first_word > match.last_word),
                default=match.line.x1 + 60)
    height = match.line.bottom - match.line.top
    found: list[Word] = []
    for line in lines:
        if line.page != match.line.page or line.top <= match.line.bottom - 1:
            continue
        if line.top - match.line.bottom > max(height, 6) * 2.5:
            break
        if any(m.line is line for m in all_matches):
            return []  # the line below has labels of its own, so its values are not this label's
        found = [w for w in line.words if match.x0 - 15 <= (w.x0 + w.x1) / 2 < right - 2]
        if found:
            break
    return found


def _strip_code(text: str) -> str:
    text = re.sub(r"^(?:no\.?|nr\.?|number|#|:)\s*", "", text.strip(), flags=re.IGNORECASE)
    return text.strip(":#,;()[] ")


def _value_from_words(rule: FieldRule, words: Sequence[Word], context: ReadingContext) -> ExtractedField | None:
    if not words:
        return None
    if rule.kind == "amount":
        for index in range(len(words) - 1, -1, -1):
            word = words[index]
            if word.text.endswith("%"):
                continue
            amount = parse_amount(word.text, decimal_hint=context.decimal)
            if amount is not None:
                return ExtractedField(word.text, None, word.bbox, 1.0, amount=amount)
        return None
    if rule.kind == "date":
        for count in range(1, min(len(words), 5) + 1):
            text = " ".join(w.text for w in words[:count])
            date = parse_date(text, day_first=context.day_first)
            if date is not None:
                return ExtractedField(text, None, union_bbox(words[:count]), 1.0, date=date)
        return None
    if rule.kind == "code":
        for word in words[:2]:
            value = _strip_code(word.text)
            if value and any(ch.isdigit() for ch in value) and len(value) <= 40 and value.lower() not in ("no", "#"):
                if parse_date(value, day_first=context.day_first) and re.fullmatch(r"[\d./-]+", value):
                    return None
                return ExtractedField(value, None, word.bbox, 1.0)
        return None
    text = " ".join(w.text for w in words).strip(" :")
    return ExtractedField(text, None, union_bbox(words), 1.0) if text else None


def _trim_gap(words: list[Word]) -> list[Word]:
    for index in range(1, len(words)):
        if words[index].x0 - words[index - 1].x1 > MAX_TEXT_GAP:
            return words[:index]
    return words


def read_field(rule: FieldRule, matches: Sequence[LabelMatch], lines: Sequence[Line],
               context: ReadingContext) -> ExtractedField | None:
    """Read one field: the strongest label that has a valid value right of it or below it."""
    own = [m for m in matches if m.rule is rule]
    for priority in sorted({m.priority for m in own}):
        candidates = [m for m in own if m.priority == priority]
        if rule.pick == "last":
            candidates.reverse()
        for match in candidates:
            right = _segment(match, matches)
            if rule.kind != "amount":
                right = _trim_gap(right)
            value = _value_from_words(rule, right, context)
            confidence = CONFIDENCE_RIGHT
            method = "label_right"
            if value is None and rule.kind != "amount":
                # Amounts are not read below a label, because under a column header they are line values.
                value = _value_from_words(rule, _below(match, lines, matches), context)
                confidence, method = CONFIDENCE_BELOW, "label_below"
            if value is None:
                continue
            if match.weak:
                confidence -= WEAK_LABEL_PENALTY
            return ExtractedField(value.value, match.line.page, value.bbox, confidence,
                                  value.amount, value.date, method)
    return None


def read_fields(lines: Sequence[Line], rules: Sequence[FieldRule], context: ReadingContext,
                skip: Sequence[str] = ()) -> dict[str, ExtractedField]:
    """Read every rule's field that a label leads to, except those named in ``skip``."""
    matches = find_labels(lines, rules)
    found: dict[str, ExtractedField] = {}
    for rule in rules:
        if rule.name in skip:
            continue
        value = read_field(rule, matches, lines, context)
        if value is not None:
            found[rule.name] = value
    return found


_HEADING_NOISE = re.compile(
    r"\b(?:tax\s+invoice|invoice|factuur|rechnung|facture|statement|receipt|copy|kopie|original|page\s*\d+)\b[.:]?",
    re.IGNORECASE,
)
_COMPANY_SUFFIX = re.compile(
    r"\b(?:inc|llc|ltd|limited|gmbh|ag|b\.?v|n\.?v|corp|corporation|co|plc|s\.?a|sarl|supply|supplies|"
    r"medical|healthcare|labs?|group)\b\.?", re.IGNORECASE,
)
_VENDOR_LABEL = re.compile(r"^(?:vendor|supplier|from|seller|sold\s+by|lieferant|leverancier)\s*:\s*(.+)$",
                           re.IGNORECASE)


def _heading_candidate(line: Line) -> str | None:
    text = re.split(r"\s+[-|–]\s+", line.text)[0]
    text = _HEADING_NOISE.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip(" .:-#")
    letters = sum(ch.isalpha() for ch in text)
    digits = sum(ch.isdigit() for ch in text)
    if letters < 3 or digits > letters / 3 or ":" in text or "@" in text or "www." in text.lower():
        return None
    return text


def read_vendor(lines: Sequence[Line], page_height: float) -> ExtractedField | None:
    """Read the supplier's name: a "Vendor:" label, else the first company-like line at the page top."""
    first_page = [line for line in lines if line.page == lines[0].page] if lines else []
    for line in first_page:
        if match := _VENDOR_LABEL.match(line.text):
            return ExtractedField(match.group(1).strip(), line.page, line.bbox, 0.85, method="label_right")
    top = [line for line in first_page if line.top < page_height * 0.3][:8]
    candidates = [(line, text) for line in top if (text := _heading_candidate(line))]
    for line, text in candidates:
        if _COMPANY_SUFFIX.search(text):
            return ExtractedField(text, line.page, line.bbox, 0.65, method="heading")
    if candidates:
        line, text = candidates[0]
        return ExtractedField(text, line.page, line.bbox, 0.5, method="heading")
    return None


def read_currency(lines: Sequence[Line]) -> ExtractedField | None:
    """Read the currency: a "Currency:" label, else the symbol or ISO code printed most often."""
    for line in lines:
        if match := re.search(r"\bcurrency\s*:?\s*([A-Z]{3})\b", line.text, re.IGNORECASE):
            return ExtractedField(match.group(1).upper(), line.page, line.bbox, 0.9, method="label_right")
    code = detect_currency("\n".join(line.text for line in lines))
    if code is None:
        return None
    return ExtractedField(code, None, None, 0.7, method="symbol")
