"""The routing policy: send an exception to an automatic queue or to a person.

One function, :func:`route_exception`, decides. An exception goes to an automatic queue only when
the calibrated confidence of its predicted type clears that type's threshold from the model bundle
and no guardrail applies. Guardrails send to a person: medical-necessity questions, voids, and
write-offs above an amount the operator sets. A random quality-assurance sample of what would have
been routed automatically also goes to a person, so the precision of automatic routing is measured
all the time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["QA_SAMPLE_REASON", "REVIEW_QUEUE", "RouteDecision", "RoutingPolicy", "route_exception"]

REVIEW_QUEUE = "review"
QA_SAMPLE_REASON = "quality-assurance sample of automatic routing"


@dataclass(frozen=True)
class RoutingPolicy:
    """Operator settings for routing.

    ``qa_sample_rate`` is the share of would-be automatic items sent to review anyway (0 to 1);
    ``write_off_review_above`` is the amount in dollars above which a write-off always goes to a
    person.
    """

    qa_sample_rate: float = 0.05
    write_off_review_above: Decimal = Decimal("500")
    always_review_types: frozenset[str] = frozenset({"medical_necessity"})
    always_review_resolutions: frozenset[str] = frozenset({"void_duplicate"})

    def __post_init__(self) -> None:
        if not 0.0 <= self.qa_sample_rate <= 1.0:
            raise ValueError(f"qa_sample_rate must be between 0 and 1, got {self.qa_sample_rate!r}")
        if self.write_off_review_above < 0:
            raise ValueError(f"write_off_review_above must not be negative, got {self.write_off_review_above!r}")


@dataclass(frozen=True)
class RouteDecision:
    """Where an exception goes (``auto`` or ``review``), to which queue, and why."""

    route: str
    queue: str
    reason: str
    qa_sample: bool = False


def _in_qa_sample(exception_id: str, rate: float) -> bool:
    # A hash of the id, not a random draw, so re-running the same exception gives the same route
    # and an auditor can reproduce which items were sampled.
    bucket = int(hashlib.sha256(exception_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return bucket < rate


def route_exception(
    *,
    exception_id: str,
    predicted_type: str,
    confidence: float,
    threshold: float,
    amount_at_risk: Decimal,
    predicted_resolution: str | None = None,
    policy: RoutingPolicy | None = None,
    unseen_kind: str | None = None,
) -> RouteDecision:
    """Decide the route of one exception from its prediction, the bundle threshold and the policy.

    ``unseen_kind`` names the exception's detection kind when the model never saw that kind in
    training: its probabilities then say nothing about that kind, so it always goes to a person.
    """
    policy = policy or RoutingPolicy()

    if unseen_kind is not None:
        return RouteDecision(
            "review", REVIEW_QUEUE, f"guardrail: the model was not trained on {unseen_kind} exceptions",
        )

    if predicted_type in policy.always_review_types:
        return RouteDecision("review", REVIEW_QUEUE, f"guardrail: {predicted_type} always goes to a person")
    if predicted_resolution in policy.always_review_resolutions:
        return RouteDecision("review", REVIEW_QUEUE, f"guardrail: {predicted_resolution} always goes to a person")
    if predicted_resolution == "write_off" and amount_at_risk > policy.write_off_review_above:
        return RouteDecision(
            "review", REVIEW_QUEUE,
            f"guardrail: write-off of {amount_at_risk} is above the {policy.write_off_review_above} limit",
        )
    if confidence < threshold:
        return RouteDecision(
            "review", REVIEW_QUEUE,
            f"confidence {confidence:.3f} is below the {predicted_type} threshold {threshold:.3f}",
        )
    if _in_qa_sample(exception_id, policy.qa_sample_rate):
        return RouteDecision("review", REVIEW_QUEUE, QA_SAMPLE_REASON, qa_sample=True)
    return RouteDecision(
        "auto", f"auto.{predicted_type}",
        f"confidence {confidence:.3f} clears the {predicted_type} threshold {threshold:.3f}",
    )
