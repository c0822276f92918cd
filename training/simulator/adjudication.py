"""Turn submitted claims into payer decisions: payments, denials, underpayments and reversals.

Every :class:`RemitClaim` balances the way the 835 guide requires: the claim charge equals the
paid amount plus every claim- and line-level adjustment, and each line charge equals its paid
amount plus its own adjustments. :meth:`RemitClaim.check_balance` enforces it.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass, field
from decimal import Decimal

from training.simulator.claims import CENT, SimClaim, SimLine
from training.simulator.habits import CodeVariant
from training.simulator.parameters import parameter, parameters_with_prefix
from training.simulator.world import CAUSES, Organisation, Payer

__all__ = [
    "ROUTINE_CODES",
    "RemitClaim",
    "RemitLine",
    "build_denial",
    "build_duplicate_denial",
    "build_paid_claim",
    "build_reversal",
    "expected_payment",
    "draw_denial_cause",
    "draw_presentation",
]

logger = logging.getLogger(__name__)

ZERO = Decimal("0")

# Adjustments that appear on almost every paid claim and carry no sign of a problem.
ROUTINE_CODES: frozenset[tuple[str, str]] = frozenset(
    {("CO", "45"), ("CO", "253"), ("PR", "1"), ("PR", "2"), ("PR", "3")}
)


@dataclass(slots=True)
class RemitLine:
    """One SVC loop: charge, payment, adjustments (group, CARC, amount) and LQ remark codes."""

    code: str
    units: int
    charge: Decimal
    paid: Decimal
    adjustments: list[tuple[str, str, Decimal]]
    remarks: list[str]
    allowed: Decimal | None
    service_date: dt.date
    control: str


@dataclass(slots=True)
class RemitClaim:
    """One CLP loop as the payer sends it, with the hidden event that produced it."""

    claim_id: str
    status: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    adjustments: list[tuple[str, str, Decimal]]
    remarks: list[str]
    lines: list[RemitLine]
    payer_claim_id: str
    received_date: dt.date
    payment_date: dt.date
    payer: Payer
    organisation: Organisation
    member_id: str
    patient_number: int
    service_date: dt.date
    event: str = "paid"
    remittance_file: str | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def all_adjustments(self) -> list[tuple[str, str, Decimal]]:
        """Claim-level adjustments followed by every line's adjustments."""
        return self.adjustments + [adj for line in self.lines for adj in line.adjustments]

    def all_remarks(self) -> list[str]:
        """Claim-level and line-level remark codes, without repeats, in order."""
        return list(dict.fromkeys(self.remarks + [code for line in self.lines for code in line.remarks]))

    def check_balance(self) -> None:
        """Raise AssertionError when the charge does not equal payment plus adjustments."""
        adjusted = sum((amount for _, _, amount in self.all_adjustments()), ZERO)
        if self.charge != self.paid + adjusted:
            raise AssertionError(
                f"claim {self.claim_id} does not balance: charge {self.charge} != "
                f"paid {self.paid} + adjustments {adjusted}"
            )
        for line in self.lines:
            line_adjusted = sum((amount for _, _, amount in line.adjustments), ZERO)
            if line.charge != line.paid + line_adjusted:
                raise AssertionError(
                    f"claim {self.claim_id} line {line.control} does not balance: charge "
                    f"{line.charge} != paid {line.paid} + adjustments {line_adjusted}"
                )


def draw_denial_cause(rng: random.Random, payer: Payer) -> str:
    """Draw the hidden cause of a denial from the payer's tilted CHC2020 mix."""
    weights = [payer.cause_weights[cause] for cause in CAUSES]
    return rng.choices(CAUSES, weights=weights)[0]


def draw_presentation(rng: random.Random, cause: str, line_count: int) -> str:
    """Draw how a denial shows on the 835: ``denial``, ``partial_denial`` or ``zero_paid``."""
    specific = parameters_with_prefix(f"presentation.{cause}.")
    partial = specific.get("partial_denial", parameter("presentation.partial_denial"))
    zero_paid = specific.get("zero_paid", parameter("presentation.zero_paid"))
    draw = rng.random()
    if draw < partial:
        # A partial denial needs a second line that is still paid.
        return "partial_denial" if line_count >= 2 else "denial"
    if draw < partial + zero_paid:
        return "zero_paid"
    return "denial"


