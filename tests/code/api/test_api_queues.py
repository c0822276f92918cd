"""Work queues, claims, decisions, training labels and KPIs."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest

from workflow.store.governance import claim_next, compute_kpis, record_decision

PROBLEM = "application/problem+json"
UTC = dt.timezone.utc


@pytest.fixture
def queued(api, make_exception, make_prediction):
    """Four exceptions in the review queue with different priorities and amounts, one in an auto queue."""
    api.store.add_exceptions([
        make_exception("EXC-LOW", amount_at_risk=Decimal("900.00")),
        make_exception("EXC-HIGH-SMALL", amount_at_risk=Decimal("10.00")),
        make_exception("EXC-HIGH-BIG", amount_at_risk=Decimal("500.00")),
        make_exception("EXC-NONE", amount_at_risk=Decimal("5000.00")),
        make_exception("EXC-AUTO"),
    ])
    review = {"route": "review", "queue": "review"}
    api.store.add_predictions([
        make_prediction("P-LOW", "EXC-LOW", predicted_priority="low", **review),
        make_prediction("P-HS", "EXC-HIGH-SMALL", predicted_priority="high", **review),
        make_prediction("P-HB", "EXC-HIGH-BIG", predicted_priority="high", **review),
        make_prediction("P-NONE", "EXC-NONE", predicted_priority=None, **review),
        make_prediction("P-AUTO", "EXC-AUTO", predicted_type="coding", queue="auto.coding"),
    ])
    return api


# Queues


def test_queues_list_counts(queued) -> None:
    body = queued.get("/v1/queues", role="reviewer").json()
    by_name = {queue["name"]: queue for queue in body["queues"]}

    assert by_name["review"]["open"] == 4
    assert by_name["auto.coding"]["open"] == 1
    assert by_name["review"]["sla_breaches"] == 0
    assert body["sla_hours"] == 72.0


def test_claims_follow_priority_amount_age(queued) -> None:
    claimed = [queued.post("/v1/queues/review/claim", role="reviewer").json()["exception_id"] for _ in range(4)]

    assert claimed == ["EXC-HIGH-BIG", "EXC-HIGH-SMALL", "EXC-LOW", "EXC-NONE"]


def test_claim_returns_exception_detail(queued) -> None:
    body = queued.post("/v1/queues/review/claim", role="reviewer").json()

    assert body["assigned_to"] == "reviewer-key"
    assert body["exception"]["status"] == "assigned"
    assert body["exception"]["audit_events"][-1]["action"] == "claimed"


def test_empty_queue_gives_no_content(queued) -> None:
    response = queued.post("/v1/queues/auto.timely_filing/claim", role="reviewer")

    assert response.status_code == 204


def test_claimed_items_count_as_assigned(queued) -> None:
    queued.post("/v1/queues/review/claim", role="reviewer")

    review = {q["name"]: q for q in queued.get("/v1/queues").json()["queues"]}["review"]

    assert review["assigned"] == 1
    assert review["open"] == 4


def test_concurrent_claims_never_share_item(store, make_exception, make_prediction) -> None:
    exceptions = [make_exception(f"EXC-{i:03d}") for i in range(30)]
    store.add_exceptions(exceptions)
    store.add_predictions([
        make_prediction(f"P-{i:03d}", f"EXC-{i:03d}", route="review", queue="review") for i in range(30)
    ])
    claimed: list[str] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def reviewer(name: str) -> None:
        try:
            while (item := claim_next(store, queue="review", reviewer=name)) is not None:
                with lock:
                    claimed.append(item["exception_id"])
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            errors.append(error)

    threads = [threading.Thread(target=reviewer, args=(f"reviewer-{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert len(claimed) == 30
    assert len(set(claimed)) == 30


def test_claim_during_decision_survives(store, make_exception, make_prediction, monkeypatch) -> None:
    """A claim that starts between a decision's read and its status change waits, then takes another item."""
    from workflow.store import governance

    store.add_exceptions([make_exception("EXC-A"), make_exception("EXC-B")])
    store.add_predictions([
        make_prediction("P-A", "EXC-A", route="review", queue="review", predicted_priority="high"),
        make_prediction("P-B", "EXC-B", route="review", queue="review", predicted_priority="low"),
    ])
    claims: list = []
    claimant = threading.Thread(target=lambda: claims.append(claim_next(store, queue="review", reviewer="alice")))
    set_status = governance._set_decided_status

    def claim_then_set_status(*args, **kwargs):
        # Alice claims after the decision has read EXC-A, before it changes the status. Given a
        # moment, an unguarded claim would finish here and the decision would overwrite it; a
        # guarded one waits for the decision's transaction to end.
        claimant.start()
        claimant.join(timeout=1.0)
        return set_status(*args, **kwargs)

    monkeypatch.setattr(governance, "_set_decided_status", claim_then_set_status)
    decision = record_decision(store, exception_id="EXC-A", action="accept", decided_by="bob")
    claimant.join(timeout=60)

    assert decision["decided_by"] == "bob"
    assert claims == [{"exception_id": "EXC-B", "queue": "review", "assigned_to": "alice"}]
    assert store.get_exception("EXC-A")["status"] == "reviewed"


