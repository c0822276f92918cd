"""HTTP contract of the API: health, exception list and detail, and problem details on errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from serving.api import create_app
from workflow.errors import StoreError
from workflow.store import Store
from workflow.store.governance import create_api_key

UTC = dt.timezone.utc
PROBLEM_MEDIA_TYPE = "application/problem+json"


@pytest.fixture
def client(store_url: str) -> Iterator[TestClient]:
    app = create_app(store_url=store_url, load_model=False)
    key = create_api_key(app.state.store, name="reader", role="reviewer")
    with TestClient(app, headers={"X-API-Key": key}) as test_client:
        yield test_client


@pytest.fixture
def app_store(client: TestClient) -> Store:
    return client.app.state.store


@pytest.fixture
def seeded(app_store: Store, make_exception, make_prediction) -> Store:
    """Three exceptions; EXC-1 has two predictions, EXC-2 one, EXC-3 none."""
    app_store.add_exceptions(
        [
            make_exception("EXC-1", amount_at_risk=Decimal("125.40")),
            make_exception("EXC-2", kind="validation", payer_id="PAYER02", amount_at_risk=Decimal("900.00")),
            make_exception("EXC-3", kind="zero_paid", amount_at_risk=Decimal("0.10")),
        ]
    )
    app_store.add_predictions(
        [
            make_prediction("PRED-1A", "EXC-1", created_at=dt.datetime(2024, 4, 1, tzinfo=UTC)),
            make_prediction(
                "PRED-1B",
                "EXC-1",
                predicted_type="coding",
                confidence=0.55,
                route="review",
                queue="review",
                route_reason="confidence 0.55 is below the threshold 0.80",
                created_at=dt.datetime(2024, 4, 2, tzinfo=UTC),
            ),
            make_prediction("PRED-2", "EXC-2"),
        ]
    )
    return app_store


def _assert_problem(response, status: int) -> dict:
    body = response.json()
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["title"]
    assert body["detail"]
    return body


# Health


def test_healthz_returns_ok(client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_reports_store_failure(client, monkeypatch) -> None:
    def fail_ping() -> None:
        raise StoreError("ping failed")

    monkeypatch.setattr(client.app.state.store, "ping", fail_ping)

    response = client.get("/healthz")

    _assert_problem(response, 503)


# List


def test_list_returns_page_shape(client, seeded) -> None:
    body = client.get("/v1/exceptions").json()

    assert set(body) == {"items", "total", "limit", "offset"}
    assert body["total"] == 3
    assert body["limit"] == 50
    assert body["offset"] == 0


def test_list_serializes_amounts_as_strings(client, seeded) -> None:
    items = client.get("/v1/exceptions", params={"kind": "zero_paid"}).json()["items"]

    assert items[0]["amount_at_risk"] == "0.10"
    assert items[0]["service_date"] == "2024-03-04"


def test_list_shows_latest_prediction(client, seeded) -> None:
    items = client.get("/v1/exceptions", params={"payer_id": "PAYER01", "kind": "denial"}).json()["items"]

    assert items[0]["exception_id"] == "EXC-1"
    assert items[0]["predicted_type"] == "coding"
    assert items[0]["route"] == "review"
    assert items[0]["status"] == "in_review"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "validation"}, {"EXC-2"}),
        ({"payer_id": "PAYER01"}, {"EXC-1", "EXC-3"}),
        ({"status": "open"}, {"EXC-3"}),
        ({"status": "in_review"}, {"EXC-1"}),
        ({"predicted_type": "authorization"}, {"EXC-2"}),
        ({"route": "review"}, {"EXC-1"}),
        ({"queue": "authorizations"}, {"EXC-2"}),
        ({"min_amount": "125.40"}, {"EXC-1", "EXC-2"}),
        ({"min_amount": "1000"}, set()),
    ],
    ids=lambda value: str(value) if isinstance(value, dict) else None,
)
def test_list_applies_filter(client, seeded, params, expected) -> None:
    body = client.get("/v1/exceptions", params=params).json()

    assert {item["exception_id"] for item in body["items"]} == expected
    assert body["total"] == len(expected)


def test_list_paginates(client, seeded) -> None:
    first = client.get("/v1/exceptions", params={"limit": 2}).json()
    second = client.get("/v1/exceptions", params={"limit": 2, "offset": 2}).json()

    assert len(first["items"]) == 2
    assert len(second["items"]) == 1
    assert first["total"] == second["total"] == 3
    assert second["offset"] == 2


def test_list_empty_store(client) -> None:
    body = client.get("/v1/exceptions").json()

    assert body["items"] == []
    assert body["total"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"min_amount": "-1"}, "min_amount"),
        ({"min_amount": "1.005"}, "min_amount"),
        ({"min_amount": "MEM0001"}, "min_amount"),
        ({"kind": "x" * 81}, "kind"),
    ],
    ids=lambda value: str(value)[:40] if isinstance(value, dict) else None,
)
def test_list_invalid_parameter_is_problem(client, params, field) -> None:
    response = client.get("/v1/exceptions", params=params)

    body = _assert_problem(response, 422)
    assert body["errors"][0]["field"] == field
    assert body["errors"][0]["location"] == "query"
    assert f"'{field}'" in body["detail"]


def test_validation_problem_omits_rejected_value(client) -> None:
    response = client.get("/v1/exceptions", params={"min_amount": "MEM0001"})

    assert "MEM0001" not in response.text


def test_list_accepts_max_limit(client) -> None:
    response = client.get("/v1/exceptions", params={"limit": 500})

    assert response.status_code == 200
    assert response.json()["limit"] == 500


# Detail


def test_detail_returns_evidence_and_source(client, seeded) -> None:
    body = client.get("/v1/exceptions/EXC-1").json()

    assert body["exception_id"] == "EXC-1"
    assert body["amount_at_risk"] == "125.40"
    assert body["evidence"]["carc_codes"] == ["197"]
    assert body["evidence"]["billed_amount"] == "125.40"
    assert body["source"]["segment_index"] == 20
    assert body["source"]["segment_id"] == "CLP"
    assert body["source"]["file"] == "claims_837p.txt"


def test_detail_returns_latest_prediction(client, seeded) -> None:
    latest = client.get("/v1/exceptions/EXC-1").json()["latest_prediction"]

    assert latest["prediction_id"] == "PRED-1B"
    assert latest["predicted_type"] == "coding"
    assert latest["confidence"] == 0.55
    assert latest["route"] == "review"
    assert latest["route_reason"] == "confidence 0.55 is below the threshold 0.80"
    assert latest["model_name"] == "exception-type"
    assert latest["model_version"] == "3"
    assert latest["probabilities"]["authorization"] == 0.91
    assert latest["explanation"][0] == {"feature": "carc_197", "value": "1", "contribution": 1.75}


def test_detail_returns_prediction_history(client, seeded) -> None:
    body = client.get("/v1/exceptions/EXC-1").json()

    assert [p["prediction_id"] for p in body["predictions"]] == ["PRED-1B", "PRED-1A"]


def test_detail_returns_audit_events(client, seeded) -> None:
    events = client.get("/v1/exceptions/EXC-1").json()["audit_events"]

    assert [event["action"] for event in events] == ["created", "routed", "routed"]
    assert events[1]["actor"] == "exception-type@3"
    assert events[2]["details"]["to_status"] == "in_review"


def test_detail_without_prediction(client, seeded) -> None:
    body = client.get("/v1/exceptions/EXC-3").json()

    assert body["latest_prediction"] is None
    assert body["predictions"] == []
    assert body["predicted_type"] is None


def test_detail_unknown_id_is_problem(client, seeded) -> None:
    response = client.get("/v1/exceptions/MEM0001-CLAIM-77")

    _assert_problem(response, 404)
    assert "MEM0001" not in response.text


def test_detail_overlong_id_is_problem(client) -> None:
    response = client.get(f"/v1/exceptions/{'x' * 65}")

    body = _assert_problem(response, 422)
    assert body["errors"][0]["field"] == "exception_id"
    assert body["errors"][0]["location"] == "path"


# Application


def test_unknown_route_is_problem(client) -> None:
    _assert_problem(client.get("/v2/nothing"), 404)


def test_wrong_method_is_problem(client) -> None:
    _assert_problem(client.put("/v1/exceptions"), 405)


def test_create_app_rejects_url_and_store(store) -> None:
    with pytest.raises(ValueError, match="not both"):
        create_app(store_url="sqlite://", store=store)


def test_create_app_leaves_given_store_open(store) -> None:
    with TestClient(create_app(store=store, load_model=False)) as test_client:
        test_client.get("/healthz")

    assert store.counts()["exceptions"] == 0


def test_openapi_lists_endpoints(client) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    assert {"/healthz", "/v1/exceptions", "/v1/exceptions/{exception_id}"} <= set(paths)