def _patient_share(payer: Payer, line: SimLine, allowed: Decimal, deductible: bool) -> list[tuple[str, str, Decimal]]:
    if allowed <= 0:
        return []
    if payer.kind == "medicare":
        return [("PR", "2", (allowed * Decimal(str(parameter("coinsurance.medicare")))).quantize(CENT))]
    if payer.kind in ("medicaid", "managed_medicaid"):
        return []
    if line.is_office_visit and not line.is_preventive:
        copay_name = "copay.medicare_advantage" if payer.kind == "medicare_advantage" else "copay.commercial"
        return [("PR", "3", min(allowed, Decimal(str(parameter(copay_name)))))]
    if deductible and payer.kind == "commercial":
        # The deductible never takes the whole allowed amount, so a routine claim is never zero-paid.
        return [("PR", "1", (allowed * Decimal("0.6")).quantize(CENT))]
    return []


def _paid_line(payer: Payer, line: SimLine, shortfall: Decimal, deductible: bool) -> RemitLine:
    allowed = line.allowed
    adjustments = _patient_share(payer, line, allowed, deductible)
    patient = sum((amount for _, _, amount in adjustments), ZERO)
    payable = allowed - patient
    paid = (payable * (1 - shortfall)).quantize(CENT)
    if payer.kind == "medicare":
        sequestration = (paid * Decimal(str(parameter("sequestration.medicare")))).quantize(CENT)
        if sequestration > 0:
            adjustments.append(("CO", "253", sequestration))
            paid -= sequestration
    # CO-45 takes up the rest, which is how an underpayment hides behind a contractual adjustment.
    contractual = line.charge - paid - sum((amount for _, _, amount in adjustments), ZERO)
    if contractual > 0:
        adjustments.insert(0, ("CO", "45", contractual))
    reported_allowed = paid + sum(
        (amount for group, carc, amount in adjustments if (group, carc) != ("CO", "45")), ZERO
    )
    return RemitLine(
        code=line.code,
        units=line.units,
        charge=line.charge,
        paid=paid,
        adjustments=adjustments,
        remarks=[],
        allowed=reported_allowed,
        service_date=line.service_date,
        control=line.control,
    )


def _denied_line(line: SimLine, variant: CodeVariant) -> RemitLine:
    return RemitLine(
        code=line.code,
        units=line.units,
        charge=line.charge,
        paid=ZERO,
        adjustments=[(variant.group, variant.carc, line.charge)],
        remarks=list(variant.rarcs),
        allowed=None,
        service_date=line.service_date,
        control=line.control,
    )


def _payer_claim_id(rng: random.Random, payer: Payer) -> str:
    return f"{payer.payer_id[3:6]}{rng.randrange(10**11, 10**12)}"


def _remit_claim(
    rng: random.Random,
    claim: SimClaim,
    payment_date: dt.date,
    status: str,
    lines: list[RemitLine],
    claim_adjustments: list[tuple[str, str, Decimal]],
    claim_remarks: list[str],
    event: str,
) -> RemitClaim:
    paid = sum((line.paid for line in lines), ZERO)
    every_adjustment = claim_adjustments + [adj for line in lines for adj in line.adjustments]
    patient = sum((amount for group, _, amount in every_adjustment if group == "PR"), ZERO)
    remit = RemitClaim(
        claim_id=claim.claim_id,
        status=status,
        charge=claim.total_charge,
        paid=paid,
        patient_responsibility=patient,
        adjustments=claim_adjustments,
        remarks=claim_remarks,
        lines=lines,
        payer_claim_id=_payer_claim_id(rng, claim.payer),
        received_date=claim.file_date,
        payment_date=payment_date,
        payer=claim.payer,
        organisation=claim.organisation,
        member_id=claim.patient.member_id,
        patient_number=claim.patient.number,
        service_date=claim.service_date,
        event=event,
    )
    remit.check_balance()
    return remit