def test_claim_during_retriage_survives(store, make_exception, make_prediction, monkeypatch) -> None:
    """A claim that starts between re-triage's status read and its routing UPDATE is never undone."""
    from workflow.store import governance

    store.add_exceptions([make_exception("EXC-R")])
    store.add_predictions([make_prediction("P-R1", "EXC-R", route="review", queue="review")])
    claims: list = []
    claimant = threading.Thread(target=lambda: claims.append(claim_next(store, queue="review", reviewer="alice")))
    require_stored = governance._require_stored

    def claim_then_route(*args, **kwargs):
        # Re-triage has read EXC-R as in_review and is about to route it to an auto queue.
        if not claimant.is_alive() and not claims:
            claimant.start()
            claimant.join(timeout=1.0)
        return require_stored(*args, **kwargs)

    monkeypatch.setattr(governance, "_require_stored", claim_then_route)
    governance.save_api_predictions(
        store, [make_prediction("P-R2", "EXC-R", predicted_type="coding", route="auto", queue="auto.coding")], [],
        new_exceptions=[make_exception("EXC-R")], actor="api:test",
    )
    claimant.join(timeout=60)

    stored = store.get_exception("EXC-R")
    if claims and claims[0] is not None:
        assert stored["status"] == "assigned"
        assert stored["queue"] == "review"
    else:
        assert stored["status"] == "auto_routed"


# Decisions


def test_accept_takes_prediction_labels(queued) -> None:
    response = queued.post("/v1/exceptions/EXC-LOW/decision", role="reviewer", json={"decision": "accept"})
    body = response.json()

    assert response.status_code == 201
    assert body["type"] == "authorization"
    assert body["priority"] == "low"
    assert body["resolution"] == "obtain_authorization"
    assert body["status"] == "reviewed"
    assert body["decided_by"] == "reviewer-key"


def test_override_with_outcome_resolves(queued) -> None:
    body = queued.post(
        "/v1/exceptions/EXC-LOW/decision", role="reviewer",
        json={"decision": "override", "type": "coding", "outcome": "recovered", "amount_recovered": "812.50"},
    ).json()
    detail = queued.get("/v1/exceptions/EXC-LOW").json()

    assert body["type"] == "coding"
    assert body["priority"] == "low"
    assert body["amount_recovered"] == "812.50"
    assert detail["status"] == "resolved"
    assert detail["decisions"][0]["action"] == "override"
    assert detail["audit_events"][-1]["action"] == "decided"
    assert detail["audit_events"][-1]["actor"] == "reviewer-key"


