from decimal import Decimal

import pytest

from serving.routing import RoutingPolicy, route_exception

NO_QA = RoutingPolicy(qa_sample_rate=0.0)


def _route(**changes):
    values = {"exception_id": "exc_1", "predicted_type": "authorization", "confidence": 0.97,
              "threshold": 0.9, "amount_at_risk": Decimal("120"), "predicted_resolution": "obtain_authorization",
              "policy": NO_QA}
    values.update(changes)
    return route_exception(**values)


def test_confident_prediction_routes_automatically():
    decision = _route()
    assert decision.route == "auto"
    assert decision.queue == "auto.authorization"


def test_low_confidence_goes_to_review():
    decision = _route(confidence=0.5)
    assert decision.route == "review"
    assert "below" in decision.reason


def test_medical_necessity_always_goes_to_review():
    assert _route(predicted_type="medical_necessity", confidence=0.999).route == "review"


def test_void_always_goes_to_review():
    assert _route(predicted_resolution="void_duplicate").route == "review"


def test_large_write_off_goes_to_review():
    decision = _route(predicted_resolution="write_off", amount_at_risk=Decimal("900"))
    assert decision.route == "review"
    assert "write-off" in decision.reason


def test_small_write_off_may_route_automatically():
    assert _route(predicted_resolution="write_off", amount_at_risk=Decimal("40")).route == "auto"


def test_qa_sample_takes_its_share_of_auto_routes():
    policy = RoutingPolicy(qa_sample_rate=0.2)
    decisions = [_route(exception_id=f"exc_{i}", policy=policy) for i in range(2000)]
    sampled = sum(d.qa_sample for d in decisions) / len(decisions)
    assert 0.15 < sampled < 0.25


def test_qa_sample_is_reproducible():
    policy = RoutingPolicy(qa_sample_rate=0.5)
    assert _route(exception_id="exc_42", policy=policy) == _route(exception_id="exc_42", policy=policy)


def test_policy_rejects_rate_above_one():
    with pytest.raises(ValueError, match="qa_sample_rate"):
        RoutingPolicy(qa_sample_rate=1.5)


def test_qa_reason_matches_store_constant():
    from serving.routing import QA_SAMPLE_REASON
    from workflow.store.governance import QA_SAMPLE_REASON as STORE_REASON

    assert QA_SAMPLE_REASON == STORE_REASON


def test_qa_sample_is_marked():
    decision = _route(exception_id="exc_1", policy=RoutingPolicy(qa_sample_rate=1.0))
    assert decision.qa_sample is True
    assert decision.route == "review"


def test_unseen_kind_always_goes_to_review():
    decision = _route(unseen_kind="invoice_mismatch", confidence=0.999)
    assert decision.route == "review"
    assert "invoice_mismatch" in decision.reason