def expected_payment(claim: SimClaim, lines: list[SimLine] | None = None, deductible: bool = False) -> Decimal:
    """Return the payment the contract sets for ``lines`` (all lines by default)."""
    chosen = claim.lines if lines is None else lines
    return sum((_paid_line(claim.payer, line, ZERO, deductible).paid for line in chosen), ZERO)


def build_paid_claim(
    rng: random.Random,
    claim: SimClaim,
    payment_date: dt.date,
    shortfall: Decimal = ZERO,
    event: str = "paid",
    deductible: bool | None = None,
) -> RemitClaim:
    """Pay every line at contract, or ``shortfall`` (a share, 0 to 1) below it for an underpayment."""
    if deductible is None:
        deductible = rng.random() < 0.15
    lines = [_paid_line(claim.payer, line, shortfall, deductible) for line in claim.lines]
    return _remit_claim(rng, claim, payment_date, "1", lines, [], [], event)


def build_denial(
    rng: random.Random,
    claim: SimClaim,
    payment_date: dt.date,
    variant: CodeVariant,
    presentation: str,
) -> RemitClaim:
    """Deny a claim whole (status 4), one line of it (partial) or all lines with status 1 (zero paid)."""
    payer = claim.payer
    if presentation == "partial_denial":
        denied_index = rng.randrange(len(claim.lines))
        deductible = rng.random() < 0.15
        lines = [
            _denied_line(line, variant) if index == denied_index else _paid_line(payer, line, ZERO, deductible)
            for index, line in enumerate(claim.lines)
        ]
        remit = _remit_claim(rng, claim, payment_date, "1", lines, [], [], presentation)
        remit.extra["denied_line"] = claim.lines[denied_index].number
        return remit
    if presentation == "zero_paid":
        lines = [_denied_line(line, variant) for line in claim.lines]
        return _remit_claim(rng, claim, payment_date, "1", lines, [], [], presentation)
    if payer.claim_level_denials:
        adjustments = [(variant.group, variant.carc, claim.total_charge)]
        return _remit_claim(rng, claim, payment_date, "4", [], adjustments, list(variant.rarcs), presentation)
    lines = [_denied_line(line, variant) for line in claim.lines]
    return _remit_claim(rng, claim, payment_date, "4", lines, [], [], presentation)


def build_duplicate_denial(
    rng: random.Random, claim: SimClaim, payment_date: dt.date, variant: CodeVariant
) -> RemitClaim:
    """Deny the second copy of a claim as a duplicate, always at claim level."""
    adjustments = [(variant.group, variant.carc, claim.total_charge)]
    return _remit_claim(rng, claim, payment_date, "4", [], adjustments, list(variant.rarcs), "duplicate")


def _negate_line(line: RemitLine) -> RemitLine:
    return RemitLine(
        code=line.code,
        units=line.units,
        charge=-line.charge,
        paid=-line.paid,
        adjustments=[(group, carc, -amount) for group, carc, amount in line.adjustments],
        remarks=list(line.remarks),
        allowed=-line.allowed if line.allowed is not None else None,
        service_date=line.service_date,
        control=line.control,
    )


def build_reversal(original: RemitClaim, payment_date: dt.date) -> RemitClaim:
    """Reverse an earlier payment (CLP02=22): every amount negated, same payer claim id."""
    reversal = RemitClaim(
        claim_id=original.claim_id,
        status="22",
        charge=-original.charge,
        paid=-original.paid,
        patient_responsibility=-original.patient_responsibility,
        adjustments=[(group, carc, -amount) for group, carc, amount in original.adjustments],
        remarks=list(original.remarks),
        lines=[_negate_line(line) for line in original.lines],
        payer_claim_id=original.payer_claim_id,
        received_date=original.received_date,
        payment_date=payment_date,
        payer=original.payer,
        organisation=original.organisation,
        member_id=original.member_id,
        patient_number=original.patient_number,
        service_date=original.service_date,
        event="reversal",
    )
    reversal.check_balance()
    return reversal
