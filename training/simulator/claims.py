"""Draw professional claims: patient, payer, visit, diagnoses, service lines and charges.

Charges come from each organisation's chargemaster (base rate times its charge factor) and the
expected allowed amount from the payer's contract (base rate times the payer's contract factor,
never above the charge). The pre-submission errors the validator must catch are injected here
by :func:`inject_presubmission_error`.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import random
from dataclasses import dataclass, field
from decimal import Decimal

from training.simulator.codes import (
    AUTH_REQUIRED_PROCEDURES,
    INVALID_ICD10,
    VISIT_TEMPLATES,
    VisitTemplate,
)
from training.simulator.parameters import parameter
from training.simulator.world import Organisation, Patient, Payer, Provider, World, npi_check_digit

__all__ = [
    "SimClaim",
    "SimLine",
    "draw_claim",
    "ensure_auth_required_line",
    "inject_presubmission_error",
    "next_weekday_on_or_after",
]

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
_EVALUATION_AND_MANAGEMENT_PREFIXES = ("992", "993")
_PREVENTIVE_CODES = frozenset({"99396", "G0439"})
_BATCH_WEEKDAYS = (0, 3)  # organisations send claims on Mondays and Thursdays


@dataclass(slots=True)
class SimLine:
    """One service line with its charge and the contract's expected allowed amount."""

    number: int
    code: str
    units: int
    charge: Decimal
    allowed: Decimal
    pointers: tuple[int, ...]
    control: str
    service_date: dt.date

    @property
    def is_office_visit(self) -> bool:
        """True for evaluation and management codes, which carry copays."""
        return self.code.startswith(_EVALUATION_AND_MANAGEMENT_PREFIXES)

    @property
    def is_preventive(self) -> bool:
        """True for preventive visits, which carry no copay."""
        return self.code in _PREVENTIVE_CODES


@dataclass(slots=True)
class SimClaim:
    """A simulated claim as submitted, plus the hidden facts the simulator used.

    ``written_total`` differs from the sum of the lines only on a total-mismatch claim and
    ``rendering_npi_written`` differs from the provider's NPI only on an invalid-NPI claim.
    """

    claim_id: str
    organisation: Organisation
    provider: Provider
    patient: Patient
    payer: Payer
    template: str
    place_of_service: str
    service_date: dt.date
    file_date: dt.date
    diagnoses: list[str]
    lines: list[SimLine]
    prior_auth: str | None
    rendering_npi_written: str
    written_total: Decimal | None = None
    presubmission_error: str | None = None
    is_duplicate_copy: bool = False
    claim_file: str | None = None
    hidden: dict[str, object] = field(default_factory=dict)

    @property
    def total_charge(self) -> Decimal:
        """Sum of line charges, the value CLM02 should contain."""
        return sum((line.charge for line in self.lines), Decimal("0"))

    @property
    def needs_auth(self) -> bool:
        """True when a line needs prior authorization from this payer."""
        if self.payer.kind == "medicare":
            return False
        return any(line.code in AUTH_REQUIRED_PROCEDURES for line in self.lines)

    @property
    def expected_allowed(self) -> Decimal:
        """Sum of the contract's allowed amounts over all lines."""
        return sum((line.allowed for line in self.lines), Decimal("0"))


def next_weekday_on_or_after(day: dt.date, weekdays: tuple[int, ...]) -> dt.date:
    """Return the first date on or after ``day`` whose weekday is in ``weekdays``."""
    for offset in range(7):
        candidate = day + dt.timedelta(days=offset)
        if candidate.weekday() in weekdays:
            return candidate
    raise ValueError(f"weekdays {weekdays!r} are invalid: use integers 0 (Monday) to 6")


def base_rate(code: str) -> Decimal:
    """Base rate of a procedure per unit, in dollars, from ``fee.<code>`` in parameters.csv."""
    return Decimal(str(parameter(f"fee.{code}")))


def _line_charge(code: str, units: int, organisation: Organisation) -> Decimal:
    per_unit = base_rate(code) * organisation.charge_factor
    # Chargemasters list whole dollars except for drugs billed in small units.
    per_unit = per_unit.quantize(Decimal("1")) if per_unit >= 5 else per_unit.quantize(CENT)
    return (per_unit * units).quantize(CENT)


def _line_allowed(code: str, units: int, payer: Payer, charge: Decimal) -> Decimal:
    allowed = (base_rate(code) * payer.contract_factor * units).quantize(CENT)
    return min(allowed, charge)


def _choose_template(rng: random.Random, organisation: Organisation) -> VisitTemplate:
    weights = [
        template.weight * organisation.template_weights.get(template.name, 1.0)
        for template in VISIT_TEMPLATES
    ]
    return rng.choices(VISIT_TEMPLATES, weights=weights)[0]


def _draw_procedures(rng: random.Random, template: VisitTemplate, payer: Payer) -> list[tuple[str, int]]:
    main_code, main_units = rng.choice(template.main)
    # Medicare pays the annual wellness visit (G0439), other payers the preventive visit (99396).
    if main_code in _PREVENTIVE_CODES:
        main_code = "G0439" if payer.kind in ("medicare", "medicare_advantage") else "99396"
    procedures = [(main_code, main_units)]
    for code, units, probability in template.addons:
        if len(procedures) >= 4:
            break
        if code != main_code and rng.random() < probability:
            procedures.append((code, units))
    return procedures


