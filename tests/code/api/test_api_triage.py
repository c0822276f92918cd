"""POST /v1/triage, predictions and re-runs: results, storage, audit, limits and idempotency."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from serving.triage import triage_batch
from workflow.records import record_to_dict

PROBLEM = "application/problem+json"


def _body(make_exception, exception_id: str = "EXC-1", **changes) -> dict:
    return record_to_dict(make_exception(exception_id, **changes))


# Results


def test_single_exception_returns_every_head(api, make_exception) -> None:
    response = api.post("/v1/triage", role="workflow", json=_body(make_exception))

    result = response.json()["results"][0]
    assert response.status_code == 200
    assert result["exception_id"] == "EXC-1"
    assert result["prediction_id"].startswith("pred_")
    assert {"type", "priority", "resolution"} <= set(result)
    assert result["priority"]["label"] in result["priority"]["probabilities"]
    assert result["resolution"]["label"] in result["resolution"]["probabilities"]


def test_probabilities_sum_to_one(api, make_exception) -> None:
    result = api.post("/v1/triage", json=_body(make_exception)).json()["results"][0]

    for head in ("type", "priority", "resolution"):
        assert sum(result[head]["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)


def test_contributions_carry_business_words(api, make_exception) -> None:
    contributions = api.post("/v1/triage", json=_body(make_exception)).json()["results"][0]["type"]["contributions"]

    assert len(contributions) == 3
    assert all(item["description"] for item in contributions)
    assert all(item["value"] for item in contributions)
    magnitudes = [abs(item["contribution"]) for item in contributions]
    assert magnitudes == sorted(magnitudes, reverse=True)


def test_result_names_model_and_route(api, make_exception, bundle) -> None:
    body = api.post("/v1/triage", json=_body(make_exception)).json()
    result = body["results"][0]

    assert body["model"]["version"] == bundle.version
    assert result["model"]["name"] == bundle.name
    assert result["route"]["route"] in ("auto", "review")
    assert result["route"]["reason"]
    assert result["route"]["queue"]


def test_batch_matches_single_predictions(api, make_exception) -> None:
    exceptions = [
        _body(make_exception, "EXC-A"),
        _body(make_exception, "EXC-B", kind="validation", code="rule.timely_filing", carc_codes=(), group_codes=()),
        _body(make_exception, "EXC-C", amount_at_risk=Decimal("9000.00")),
    ]
    batch = api.post("/v1/triage", json={"exceptions": exceptions}).json()["results"]
    singles = [api.post("/v1/triage", json=item).json()["results"][0] for item in exceptions]

    assert [r["exception_id"] for r in batch] == ["EXC-A", "EXC-B", "EXC-C"]
    for from_batch, single in zip(batch, singles, strict=True):
        assert from_batch["type"]["probabilities"] == single["type"]["probabilities"]
        assert from_batch["type"]["contributions"] == single["type"]["contributions"]


def test_batch_of_thousand_is_accepted(api, make_exception) -> None:
    exceptions = [_body(make_exception, f"EXC-{i:04d}") for i in range(1000)]

    response = api.post("/v1/triage", json={"exceptions": exceptions})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1000
    assert api.store.counts()["predictions"] == 1000


def test_batch_above_limit_is_problem(api, make_exception) -> None:
    exceptions = [_body(make_exception, f"EXC-{i:04d}") for i in range(1001)]

    response = api.post("/v1/triage", json={"exceptions": exceptions})

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["field"] == "exceptions"


def test_empty_batch_is_problem(api) -> None:
    response = api.post("/v1/triage", json={"exceptions": []})

    assert response.status_code == 422


# Storage and audit


def test_new_exception_is_stored(api, make_exception) -> None:
    result = api.post("/v1/triage", json=_body(make_exception, "EXC-NEW")).json()["results"][0]
    detail = api.get("/v1/exceptions/EXC-NEW").json()

    assert result["exception_created"] is True
    assert detail["audit_events"][0]["action"] == "created"
    assert detail["audit_events"][0]["actor"] == "api:admin-key"
    assert detail["latest_prediction"]["prediction_id"] == result["prediction_id"]


def test_stored_exception_is_not_overwritten(api, make_exception) -> None:
    api.store.add_exceptions([make_exception("EXC-1", message="as stored")])

    result = api.post("/v1/triage", json=_body(make_exception, "EXC-1", message="as sent")).json()["results"][0]

    assert result["exception_created"] is False
    assert api.get("/v1/exceptions/EXC-1").json()["message"] == "as stored"


def test_prediction_keeps_request_context(api, make_exception, bundle) -> None:
    response = api.post("/v1/triage", role="workflow", json=_body(make_exception), headers={"X-Request-ID": "req-42"})
    prediction_id = response.json()["results"][0]["prediction_id"]

    stored = api.get(f"/v1/predictions/{prediction_id}").json()

    assert response.headers["x-request-id"] == "req-42"
    assert stored["request_id"] == "req-42"
    assert stored["actor"] == "api:workflow-key"
    assert stored["model_version"] == bundle.version
    assert stored["qa_sample"] is False
    assert set(stored["heads"]) == {"type", "priority", "resolution"}
    assert stored["feature_values"]
    assert stored["latency_ms"] >= 0


def test_prediction_unknown_id_is_problem(api) -> None:
    response = api.get("/v1/predictions/pred_missing")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def test_qa_sample_is_marked_in_store(store_url, bundle, make_exception) -> None:
    from fastapi.testclient import TestClient

    from serving.api import create_app
    from serving.settings import Settings
    from workflow.store.governance import create_api_key

    app = create_app(store_url=store_url, model=bundle, settings=Settings(qa_sample_rate=1.0))
    with TestClient(app) as client:
        key = create_api_key(app.state.store, name="qa", role="admin")
        # A duplicate claim is confidently routed automatically, so the QA sample takes it.
        body = _body(make_exception, "EXC-QA", kind="validation", code="rule.duplicate_claim",
                     carc_codes=(), group_codes=(), rarc_codes=())
        results = client.post("/v1/triage", json=body, headers={"X-API-Key": key}).json()["results"]
        stored = client.get(f"/v1/predictions/{results[0]['prediction_id']}", headers={"X-API-Key": key}).json()

    assert results[0]["route"]["qa_sample"] == stored["qa_sample"]
    if results[0]["route"]["qa_sample"]:
        assert results[0]["route"]["route"] == "review"


# Round trip


def test_detail_round_trips_through_triage(api, make_exception, bundle) -> None:
    record = make_exception("EXC-RT", evidence={"adjustments": [{"group": "CO", "reason": "197", "amount": "125.40"}]})
    api.store.add_exceptions([record])
    detail = api.get("/v1/exceptions/EXC-RT").json()

    from_detail = api.post("/v1/triage", json=detail).json()["results"][0]
    direct = triage_batch([record_to_dict(api.store.load_exceptions(["EXC-RT"])[0])], bundle)[0]

    assert from_detail["type"]["probabilities"] == direct.heads["type"].probabilities
    assert from_detail["resolution"]["label"] == direct.heads["resolution"].label
    assert [c["feature"] for c in from_detail["type"]["contributions"]] == [
        c.feature for c in direct.heads["type"].explanation
    ]


def test_detail_feature_values_match_record(api, make_exception) -> None:
    api.store.add_exceptions([make_exception("EXC-RT")])
    detail = api.get("/v1/exceptions/EXC-RT").json()
    first = api.post("/v1/triage", json=detail).json()["results"][0]["prediction_id"]
    second = api.post("/v1/triage", json=record_to_dict(api.store.load_exceptions(["EXC-RT"])[0])).json()

    features_first = api.get(f"/v1/predictions/{first}").json()["feature_values"]
    features_second = api.get(f"/v1/predictions/{second['results'][0]['prediction_id']}").json()["feature_values"]

    assert features_first == features_second


# Re-run


def test_rerun_agrees_with_original(api, make_exception, bundle) -> None:
    prediction_id = api.post("/v1/triage", json=_body(make_exception)).json()["results"][0]["prediction_id"]

    response = api.post(f"/v1/predictions/{prediction_id}/rerun")
    body = response.json()

    assert response.status_code == 200
    assert body["agree"] is True
    assert body["differences"] == []
    assert body["model"]["version"] == bundle.version
    assert body["original"]["prediction_id"] == prediction_id
    assert body["rerun"]["type"]["label"] == body["original"]["predicted_type"]


def test_rerun_reports_disagreement(api, make_exception, make_prediction, bundle) -> None:
    api.store.add_exceptions([make_exception("EXC-1")])
    api.store.add_predictions([make_prediction("PRED-OLD", "EXC-1", model_version=bundle.version, predicted_type="timely_filing")])

    body = api.post("/v1/predictions/PRED-OLD/rerun").json()

    assert body["agree"] is False
    assert "type" in body["differences"]


def test_rerun_unknown_version_is_conflict(api, make_exception, make_prediction) -> None:
    api.store.add_exceptions([make_exception("EXC-1")])
    api.store.add_predictions([make_prediction("PRED-OLD", "EXC-1", model_version="retired")])

    response = api.post("/v1/predictions/PRED-OLD/rerun")

    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM


def test_rerun_needs_admin(api) -> None:
    assert api.post("/v1/predictions/PRED-1/rerun", role="workflow").status_code == 403


# Errors and limits


def test_invalid_field_is_named_without_value(api, make_exception) -> None:
    body = _body(make_exception, amount_at_risk=Decimal("1.00"))
    body["amount_at_risk"] = "MEM0001"

    response = api.post("/v1/triage", json=body)
    problem = response.json()

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert problem["errors"][0]["field"] == "amount_at_risk"
    assert "MEM0001" not in response.text


def test_invalid_batch_field_is_named(api, make_exception) -> None:
    second = _body(make_exception, "EXC-2")
    del second["detected_on"]

    problem = api.post("/v1/triage", json={"exceptions": [_body(make_exception), second]}).json()

    assert problem["errors"][0]["field"] == "exceptions.1.detected_on"


def test_malformed_json_is_problem(api) -> None:
    response = api.post("/v1/triage", content=b"{not json", headers={"content-type": "application/json"})

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


def test_oversized_body_is_problem(api) -> None:
    response = api.post("/v1/triage", content=b"x" * 5_000_001, headers={"content-type": "application/json"})

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert "5000000" in response.json()["detail"]


def test_no_model_gives_unavailable(store_url, make_exception) -> None:
    from fastapi.testclient import TestClient

    from serving.api import create_app
    from workflow.store.governance import create_api_key

    app = create_app(store_url=store_url, load_model=False)
    with TestClient(app) as client:
        key = create_api_key(app.state.store, name="k", role="admin")
        response = client.post("/v1/triage", json=_body(make_exception), headers={"X-API-Key": key})

    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM


# Idempotency


def test_repeated_key_replays_response(api, make_exception) -> None:
    headers = {"Idempotency-Key": "batch-0001"}
    first = api.post("/v1/triage", json=_body(make_exception), headers=headers)
    second = api.post("/v1/triage", json=_body(make_exception), headers=headers)

    assert second.status_code == 200
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert api.store.counts()["predictions"] == 1


def test_reused_key_with_other_body_is_problem(api, make_exception) -> None:
    headers = {"Idempotency-Key": "batch-0002"}
    api.post("/v1/triage", json=_body(make_exception, "EXC-1"), headers=headers)

    response = api.post("/v1/triage", json=_body(make_exception, "EXC-2"), headers=headers)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert api.store.counts()["predictions"] == 1


def test_failed_request_releases_key(api, make_exception) -> None:
    headers = {"Idempotency-Key": "batch-0003"}
    bad = _body(make_exception)
    bad["amount_at_risk"] = "not money"
    api.post("/v1/triage", json=bad, headers=headers)

    response = api.post("/v1/triage", json=bad, headers=headers)

    assert response.status_code == 422
    assert "idempotent-replayed" not in response.headers


def test_keys_are_scoped_per_caller(api, make_exception) -> None:
    headers = {"Idempotency-Key": "shared-key"}
    api.post("/v1/triage", role="workflow", json=_body(make_exception, "EXC-1"), headers=headers)

    response = api.post("/v1/triage", role="admin", json=_body(make_exception, "EXC-2"), headers=headers)

    assert response.status_code == 200
    assert "idempotent-replayed" not in response.headers


# Metrics


def test_metrics_count_predictions_by_route(api, make_exception, bundle) -> None:
    api.post("/v1/triage", json={"exceptions": [_body(make_exception, f"EXC-{i}") for i in range(3)]})

    text = api.client.get("/metrics").text
    routed = sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("triage_predictions_total{")
    )

    assert routed == 3
    assert 'route="/v1/triage"' in text
    assert f'version="{bundle.version}"' in text
    assert "triage_http_request_duration_seconds_bucket" in text


def test_response_is_json_serializable_for_replay(api, make_exception) -> None:
    response = api.post("/v1/triage", json=_body(make_exception), headers={"Idempotency-Key": "k-json"})

    assert json.loads(response.text)["results"]


def test_nul_character_is_problem(api, make_exception) -> None:
    body = _body(make_exception)
    body["message"] = "before\u0000after"

    response = api.post("/v1/triage", json=body)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


def test_nul_in_an_evidence_key_is_problem(api, make_exception) -> None:
    body = _body(make_exception)
    body["evidence"] = {"details": [{"note\u0000": "x"}]}

    response = api.post("/v1/triage", json=body)

    assert response.status_code == 422


def test_literal_nul_escape_text_accepted(api, make_exception) -> None:
    body = _body(make_exception)
    body["message"] = "a literal \\u0000 in free text"

    response = api.post("/v1/triage", json=body)

    assert response.status_code == 200


def test_nul_in_path_is_problem(api) -> None:
    response = api.get("/v1/exceptions/EXC%00X")

    assert response.status_code == 422


def test_rendered_body_equals_response_model(bundle, make_exception) -> None:
    from serving.api.routes.triage import _render
    from serving.api.schemas import TriageResponse

    payloads = [record_to_dict(make_exception(f"EXC-R{i}", carc_codes=(code,))) for i, code in enumerate(["16", "197", "45"])]
    outcomes = triage_batch(payloads, bundle)
    created = {outcomes[0].prediction.exception_id}

    body = json.loads(_render(outcomes, bundle, request_id="req-1", created=created))
    reference = TriageResponse.model_validate(body).model_dump(mode="json")

    assert body == reference
    assert body["results"][0]["exception_created"] is True
    assert body["results"][1]["exception_created"] is False


def test_concurrent_requests_each_stored(store_url, bundle, make_exception, api_settings) -> None:
    import anyio
    import httpx

    from serving.api import create_app
    from workflow.store.governance import create_api_key

    app = create_app(store_url=store_url, model=bundle, settings=api_settings)
    key = create_api_key(app.state.store, name="concurrent", role="workflow")
    bodies = [_body(make_exception, f"EXC-C{i:02d}") for i in range(24)]
    statuses: list[int] = []

    async def post(client: httpx.AsyncClient, body: dict) -> None:
        response = await client.post("/v1/triage", json=body, headers={"X-API-Key": key})
        statuses.append(response.status_code)

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            async with anyio.create_task_group() as group:
                for body in bodies:
                    group.start_soon(post, client, body)

    try:
        anyio.run(main)
        counts = app.state.store.counts()
    finally:
        app.state.store.close()

    assert statuses == [200] * len(bodies)
    assert counts["predictions"] == len(bodies)
    assert counts["exceptions"] == len(bodies)


def test_api_checkpoints_sqlite_in_background(store_url, bundle, api_settings) -> None:
    from fastapi.testclient import TestClient

    from serving.api import create_app

    app = create_app(store_url=store_url, model=bundle, settings=api_settings)
    store = app.state.store
    with TestClient(app):
        running = store._checkpointer is not None and store._checkpointer.running

    assert running is (store.engine.dialect.name == "sqlite")
    assert store._checkpointer is None or not store._checkpointer.running


def test_repeated_id_reports_one_creation(api, make_exception) -> None:
    body = _body(make_exception, "EXC-TWICE")

    results = api.post("/v1/triage", json={"exceptions": [body, body]}).json()["results"]

    assert [result["exception_created"] for result in results] == [True, False]
    assert api.store.counts()["exceptions"] == 1
    assert api.store.counts()["predictions"] == 2


def test_repeated_id_stores_the_first_body(api, make_exception) -> None:
    first = _body(make_exception, "EXC-TWICE")
    second = {**first, "code": "other.code", "amount_at_risk": "9999.00"}

    api.post("/v1/triage", json={"exceptions": [first, second]})

    stored = api.get("/v1/exceptions/EXC-TWICE").json()
    assert stored["code"] == first["code"]
    assert stored["amount_at_risk"] == first["amount_at_risk"]


@pytest.mark.parametrize("value", ["86400", "0", "20261001", "2026-9-3", "2026-09-03T00:00:00"])
def test_non_iso_date_string_is_problem(api, make_exception, value) -> None:
    response = api.post("/v1/triage", json={**_body(make_exception), "service_date": value})

    assert response.status_code == 422
    assert "YYYY-MM-DD" in response.text
    assert f'"{value}"' not in response.text


def test_amounts_come_back_in_cents(api, make_exception) -> None:
    body = {**_body(make_exception, "EXC-CENTS"), "amount_at_risk": "1E+2", "billed_amount": "125.4",
            "paid_amount": "5"}

    api.post("/v1/triage", json=body)

    stored = api.get("/v1/exceptions/EXC-CENTS").json()
    assert (stored["amount_at_risk"], stored["billed_amount"], stored["paid_amount"]) == ("100.00", "125.40", "5.00")


def test_own_evidence_kept_as_sent(api, make_exception) -> None:
    evidence = {"details": {"x": 1}, "carc_codes": ["16"], "adjustments": [{"group": "CO", "reason": "16"}]}
    body = {**_body(make_exception, "EXC-OWN"), "carc_codes": [], "evidence": evidence}

    api.post("/v1/triage", json=body)

    stored = api.get("/v1/exceptions/EXC-OWN").json()
    assert stored["evidence"]["details"] == evidence
    assert stored["carc_codes"] == []


@pytest.mark.parametrize("field", ["detected_on", "service_date"])
def test_numeric_date_is_problem(api, make_exception, field) -> None:
    body = {**_body(make_exception), field: 86400}

    response = api.post("/v1/triage", json=body)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    assert field in response.text
    assert "YYYY-MM-DD" in response.text
    assert "86400" not in response.text
