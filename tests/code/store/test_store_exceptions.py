"""Exceptions, predictions, routing status, audit events and the list and detail queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from workflow.errors import StoreError
from workflow.records import Contribution

UTC = dt.timezone.utc


def _seed_exceptions(store, make_exception) -> None:
    """Store five exceptions with distinct kinds, payers and amounts (ids EXC-1 .. EXC-5)."""
    store.add_exceptions(
        [
            make_exception("EXC-1", kind="denial", payer_id="PAYER01", amount_at_risk=Decimal("125.40")),
            make_exception("EXC-2", kind="denial", payer_id="PAYER02", amount_at_risk=Decimal("900.00")),
            make_exception("EXC-3", kind="validation", payer_id="PAYER01", amount_at_risk=Decimal("50.00")),
            make_exception("EXC-4", kind="zero_paid", payer_id="PAYER02", amount_at_risk=Decimal("0.00")),
            make_exception("EXC-5", kind="validation", payer_id=None, amount_at_risk=Decimal("1500.25")),
        ]
    )


def _ids(items: list[dict]) -> set[str]:
    return {item["exception_id"] for item in items}


def test_add_exceptions_returns_inserted_count(store, make_exception) -> None:
    inserted = store.add_exceptions([make_exception("EXC-1"), make_exception("EXC-2")])

    assert inserted == 2


def test_add_exceptions_skips_stored_ids(store, make_exception) -> None:
    store.add_exceptions([make_exception("EXC-1")])

    inserted = store.add_exceptions([make_exception("EXC-1"), make_exception("EXC-2"), make_exception("EXC-2")])

    assert inserted == 1
    assert store.counts()["exceptions"] == 2


def test_add_exceptions_writes_created_events(store, make_exception) -> None:
    run_id = store.start_run()

    store.add_exceptions([make_exception("EXC-1")], run_id=run_id)

    events = store.get_exception("EXC-1")["audit_events"]
    assert [event["action"] for event in events] == ["created"]
    assert events[0]["actor"] == "system"
    assert events[0]["details"]["run_id"] == run_id


def test_exception_evidence_keeps_codes_and_amounts(store, make_exception) -> None:
    store.add_exceptions([make_exception("EXC-1")])

    evidence = store.get_exception("EXC-1")["evidence"]

    assert evidence["carc_codes"] == ["197"]
    assert evidence["rarc_codes"] == ["N54"]
    assert evidence["group_codes"] == ["CO"]
    assert evidence["procedure_codes"] == ["99213"]
    assert evidence["diagnosis_codes"] == ["R05.9"]
    assert evidence["billed_amount"] == "125.40"
    assert evidence["paid_amount"] == "0.00"
    assert evidence["details"]["adjusted"] == "125.40"


def test_load_exceptions_rebuilds_records(store, make_exception) -> None:
    original = make_exception("EXC-1")
    store.add_exceptions([original])

    [loaded] = store.load_exceptions(["EXC-1", "EXC-404"])

    assert loaded.carc_codes == original.carc_codes
    assert loaded.billed_amount == original.billed_amount
    assert loaded.amount_at_risk == original.amount_at_risk
    assert loaded.source.segment_index == original.source.segment_index
    assert loaded.source.file == "claims_837p.txt"
    assert loaded.evidence == {"adjusted": "125.40", "payer_claim_id": "PCN-9"}


def test_auto_prediction_marks_auto_routed(store, make_exception, make_prediction) -> None:
    store.add_exceptions([make_exception("EXC-1")])

    store.add_predictions([make_prediction("PRED-1", "EXC-1", route="auto", queue="authorizations")])

    detail = store.get_exception("EXC-1")
    assert detail["status"] == "auto_routed"
    assert detail["queue"] == "authorizations"


def test_review_prediction_marks_in_review(store, make_exception, make_prediction) -> None:
    store.add_exceptions([make_exception("EXC-1")])

    store.add_predictions([make_prediction("PRED-1", "EXC-1", route="review", queue="review")])

    assert store.get_exception("EXC-1")["status"] == "in_review"


def test_prediction_writes_routed_event(store, make_exception, make_prediction) -> None:
    store.add_exceptions([make_exception("EXC-1")])

    store.add_predictions([make_prediction("PRED-1", "EXC-1", model_name="exception-type", model_version="3")])

    routed = store.get_exception("EXC-1")["audit_events"][-1]
    assert routed["action"] == "routed"
    assert routed["actor"] == "exception-type@3"
    assert routed["details"]["from_status"] == "open"
    assert routed["details"]["to_status"] == "auto_routed"
    assert routed["details"]["prediction_id"] == "PRED-1"


def test_unchanged_route_writes_no_event(store, make_exception, make_prediction) -> None:
    store.add_exceptions([make_exception("EXC-1")])
    store.add_predictions([make_prediction("PRED-1", "EXC-1")])

    store.add_predictions([make_prediction("PRED-2", "EXC-1", created_at=dt.datetime(2024, 4, 2, tzinfo=UTC))])

    actions = [event["action"] for event in store.get_exception("EXC-1")["audit_events"]]
    assert actions == ["created", "routed"]


def test_prediction_keeps_resolved_status(store, make_exception, make_prediction) -> None:
    store.add_exceptions([make_exception("EXC-1", status="resolved")])

    store.add_predictions([make_prediction("PRED-1", "EXC-1")])

    detail = store.get_exception("EXC-1")
    assert detail["status"] == "resolved"
    assert detail["queue"] is None
    assert detail["latest_prediction"]["prediction_id"] == "PRED-1"


def test_add_predictions_skips_stored_ids(store, make_exception, make_prediction) -> None:
    store.add_exceptions([make_exception("EXC-1")])
    store.add_predictions([make_prediction("PRED-1", "EXC-1")])

    inserted = store.add_predictions([make_prediction("PRED-1", "EXC-1")])

    assert inserted == 0
    assert store.counts()["predictions"] == 1


def test_prediction_for_unknown_exception_writes_nothing(store, make_exception, make_prediction) -> None:
    store.add_exceptions([make_exception("EXC-1")])
    predictions = [make_prediction("PRED-1", "EXC-1"), make_prediction("PRED-2", "EXC-404")]

    with pytest.raises(StoreError, match="add_exceptions"):
        store.add_predictions(predictions)

    assert store.counts()["predictions"] == 0
    assert store.get_exception("EXC-1")["status"] == "open"


def test_prediction_json_drops_nan_and_numpy(store, make_exception, make_prediction) -> None:
    numpy = pytest.importorskip("numpy")
    store.add_exceptions([make_exception("EXC-1")])
    features = {"days_to_file": numpy.int64(12), "ratio": numpy.float64("nan"), "flag": numpy.bool_(True)}

    store.add_predictions([make_prediction("PRED-1", "EXC-1", feature_values=features)])

    stored = store.get_prediction("PRED-1")["feature_values"]
    assert stored == {"days_to_file": 12, "ratio": None, "flag": True}


def test_get_prediction_returns_explanation(store, make_exception, make_prediction) -> None:
    store.add_exceptions([make_exception("EXC-1")])
    store.add_predictions([make_prediction("PRED-1", "EXC-1")])

    prediction = store.get_prediction("PRED-1")

    assert prediction["explanation"][0] == {"feature": "carc_197", "value": "1", "contribution": 1.75}
    assert prediction["probabilities"]["authorization"] == 0.91
    assert prediction["created_at"] == dt.datetime(2024, 4, 1, 12, 0, tzinfo=UTC)


def test_get_prediction_unknown_returns_none(store) -> None:
    assert store.get_prediction("PRED-404") is None


def test_get_exception_orders_prediction_history(store, make_exception, make_prediction) -> None:
    store.add_exceptions([make_exception("EXC-1")])
    store.add_predictions(
        [
            make_prediction("PRED-OLD", "EXC-1", created_at=dt.datetime(2024, 4, 1, tzinfo=UTC)),
            make_prediction(
                "PRED-NEW",
                "EXC-1",
                created_at=dt.datetime(2024, 4, 3, tzinfo=UTC),
                predicted_type="coding",
                explanation=(Contribution(feature="modifier_25", value="1", contribution=0.8),),
            ),
        ]
    )

    detail = store.get_exception("EXC-1")

    assert [p["prediction_id"] for p in detail["predictions"]] == ["PRED-NEW", "PRED-OLD"]
    assert detail["latest_prediction"]["predicted_type"] == "coding"
    assert detail["predicted_type"] == "coding"
    assert detail["latest_prediction"]["explanation"][0]["feature"] == "modifier_25"


def test_get_exception_unknown_returns_none(store) -> None:
    assert store.get_exception("EXC-404") is None


def test_get_exception_timestamps_are_utc(store, make_exception) -> None:
    store.add_exceptions([make_exception("EXC-1")])

    detail = store.get_exception("EXC-1")

    assert detail["created_at"].tzinfo == UTC
    assert detail["audit_events"][0]["at"].tzinfo == UTC


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, {"EXC-1", "EXC-2", "EXC-3", "EXC-4", "EXC-5"}),
        ({"kind": "denial"}, {"EXC-1", "EXC-2"}),
        ({"payer_id": "PAYER02"}, {"EXC-2", "EXC-4"}),
        ({"min_amount": Decimal("125.40")}, {"EXC-1", "EXC-2", "EXC-5"}),
        ({"kind": "validation", "min_amount": Decimal("100")}, {"EXC-5"}),
        ({"status": "open"}, {"EXC-3", "EXC-4", "EXC-5"}),
        ({"status": "auto_routed"}, {"EXC-1"}),
        ({"queue": "review"}, {"EXC-2"}),
        ({"route": "review"}, {"EXC-2"}),
        ({"predicted_type": "authorization"}, {"EXC-1"}),
        ({"predicted_type": "coding"}, {"EXC-2"}),
        ({"kind": "no-such-kind"}, set()),
    ],
    ids=lambda value: str(value) if isinstance(value, dict) else None,
)
def test_list_exceptions_filters(store, make_exception, make_prediction, filters, expected) -> None:
    _seed_exceptions(store, make_exception)
    store.add_predictions(
        [
            make_prediction("PRED-1", "EXC-1"),
            # EXC-2 was first predicted as authorization, then re-predicted as coding, so filters
            # must look at the latest prediction only.
            make_prediction("PRED-2A", "EXC-2", created_at=dt.datetime(2024, 4, 1, tzinfo=UTC)),
            make_prediction(
                "PRED-2B",
                "EXC-2",
                predicted_type="coding",
                route="review",
                queue="review",
                created_at=dt.datetime(2024, 4, 2, tzinfo=UTC),
            ),
        ]
    )

    items, total = store.list_exceptions(**filters)

    assert _ids(items) == expected
    assert total == len(expected)


def test_list_exceptions_paginates(store, make_exception) -> None:
    _seed_exceptions(store, make_exception)

    first, total = store.list_exceptions(limit=2, offset=0)
    second, _ = store.list_exceptions(limit=2, offset=2)
    third, _ = store.list_exceptions(limit=2, offset=4)

    assert total == 5
    assert [len(first), len(second), len(third)] == [2, 2, 1]
    assert _ids(first) | _ids(second) | _ids(third) == {"EXC-1", "EXC-2", "EXC-3", "EXC-4", "EXC-5"}


def test_list_exceptions_offset_past_end(store, make_exception) -> None:
    _seed_exceptions(store, make_exception)

    items, total = store.list_exceptions(offset=50)

    assert items == []
    assert total == 5


def test_list_exceptions_newest_first(store, make_exception) -> None:
    store.add_exceptions([make_exception("EXC-OLD")])
    store.add_exceptions([make_exception("EXC-NEW")])

    items, _ = store.list_exceptions()

    assert [item["exception_id"] for item in items] == ["EXC-NEW", "EXC-OLD"]


def test_list_exceptions_rejects_zero_limit(store) -> None:
    with pytest.raises(ValueError, match="limit must be at least 1"):
        store.list_exceptions(limit=0)


def test_summary_carries_latest_prediction(store, make_exception, make_prediction) -> None:
    store.add_exceptions([make_exception("EXC-1")])
    store.add_predictions([make_prediction("PRED-1", "EXC-1", confidence=0.91)])

    [item], _ = store.list_exceptions()

    assert item["predicted_type"] == "authorization"
    assert item["confidence"] == 0.91
    assert item["route"] == "auto"
    assert item["amount_at_risk"] == Decimal("125.40")


def test_ids_without_prediction(store, make_exception, make_prediction) -> None:
    _seed_exceptions(store, make_exception)
    store.add_predictions([make_prediction("PRED-1", "EXC-1"), make_prediction("PRED-3", "EXC-3")])

    assert store.exception_ids_without_prediction() == ["EXC-2", "EXC-4", "EXC-5"]


def test_counts_cover_every_table(store, make_document, make_claim, make_exception, make_prediction) -> None:
    store.save_document(make_document(), [make_claim()])
    store.add_exceptions([make_exception("EXC-1")])
    store.add_predictions([make_prediction("PRED-1", "EXC-1")])

    counts = store.counts()

    assert counts["documents"] == 1
    assert counts["claims"] == 1
    assert counts["exceptions"] == 1
    assert counts["predictions"] == 1
    assert counts["audit_events"] == 2


def test_exceptions_detected_between_bounds_both_days(store, make_exception) -> None:
    days = [dt.date(2026, 10, 1), dt.date(2026, 10, 15), dt.date(2026, 11, 2)]
    store.add_exceptions([make_exception(exception_id=f"EXC-DAY-{i}", detected_on=day) for i, day in enumerate(days)])

    found = store.exceptions_detected_between(dt.date(2026, 10, 1), dt.date(2026, 10, 15))

    assert [e.exception_id for e in found] == ["EXC-DAY-0", "EXC-DAY-1"]


@pytest.mark.parametrize(("billed", "shown"), [("935", "935.00"), ("12.5", "12.50"), ("0", "0.00"), ("1.234", "1.234")])
def test_evidence_amounts_show_at_least_cents(store, make_exception, billed, shown) -> None:
    store.add_exceptions([make_exception("EXC-AMT", billed_amount=Decimal(billed), paid_amount=Decimal("0"))])

    evidence = store.get_exception("EXC-AMT")["evidence"]

    assert (evidence["billed_amount"], evidence["paid_amount"]) == (shown, "0.00")