@pytest.mark.parametrize(
    "body",
    [
        {"decision": "maybe"},
        {"decision": "accept", "type": "coding"},
        {"decision": "override"},
        {"decision": "override", "type": "not_a_label"},
        {"decision": "accept", "outcome": "resubmitted", "amount_recovered": "5.00"},
        {"decision": "accept", "outcome": "recovered", "amount_recovered": "-5.00"},
    ],
    ids=lambda value: str(value)[:60],
)
def test_invalid_decision_is_problem(queued, body) -> None:
    response = queued.post("/v1/exceptions/EXC-LOW/decision", role="reviewer", json=body)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


def test_accept_without_prediction_is_problem(api, make_exception) -> None:
    api.store.add_exceptions([make_exception("EXC-BARE")])

    response = api.post("/v1/exceptions/EXC-BARE/decision", role="reviewer", json={"decision": "accept"})

    assert response.status_code == 422


def test_decision_on_unknown_exception_is_problem(api) -> None:
    response = api.post("/v1/exceptions/EXC-NOPE/decision", role="reviewer", json={"decision": "accept"})

    assert response.status_code == 404


def test_decision_on_item_another_reviewer_claimed_is_conflict(queued) -> None:
    from workflow.store.governance import create_api_key

    claimed = queued.post("/v1/queues/review/claim", role="reviewer").json()["exception_id"]
    other = {"X-API-Key": create_api_key(queued.store, name="second-reviewer", role="reviewer")}

    response = queued.client.post(f"/v1/exceptions/{claimed}/decision", headers=other, json={"decision": "accept"})

    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert "claimed" in response.json()["detail"]
    assert queued.get(f"/v1/exceptions/{claimed}").json()["status"] == "assigned"


def test_claim_holder_decides_claimed_item(queued) -> None:
    claimed = queued.post("/v1/queues/review/claim", role="reviewer").json()["exception_id"]

    response = queued.post(f"/v1/exceptions/{claimed}/decision", role="reviewer", json={"decision": "accept"})

    assert response.status_code == 201
    assert response.json()["status"] == "reviewed"


def test_admin_decision_overrides_claim_and_says_so(queued) -> None:
    claimed = queued.post("/v1/queues/review/claim", role="reviewer").json()["exception_id"]

    response = queued.post(f"/v1/exceptions/{claimed}/decision", role="admin", json={"decision": "accept"})

    assert response.status_code == 201
    decided = queued.get(f"/v1/exceptions/{claimed}").json()["audit_events"][-1]
    assert decided["action"] == "decided"
    assert decided["actor"] == "admin-key"
    assert decided["details"]["overrode_claim_of"] == "reviewer-key"


def test_unclaimed_item_takes_any_reviewers_decision(queued) -> None:
    from workflow.store.governance import create_api_key

    other = {"X-API-Key": create_api_key(queued.store, name="second-reviewer", role="reviewer")}

    response = queued.client.post("/v1/exceptions/EXC-LOW/decision", headers=other, json={"decision": "accept"})

    assert response.status_code == 201


def test_released_item_is_claimable_again(queued) -> None:
    claimed = queued.post("/v1/queues/review/claim", role="reviewer").json()["exception_id"]

    response = queued.post(f"/v1/exceptions/{claimed}/release", role="reviewer")

    assert response.status_code == 200
    assert response.json() == {"exception_id": claimed, "queue": "review", "status": "in_review"}
    released = queued.get(f"/v1/exceptions/{claimed}").json()["audit_events"][-1]
    assert released["action"] == "released"
    assert released["details"]["claimed_by"] == "reviewer-key"
    assert queued.post("/v1/queues/review/claim", role="reviewer").json()["exception_id"] == claimed


def test_release_of_another_reviewers_claim_is_conflict(queued) -> None:
    from workflow.store.governance import create_api_key

    claimed = queued.post("/v1/queues/review/claim", role="reviewer").json()["exception_id"]
    other = {"X-API-Key": create_api_key(queued.store, name="second-reviewer", role="reviewer")}

    response = queued.client.post(f"/v1/exceptions/{claimed}/release", headers=other)

    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert queued.get(f"/v1/exceptions/{claimed}").json()["status"] == "assigned"


