"""Run the simulation: draw claims, inject problems, adjudicate, write X12 files and the truth table.

First the world is built and each month's claims are drawn. Each claim gets at most one event
(a pre-submission error, a denial or an underpayment), and some clean claims are sent twice.
After the 837 files are written, every submitted claim is adjudicated into weekly payment
cycles, with reversals, unmatched payments and PLB adjustments, and the 835 files are written.
Last, the simulator decides how each exception was resolved and writes ``truth.csv`` and
``ceiling.json``.

All randomness comes from :class:`random.Random` instances seeded from the configuration, and
no wall-clock time enters a file, so the same configuration writes byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import random
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from training.simulator.adjudication import (
    ROUTINE_CODES,
    RemitClaim,
    build_denial,
    build_duplicate_denial,
    build_paid_claim,
    build_reversal,
    draw_denial_cause,
    draw_presentation,
    expected_payment,
)
from training.simulator.ceiling import compute_ceiling
from training.simulator.contracts import write_simulated_contracts
from training.simulator.claim_files import write_claim_file
from training.simulator.claims import (
    CENT,
    SimClaim,
    draw_claim,
    ensure_auth_required_line,
    inject_presubmission_error,
    next_weekday_on_or_after,
)
from training.simulator.outcomes import decide_outcome, mislabel
from training.simulator.parameters import parameter, parameters_with_prefix
from training.simulator.remittance_files import (
    ProviderLevelAdjustment,
    RemittanceTransaction,
    payment_amount,
    write_remittance_file,
)
from training.simulator.world import CAUSE_TO_TYPE, World, build_world

__all__ = ["SimulationConfig", "SimulationResult", "simulate"]

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
_PRESUBMISSION_TYPES = {
    "invalid_npi": "missing_information",
    "total_mismatch": "missing_information",
    "future_service_date": "missing_information",
    "invalid_icd": "coding",
}


@dataclass
class SimulationConfig:
    """Simulation settings. Rates are shares from 0 to 1, and their defaults match ``parameters.csv``."""

    seed: int = 7
    start: dt.date = dt.date(2026, 9, 1)
    months: int = 1
    claims_per_month: int = 600
    denial_rate_scale: float = 1.0
    presubmission_error_rate: float = 0.03
    underpayment_rate: float = 0.03
    unmatched_payment_rate: float = 0.015
    duplicate_rate: float = 0.006
    reversal_rate: float = 0.01
    overpayment_recovery_rate: float = 0.05
    label_noise_rate: float = 0.05
    priority_noise_rate: float = 0.08
    code_drift: bool = True
    max_claims_per_transaction: int = 10

    def __post_init__(self) -> None:
        if self.months < 1:
            raise ValueError(f"months={self.months} is invalid: simulate at least 1 month")
        if self.claims_per_month < 1:
            raise ValueError(f"claims_per_month={self.claims_per_month} is invalid: use 1 or more")
        if self.max_claims_per_transaction < 1:
            raise ValueError(
                f"max_claims_per_transaction={self.max_claims_per_transaction} is invalid: use 1 or more"
            )
        for name in (
            "presubmission_error_rate",
            "underpayment_rate",
            "unmatched_payment_rate",
            "duplicate_rate",
            "reversal_rate",
            "overpayment_recovery_rate",
            "label_noise_rate",
            "priority_noise_rate",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}={value} is invalid: use a share between 0 and 1")
        if self.denial_rate_scale < 0:
            raise ValueError(f"denial_rate_scale={self.denial_rate_scale} is invalid: use 0 or more")


@dataclass
class SimulationResult:
    """Paths of the written files, the truth table and the root-cause ceiling."""

    claim_files: list[Path]
    remittance_files: list[Path]
    truth_path: Path
    truth: pd.DataFrame
    ceiling: dict[str, Any]


@dataclass
class _Event:
    """One exception-causing event and the hidden facts behind it."""

    event: str
    claim: SimClaim
    cause: str
    root_cause: str
    remit: RemitClaim | None = None
    amount_at_risk: Decimal = ZERO
    hidden: dict[str, Any] = field(default_factory=dict)


def _rng(config: SimulationConfig, stage: str) -> random.Random:
    # A separate stream per stage keeps one stage's draws from shifting another's.
    return random.Random(f"claims-triage-simulator:{config.seed}:{stage}")


def _add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    return dt.date(day.year + month_index // 12, month_index % 12 + 1, 1)


def _draw_claims(config: SimulationConfig, world: World, rng: random.Random) -> tuple[list[SimClaim], list[int]]:
    """Draw every month's claims; return them and the unused claim numbers left between them."""
    claims: list[SimClaim] = []
    unused_numbers: list[int] = []
    number = 100_000
    month_start = dt.date(config.start.year, config.start.month, 1)
    for month in range(config.months):
        start = config.start if month == 0 else _add_months(month_start, month)
        end = _add_months(month_start, month + 1)
        for _ in range(config.claims_per_month):
            # Gaps in the numbering are claims billed elsewhere (paper, another system).
            step = rng.choice((1, 1, 1, 2, 3))
            unused_numbers.extend(range(number + 1, number + step))
            number += step
            claims.append(draw_claim(rng, world, f"SC{number:08d}", start, end))
    return claims, unused_numbers


