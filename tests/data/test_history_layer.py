"""A batch laid over a history snapshot counts exactly as a copy of the snapshot with the batch added."""

from __future__ import annotations

import datetime as dt

from features.history import ExceptionHistory


def _denial(number: int, day: dt.date, payer: str = "PAYER01") -> dict:
    return {
        "exception_id": f"exc_layer_{number}", "kind": "denial", "code": "payment.denied", "claim_id": f"C{number}",
        "payer_id": payer, "detected_on": day.isoformat(), "service_date": (day - dt.timedelta(days=20)).isoformat(),
        "carc_codes": ["197"], "group_codes": ["CO"], "procedure_codes": ["99213"], "diagnosis_codes": ["E119"],
        "evidence": {"adjustments": [{"group": "CO", "reason": "197", "amount": "100"}]},
    }


def test_layer_matches_copy_with_batch():
    start = dt.date(2026, 9, 1)
    base = ExceptionHistory.from_payloads([_denial(i, start + dt.timedelta(days=i)) for i in range(30)])
    # The batch repeats one exception the base holds, which both paths must skip.
    batch = [_denial(29, start + dt.timedelta(days=29))] + [_denial(100 + i, start + dt.timedelta(days=31 + i)) for i in range(5)]

    copied = base.copy()
    copied.add(batch)
    layered = base.layer()
    layered.add(batch)

    for payload in batch:
        assert layered.features(payload) == copied.features(payload)


def test_layer_leaves_base_unchanged():
    start = dt.date(2026, 9, 1)
    base = ExceptionHistory.from_payloads([_denial(i, start + dt.timedelta(days=i)) for i in range(3)])
    events_before = len(base.events)

    base.layer().add([_denial(50, start + dt.timedelta(days=10))])

    assert len(base.events) == events_before
