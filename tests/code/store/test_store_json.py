"""JSON columns and the API's prediction write: stored values read back equal on both databases."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import uuid
from decimal import Decimal

import pytest

from workflow.records import Source, record_to_dict
from workflow.store.database import dump_json
from workflow.store.governance import (
    PIPELINED_INSERT_MIN_ROWS,
    PredictionContext,
    prediction_context,
    save_api_predictions,
)
from workflow.store.rows import feature_values_to_json, json_safe

ACTOR = "api:test-key"
NESTED_EVIDENCE = {
    "adjustments": [
        {"group": "CO", "reason": "45", "amount": Decimal("12.30"), "dates": (dt.date(2024, 3, 4),)},
        {"group": "PR", "reason": "1", "amount": Decimal("0.05"), "dates": ()},
    ],
    "received": dt.date(2024, 3, 9),
    "payer_claim_id": "PCN-9",
    "note": "réclamation ✓",
    "line_counts": {"paid": 2, "denied": 0},
}
HEADS = {
    "priority": {
        "label": "high",
        "confidence": 0.812345,
        "probabilities": {"high": 0.812345, "low": 0.187655},
        "explanation": [{"feature": "amount_at_risk", "value": "125.4", "contribution": -0.25}],
    }
}


def _context(prediction_id: str) -> PredictionContext:
    return PredictionContext(
        prediction_id=prediction_id, request_id="req-1", actor=ACTOR, mlflow_run_id=None, qa_sample=False,
        heads=HEADS,
    )


def _save(store, exceptions, predictions) -> list[str]:
    contexts = [_context(p.prediction_id) for p in predictions]
    return save_api_predictions(store, predictions, contexts, new_exceptions=exceptions, actor=ACTOR)


# Through the API's write -----------------------------------------------------------------------


def test_api_write_reads_back_nested_evidence(store, make_exception, make_prediction) -> None:
    exception = make_exception("EXC-1", evidence=NESTED_EVIDENCE)

    _save(store, [exception], [make_prediction("PRED-1", "EXC-1")])

    evidence = store.get_exception("EXC-1")["evidence"]
    assert evidence["details"] == {
        "adjustments": [
            {"group": "CO", "reason": "45", "amount": "12.30", "dates": ["2024-03-04"]},
            {"group": "PR", "reason": "1", "amount": "0.05", "dates": []},
        ],
        "received": "2024-03-09",
        "payer_claim_id": "PCN-9",
        "note": "réclamation ✓",
        "line_counts": {"paid": 2, "denied": 0},
    }
    assert evidence["billed_amount"] == "125.40"
    assert evidence["paid_amount"] == "0.00"
    assert evidence["carc_codes"] == ["197"]


def test_api_write_reads_back_exception_record(store, make_exception, make_prediction) -> None:
    exception = make_exception("EXC-1", evidence=NESTED_EVIDENCE)

    _save(store, [exception], [make_prediction("PRED-1", "EXC-1")])

    [loaded] = store.load_exceptions(["EXC-1"])
    assert loaded.amount_at_risk == Decimal("125.40")
    assert loaded.billed_amount == Decimal("125.40")
    assert loaded.service_date == exception.service_date
    assert loaded.detected_on == exception.detected_on
    assert loaded.evidence == record_to_dict(exception)["evidence"]
    assert loaded.source == dataclasses.replace(exception.source, file="claims_837p.txt")


def test_api_write_nulls_non_finite_features(store, make_exception, make_prediction) -> None:
    features = {
        "ratio": math.nan, "high": math.inf, "low": -math.inf, "count": 3, "share": 0.25,
        "code": "CO-45", "missing": None, "flag": True,
    }

    _save(store, [make_exception("EXC-1")], [make_prediction("PRED-1", "EXC-1", feature_values=features)])

    stored = store.get_prediction("PRED-1")["feature_values"]
    assert stored == {
        "ratio": None, "high": None, "low": None, "count": 3, "share": 0.25,
        "code": "CO-45", "missing": None, "flag": True,
    }


def test_api_write_reads_back_prediction_values(store, make_exception, make_prediction) -> None:
    prediction = make_prediction("PRED-1", "EXC-1")

    _save(store, [make_exception("EXC-1")], [prediction])

    stored = store.get_prediction("PRED-1")
    assert stored["probabilities"] == prediction.probabilities
    assert stored["explanation"] == [
        {"feature": "carc_197", "value": "1", "contribution": 1.75},
        {"feature": "amount_at_risk", "value": "125.40", "contribution": -0.12},
    ]
    assert stored["feature_values"] == prediction.feature_values
    assert stored["created_at"] == prediction.created_at
    assert stored["latency_ms"] == prediction.latency_ms


def test_api_write_reads_back_context_heads(store, make_exception, make_prediction) -> None:
    _save(store, [make_exception("EXC-1")], [make_prediction("PRED-1", "EXC-1")])

    context = prediction_context(store, "PRED-1")

    assert context == {"request_id": "req-1", "actor": ACTOR, "mlflow_run_id": None, "qa_sample": False, "heads": HEADS}


def test_api_write_uses_one_timestamp(store, make_exception, make_prediction) -> None:
    exceptions = [make_exception(f"EXC-{i}") for i in range(3)]
    predictions = [make_prediction(f"PRED-{i}", f"EXC-{i}") for i in range(3)]

    _save(store, exceptions, predictions)

    details = [store.get_exception(f"EXC-{i}") for i in range(3)]
    times = {detail["created_at"] for detail in details} | {detail["updated_at"] for detail in details}
    times |= {event["at"] for detail in details for event in detail["audit_events"]}
    assert len(times) == 1
    assert next(iter(times)).tzinfo == dt.timezone.utc


def test_api_write_inserts_many_new(store, make_exception, make_prediction) -> None:
    count = PIPELINED_INSERT_MIN_ROWS + 2
    exceptions = [make_exception(f"EXC-{i}") for i in range(count)]
    predictions = [make_prediction(f"PRED-{i}", f"EXC-{i}") for i in range(count)]

    created = _save(store, exceptions, predictions)

    assert created == [f"EXC-{i}" for i in range(count)]
    assert store.counts()["exceptions"] == count
    actions = [event["action"] for event in store.get_exception("EXC-0")["audit_events"]]
    assert actions == ["created", "routed"]


def test_api_write_many_skips_stored(store, make_exception, make_prediction) -> None:
    count = PIPELINED_INSERT_MIN_ROWS + 2
    store.add_exceptions([make_exception("EXC-1", message="stored before"), make_exception("EXC-4")])
    exceptions = [make_exception(f"EXC-{i}", message="sent again") for i in range(count)]
    predictions = [make_prediction(f"PRED-{i}", f"EXC-{i}") for i in range(count)]

    created = _save(store, exceptions, predictions)

    assert created == [f"EXC-{i}" for i in range(count) if i not in (1, 4)]
    assert store.counts()["exceptions"] == count
    assert store.counts()["predictions"] == count
    stored_before = store.get_exception("EXC-1")
    assert stored_before["message"] == "stored before"
    assert stored_before["status"] == "auto_routed"
    assert [event["actor"] for event in stored_before["audit_events"]] == ["system", "exception-type@3"]
    assert [event["action"] for event in store.get_exception("EXC-2")["audit_events"]] == ["created", "routed"]


# JSON columns --------------------------------------------------------------------------------


def test_json_column_reads_back_equal(store) -> None:
    summary = {
        "text": "é ✓ 😀 \"quoted\" \\ back",
        "max_int": 2**63 - 1,
        "min_int": -(2**63),
        "unsigned": 2**64 - 1,
        "floats": [1e16, 0.1, 5e-324, 1.7976931348623157e308, -2.5, 0.0],
        "nested": [{"a": [1, 2.5, None, True, False]}, {}, []],
    }
    run_id = store.start_run()

    store.finish_run(run_id, summary)

    assert store.get_run(run_id)["summary"] == summary


def test_json_column_nulls_non_finite_floats(store) -> None:
    run_id = store.start_run()

    store.finish_run(run_id, {"rate": math.nan, "rates": [math.inf, -math.inf, 0.5]})

    assert store.get_run(run_id)["summary"] == {"rate": None, "rates": [None, None, 0.5]}


def test_json_column_falls_back_to_json_dumps(store) -> None:
    run_id = store.start_run()

    store.finish_run(run_id, {"keys": {1: "a", 2.5: "b", False: "c", None: "d"}, "huge": 2**70})

    summary = store.get_run(run_id)["summary"]
    assert summary == {"keys": {"1": "a", "2.5": "b", "false": "c", "null": "d"}, "huge": 2**70}


# dump_json and the feature-value conversion ----------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        {"text": "é", "count": 3, "ratio": 0.1, "flag": True, "missing": None, "items": [1, [2, {}]]},
        ["\ud800 lone surrogate"],
        {1: "int key"},
        2**64,
        (1, 2),
        "",
    ],
)
def test_dump_json_matches_json_dumps_values(value) -> None:
    assert json.loads(dump_json(value)) == json.loads(json.dumps(value))


def test_dump_json_falls_back_to_json_dumps_text() -> None:
    assert dump_json({1: "a", None: "b"}) == json.dumps({1: "a", None: "b"})


@pytest.mark.parametrize(
    "value",
    [dt.date(2024, 1, 2), dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc), Decimal("1.00"), {1, 2},
     Source(file="a", document_id="b")],
    ids=["date", "datetime", "decimal", "set", "dataclass"],
)
def test_dump_json_rejects_what_json_dumps_rejects(value) -> None:
    with pytest.raises(TypeError, match="is not JSON serializable"):
        dump_json(value)


def test_dump_json_writes_uuid_as_string() -> None:
    value = uuid.UUID("12345678-1234-5678-1234-567812345678")

    assert json.loads(dump_json({"id": value})) == {"id": str(value)}


def test_feature_values_to_json_copies_plain_values() -> None:
    values = {"code": "CO-45", "count": 3, "ratio": 0.5, "missing": None, "flag": False}

    converted = feature_values_to_json(values)

    assert converted == values
    assert converted is not values


@pytest.mark.parametrize(
    "values",
    [
        {"ratio": math.nan, "high": math.inf},
        {1: 0.5, "day": dt.date(2024, 1, 2)},
        {"amount": Decimal("1.50"), "codes": ("CO", "PR"), "nested": {"x": [math.nan]}},
    ],
    ids=["non-finite", "non-str-key", "nested"],
)
def test_feature_values_to_json_matches_full_conversion(values) -> None:
    assert feature_values_to_json(values) == json_safe(record_to_dict(values))


def test_feature_values_to_json_makes_numpy_plain() -> None:
    numpy = pytest.importorskip("numpy")

    converted = feature_values_to_json({"count": numpy.int64(2), "ratio": numpy.float64("inf")})

    assert converted == {"count": 2, "ratio": None}
    assert type(converted["count"]) is int

