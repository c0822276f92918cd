"""Match the service lines of a claim payment (SVC loops) to the lines of the claim they pay.

Keys, tried in this order for every payment line:

1. the line control number (``REF*6R`` on both sides), which the payer must echo back;
2. the originally billed procedure code (SVC06) when the payer paid under another code,
   together with the service date;
3. procedure code, service date and charge, with modifiers ignored because payers often drop them.

Each claim line is used at most once, and a payment line that no key fits is left unmatched.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from workflow.records import ServicePayment

logger = logging.getLogger(__name__)

__all__ = ["LINE_KEY_CONFIDENCE", "LineMatch", "match_lines"]

LINE_KEY_CONFIDENCE: dict[str, float] = {
    "line_control_number": 0.99,
    "original_code+service_date": 0.9,
    "code+modifiers+service_date+charge": 0.9,
    "code+service_date+charge": 0.8,
}


@dataclass(frozen=True, slots=True)
class LineMatch:
    """One payment line and the claim line it pays (``claim_line_number`` None when unmatched).

    ``service_index`` is the position of the line in ``ClaimPayment.service_payments`` and
    ``segment_index`` the index of its SVC segment in the file.
    """

    service_index: int
    segment_index: int | None
    claim_line_number: int | None
    key: str | None
    confidence: float


def _date_agrees(service: ServicePayment, line: Any) -> bool:
    line_date = getattr(line, "service_date_from", None)
    return service.service_date_from is None or line_date is None or service.service_date_from == line_date


def _charge_agrees(service: ServicePayment, line: Any) -> bool:
    # Reversals negate every amount, so the charge is compared without its sign.
    return abs(service.charge) == abs(line.charge)


def _key_for(service: ServicePayment, line: Any) -> str | None:
    if service.line_control_number and service.line_control_number == getattr(line, "line_control_number", None):
        return "line_control_number"
    if service.original_procedure_code and service.original_procedure_code == line.procedure_code and _date_agrees(service, line):
        return "original_code+service_date"
    if service.procedure_code != line.procedure_code or not _date_agrees(service, line) or not _charge_agrees(service, line):
        return None
    if tuple(service.modifiers) == tuple(line.modifiers):
        return "code+modifiers+service_date+charge"
    return "code+service_date+charge"


KEY_ORDER = tuple(LINE_KEY_CONFIDENCE)


def match_lines(services: Sequence[ServicePayment], claim_lines: Sequence[Any]) -> tuple[LineMatch, ...]:
    """Match payment lines to claim lines, strongest key first, each claim line at most once.

    ``claim_lines`` are :class:`~workflow.records.ServiceLine` or any object with
    ``line_number``, ``procedure_code``, ``modifiers``, ``charge``, ``service_date_from`` and
    ``line_control_number``.
    """
    chosen: dict[int, tuple[int, str]] = {}
    used_lines: set[int] = set()
    # One pass per key, so a weak key never takes a claim line that a strong key needs later.
    for key in KEY_ORDER:
        for service_index, service in enumerate(services):
            if service_index in chosen:
                continue
            for line in claim_lines:
                if line.line_number in used_lines:
                    continue
                if _key_for(service, line) == key:
                    chosen[service_index] = (line.line_number, key)
                    used_lines.add(line.line_number)
                    break

    matches = []
    for service_index, service in enumerate(services):
        segment = service.source.segment_index if service.source else None
        if service_index in chosen:
            line_number, key = chosen[service_index]
            matches.append(LineMatch(service_index, segment, line_number, key, LINE_KEY_CONFIDENCE[key]))
        else:
            matches.append(LineMatch(service_index, segment, None, None, 0.0))
    return tuple(matches)
