"""Earlier claims that the duplicate rule compares against.

Two claims are duplicates when the patient, the billing provider, the service dates, the codes and
the charges all match. A replacement (frequency code 7) replaces the earlier claim it matches and
a void (8) removes it, so neither is ever reported as a duplicate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from workflow.records import Claim

REPLACEMENT_CODES = frozenset({"7"})
VOID_CODES = frozenset({"8"})

LineKey = tuple[str | None, str | None, tuple[str, ...], Decimal, Decimal | None, dt.date | None, dt.date | None]
ClaimKey = tuple[
    str | None, dt.date | None, str | None, dt.date | None, dt.date | None, Decimal, tuple[LineKey, ...]
]


def claim_fingerprint(claim: Claim) -> ClaimKey:
    """Return the key two duplicate claims share: patient, provider, dates, codes and charges."""
    patient = claim.patient_id or claim.subscriber_id
    line_keys = (
        (
            line.procedure_code,
            line.revenue_code,
            tuple(sorted(line.modifiers)),
            line.charge,
            line.units,
            line.service_date_from,
            line.service_date_to,
        )
        for line in claim.service_lines
    )
    # Line order does not matter for a duplicate, but None cannot be compared with text, so the
    # lines are sorted on their text form.
    lines = sorted(line_keys, key=lambda line: tuple("" if part is None else str(part) for part in line))
    return (
        patient,
        claim.patient_birth_date,
        claim.billing_npi,
        claim.statement_from,
        claim.statement_to,
        claim.total_charge,
        tuple(lines),
    )


class ClaimHistory:
    """Claims seen before, indexed by :func:`claim_fingerprint`."""

    def __init__(self, claims: Iterable[Claim] = ()) -> None:
        self._by_key: dict[ClaimKey, list[Claim]] = {}
        for claim in claims:
            self.add(claim)

    def __len__(self) -> int:
        return sum(len(claims) for claims in self._by_key.values())

    def add(self, claim: Claim) -> None:
        """Record a claim: an original is added, a replacement replaces its match, a void removes it."""
        key = claim_fingerprint(claim)
        frequency = (claim.frequency_code or "1").strip()
        if frequency in VOID_CODES:
            self._by_key.pop(key, None)
        elif frequency in REPLACEMENT_CODES:
            self._by_key[key] = [claim]
        else:
            self._by_key.setdefault(key, []).append(claim)

    def find_duplicate(self, claim: Claim) -> Claim | None:
        """Return an earlier claim that this original claim duplicates, or None.

        The claim itself (the same object, or a claim read from the same file and segment) is not
        its own duplicate, so a history built from the claims being validated is safe to pass.
        """
        frequency = (claim.frequency_code or "1").strip()
        if frequency in REPLACEMENT_CODES | VOID_CODES:
            return None

        for earlier in self._by_key.get(claim_fingerprint(claim), []):
            if earlier is claim or _same_segment(earlier, claim):
                continue
            return earlier
        return None

    def copy(self) -> ClaimHistory:
        """Return a history with the same claims that can grow without changing this one."""
        duplicate = ClaimHistory()
        duplicate._by_key = {key: list(claims) for key, claims in self._by_key.items()}
        return duplicate


def _same_segment(first: Claim, second: Claim) -> bool:
    # Without a segment index, equal sources may still be two claims of one file.
    return first.source.segment_index is not None and first.source == second.source