def _charge_factors(claims: list[SimClaim]) -> list[float]:
    elasticity = parameter("denial_charge_elasticity")
    totals = [float(claim.total_charge) for claim in claims]
    median = statistics.median(totals)
    raw = [(total / median) ** elasticity for total in totals]
    mean = statistics.fmean(raw)
    return [value / mean for value in raw]


def _assign_presubmission_error(rng: random.Random, claim: SimClaim) -> _Event:
    shares = parameters_with_prefix("presubmission_share.")
    error = rng.choices(list(shares), weights=list(shares.values()))[0]
    inject_presubmission_error(rng, claim, error)
    return _Event(error, claim, cause=error, root_cause=_PRESUBMISSION_TYPES[error])


def _prepare_denial(rng: random.Random, claim: SimClaim, cause: str) -> dict[str, Any]:
    """Make the claim consistent with its hidden cause and return the hidden facts."""
    hidden: dict[str, Any] = {}
    if cause == "authorization":
        ensure_auth_required_line(rng, claim)
        hidden["retro_auth_available"] = rng.random() < 0.55
        if rng.random() >= parameter("auth_denied_with_auth_number"):
            claim.prior_auth = None
    if cause == "timely_filing":
        payer_error = rng.random() < parameter("timely_filing_payer_error")
        hidden["proof_of_timely_filing"] = payer_error
        if not payer_error:
            late = claim.file_date - dt.timedelta(days=claim.payer.filing_limit_days + rng.randint(5, 60))
            claim.service_date = late
            for line in claim.lines:
                line.service_date = late
    return hidden


def _assign_events(config: SimulationConfig, claims: list[SimClaim], rng: random.Random) -> dict[str, _Event]:
    """Give each claim at most one event; claims without one are paid cleanly."""
    events: dict[str, _Event] = {}
    for claim, factor in zip(claims, _charge_factors(claims), strict=True):
        if rng.random() < config.presubmission_error_rate:
            events[claim.claim_id] = _assign_presubmission_error(rng, claim)
            continue
        denial_probability = min(0.95, claim.payer.denial_rate * config.denial_rate_scale * factor)
        if rng.random() < denial_probability:
            cause = draw_denial_cause(rng, claim.payer)
            hidden = _prepare_denial(rng, claim, cause)
            presentation = draw_presentation(rng, cause, len(claim.lines))
            events[claim.claim_id] = _Event(presentation, claim, cause, CAUSE_TO_TYPE[cause], hidden=hidden)
            continue
        if rng.random() < config.underpayment_rate:
            events[claim.claim_id] = _Event("underpayment", claim, "underpayment", "underpayment")
    return events


def _duplicate_copies(
    config: SimulationConfig, claims: list[SimClaim], events: dict[str, _Event], rng: random.Random
) -> list[SimClaim]:
    """Resubmit some cleanly paid claims unchanged 10 to 30 days later."""
    clean = [claim for claim in claims if claim.claim_id not in events]
    count = min(len(clean), round(len(claims) * config.duplicate_rate))
    copies = []
    for original in rng.sample(clean, k=count):
        resent = next_weekday_on_or_after(original.file_date + dt.timedelta(days=rng.randint(10, 30)), (0, 3))
        copy = SimClaim(
            claim_id=original.claim_id,
            organisation=original.organisation,
            provider=original.provider,
            patient=original.patient,
            payer=original.payer,
            template=original.template,
            place_of_service=original.place_of_service,
            service_date=original.service_date,
            file_date=resent,
            diagnoses=list(original.diagnoses),
            lines=original.lines,
            prior_auth=original.prior_auth,
            rendering_npi_written=original.rendering_npi_written,
            is_duplicate_copy=True,
        )
        copies.append(copy)
    return copies


