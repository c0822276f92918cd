"""Contracts of run KPIs, repeated decisions, invalid JSON, closed filter values, queue names and 422 titles."""

from __future__ import annotations

import re
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from workflow.store.governance import EXCEPTION_KINDS, EXCEPTION_STATUSES, AlreadyResolvedError, record_decision
from workflow.taxonomy import EXCEPTION_TYPES

PROBLEM = "application/problem+json"
PROJECT_ROOT = Path(__file__).resolve().parents[3]
# Modules that create exceptions; the kind filter must accept every kind they produce.
DETECTOR_SOURCES = ("workflow/exceptions.py", "workflow/remittance", "workflow/invoices", "workflow/invoice_flow.py")
KIND_PATTERNS = (
    re.compile(r'\bkind="(\w+)"'),
    re.compile(r'\bKIND = "(\w+)"'),
    re.compile(r'_?(?:payment|transaction)_exception\(\s*\w+,\s*"(\w+)"'),
)


@pytest.fixture
def decided(api, make_exception, make_prediction):
    """One exception in the review queue with a prediction, ready for decisions."""
    api.store.add_exceptions([make_exception("EXC-DEC")])
    api.store.add_predictions([make_prediction("P-DEC", "EXC-DEC", route="review", queue="review")])
    return api


def _decide(api, body: dict):
    return api.post("/v1/exceptions/EXC-DEC/decision", role="reviewer", json=body)


def _audit_actions(api) -> list[str]:
    return [event["action"] for event in api.get("/v1/exceptions/EXC-DEC").json()["audit_events"]]


# Run KPIs


def test_kpis_report_reconciliation_as_money(api) -> None:
    run_id = api.store.start_run()
    api.store.record_kpis(run_id, {
        "auto_posting_rate": 0.8125,
        "reconciliation_posting_variance": 3049.44,
        "reconciliation_imbalance_total": 12.5,
    })

    body = api.get("/v1/kpis").json()

    assert body["reconciliation_variance"] == {"posting_variance": "3049.44", "imbalance_total": "12.50"}
    assert body["auto_posting_rate"] == 0.8125
    assert body["latest_run_kpis"]["reconciliation_posting_variance"] == "3049.44"
    assert body["latest_run_kpis"]["auto_posting_rate"] == 0.8125


def test_kpis_take_newest_run_values(api) -> None:
    first = api.store.start_run()
    api.store.record_kpis(first, {"reconciliation_posting_variance": 10.0, "reconciliation_imbalance_total": 1.0})
    second = api.store.start_run()
    api.store.record_kpis(second, {"reconciliation_posting_variance": -0.1, "reconciliation_imbalance_total": 0.0})

    variance = api.get("/v1/kpis").json()["reconciliation_variance"]

    assert variance == {"posting_variance": "-0.10", "imbalance_total": "0.00"}


def test_kpis_without_posting_run_are_null(api) -> None:
    run_id = api.store.start_run()
    api.store.record_kpis(run_id, {"first_pass_validation_rate": 0.9})

    body = api.get("/v1/kpis").json()

    assert body["reconciliation_variance"] is None
    assert body["auto_posting_rate"] is None


def test_kpi_money_reads_back_decimal(api) -> None:
    from workflow.store.governance import compute_kpis

    run_id = api.store.start_run()
    api.store.record_kpis(run_id, {"reconciliation_posting_variance": 3049.44})

    variance = compute_kpis(api.store, sla_hours=72)["reconciliation_variance"]

    assert variance["posting_variance"] == Decimal("3049.44")
    assert variance["imbalance_total"] is None


# Repeated decisions


def test_decision_on_resolved_is_conflict(decided) -> None:
    _decide(decided, {"decision": "accept", "outcome": "recovered", "amount_recovered": "10.00"})

    response = _decide(decided, {"decision": "override", "type": "coding", "outcome": "written_off"})
    body = response.json()

    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert body["title"] == "Conflict"
    assert "already resolved" in body["detail"]
    assert '"reopen": true' in body["detail"]


def test_conflicting_decision_changes_nothing(decided) -> None:
    _decide(decided, {"decision": "accept", "outcome": "recovered", "amount_recovered": "10.00"})
    _decide(decided, {"decision": "override", "type": "coding", "outcome": "written_off"})

    detail = decided.get("/v1/exceptions/EXC-DEC").json()
    labels = decided.store.labelled_exceptions()

    assert len(detail["decisions"]) == 1
    assert detail["decisions"][0]["outcome"] == "recovered"
    assert labels[0]["type"] == "authorization"
    assert _audit_actions(decided).count("decided") == 1


