"""The simulated world: payers with their habits, billing organisations, providers and patients.

Every identifier is invented. NPIs are random but valid: nine digits plus a Luhn check digit
computed over the ``80840`` prefix, as the NPI standard defines it. Patients have no names; where
an X12 segment needs one the writers use numbered placeholders.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass, field
from decimal import Decimal

from training.simulator.habits import PayerHabits, build_payer_habits
from training.simulator.parameters import parameter, parameters_with_prefix

__all__ = [
    "CAUSES",
    "CAUSE_TO_TYPE",
    "Organisation",
    "Patient",
    "Payer",
    "Provider",
    "World",
    "base_cause_shares",
    "build_world",
    "npi_check_digit",
    "make_npi",
]

logger = logging.getLogger(__name__)

# Internal denial causes (finer than the taxonomy) and the exception type each one belongs to.
CAUSE_TO_TYPE: dict[str, str] = {
    "eligibility": "eligibility_registration",
    "provider_eligibility": "eligibility_registration",
    "cob": "coordination_of_benefits",
    "invalid_data": "missing_information",
    "records_requested": "missing_information",
    "authorization": "authorization",
    "non_covered": "non_covered_service",
    "medical_necessity": "medical_necessity",
    "timely_filing": "timely_filing",
    "coding": "coding",
}
CAUSES: tuple[str, ...] = tuple(CAUSE_TO_TYPE)

PAYER_KINDS: tuple[str, ...] = (
    "medicare",
    "medicare_advantage",
    "medicaid",
    "managed_medicaid",
    "commercial",
)


def npi_check_digit(base: str) -> str:
    """Compute the NPI check digit of nine digits with the Luhn formula over the 80840 prefix."""
    if len(base) != 9 or not base.isdigit():
        raise ValueError(f"NPI base {base!r} is invalid: expected exactly nine digits")
    total = 0
    for position, char in enumerate(reversed("80840" + base)):
        digit = int(char)
        # The check digit will sit to the right, so the rightmost payload digit is doubled.
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def make_npi(rng: random.Random) -> str:
    """Draw a valid NPI: a first digit of 1 or 2, eight random digits and the check digit."""
    base = str(rng.choice((1, 2))) + "".join(str(rng.randrange(10)) for _ in range(8))
    return base + npi_check_digit(base)


@dataclass(frozen=True, slots=True)
class Payer:
    """One payer and its adjudication habits.

    ``filing_indicator`` goes in the 837 SBR09 and ``remit_filing_indicator`` in the 835 CLP06,
    whose code list has no ``CI`` or ``BL``. ``payment_weekday`` is the weekday of the payer's
    weekly payment cycle (Monday is 0).
    """

    payer_id: str
    name: str
    kind: str
    filing_indicator: str
    remit_filing_indicator: str
    denial_rate: float
    filing_limit_days: int
    appeal_window_days: int
    contract_factor: Decimal
    payment_weekday: int
    lag_median_days: float
    tax_id: str
    claim_level_denials: bool
    cause_weights: dict[str, float]
    habits: PayerHabits


@dataclass(frozen=True, slots=True)
class Provider:
    """A rendering provider: NPI, taxonomy and a numbered placeholder name."""

    npi: str
    taxonomy: str
    number: int


@dataclass(frozen=True, slots=True)
class Organisation:
    """A billing organisation: NPI, tax id, submitter id and its rendering providers."""

    org_id: str
    name: str
    npi: str
    tax_id: str
    submitter_id: str
    charge_factor: Decimal
    template_weights: dict[str, float]
    providers: tuple[Provider, ...]


@dataclass(frozen=True, slots=True)
class Patient:
    """A patient who is also the subscriber: fake member id, birth date and sex, no name."""

    number: int
    payer_id: str
    member_id: str
    birth_date: dt.date
    sex: str


@dataclass(slots=True)
class World:
    """Everything the claim generator draws from."""

    payers: tuple[Payer, ...]
    organisations: tuple[Organisation, ...]
    patients_by_payer: dict[str, list[Patient]] = field(default_factory=dict)
    drift_date: dt.date | None = None

    def payer(self, payer_id: str) -> Payer:
        for payer in self.payers:
            if payer.payer_id == payer_id:
                return payer
        raise KeyError(f"payer {payer_id!r} not found in the simulated world")


def base_cause_shares() -> dict[str, float]:
    """Map the CHC2020 denial categories onto the internal causes, leaving out "Unknown"."""
    share = parameters_with_prefix("cause_share.")
    cob_part = parameter("cob_share_of_registration")
    raw = {
        "eligibility": share["registration_eligibility"] * (1 - cob_part),
        "cob": share["registration_eligibility"] * cob_part,
        "provider_eligibility": share["provider_eligibility"],
        "invalid_data": share["missing_invalid_claim_data"],
        "records_requested": share["medical_documentation_requested"],
        "authorization": share["prior_authorization"],
        "non_covered": share["service_not_covered"],
        "medical_necessity": share["medical_necessity"] + share["avoidable_care"],
        "timely_filing": share["untimely_filing"],
        "coding": share["medical_coding"],
    }
    total = sum(raw.values())
    return {cause: value / total for cause, value in raw.items()}


def _cause_weights(kind: str) -> dict[str, float]:
    tilts = parameters_with_prefix(f"cause_tilt.{kind}.")
    weights = {cause: share * tilts.get(cause, 1.0) for cause, share in base_cause_shares().items()}
    total = sum(weights.values())
    return {cause: value / total for cause, value in weights.items()}


_PAYER_SPECS: tuple[tuple[str, str, str, str, str, int, float], ...] = (
    # payer id, name, kind, SBR09, CLP06, payment weekday, adjudication lag median (days)
    ("SIMMCR01", "SIMULATED MEDICARE CONTRACTOR", "medicare", "MB", "MB", 1, 15.0),
    ("SIMMAP01", "SIMULATED SENIOR ADVANTAGE PLAN", "medicare_advantage", "16", "16", 2, 18.0),
    ("SIMMCD01", "SIMULATED STATE MEDICAID", "medicaid", "MC", "MC", 3, 24.0),
    ("SIMMMC01", "SIMULATED COMMUNITY CARE PLAN", "managed_medicaid", "HM", "HM", 4, 21.0),
    ("SIMCOM01", "SIMULATED NORTHWIND HEALTH", "commercial", "CI", "12", 0, 14.0),
    ("SIMCOM02", "SIMULATED BLUE RIVER PLAN", "commercial", "BL", "12", 2, 16.0),
    ("SIMCOM03", "SIMULATED SUMMIT HMO", "commercial", "HM", "HM", 3, 20.0),
    ("SIMCOM04", "SIMULATED HARBOR EPO", "commercial", "14", "14", 4, 12.0),
)


def _build_payers(rng: random.Random, drift_date: dt.date | None) -> tuple[Payer, ...]:
    payers = []
    commercial_index = 0
    drifting = _choose_drifting_payers(rng)
    for payer_id, name, kind, sbr09, clp06, weekday, lag in _PAYER_SPECS:
        if kind == "commercial":
            commercial_index += 1
            suffix = f".{commercial_index}"
            denial_rate = parameter("denial_rate.commercial") * parameter(
                f"commercial_plan_factor.{commercial_index}"
            )
        else:
            suffix = ""
            denial_rate = parameter(f"denial_rate.{kind}")
        habits = build_payer_habits(
            rng,
            payer_id,
            CAUSES,
            drift_date=drift_date if payer_id in drifting else None,
        )
        payers.append(
            Payer(
                payer_id=payer_id,
                name=name,
                kind=kind,
                filing_indicator=sbr09,
                remit_filing_indicator=clp06,
                denial_rate=denial_rate,
                filing_limit_days=int(parameter(f"filing_limit.{kind}{suffix}")),
                appeal_window_days=int(parameter(f"appeal_window.{kind}")),
                contract_factor=Decimal(str(parameter(f"contract_factor.{kind}{suffix}"))),
                payment_weekday=weekday,
                lag_median_days=lag,
                tax_id=f"{rng.randrange(10, 99)}{rng.randrange(1_000_000, 9_999_999)}",
                claim_level_denials=rng.random() < 0.5,
                cause_weights=_cause_weights(kind),
                habits=habits,
            )
        )
    return tuple(payers)


def _choose_drifting_payers(rng: random.Random) -> set[str]:
    count = int(parameter("code_habit.drifting_payers"))
    payer_ids = [spec[0] for spec in _PAYER_SPECS]
    return set(rng.sample(payer_ids, k=min(count, len(payer_ids))))


_ORG_SPECS: tuple[tuple[str, str, dict[str, float]], ...] = (
    (
        "ORG1",
        "SIMULATED FAMILY MEDICINE GROUP",
        {"office_chronic": 2.0, "office_acute": 1.5, "preventive": 2.0, "musculoskeletal": 0.3,
         "emergency": 0.0, "outpatient_imaging": 0.2},
    ),
    (
        "ORG2",
        "SIMULATED ORTHOPEDIC AND SPINE",
        {"office_chronic": 0.2, "office_acute": 0.2, "preventive": 0.0, "musculoskeletal": 3.0,
         "emergency": 0.0, "outpatient_imaging": 1.5},
    ),
    (
        "ORG3",
        "SIMULATED URGENT CARE PARTNERS",
        {"office_chronic": 0.3, "office_acute": 2.0, "preventive": 0.2, "musculoskeletal": 0.3,
         "emergency": 2.5, "outpatient_imaging": 0.5},
    ),
)  # fmt: skip


def _build_organisations(rng: random.Random) -> tuple[Organisation, ...]:
    from training.simulator.codes import RENDERING_TAXONOMIES

    organisations = []
    provider_number = 0
    for index, (org_id, name, template_weights) in enumerate(_ORG_SPECS, start=1):
        providers = []
        for _ in range(rng.randint(3, 5)):
            provider_number += 1
            providers.append(
                Provider(make_npi(rng), rng.choice(RENDERING_TAXONOMIES), provider_number)
            )
        # Organisations price above the base rate by a factor around the chargemaster parameter.
        spread = Decimal(str(round(rng.uniform(-0.3, 0.3), 2)))
        organisations.append(
            Organisation(
                org_id=org_id,
                name=name,
                npi=make_npi(rng),
                tax_id=f"{rng.randrange(10, 99)}{rng.randrange(1_000_000, 9_999_999)}",
                submitter_id=f"SIMSUB{index:02d}",
                charge_factor=Decimal(str(parameter("chargemaster_factor"))) + spread,
                template_weights=template_weights,
                providers=tuple(providers),
            )
        )
    return tuple(organisations)


def _birth_date(rng: random.Random, kind: str, reference: dt.date) -> dt.date:
    if kind in ("medicare", "medicare_advantage"):
        age = rng.randint(65, 92)
    elif kind in ("medicaid", "managed_medicaid"):
        age = rng.randint(1, 64)
    else:
        age = rng.randint(18, 64)
    return reference - dt.timedelta(days=age * 365 + rng.randrange(365))


def _build_patients(
    rng: random.Random, payers: tuple[Payer, ...], count: int, reference: dt.date
) -> dict[str, list[Patient]]:
    mix = parameters_with_prefix("payer_mix.")
    commercial_count = sum(1 for payer in payers if payer.kind == "commercial")
    weights = [
        mix[payer.kind] / (commercial_count if payer.kind == "commercial" else 1) for payer in payers
    ]
    patients: dict[str, list[Patient]] = {payer.payer_id: [] for payer in payers}
    for number in range(1, count + 1):
        payer = rng.choices(payers, weights=weights)[0]
        member_id = f"{payer.payer_id[3:6]}{rng.randrange(10**8, 10**9)}"
        patients[payer.payer_id].append(
            Patient(
                number=number,
                payer_id=payer.payer_id,
                member_id=member_id,
                birth_date=_birth_date(rng, payer.kind, reference),
                sex=rng.choice("FM"),
            )
        )
    return patients


def build_world(
    rng: random.Random, start: dt.date, months: int, patient_count: int, code_drift: bool = True
) -> World:
    """Build payers, organisations and patients; habits drift at the middle of the simulated span."""
    drift_date = start + dt.timedelta(days=int(months * 30.4 / 2)) if code_drift else None
    payers = _build_payers(rng, drift_date)
    organisations = _build_organisations(rng)
    patients = _build_patients(rng, payers, patient_count, start)
    logger.debug("built world: %d payers, %d organisations", len(payers), len(organisations))
    return World(payers, organisations, patients, drift_date)