def _write_claim_files(
    config: SimulationConfig, claims: list[SimClaim], directory: Path, control: list[int]
) -> list[Path]:
    batches: dict[tuple[dt.date, str], list[SimClaim]] = defaultdict(list)
    for claim in claims:
        batches[(claim.file_date, claim.organisation.org_id)].append(claim)
    paths = []
    for (file_date, org_id), batch in sorted(batches.items(), key=lambda item: item[0]):
        organisation = batch[0].organisation
        path = directory / f"{org_id}_{file_date:%Y%m%d}.837"
        created = dt.datetime.combine(file_date, dt.time(18, int(org_id[-1]) % 60))
        control[0] += 1
        write_claim_file(path, organisation, batch, created, control[0], config.max_claims_per_transaction)
        paths.append(path)
    return paths


def _payment_date(rng: random.Random, claim: SimClaim) -> dt.date:
    lag = max(7, round(rng.lognormvariate(math.log(claim.payer.lag_median_days), 0.35)))
    return next_weekday_on_or_after(claim.file_date + dt.timedelta(days=lag), (claim.payer.payment_weekday,))


def _adjudicate_event(rng: random.Random, item: _Event, payment_date: dt.date) -> None:
    claim = item.claim
    if item.event == "underpayment":
        deductible = rng.random() < 0.15
        low = parameter("underpayment_shortfall_min")
        high = parameter("underpayment_shortfall_max")
        shortfall = Decimal(str(round(rng.uniform(low, high), 3)))
        item.remit = build_paid_claim(rng, claim, payment_date, shortfall, "underpayment", deductible)
        item.amount_at_risk = expected_payment(claim, deductible=deductible) - item.remit.paid
        item.hidden["shortfall_share"] = float(shortfall)
        item.hidden["shortfall_amount"] = float(item.amount_at_risk)
        return
    variant = claim.payer.habits.choose(item.cause, payment_date, rng)
    item.remit = build_denial(rng, claim, payment_date, variant, item.event)
    item.hidden["code_set"] = variant.label
    if item.event == "partial_denial":
        denied = [line for line in claim.lines if line.number == item.remit.extra["denied_line"]]
        item.amount_at_risk = expected_payment(claim, denied)
        item.hidden["denied_line"] = item.remit.extra["denied_line"]
    else:
        item.amount_at_risk = expected_payment(claim)


def _adjudicate(
    config: SimulationConfig,
    claims: list[SimClaim],
    copies: list[SimClaim],
    events: dict[str, _Event],
    rng: random.Random,
) -> tuple[list[RemitClaim], list[_Event]]:
    """Adjudicate every submitted claim; return the CLP loops and the duplicate events."""
    remits: list[RemitClaim] = []
    for claim in claims:
        item = events.get(claim.claim_id)
        if item is not None and item.claim.presubmission_error:
            # The clearinghouse rejects the claim, so the payer never receives it.
            continue
        payment_date = _payment_date(rng, claim)
        if item is None:
            remit = build_paid_claim(rng, claim, payment_date)
            remits.append(remit)
            if rng.random() < config.reversal_rate:
                remits.extend(_reverse_and_repay(rng, claim, remit))
            continue
        _adjudicate_event(rng, item, payment_date)
        assert item.remit is not None
        remits.append(item.remit)

    duplicates = []
    for copy in copies:
        payment_date = _payment_date(rng, copy)
        remit = build_duplicate_denial(rng, copy, payment_date, copy.payer.habits.duplicate)
        remits.append(remit)
        duplicates.append(
            _Event(
                "duplicate",
                copy,
                "duplicate",
                "duplicate",
                remit=remit,
                hidden={"code_set": copy.payer.habits.duplicate.label},
            )
        )
    return remits, duplicates


def _reverse_and_repay(rng: random.Random, claim: SimClaim, original: RemitClaim) -> list[RemitClaim]:
    # A payer reprocesses a paid claim: it takes the payment back and pays again in one later cycle.
    later = next_weekday_on_or_after(
        original.payment_date + dt.timedelta(days=rng.randint(14, 42)), (claim.payer.payment_weekday,)
    )
    reversal = build_reversal(original, later)
    corrected = build_paid_claim(rng, claim, later, event="corrected")
    return [reversal, corrected]