def test_admin_releases_any_claim(queued) -> None:
    claimed = queued.post("/v1/queues/review/claim", role="reviewer").json()["exception_id"]

    response = queued.post(f"/v1/exceptions/{claimed}/release", role="admin")

    assert response.status_code == 200
    released = queued.get(f"/v1/exceptions/{claimed}").json()["audit_events"][-1]
    assert released["actor"] == "admin-key"
    assert released["details"]["claimed_by"] == "reviewer-key"


def test_auto_routed_item_is_released_as_auto_routed(queued) -> None:
    queued.post("/v1/queues/auto.coding/claim", role="reviewer")

    response = queued.post("/v1/exceptions/EXC-AUTO/release", role="reviewer")

    assert response.json()["status"] == "auto_routed"


def test_release_applies_a_prediction_made_during_the_claim(queued, make_prediction) -> None:
    claimed = queued.post("/v1/queues/review/claim", role="reviewer").json()["exception_id"]
    queued.store.add_predictions([
        make_prediction("P-LATER", claimed, predicted_type="coding", route="auto", queue="auto.coding")
    ])
    assert queued.get(f"/v1/exceptions/{claimed}").json()["status"] == "assigned"

    response = queued.post(f"/v1/exceptions/{claimed}/release", role="reviewer")

    assert response.json() == {"exception_id": claimed, "queue": "auto.coding", "status": "auto_routed"}
    released = queued.get(f"/v1/exceptions/{claimed}").json()["audit_events"][-1]
    assert (released["details"]["from_queue"], released["details"]["to_queue"]) == ("review", "auto.coding")


def test_revoking_a_key_releases_its_claims(queued, tmp_path) -> None:
    from typer.testing import CliRunner

    from serving.cli import app
    from workflow.store.governance import create_api_key

    leaver = {"X-API-Key": create_api_key(queued.store, name="leaver", role="reviewer")}
    leaver_claims = [queued.client.post("/v1/queues/review/claim", headers=leaver).json()["exception_id"] for _ in range(2)]
    other_claim = queued.post("/v1/queues/review/claim", role="reviewer").json()["exception_id"]
    queued.client.post(f"/v1/exceptions/{leaver_claims[1]}/decision", headers=leaver, json={"decision": "accept"})

    result = CliRunner().invoke(app, ["apikeys", "revoke", "leaver", "--db", str(queued.store.url)])

    assert result.exit_code == 0
    assert "released 1 exception it had claimed back to its queue" in result.stderr
    assert queued.get(f"/v1/exceptions/{leaver_claims[0]}").json()["status"] == "in_review"
    assert queued.get(f"/v1/exceptions/{leaver_claims[0]}").json()["audit_events"][-1]["actor"] == "cli:apikeys-revoke"
    assert queued.get(f"/v1/exceptions/{leaver_claims[1]}").json()["status"] == "reviewed"
    assert queued.get(f"/v1/exceptions/{other_claim}").json()["status"] == "assigned"


@pytest.mark.parametrize(("exception_id", "status"), [("EXC-LOW", 409), ("EXC-NOPE", 404)])
def test_release_without_claim_is_problem(queued, exception_id, status) -> None:
    response = queued.post(f"/v1/exceptions/{exception_id}/release", role="reviewer")

    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM


def test_workflow_key_may_not_release(queued) -> None:
    claimed = queued.post("/v1/queues/review/claim", role="reviewer").json()["exception_id"]

    assert queued.post(f"/v1/exceptions/{claimed}/release", role="workflow").status_code == 403


def test_decisions_become_training_labels(queued) -> None:
    queued.post("/v1/exceptions/EXC-LOW/decision", role="reviewer", json={"decision": "accept"})
    queued.post("/v1/exceptions/EXC-AUTO/decision", role="reviewer", json={"decision": "accept"})
    queued.post("/v1/exceptions/EXC-LOW/decision", role="reviewer",
                json={"decision": "override", "resolution": "appeal"})

    labelled = queued.store.labelled_exceptions()
    by_id = {item["exception"]["exception_id"]: item for item in labelled}

    assert set(by_id) == {"EXC-LOW", "EXC-AUTO"}
    assert by_id["EXC-LOW"]["resolution"] == "appeal"
    assert by_id["EXC-AUTO"]["type"] == "coding"
    assert by_id["EXC-LOW"]["decided_by"] == "reviewer-key"
    assert by_id["EXC-LOW"]["exception"]["amount_at_risk"] == "900.00"
    assert by_id["EXC-LOW"]["exception"]["carc_codes"] == ["197"]
    assert isinstance(by_id["EXC-LOW"]["decided_at"], dt.datetime)


