"""Write X12 5010 interchanges: ISA/GS/ST ... SE/GE/IEA envelopes around segment lists.

The writer uses ``*`` between elements, ``:`` between components, ``^`` as the repetition
separator and ``~`` plus a newline after every segment. The ISA segment is fixed width
(106 characters with its terminator), as X12 requires, and every trailer carries the right count
and control number: SE01 counts the segments from ST to SE inclusive, GE01 the transaction sets
of the group and IEA01 the groups of the interchange.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "COMPONENT_SEPARATOR",
    "ELEMENT_SEPARATOR",
    "REPETITION_SEPARATOR",
    "SEGMENT_TERMINATOR",
    "Envelope",
    "format_amount",
    "format_date",
    "format_segment",
    "write_interchange",
]

logger = logging.getLogger(__name__)

ELEMENT_SEPARATOR = "*"
COMPONENT_SEPARATOR = ":"
REPETITION_SEPARATOR = "^"
SEGMENT_TERMINATOR = "~"

_ISA_ID_WIDTH = 15
_CONTROL_NUMBER_MAX = 999_999_999


@dataclass(frozen=True, slots=True)
class Envelope:
    """The interchange and group headers of one file.

    ``functional_id`` is GS01 (``HC`` for 837 claims, ``HP`` for 835 remittances) and
    ``version`` the GS08 implementation guide (``005010X222A1``, ``005010X221A1``).
    """

    sender_id: str
    receiver_id: str
    created: dt.datetime
    interchange_control: int
    group_control: int
    functional_id: str
    transaction_set_id: str
    version: str
    usage: str = "T"


def format_amount(amount: Decimal) -> str:
    """Format money as X12 type R: no trailing zeros, no exponent, ``0`` for zero."""
    quantized = amount.quantize(Decimal("0.01"))
    text = f"{quantized:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        return "0"
    return text


def format_date(day: dt.date) -> str:
    """Format a date as CCYYMMDD (X12 type DT)."""
    return day.strftime("%Y%m%d")


def format_segment(segment_id: str, *elements: str) -> str:
    """Join a segment's elements with ``*``, drop trailing empty elements and add the terminator."""
    values = list(elements)
    while values and values[-1] == "":
        values.pop()
    return ELEMENT_SEPARATOR.join([segment_id, *values]) + SEGMENT_TERMINATOR + "\n"


def _check_control_number(name: str, value: int) -> None:
    if not 1 <= value <= _CONTROL_NUMBER_MAX:
        raise ValueError(
            f"{name} control number {value} is out of range: X12 allows 1 to {_CONTROL_NUMBER_MAX}"
        )


def _isa_segment(envelope: Envelope) -> str:
    # ISA elements are fixed width: ids are padded to 15 characters and the control number to 9 digits.
    elements = [
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        envelope.sender_id.ljust(_ISA_ID_WIDTH)[:_ISA_ID_WIDTH],
        "ZZ",
        envelope.receiver_id.ljust(_ISA_ID_WIDTH)[:_ISA_ID_WIDTH],
        envelope.created.strftime("%y%m%d"),
        envelope.created.strftime("%H%M"),
        REPETITION_SEPARATOR,
        "00501",
        f"{envelope.interchange_control:09d}",
        "0",
        envelope.usage,
        COMPONENT_SEPARATOR,
    ]
    return format_segment("ISA", *elements)


def _transaction(envelope: Envelope, control: str, body: Sequence[str]) -> list[str]:
    # The 837 guides put the implementation guide in ST03; the 835 guide leaves ST03 out.
    st03 = envelope.version if envelope.transaction_set_id == "837" else ""
    header = format_segment("ST", envelope.transaction_set_id, control, st03)
    segment_count = len(body) + 2
    trailer = format_segment("SE", str(segment_count), control)
    return [header, *body, trailer]


def write_interchange(envelope: Envelope, transactions: Sequence[Sequence[str]]) -> str:
    """Wrap transaction bodies (segments between ST and SE) in one interchange with one group.

    Each body is a list of already formatted segments. Transaction control numbers run
    ``0001``, ``0002``... within the group.
    """
    _check_control_number("interchange", envelope.interchange_control)
    _check_control_number("group", envelope.group_control)
    if not transactions:
        raise ValueError(
            f"interchange {envelope.interchange_control} has no transaction sets: pass at least one body"
        )

    segments = [
        _isa_segment(envelope),
        format_segment(
            "GS",
            envelope.functional_id,
            envelope.sender_id,
            envelope.receiver_id,
            format_date(envelope.created.date()),
            envelope.created.strftime("%H%M"),
            str(envelope.group_control),
            "X",
            envelope.version,
        ),
    ]
    for index, body in enumerate(transactions, start=1):
        segments.extend(_transaction(envelope, f"{index:04d}", body))
    segments.append(format_segment("GE", str(len(transactions)), str(envelope.group_control)))
    segments.append(format_segment("IEA", "1", f"{envelope.interchange_control:09d}"))
    return "".join(segments)