def _group_transactions(remits: list[RemitClaim]) -> list[RemittanceTransaction]:
    grouped: dict[tuple[dt.date, str, str], list[RemitClaim]] = defaultdict(list)
    for remit in remits:
        grouped[(remit.payment_date, remit.payer.payer_id, remit.organisation.org_id)].append(remit)
    transactions = []
    for (payment_date, payer_id, org_id), items in sorted(grouped.items(), key=lambda item: item[0]):
        trace = f"{payer_id[3:6]}{payment_date:%Y%m%d}{org_id[-1]}"
        transactions.append(
            RemittanceTransaction(items[0].payer, items[0].organisation, payment_date, trace, items, [])
        )
    return transactions


def _typo_claim_id(rng: random.Random, claim_id: str, known: set[str]) -> str | None:
    digits = list(claim_id[2:])
    for _ in range(5):
        position = rng.randrange(len(digits) - 1)
        swapped = digits.copy()
        swapped[position], swapped[position + 1] = swapped[position + 1], swapped[position]
        candidate = claim_id[:2] + "".join(swapped)
        if candidate not in known:
            return candidate
    return None


def _add_unmatched_payments(
    config: SimulationConfig,
    world: World,
    transactions: list[RemittanceTransaction],
    unused_numbers: list[int],
    known_ids: set[str],
    rng: random.Random,
) -> list[_Event]:
    """Add payments for claims that are in no 837: numbering gaps and mistyped claim ids."""
    events = []
    for transaction in transactions:
        real = [remit for remit in transaction.claims if remit.status != "22"]
        for _ in range(sum(rng.random() < config.unmatched_payment_rate for _ in real)):
            if rng.random() < 0.5 and real:
                reason = "claim_id_typo"
                claim_id = _typo_claim_id(rng, rng.choice(real).claim_id, known_ids)
            else:
                reason = "billed_elsewhere"
                claim_id = f"SC{unused_numbers.pop(rng.randrange(len(unused_numbers))):08d}" if unused_numbers else None
            if claim_id is None:
                continue
            known_ids.add(claim_id)
            month_end = transaction.payment_date - dt.timedelta(days=14)
            month_start = month_end - dt.timedelta(days=30)
            phantom = draw_claim(
                rng, world, claim_id, month_start, month_end, transaction.organisation, transaction.payer
            )
            remit = build_paid_claim(rng, phantom, transaction.payment_date, event="unmatched_payment")
            transaction.claims.append(remit)
            events.append(
                _Event(
                    "unmatched_payment",
                    phantom,
                    "unmatched_payment",
                    "remittance_mismatch",
                    remit=remit,
                    amount_at_risk=remit.paid,
                    hidden={"unmatched_reason": reason},
                )
            )
    return events


def _add_provider_adjustments(
    config: SimulationConfig, transactions: list[RemittanceTransaction], rng: random.Random
) -> None:
    """Add PLB interest on late payments, overpayment recoveries and forward balances."""
    paid_before: dict[tuple[str, str], list[RemitClaim]] = defaultdict(list)
    for transaction in transactions:
        key = (transaction.payer.payer_id, transaction.organisation.org_id)
        if transaction.payer.kind in ("medicare", "medicaid", "medicare_advantage"):
            for remit in transaction.claims:
                days = (transaction.payment_date - remit.received_date).days
                if remit.status == "1" and remit.paid > 0 and days > 30:
                    interest = (remit.paid * Decimal("0.04") * (days - 30) / 365).quantize(CENT)
                    if interest > 0:
                        # A negative PLB amount increases the payment.
                        transaction.provider_adjustments.append(
                            ProviderLevelAdjustment("L6", remit.payer_claim_id, -interest)
                        )
        earlier = paid_before[key]
        if earlier and rng.random() < config.overpayment_recovery_rate:
            target = rng.choice(earlier)
            recovery = (target.paid * Decimal(str(round(rng.uniform(0.05, 0.3), 2)))).quantize(CENT)
            if ZERO < recovery <= payment_amount(transaction):
                transaction.provider_adjustments.append(
                    ProviderLevelAdjustment("WO", target.payer_claim_id, recovery)
                )
        balance = payment_amount(transaction)
        if balance < 0:
            # NOTE: the balance is not carried into the next cycle; each payment only nets to zero.
            transaction.provider_adjustments.append(
                ProviderLevelAdjustment("FB", f"FB{transaction.trace_number}", balance)
            )
        earlier.extend(remit for remit in transaction.claims if remit.status == "1" and remit.paid > 0)