def test_reopen_records_event_then_decision(decided) -> None:
    first = _decide(decided, {"decision": "accept", "outcome": "recovered", "amount_recovered": "10.00"}).json()

    response = _decide(decided, {"decision": "override", "type": "coding", "outcome": "written_off", "reopen": True})
    detail = decided.get("/v1/exceptions/EXC-DEC").json()
    reopened = [event for event in detail["audit_events"] if event["action"] == "reopened"]

    assert response.status_code == 201
    assert response.json()["status"] == "resolved"
    assert _audit_actions(decided)[-2:] == ["reopened", "decided"]
    assert reopened[0]["actor"] == "reviewer-key"
    assert reopened[0]["details"]["previous_decision_id"] == first["decision_id"]
    assert reopened[0]["details"]["previous_outcome"] == "recovered"
    assert detail["audit_events"][-1]["details"]["from_status"] == "in_review"
    assert decided.store.labelled_exceptions()[0]["type"] == "coding"


def test_reopen_without_outcome_reviews(decided) -> None:
    _decide(decided, {"decision": "accept", "outcome": "resubmitted"})

    response = _decide(decided, {"decision": "accept", "reopen": True})

    assert response.status_code == 201
    assert response.json()["status"] == "reviewed"
    assert decided.get("/v1/exceptions/EXC-DEC").json()["status"] == "reviewed"


def test_reviewed_decision_may_be_replaced(decided) -> None:
    _decide(decided, {"decision": "accept"})

    response = _decide(decided, {"decision": "override", "type": "coding"})
    labels = decided.store.labelled_exceptions()

    assert response.status_code == 201
    assert "reopened" not in _audit_actions(decided)
    assert labels[0]["type"] == "coding"


def test_reopen_on_open_exception_is_plain(decided) -> None:
    response = _decide(decided, {"decision": "accept", "reopen": True})

    assert response.status_code == 201
    assert "reopened" not in _audit_actions(decided)