def _draw_service_date(rng: random.Random, month_start: dt.date, month_end: dt.date) -> dt.date:
    span = (month_end - month_start).days
    day = month_start + dt.timedelta(days=rng.randrange(span))
    # Offices close at weekends; emergency visits are moved too, which keeps the code simple.
    if day.weekday() == 5:
        day -= dt.timedelta(days=1)
    elif day.weekday() == 6:
        day += dt.timedelta(days=1)
    return day


def _submission_lag(rng: random.Random) -> int:
    return min(30, max(1, round(rng.lognormvariate(math.log(4), 0.6))))


def draw_claim(
    rng: random.Random,
    world: World,
    claim_id: str,
    month_start: dt.date,
    month_end: dt.date,
    organisation: Organisation | None = None,
    payer: Payer | None = None,
) -> SimClaim:
    """Draw one clean claim with service date in ``[month_start, month_end)``.

    The organisation and payer are drawn unless given; payers are weighted by their patients.
    """
    if organisation is None:
        organisation = rng.choice(world.organisations)
    template = _choose_template(rng, organisation)
    if payer is None:
        payer_ids = [payer_id for payer_id, patients in world.patients_by_payer.items() if patients]
        weights = [len(world.patients_by_payer[payer_id]) for payer_id in payer_ids]
        payer = world.payer(rng.choices(payer_ids, weights=weights)[0])
    patient = rng.choice(world.patients_by_payer[payer.payer_id])
    provider = rng.choice(organisation.providers)
    service_date = _draw_service_date(rng, month_start, month_end)
    file_date = next_weekday_on_or_after(
        service_date + dt.timedelta(days=_submission_lag(rng)), _BATCH_WEEKDAYS
    )

    diagnosis_count = rng.choices((1, 2, 3, 4), weights=(0.35, 0.35, 0.2, 0.1))[0]
    diagnoses = rng.sample(template.diagnoses, k=min(diagnosis_count, len(template.diagnoses)))
    lines = []
    for number, (code, units) in enumerate(_draw_procedures(rng, template, payer), start=1):
        charge = _line_charge(code, units, organisation)
        pointer_count = min(len(diagnoses), rng.choice((1, 1, 2)))
        lines.append(
            SimLine(
                number=number,
                code=code,
                units=units,
                charge=charge,
                allowed=_line_allowed(code, units, payer, charge),
                pointers=tuple(range(1, pointer_count + 1)),
                control=f"{claim_id}L{number}",
                service_date=service_date,
            )
        )

    claim = SimClaim(
        claim_id=claim_id,
        organisation=organisation,
        provider=provider,
        patient=patient,
        payer=payer,
        template=template.name,
        place_of_service=template.place_of_service,
        service_date=service_date,
        file_date=file_date,
        diagnoses=diagnoses,
        lines=lines,
        prior_auth=None,
        rendering_npi_written=provider.npi,
    )
    # Offices get an authorization for most services that need one.
    if claim.needs_auth and rng.random() < 0.85:
        claim.prior_auth = f"AUTH{rng.randrange(10**7, 10**8)}"
    return claim


def ensure_auth_required_line(rng: random.Random, claim: SimClaim) -> None:
    """Make sure an authorization denial concerns a service that needs one (not for Medicare)."""
    if claim.payer.kind == "medicare" or claim.needs_auth:
        return
    line = claim.lines[0]
    code = rng.choice(sorted(AUTH_REQUIRED_PROCEDURES))
    units = 2 if code in ("97110", "97140") else 1
    line.code = code
    line.units = units
    line.charge = _line_charge(code, units, claim.organisation)
    line.allowed = _line_allowed(code, units, claim.payer, line.charge)
    claim.place_of_service = "22" if code in ("70553", "73721") else "11"


def _corrupt_npi(npi: str) -> str:
    wrong = [digit for digit in "0123456789" if digit != npi[-1]]
    # The replacement check digit is wrong by construction, so the Luhn check fails.
    assert npi_check_digit(npi[:9]) == npi[-1]
    return npi[:9] + wrong[int(npi[3]) % len(wrong)]


def inject_presubmission_error(rng: random.Random, claim: SimClaim, error: str) -> None:
    """Apply one error the validator must catch: invalid_npi, total_mismatch, future_service_date, invalid_icd."""
    claim.presubmission_error = error
    if error == "invalid_npi":
        claim.rendering_npi_written = _corrupt_npi(claim.provider.npi)
    elif error == "total_mismatch":
        # A keying slip: the total is off by a few dollars or by a transposed digit.
        delta = Decimal(rng.choice((1, 5, 9, 10, 18, 27, 90)))
        claim.written_total = claim.total_charge + (delta if rng.random() < 0.5 else -delta)
        if claim.written_total <= 0:
            claim.written_total = claim.total_charge + delta
    elif error == "future_service_date":
        future = claim.file_date + dt.timedelta(days=rng.randint(30, 200))
        claim.hidden["true_service_date"] = claim.service_date
        claim.service_date = future
        for line in claim.lines:
            line.service_date = future
    elif error == "invalid_icd":
        index = rng.randrange(len(claim.diagnoses))
        claim.hidden["replaced_icd"] = claim.diagnoses[index]
        claim.diagnoses[index] = rng.choice(INVALID_ICD10)
    else:
        raise ValueError(
            f"pre-submission error {error!r} is invalid: use invalid_npi, total_mismatch, "
            "future_service_date or invalid_icd"
        )