def _write_remittance_files(
    transactions: list[RemittanceTransaction], directory: Path, control: list[int]
) -> list[Path]:
    by_file: dict[tuple[str, dt.date], list[RemittanceTransaction]] = defaultdict(list)
    for transaction in transactions:
        by_file[(transaction.payer.payer_id, transaction.payment_date)].append(transaction)
    paths = []
    for (payer_id, payment_date), items in sorted(by_file.items(), key=lambda item: (item[0][1], item[0][0])):
        path = directory / f"{payer_id}_{payment_date:%Y%m%d}.835"
        control[0] += 1
        created = dt.datetime.combine(payment_date, dt.time(6, 0))
        write_remittance_file(path, items[0].payer, items, created, control[0])
        paths.append(path)
    return paths


def _observed_codes(remit: RemitClaim | None) -> tuple[str, str, str]:
    if remit is None:
        return "", "", ""
    codes = [(group, carc) for group, carc, _ in remit.all_adjustments() if (group, carc) not in ROUTINE_CODES]
    groups = ";".join(sorted({group for group, _ in codes}))
    carcs = ";".join(sorted({carc for _, carc in codes}, key=lambda code: (len(code), code)))
    rarcs = ";".join(sorted(set(remit.all_remarks())))
    return groups, carcs, rarcs


def _detection(event: str) -> str:
    # The workflow detects a duplicate as a denial. Only its CO-18 or OA-18 code gives it away.
    return "denial" if event == "duplicate" else event


def _hidden_columns(item: _Event) -> dict[str, Any]:
    return {
        "hidden_cause": item.cause,
        "hidden_code_set": item.hidden.get("code_set", ""),
        "hidden_retro_auth_available": item.hidden.get("retro_auth_available", ""),
        "hidden_proof_of_timely_filing": item.hidden.get("proof_of_timely_filing", ""),
        "hidden_shortfall_share": item.hidden.get("shortfall_share", ""),
        "hidden_unmatched_reason": item.hidden.get("unmatched_reason", ""),
        "hidden_denied_line": item.hidden.get("denied_line", ""),
        "hidden_replaced_icd": item.claim.hidden.get("replaced_icd", ""),
    }


def _observable_columns(world: World, item: _Event, detected_on: dt.date) -> dict[str, Any]:
    claim = item.claim
    groups, carcs, rarcs = _observed_codes(item.remit)
    # An unmatched payment has no 837, so no claim facts are observable for it.
    from_837 = item.event != "unmatched_payment"
    if world.drift_date is None:
        phase = "none"
    else:
        phase = "after" if detected_on >= world.drift_date else "before"
    return {
        "group_codes": groups,
        "carc_codes": carcs,
        "rarc_codes": rarcs,
        "has_prior_auth": from_837 and claim.prior_auth is not None,
        "needs_auth": from_837 and claim.needs_auth,
        "filed_late": from_837 and (claim.file_date - claim.service_date).days > claim.payer.filing_limit_days,
        "multi_line": from_837 and len(claim.lines) >= 2,
        "drift_phase": phase,
    }