def test_reopen_must_be_boolean(decided) -> None:
    response = _decide(decided, {"decision": "accept", "reopen": "perhaps"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "reopen"


def test_concurrent_resolutions_admit_one(store, make_exception, make_prediction) -> None:
    store.add_exceptions([make_exception(f"EXC-{i}") for i in range(5)])
    store.add_predictions([make_prediction(f"P-{i}", f"EXC-{i}", route="review", queue="review") for i in range(5)])
    outcomes: list[str] = []
    lock = threading.Lock()

    def resolve(exception_id: str, reviewer: str) -> None:
        try:
            record_decision(store, exception_id=exception_id, action="accept", decided_by=reviewer, outcome="resubmitted")
            result = "recorded"
        except AlreadyResolvedError:
            result = "conflict"
        with lock:
            outcomes.append(result)

    threads = [
        threading.Thread(target=resolve, args=(f"EXC-{i}", f"reviewer-{n}")) for i in range(5) for n in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    decided = [item["exception"]["exception_id"] for item in store.labelled_exceptions()]

    assert outcomes.count("recorded") == 5
    assert outcomes.count("conflict") == 10
    assert sorted(decided) == [f"EXC-{i}" for i in range(5)]


# Invalid JSON


def test_invalid_json_is_problem(decided) -> None:
    response = decided.post(
        "/v1/exceptions/EXC-DEC/decision", role="reviewer",
        content=b'{"decision": "accept", "type": MEM0001}', headers={"Content-Type": "application/json"},
    )
    body = response.json()

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert body["title"] == "Unprocessable Content"
    assert body["detail"].startswith("The request body is not valid JSON at character 31")
    assert body["errors"] == [
        {"field": "body", "location": "body", "message": "not valid JSON at character 31, counting from 0: Expecting value"}
    ]
    assert "MEM0001" not in response.text


def test_invalid_json_on_triage_names_body(api) -> None:
    response = api.post("/v1/triage", content=b'{"exception_id": "EXC-1",}', headers={"Content-Type": "application/json"})
    body = response.json()

    assert response.status_code == 422
    assert body["errors"][0]["field"] == "body"
    assert "EXC-1" not in response.text


@pytest.mark.parametrize("path", ["/v1/triage", "/v1/exceptions/EXC-DEC/decision"])
def test_empty_body_says_it_is_empty(decided, path) -> None:
    response = decided.post(path, content=b"", headers={"Content-Type": "application/json"})

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"].startswith("The request body is empty.")


@pytest.mark.parametrize("path", ["/v1/triage", "/v1/exceptions/EXC-DEC/decision"])
def test_json_sent_as_text_names_the_content_type(decided, path) -> None:
    response = decided.post(path, content=b'{"decision": "accept"}', headers={"Content-Type": "text/plain; MEM0001"})

    assert response.status_code == 422
    assert "Content-Type: application/json" in response.json()["detail"]
    assert "MEM0001" not in response.text


@pytest.mark.parametrize("body", [b"[]", b"null", b"true", b'"text"', b"12"])
def test_non_object_json_is_problem(api, body) -> None:
    response = api.post("/v1/triage", content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 422
    assert response.json()["detail"].startswith("The request body must be one JSON object")


@pytest.mark.parametrize("path", ["/v1/triage", "/v1/exceptions/EXC-DEC/decision"])
def test_json_sent_without_content_type_names_the_header(decided, path) -> None:
    # httpx sends bytes given as content without a Content-Type header.
    response = decided.client.post(path, content=b'{"decision": "accept"}', headers=decided.headers["admin"])

    assert response.status_code == 422
    assert "Content-Type header is missing" in response.json()["detail"]


# Closed filter values


@pytest.mark.parametrize(
    ("parameter", "allowed"),
    [
        ("kind", EXCEPTION_KINDS),
        ("status", EXCEPTION_STATUSES),
        ("route", ("auto", "review")),
        ("predicted_type", EXCEPTION_TYPES),
    ],
)
def test_unknown_filter_value_is_problem(api, parameter, allowed) -> None:
    response = api.get("/v1/exceptions", params={parameter: "bogus"})
    body = response.json()

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert f"'{parameter}'" in body["detail"]
    assert body["errors"][0]["field"] == parameter
    assert all(f"'{value}'" in body["detail"] for value in allowed)
    assert "bogus" not in response.text


@pytest.mark.parametrize(
    "params",
    [
        {"kind": "remittance_imbalance"},
        {"status": "resolved"},
        {"route": "review"},
        {"predicted_type": "timely_filing"},
    ],
    ids=lambda value: next(iter(value)),
)
def test_known_filter_value_is_accepted(api, params) -> None:
    response = api.get("/v1/exceptions", params=params)

    assert response.status_code == 200


def test_kind_list_covers_detectors() -> None:
    produced: set[str] = set()
    for name in DETECTOR_SOURCES:
        location = PROJECT_ROOT / name
        files = sorted(location.rglob("*.py")) if location.is_dir() else [location]
        for path in files:
            text = path.read_text(encoding="utf-8")
            for pattern in KIND_PATTERNS:
                produced.update(pattern.findall(text))

    assert len(produced) >= 10
    assert produced <= set(EXCEPTION_KINDS)


# Queue names


@pytest.mark.parametrize("name", ["bogus", "auto.bogus", "auto.", "Review", "review.coding"])
def test_unknown_queue_claim_is_not_found(api, name) -> None:
    response = api.post(f"/v1/queues/{name}/claim", role="reviewer")
    body = response.json()

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert "No queue has this name" in body["detail"]
    assert "bogus" not in response.text


@pytest.mark.parametrize("name", ["review", "auto.coding", "auto.extraction_failure"])
def test_known_empty_queue_gives_no_content(api, name) -> None:
    response = api.post(f"/v1/queues/{name}/claim", role="reviewer")

    assert response.status_code == 204


# Titles


def test_every_422_title_is_rfc_9110(api) -> None:
    titles = {
        api.get("/v1/exceptions", params={"limit": 0}).json()["title"],
        api.post("/v1/exceptions/EXC-X/decision", role="reviewer", json={"decision": "maybe"}).json()["title"],
        api.post("/v1/triage", content=b"{", headers={"Content-Type": "application/json"}).json()["title"],
    }

    assert titles == {"Unprocessable Content"}


def test_openapi_lists_closed_filter_values(api) -> None:
    parameters = api.client.get("/openapi.json").json()["paths"]["/v1/exceptions"]["get"]["parameters"]
    by_name = {parameter["name"]: parameter for parameter in parameters}
    kind_schema = by_name["kind"]["schema"]["anyOf"][0]

    assert kind_schema["enum"] == list(EXCEPTION_KINDS)