# KPIs


def test_kpis_measure_routing_and_review(queued, make_exception, make_prediction) -> None:
    from serving.routing import QA_SAMPLE_REASON

    store = queued.store
    store.add_exceptions([make_exception("EXC-QA1"), make_exception("EXC-QA2")])
    store.add_predictions([
        make_prediction("P-QA1", "EXC-QA1", route="review", queue="review", route_reason=QA_SAMPLE_REASON),
        make_prediction("P-QA2", "EXC-QA2", route="review", queue="review", route_reason=QA_SAMPLE_REASON),
    ])
    record_decision(store, exception_id="EXC-QA1", action="accept", decided_by="r")
    record_decision(store, exception_id="EXC-QA2", action="override", type="coding", decided_by="r")
    run_id = store.start_run()
    store.record_kpis(run_id, {"first_pass_validation_rate": 0.9, "auto_posting_rate": 0.75})

    body = queued.get("/v1/kpis", role="reviewer").json()

    assert body["qa_precision"] == 0.5
    assert body["qa_decided"] == 2
    assert body["override_rate"] == 0.5
    assert body["auto_route_rate"] == pytest.approx(1 / 7, abs=1e-6)
    assert body["first_pass_validation_rate"] == 0.9
    assert body["auto_posting_rate"] == 0.75
    assert body["reconciliation_variance"] is None
    assert body["exceptions_by_status"]["reviewed"] == 2


def test_kpis_report_denial_rate_by_payer(api, make_document, make_claim_payment) -> None:
    api.store.save_document(make_document(), [
        make_claim_payment("C1", segment_index=20, status="4", payer_id="PAYER01"),
        make_claim_payment("C2", segment_index=30, status="1", payer_id="PAYER01"),
        make_claim_payment("C3", segment_index=40, status="1", payer_id="PAYER02"),
    ])

    rates = api.get("/v1/kpis").json()["denial_rate_by_payer"]

    assert rates == {"PAYER01": 0.5, "PAYER02": 0.0}


def test_kpis_count_sla_breaches(store, make_exception, make_prediction) -> None:
    store.add_exceptions([make_exception("EXC-OLD")])
    store.add_predictions([make_prediction("P-OLD", "EXC-OLD", route="review", queue="review")])

    later = dt.datetime.now(UTC) + dt.timedelta(hours=100)
    from workflow.store.governance import queue_stats

    stats = queue_stats(store, sla_hours=72, now=later)

    assert stats[0]["sla_breaches"] == 1
    assert stats[0]["oldest_age_hours"] >= 99


def test_kpis_empty_store(store) -> None:
    kpis = compute_kpis(store, sla_hours=72)

    assert kpis["auto_route_rate"] is None
    assert kpis["qa_precision"] is None
    assert kpis["queues"] == []


# Exception list filters


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"max_amount": "100.00"}, {"EXC-HIGH-SMALL"}),
        ({"predicted_type": "coding"}, {"EXC-AUTO"}),
        ({"status": "auto_routed"}, {"EXC-AUTO"}),
        ({"min_age_days": 1}, {"EXC-LOW", "EXC-HIGH-SMALL", "EXC-HIGH-BIG", "EXC-NONE", "EXC-AUTO"}),
        ({"max_age_days": 1}, set()),
    ],
    ids=lambda value: str(value) if isinstance(value, dict) else None,
)
def test_list_applies_new_filters(queued, params, expected) -> None:
    body = queued.get("/v1/exceptions", params=params).json()

    assert {item["exception_id"] for item in body["items"]} == expected