def _truth_row(
    config: SimulationConfig, world: World, item: _Event, number: int, rng: random.Random
) -> dict[str, Any]:
    claim = item.claim
    payer = claim.payer
    remit = item.remit
    detected_on = remit.payment_date if remit is not None else claim.file_date
    true_service = claim.service_date
    if item.event == "future_service_date":
        true_service = claim.hidden.get("true_service_date", claim.service_date)
    if item.amount_at_risk == ZERO and claim.presubmission_error:
        item.amount_at_risk = expected_payment(claim)

    outcome = decide_outcome(
        rng,
        event=item.event,
        root_cause=item.root_cause,
        cause=item.cause,
        amount_at_risk=item.amount_at_risk,
        detected_on=detected_on,
        service_date=true_service,
        filing_limit=payer.filing_limit_days,
        appeal_window=payer.appeal_window_days,
        hidden=item.hidden,
        priority_noise_rate=config.priority_noise_rate,
    )
    observed = item.root_cause
    if rng.random() < config.label_noise_rate:
        observed = mislabel(rng, item.root_cause)

    row = {
        "event_id": f"EV{number:06d}",
        "claim_id": claim.claim_id,
        "payer_id": payer.payer_id,
        "payer_kind": payer.kind,
        "organisation_id": claim.organisation.org_id,
        "event": item.event,
        "detection": _detection(item.event),
        "root_cause": observed,
        "true_root_cause": item.root_cause,
        "observed_label_noisy": observed != item.root_cause,
        "priority": outcome.priority,
        "priority_rule": outcome.priority_rule,
        "resolution": outcome.resolution,
        "days_to_resolve": outcome.days_to_resolve,
        "amount_recovered": str(outcome.amount_recovered),
        "amount_at_risk": str(item.amount_at_risk.quantize(CENT)),
        "expected_recovery": str(outcome.expected_recovery),
        "resolution_succeeded": outcome.success,
        "abandoned": outcome.abandoned,
        "service_date": true_service.isoformat(),
        "detected_on": detected_on.isoformat(),
        "deadline": outcome.deadline.isoformat() if outcome.deadline else "",
        "days_left": outcome.days_left,
        "billed_amount": str(claim.total_charge),
        "paid_amount": str(remit.paid) if remit is not None else "",
        "claim_status": remit.status if remit is not None else "",
        "payer_claim_id": remit.payer_claim_id if remit is not None else "",
        "claim_file": claim.claim_file or "",
        "remittance_file": (remit.remittance_file or "") if remit is not None else "",
    }
    row.update(_observable_columns(world, item, detected_on))
    row.update(_hidden_columns(item))
    return row


def _prepare_output(out_dir: Path) -> tuple[Path, Path]:
    claims_dir = out_dir / "claims"
    remittances_dir = out_dir / "remittances"
    for directory, suffix in ((claims_dir, ".837"), (remittances_dir, ".835")):
        directory.mkdir(parents=True, exist_ok=True)
        stale = sorted(directory.glob(f"*{suffix}"))
        if stale:
            # Files from an earlier run would mix with this one's, so they go.
            logger.info("removing %d earlier %s files from %s", len(stale), suffix, directory)
            for path in stale:
                path.unlink()
    return claims_dir, remittances_dir


def simulate(config: SimulationConfig, out_dir: Path) -> SimulationResult:
    """Simulate a claims history and write its 837 and 835 files, truth table and ceiling."""
    out_dir = Path(out_dir)
    claims_dir, remittances_dir = _prepare_output(out_dir)
    logger.info(
        "simulating %d months of %d claims from %s, seed %d",
        config.months,
        config.claims_per_month,
        config.start,
        config.seed,
    )

    patient_count = max(40, int(config.claims_per_month * config.months * 0.4))
    world = build_world(_rng(config, "world"), config.start, config.months, patient_count, config.code_drift)
    claims, unused_numbers = _draw_claims(config, world, _rng(config, "claims"))
    events = _assign_events(config, claims, _rng(config, "events"))
    copies = _duplicate_copies(config, claims, events, _rng(config, "duplicates"))

    control = [0]
    claim_files = _write_claim_files(config, claims + copies, claims_dir, control)

    adjudication_rng = _rng(config, "adjudication")
    remits, duplicates = _adjudicate(config, claims, copies, events, adjudication_rng)
    transactions = _group_transactions(remits)
    known_ids = {claim.claim_id for claim in claims}
    unmatched = _add_unmatched_payments(config, world, transactions, unused_numbers, known_ids, adjudication_rng)
    _add_provider_adjustments(config, transactions, adjudication_rng)
    remittance_files = _write_remittance_files(transactions, remittances_dir, control)
    write_simulated_contracts(world, config.start, out_dir)

    outcome_rng = _rng(config, "outcomes")
    items = list(events.values()) + duplicates + unmatched
    rows = [_truth_row(config, world, item, number, outcome_rng) for number, item in enumerate(items, start=1)]
    truth = pd.DataFrame(rows)
    if not truth.empty:
        truth = truth.sort_values(["detected_on", "claim_id", "event_id"], kind="stable").reset_index(drop=True)
    truth_path = out_dir / "truth.csv"
    truth.to_csv(truth_path, index=False, lineterminator="\n")

    ceiling = compute_ceiling(truth, config.seed)
    (out_dir / "ceiling.json").write_text(json.dumps(ceiling, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    logger.info(
        "wrote %d claim files, %d remittance files and %d truth rows to %s",
        len(claim_files),
        len(remittance_files),
        len(truth),
        out_dir,
    )
    return SimulationResult(claim_files, remittance_files, truth_path, truth, ceiling)
