"""Payer code habits: which group code, CARC and RARCs a payer sends for each denial cause.

Payers disagree on codes. The catalogue below lists, for each internal cause, the code sets seen
for it in practice. Several code sets appear under more than one cause on purpose, so a code
does not give the cause away. ``CO-16`` alone stands for missing data and for coding, ``CO-50``
for medical necessity and for non-covered services. ``CO-109`` covers eligibility and
coordination of benefits, and ``CO-11`` coding and medical necessity. Each payer picks a preferred
code set and a second one per cause, and sends a catch-all code set for a small share of
denials whatever the cause; a few payers switch their preferred set at a drift date.
CARC 15 and CARC 62 are deactivated codes that some payers still send out of habit.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass

from training.simulator.parameters import parameter

__all__ = ["CODE_CATALOGUE", "DUPLICATE_VARIANTS", "GENERIC_VARIANTS", "CodeVariant", "PayerHabits", "build_payer_habits"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CodeVariant:
    """One way to report a denial: CAS group code, CARC and the RARCs that go with it."""

    group: str
    carc: str
    rarcs: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """Short text form such as ``CO-16/MA130``, for logs and the truth table."""
        return "/".join([f"{self.group}-{self.carc}", *self.rarcs])


def _v(group: str, carc: str, *rarcs: str) -> CodeVariant:
    return CodeVariant(group, carc, tuple(rarcs))


CODE_CATALOGUE: dict[str, tuple[CodeVariant, ...]] = {
    "eligibility": (
        _v("CO", "27"), _v("CO", "31", "N382"), _v("CO", "26"), _v("CO", "109"),
        _v("CO", "96", "N30"), _v("CO", "16", "N382"),
    ),
    "provider_eligibility": (_v("CO", "B7"), _v("CO", "16", "N290"), _v("CO", "96", "N95")),
    "cob": (
        _v("CO", "22"), _v("CO", "22", "MA04"), _v("OA", "23", "N4"), _v("CO", "109"),
        _v("CO", "16", "N479"),
    ),
    "invalid_data": (
        _v("CO", "16", "MA130"), _v("CO", "16", "N290"), _v("CO", "16", "N382"), _v("CO", "16"),
        _v("CO", "16", "M51"),
    ),
    "records_requested": (
        _v("CO", "252", "N706"), _v("CO", "16", "M127"), _v("CO", "226", "M127"), _v("CO", "252", "M127"),
    ),
    "authorization": (
        _v("CO", "197"), _v("CO", "197", "N54"), _v("CO", "15", "M62"), _v("CO", "16", "M62"),
        _v("CO", "62"), _v("CO", "198", "N54"),
    ),
    "non_covered": (
        _v("CO", "96", "N130"), _v("CO", "204"), _v("PR", "204", "N130"), _v("CO", "49"),
        _v("CO", "96", "N425"), _v("CO", "50"),
    ),
    "medical_necessity": (
        _v("CO", "50", "N115"), _v("CO", "50"), _v("CO", "50", "N386"), _v("CO", "11"),
        _v("CO", "167", "N386"), _v("CO", "50", "M25"),
    ),
    "timely_filing": (_v("CO", "29"), _v("CO", "29", "N211")),
    "coding": (
        _v("CO", "4"), _v("CO", "11"), _v("CO", "181", "M20"), _v("CO", "16", "M51"),
        _v("CO", "97", "N657"), _v("CO", "16"), _v("CO", "4", "N657"), _v("CO", "16", "N362"),
    ),
}  # fmt: skip

# Catch-all code sets some payers send whatever the cause, which makes part of the labels unrecoverable.
GENERIC_VARIANTS: tuple[CodeVariant, ...] = (_v("CO", "16", "MA130"), _v("CO", "16"), _v("CO", "96", "N130"))

# CARC 18 is meant for group OA, but many payers send it with CO.
DUPLICATE_VARIANTS: tuple[CodeVariant, ...] = (_v("CO", "18"), _v("OA", "18"), _v("CO", "18", "N522"))


@dataclass(frozen=True, slots=True)
class PayerHabits:
    """A payer's preferred and second code set per cause, and the causes that drift.

    ``drifted`` maps a cause to the preferred code set used on and after ``drift_date``.
    """

    payer_id: str
    preferred: dict[str, CodeVariant]
    secondary: dict[str, CodeVariant]
    drifted: dict[str, CodeVariant]
    duplicate: CodeVariant
    generic: CodeVariant
    drift_date: dt.date | None
    preferred_weight: float
    generic_share: float

    def choose(self, cause: str, day: dt.date, rng: random.Random) -> CodeVariant:
        """Draw the code set for one denial adjudicated on ``day``."""
        if rng.random() < self.generic_share:
            return self.generic
        preferred = self.preferred[cause]
        if self.drift_date is not None and day >= self.drift_date and cause in self.drifted:
            preferred = self.drifted[cause]
        if rng.random() < self.preferred_weight:
            return preferred
        return self.secondary[cause]


def build_payer_habits(
    rng: random.Random,
    payer_id: str,
    causes: tuple[str, ...],
    drift_date: dt.date | None,
) -> PayerHabits:
    """Pick one payer's code sets; with a drift date, one cause switches to a third code set."""
    preferred: dict[str, CodeVariant] = {}
    secondary: dict[str, CodeVariant] = {}
    for cause in causes:
        first, second = rng.sample(CODE_CATALOGUE[cause], k=2)
        preferred[cause] = first
        secondary[cause] = second

    drifted: dict[str, CodeVariant] = {}
    if drift_date is not None:
        # Only causes with at least three code sets can switch to one the payer did not use before.
        candidates = [cause for cause in causes if len(CODE_CATALOGUE[cause]) >= 3]
        cause = rng.choice(candidates)
        unused = [
            variant
            for variant in CODE_CATALOGUE[cause]
            if variant not in (preferred[cause], secondary[cause])
        ]
        drifted[cause] = rng.choice(unused)
        logger.debug("payer %s drifts cause %s on %s", payer_id, cause, drift_date)

    return PayerHabits(
        payer_id=payer_id,
        preferred=preferred,
        secondary=secondary,
        drifted=drifted,
        duplicate=rng.choice(DUPLICATE_VARIANTS),
        generic=rng.choice(GENERIC_VARIANTS),
        drift_date=drift_date,
        preferred_weight=parameter("code_habit.preferred_weight"),
        generic_share=parameter("code_habit.generic_share"),
    )
