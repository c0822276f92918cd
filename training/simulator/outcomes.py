"""Decide the aftermath of each exception: resolution, days to resolve, money recovered, priority.

The resolution follows the root cause and hidden facts the reviewer learns while working the
item (is a retro authorization available, can the office prove timely filing). Items worth less
than the work are often written off whatever the cause, as real backlogs are. Priority is derived
from the expected recovery and the days left before the filing or appeal deadline, then a share
of rows is moved one level, as reviewers disagree.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import random
from dataclasses import dataclass
from decimal import Decimal

from training.simulator.claims import CENT
from training.simulator.parameters import parameter, parameters_with_prefix
from workflow.taxonomy import EXCEPTION_TYPES, PRIORITIES, RESOLUTIONS

__all__ = ["Outcome", "CONFUSABLE_TYPES", "decide_outcome", "mislabel"]

logger = logging.getLogger(__name__)

_DENIAL_EVENTS = frozenset({"denial", "partial_denial", "zero_paid"})
_RECOVERING = frozenset(
    {
        "correct_and_resubmit",
        "appeal",
        "obtain_authorization",
        "update_eligibility_and_rebill",
        "bill_secondary_payer",
        "submit_documentation",
        "contact_payer",
    }
)
# Deadlines: resubmissions race the filing limit, appeals and disputes the appeal window.
_FILING_DEADLINE = frozenset(
    {"correct_and_resubmit", "obtain_authorization", "update_eligibility_and_rebill", "bill_secondary_payer"}
)
_APPEAL_DEADLINE = frozenset({"appeal", "submit_documentation", "contact_payer"})
_NO_DEADLINE_DAYS = 365

# Wrong labels a reviewer plausibly records instead of the true root cause.
CONFUSABLE_TYPES: dict[str, tuple[str, ...]] = {
    "eligibility_registration": ("coordination_of_benefits", "missing_information"),
    "coordination_of_benefits": ("eligibility_registration",),
    "missing_information": ("coding", "authorization", "eligibility_registration"),
    "coding": ("missing_information", "medical_necessity"),
    "authorization": ("missing_information", "medical_necessity"),
    "medical_necessity": ("non_covered_service", "coding"),
    "non_covered_service": ("medical_necessity", "eligibility_registration"),
    "timely_filing": ("missing_information",),
    "duplicate": ("missing_information",),
    "underpayment": ("remittance_mismatch",),
    "remittance_mismatch": ("underpayment",),
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """The resolution of one exception, with the hidden numbers behind its priority."""

    resolution: str
    days_to_resolve: int
    amount_recovered: Decimal
    success: bool
    abandoned: bool
    expected_recovery: Decimal
    work_cost: Decimal
    days_left: int
    deadline: dt.date | None
    priority_rule: str
    priority: str


def mislabel(rng: random.Random, root_cause: str) -> str:
    """Return a plausible wrong label for ``root_cause``."""
    return rng.choice(CONFUSABLE_TYPES[root_cause])


def _choose_resolution(rng: random.Random, cause: str, event: str, hidden: dict[str, object]) -> str:
    if event in ("invalid_npi", "total_mismatch", "future_service_date", "invalid_icd"):
        return "correct_and_resubmit"
    if event == "duplicate":
        return "void_duplicate"
    if event == "underpayment":
        appeal_share = 0.7 if float(hidden.get("shortfall_amount", 0)) > 75 else 0.3
        return "appeal" if rng.random() < appeal_share else "contact_payer"
    if event == "unmatched_payment":
        return "post_adjustment" if hidden.get("unmatched_reason") == "claim_id_typo" else "contact_payer"
    return _choose_denial_resolution(rng, cause, hidden)


def _choose_denial_resolution(rng: random.Random, cause: str, hidden: dict[str, object]) -> str:
    if cause == "eligibility":
        return "update_eligibility_and_rebill"
    if cause == "provider_eligibility":
        return "correct_and_resubmit" if rng.random() < 0.7 else "appeal"
    if cause == "cob":
        return "bill_secondary_payer" if rng.random() < 0.6 else "update_eligibility_and_rebill"
    if cause == "invalid_data":
        return "correct_and_resubmit"
    if cause == "records_requested":
        return "submit_documentation"
    if cause == "authorization":
        return "obtain_authorization" if hidden.get("retro_auth_available") else "appeal"
    if cause == "medical_necessity":
        return "appeal" if rng.random() < 0.6 else "submit_documentation"
    if cause == "non_covered":
        return "write_off" if rng.random() < 0.85 else "appeal"
    if cause == "timely_filing":
        return "appeal" if hidden.get("proof_of_timely_filing") else "write_off"
    if cause == "coding":
        return "correct_and_resubmit" if rng.random() < 0.9 else "appeal"
    raise ValueError(f"denial cause {cause!r} is invalid: no resolution rule for it")


def _success_probability(root_cause: str, cause: str, resolution: str, hidden: dict[str, object]) -> float:
    if resolution in ("write_off", "void_duplicate", "post_adjustment"):
        return 0.0
    if cause == "timely_filing":
        # Only claims that were filed in time get paid on appeal.
        return 0.85 if hidden.get("proof_of_timely_filing") else 0.0
    return parameter(f"success.{root_cause}")


def _work_cost(resolution: str) -> Decimal:
    if resolution == "appeal":
        return Decimal(str(parameter("cost.appeal")))
    if resolution in ("submit_documentation", "contact_payer", "obtain_authorization"):
        return Decimal(str(parameter("cost.fight_denial")))
    return Decimal(str(parameter("cost.rework")))


def _duration_days(rng: random.Random, resolution: str) -> int:
    median = parameter(f"duration_median.{resolution}")
    if resolution == "write_off":
        return rng.randint(0, 10)
    sigma = 0.8 if resolution == "correct_and_resubmit" else 0.45
    days = rng.lognormvariate(math.log(median), sigma)
    if resolution == "appeal" and rng.random() < parameter("second_level_appeal_rate"):
        days += rng.uniform(60, 120)
    return max(1, round(days))


def _deadline(
    resolution: str, detected_on: dt.date, service_date: dt.date, filing_limit: int, appeal_window: int
) -> dt.date | None:
    if resolution in _FILING_DEADLINE:
        return service_date + dt.timedelta(days=filing_limit)
    if resolution in _APPEAL_DEADLINE:
        return detected_on + dt.timedelta(days=appeal_window)
    return None


def _priority_rule(expected: Decimal, days_left: int) -> str:
    thresholds = parameters_with_prefix("priority.")
    urgent = days_left <= thresholds["urgent_days"]
    if expected >= Decimal(str(thresholds["critical_recovery"])):
        return "critical"
    if urgent and expected >= Decimal(str(thresholds["critical_urgent_recovery"])):
        return "critical"
    if expected >= Decimal(str(thresholds["high_recovery"])):
        return "high"
    if urgent and expected >= Decimal(str(thresholds["high_urgent_recovery"])):
        return "high"
    if expected >= Decimal(str(thresholds["normal_recovery"])):
        return "normal"
    return "low"


def _noisy_priority(rng: random.Random, rule: str, noise_rate: float) -> str:
    if rng.random() >= noise_rate:
        return rule
    index = PRIORITIES.index(rule)
    step = rng.choice((-1, 1))
    return PRIORITIES[min(len(PRIORITIES) - 1, max(0, index + step))]


def decide_outcome(
    rng: random.Random,
    *,
    event: str,
    root_cause: str,
    cause: str,
    amount_at_risk: Decimal,
    detected_on: dt.date,
    service_date: dt.date,
    filing_limit: int,
    appeal_window: int,
    hidden: dict[str, object],
    priority_noise_rate: float,
) -> Outcome:
    """Decide resolution, duration, recovery and priority for one exception."""
    if root_cause not in EXCEPTION_TYPES:
        raise ValueError(f"root cause {root_cause!r} is not in EXCEPTION_TYPES")
    resolution = _choose_resolution(rng, cause, event, hidden)
    probability = _success_probability(root_cause, cause, resolution, hidden)
    work_cost = _work_cost(resolution)
    expected = (amount_at_risk * Decimal(str(probability)) - work_cost).quantize(CENT)
    if resolution not in _RECOVERING:
        expected = -work_cost

    abandoned = False
    if event in _DENIAL_EVENTS and resolution in _RECOVERING and expected < 0:
        if rng.random() < parameter("abandon_when_unprofitable"):
            abandoned = True
            resolution = "write_off"
            probability = 0.0

    deadline = _deadline(resolution, detected_on, service_date, filing_limit, appeal_window)
    days_left = (deadline - detected_on).days if deadline is not None else _NO_DEADLINE_DAYS
    success = resolution in _RECOVERING and rng.random() < probability
    recovered = Decimal("0")
    if success:
        share = Decimal("1") if rng.random() < 0.8 else Decimal(str(round(rng.uniform(0.5, 0.95), 2)))
        recovered = (amount_at_risk * share).quantize(CENT)

    rule = _priority_rule(expected, days_left)
    if resolution not in RESOLUTIONS:
        raise ValueError(f"resolution {resolution!r} is not in RESOLUTIONS")
    return Outcome(
        resolution=resolution,
        days_to_resolve=_duration_days(rng, resolution),
        amount_recovered=recovered,
        success=success,
        abandoned=abandoned,
        expected_recovery=expected,
        work_cost=work_cost,
        days_left=days_left,
        deadline=deadline,
        priority_rule=rule,
        priority=_noisy_priority(rng, rule, priority_noise_rate),
    )
