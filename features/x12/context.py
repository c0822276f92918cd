"""The envelope of one transaction and the value parsers every transaction reader shares.

Each parser turns a bad value into a :class:`~workflow.records.Finding` on the transaction
context and returns None, so one invalid element never stops the rest of a file from being read.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from features.x12.tokenizer import Delimiters
from workflow.records import Adjustment, Finding, Severity, Source

__all__ = [
    "Segment",
    "TransactionContext",
    "X12Envelope",
    "element_at",
    "elements_upto",
    "parse_decimal",
    "read_adjustments",
    "split_procedure",
]

logger = logging.getLogger(__name__)

Segment = tuple[int, list[str]]
"""A segment with its position in the file: (segment index counted from 1 at the first ISA, elements)."""

_AMOUNT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)")

_COMPONENT_FALLBACKS = (":", ">", "^", "|", "!", "\\")
"""Component separators seen in files whose content disagrees with their ISA16."""


@dataclass(frozen=True, slots=True)
class X12Envelope:
    """The ISA, GS and ST headers around one transaction set.

    ``version`` is GS08 (``005010X222A1``), ``implementation_reference`` is ST03 where present.
    """

    delimiters: Delimiters
    interchange_control: str
    sender_id: str
    receiver_id: str
    interchange_version: str
    usage: str
    functional_id: str | None = None
    group_control: str | None = None
    version: str | None = None
    transaction_set: str | None = None
    transaction_control: str | None = None
    implementation_reference: str | None = None


_PADDING = ("",) * 64


def elements_upto(elements: list[str], count: int) -> list[str]:
    """Return elements 0 to ``count - 1`` of a segment as :func:`element_at` returns each one.

    Absent elements are "" and padded values are stripped. Handlers that read many elements of
    a segment use it in place of one ``element_at`` call per element.
    """
    values = elements[:count]
    missing = count - len(values)
    if missing > 0:
        values.extend(_PADDING[:missing])
    # One scan of the joined text finds whether any value starts or ends with a space. A unit
    # separator in the data can only cause a needless pass over the values, never a missed one.
    joined = "\x1f".join(values)
    if joined[:1] == " " or joined[-1:] == " " or " \x1f" in joined or "\x1f " in joined:
        values = [value.strip() if value and (value[0] == " " or value[-1] == " ") else value for value in values]
    return values


def element_at(elements: list[str], position: int) -> str:
    """Return element ``position`` (1 is the first after the segment id), or "" when absent."""
    try:
        value = elements[position]
    except IndexError:
        return ""
    # Most values carry no padding; skip the copy that strip() would make for them.
    if value and (value[0] == " " or value[-1] == " "):
        return value.strip()
    return value


@dataclass(slots=True)
class TransactionContext:
    """The file, document id and envelope of one transaction being read, and its findings so far."""

    file: str
    document_id: str
    envelope: X12Envelope
    findings: list[Finding] = field(default_factory=list)
    claim_id: str | None = None
    _component_mismatch_reported: bool = False

    def source(self, index: int | None, segment_id: str | None) -> Source:
        """Build the Source of a record or finding at segment ``index``."""
        envelope = self.envelope
        # Positional arguments, in the field order of Source: this runs once per record.
        return Source(
            self.file,
            self.document_id,
            envelope.interchange_control,
            envelope.group_control,
            envelope.transaction_control,
            index,
            segment_id,
        )

    def report(
        self,
        severity: Severity,
        code: str,
        message: str,
        segment: Segment | None,
        position: int | None = None,
        value: str | None = None,
        expected: str | None = None,
    ) -> None:
        """Add a finding that points at ``segment`` and, if given, its element ``position``."""
        index, elements = segment if segment is not None else (None, [None])
        segment_id = elements[0] if elements else None
        element = f"{segment_id}{position:02d}" if position is not None and segment_id else None
        self.findings.append(
            Finding(
                severity=severity,
                code=code,
                message=message,
                source=self.source(index, segment_id),
                element=element,
                value=value,
                expected=expected,
                claim_id=self.claim_id,
            )
        )

    def amount(self, segment: Segment, position: int, skipped: str | None = None) -> Decimal | None:
        """Parse element ``position`` of ``segment`` as a Decimal amount.

        An empty optional element is None. An invalid value adds an ``x12.invalid_amount``
        finding and returns None. ``skipped`` makes the amount required: it names the record
        that cannot be built without it, and an empty value is reported too.
        """
        return self.parse_amount(segment, position, element_at(segment[1], position), skipped)

    def parse_amount(self, segment: Segment, position: int, value: str, skipped: str | None = None) -> Decimal | None:
        """Parse ``value``, the text of element ``position``, as :meth:`amount` does."""
        if value:
            parsed = parse_decimal(value)
            if parsed is not None:
                return parsed
        elif skipped is None:
            return None
        self._report_amount(segment, position, value, skipped)
        return None

    def _report_amount(self, segment: Segment, position: int, value: str, skipped: str | None) -> None:
        segment_id = segment[1][0]
        consequence = f"; {skipped} is skipped" if skipped else "; the amount is left empty"
        self.report(
            Severity.ERROR,
            "x12.invalid_amount",
            f"{segment_id}{position:02d} is {value!r}, not a decimal amount{consequence}. "
            "The sender must correct the element",
            segment,
            position,
            value,
            "a decimal number such as 125.50",
        )

    def quantity(self, segment: Segment, position: int) -> Decimal | None:
        """Parse an optional quantity; an invalid one is reported like an invalid amount."""
        return self.amount(segment, position)

    def date(self, segment: Segment, position: int, value: str | None = None) -> dt.date | None:
        """Parse a CCYYMMDD date (or YYMMDD, as 4010 DTM segments may send) at ``position``.

        ``value`` overrides the element text, for one side of an RD8 range.
        """
        text = element_at(segment[1], position) if value is None else value.strip()
        if not text:
            return None
        parsed = _parse_date(text)
        if parsed is None:
            segment_id = segment[1][0]
            self.report(
                Severity.WARNING,
                "x12.invalid_date",
                f"{segment_id}{position:02d} is {text!r}, not a valid CCYYMMDD date; the date is left empty",
                segment,
                position,
                text,
                "CCYYMMDD",
            )
        return parsed

    def date_range(self, segment: Segment, position: int) -> tuple[dt.date | None, dt.date | None]:
        """Parse a D8 date or an RD8 range ``CCYYMMDD-CCYYMMDD`` at ``position``."""
        text = element_at(segment[1], position)
        if "-" in text:
            start, _, end = text.partition("-")
            return self.date(segment, position, start), self.date(segment, position, end)
        single = self.date(segment, position, text[:8] if len(text) > 8 and text[:8].isdigit() else text)
        return single, single

    def components(self, segment: Segment, position: int) -> list[str]:
        """Split composite element ``position`` into its components (an empty list when absent).

        Some files declare one component separator in ISA16 and use another in the data. When
        the declared one is missing but a usual one appears, that one is used and reported once.
        """
        return self.split_components(segment, position, element_at(segment[1], position))

    def split_components(self, segment: Segment, position: int, value: str) -> list[str]:
        """Split ``value``, the text of element ``position``, as :meth:`components` does."""
        if not value:
            return []
        separator = self.envelope.delimiters.component
        if separator in value:
            return value.split(separator)
        for candidate in _COMPONENT_FALLBACKS:
            if candidate in value and candidate not in (
                self.envelope.delimiters.element,
                self.envelope.delimiters.repetition,
            ):
                self._report_component_mismatch(segment, position, value, separator)
                return value.split(candidate)
        return [value]

    def _report_component_mismatch(self, segment: Segment, position: int, value: str, declared: str) -> None:
        if self._component_mismatch_reported:
            return
        self._component_mismatch_reported = True
        self.report(
            Severity.WARNING,
            "x12.component_separator_mismatch",
            f"ISA16 declares {declared!r} as component separator but {value!r} uses another; "
            "read with the separator found in the data",
            segment,
            position,
            value,
            declared,
        )


# Amounts and dates repeat often within a file (copays, fee schedule prices, the payment date of
# every claim), and Decimal and date are immutable, so parsed values are shared from a cache.
@functools.lru_cache(maxsize=4096)
def parse_decimal(value: str) -> Decimal | None:
    """Return ``value`` as a Decimal, or None when it is not a plain decimal number."""
    if not _AMOUNT.fullmatch(value):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


@functools.lru_cache(maxsize=4096)
def _parse_date(text: str) -> dt.date | None:
    if not text.isdigit():
        return None
    try:
        if len(text) == 8:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
        if len(text) == 6:
            # YYMMDD: years below 50 are taken as 20YY, the usual X12 century window.
            year = int(text[:2])
            return dt.date(2000 + year if year < 50 else 1900 + year, int(text[2:4]), int(text[4:6]))
    except ValueError:
        return None
    return None


def split_procedure(parts: list[str]) -> tuple[str | None, str | None, tuple[str, ...]]:
    """Split a procedure composite (``HC:99213:25``) into qualifier, code and up to 4 modifiers."""
    if not parts:
        return None, None, ()
    qualifier = parts[0].strip() or None
    code = parts[1].strip() if len(parts) > 1 and parts[1].strip() else None
    modifiers = tuple(part.strip() for part in parts[2:6] if part.strip())
    return qualifier, code, modifiers


def read_adjustments(segment: Segment, context: TransactionContext) -> list[Adjustment]:
    """Read every CAS triplet: CAS01 is the group, then up to six (reason, amount, quantity)."""
    elements = segment[1]
    end = min(len(elements), 20)
    values = elements_upto(elements, max(end + 2, 2))
    group = values[1]
    adjustments = []
    for position in range(2, end, 3):
        reason = values[position]
        if not reason:
            continue
        amount_text = values[position + 1]
        amount = parse_decimal(amount_text) if amount_text else None
        if amount is None:
            # The label is built only here, as almost every amount is valid.
            context.parse_amount(segment, position + 1, amount_text, f"adjustment {group}-{reason}")
            continue
        quantity_text = values[position + 2]
        quantity = context.parse_amount(segment, position + 2, quantity_text) if quantity_text else None
        adjustments.append(Adjustment(group=group, reason=reason, amount=amount, quantity=quantity))
    return adjustments
