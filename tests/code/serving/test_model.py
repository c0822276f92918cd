"""Predictions of the shipped bundle: one exception predicts as in a batch, from any thread, and
rounding to six places gives Python's round() to the bit."""

from __future__ import annotations

import dataclasses
import math
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from serving.model import HeadPrediction, TriageModel, round_like_python
from workflow.records import Contribution

MODEL_DIR = Path(__file__).resolve().parents[3] / "models" / "default"

needs_bundle = pytest.mark.skipif(not (MODEL_DIR / "bundle.json").is_file(), reason="no model bundle in models/default")

KINDS_AND_CODES = [
    ("denial", "payment.denied"),
    ("validation", "rule.timely_filing"),
    ("validation", "rule.prior_authorization_present"),
    ("unmatched_payment", "match.no_claim"),
]


def _invented_exception(rng: random.Random, number: int) -> dict[str, Any]:
    """Return a fake exception in its JSON form, detected on 2026-10-15.

    Every one shares that day, so no exception of a batch counts in another's history features,
    and a row predicts alone as it does in the batch.
    """
    kind, code = rng.choice(KINDS_AND_CODES)
    billed = rng.randint(50, 5000)
    paid = 0 if kind == "denial" else rng.randint(0, billed)
    carc, group = rng.choice(["197", "16", "29", "45", "18", "96"]), rng.choice(["CO", "PR", "OA"])
    return {
        "exception_id": f"exc_model_test_{number}",
        "kind": kind,
        "code": code,
        "claim_id": f"TESTCLM{number:05d}",
        "payer_id": rng.choice(["SIMCOM01", "SIMMCR01", "SIMMCD01", "TESTPAYER9"]),
        "amount_at_risk": f"{billed - paid}.00",
        "service_date": f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
        "detected_on": "2026-10-15",
        "claim_status": "4" if kind == "denial" else "1",
        "group_codes": [group],
        "carc_codes": [carc],
        "rarc_codes": rng.choice([[], ["N30"], ["M15", "N130"]]),
        "billed_amount": f"{billed}.00",
        "paid_amount": f"{paid}.00",
        "procedure_codes": [rng.choice(["99213", "70553", "97110", "J1234"])],
        "diagnosis_codes": [rng.choice(["E119", "I10", "M545"])],
        "evidence": {"adjustments": [{"group": group, "reason": carc, "amount": f"{billed - paid}.00"}]},
    }


@pytest.fixture(scope="module")
def model() -> TriageModel:
    loaded = TriageModel.load(MODEL_DIR)
    loaded.prepare_explainers()
    return loaded


@pytest.fixture(scope="module")
def payloads() -> list[dict[str, Any]]:
    rng = random.Random(17)
    return [_invented_exception(rng, number) for number in range(40)]


def _heads_of_row(heads: dict[str, list[HeadPrediction]], i: int) -> dict[str, HeadPrediction]:
    return {name: predictions[i] for name, predictions in heads.items()}


@needs_bundle
def test_one_exception_predicts_as_in_a_batch(model, payloads) -> None:
    batch_rows, batch = model.predict(payloads)

    for i, payload in enumerate(payloads):
        rows, one = model.predict([payload])

        assert _heads_of_row(one, 0) == _heads_of_row(batch, i)
        assert list(rows[0]) == list(batch_rows[i])


@needs_bundle
def test_unexplained_exception_predicts_as_in_batch(model, payloads) -> None:
    _, batch = model.predict(payloads, explain=False)

    for i, payload in enumerate(payloads[:10]):
        _, one = model.predict([payload], explain=False)

        assert _heads_of_row(one, 0) == _heads_of_row(batch, i)
        assert all(prediction.explanation == () for prediction in _heads_of_row(one, 0).values())


@needs_bundle
def test_one_row_scores_equal_booster_predict(model, payloads) -> None:
    matrix = model.encode(model.feature_rows(payloads))

    for head in model.heads.values():
        for i in range(len(matrix)):
            np.testing.assert_array_equal(
                head.raw_scores(matrix[i:i + 1]), head.booster.predict(matrix[i:i + 1], raw_score=True).reshape(1, -1)
            )


@needs_bundle
def test_exceptions_predicted_from_many_threads_equal_one_thread(model, payloads) -> None:
    expected = [_heads_of_row(model.predict([payload])[1], 0) for payload in payloads]
    threads = 6
    start = threading.Barrier(threads)

    def predict_all(offset: int) -> list[int]:
        start.wait()
        wrong = []
        for step in range(len(payloads)):
            i = (offset * 7 + step) % len(payloads)
            # Batches of one take the single-row API; batches of three the batch path beside them.
            size = 1 if step % 4 else 3
            batch = [payloads[(i + k) % len(payloads)] for k in range(size)]
            _, heads = model.predict(batch)
            if _heads_of_row(heads, 0) != expected[i]:
                wrong.append(i)
        return wrong

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(predict_all, range(threads)))

    assert results == [[]] * threads


def _same_floats(ours: list[list[float]], python: list[list[float]]) -> bool:
    # repr distinguishes -0.0 from 0.0 and compares NaN, which == does not.
    return [[repr(value) for value in row] for row in ours] == [[repr(value) for value in row] for row in python]


def test_rounding_matches_python_round_to_the_bit() -> None:
    rng = np.random.default_rng(11)
    halves = (rng.integers(-10**7, 10**7, 20_000) + 0.5) / 1e6  # exact ties after scaling, or near them
    special = [2.5e-06, -2.5e-06, 0.0, -0.0, -4e-07, 1e303, -1e303, math.inf, -math.inf, math.nan, 5e-324, 2.0**53]
    values = np.concatenate([rng.random(20_000), rng.normal(0, 3, 20_000), halves, special, [0.0] * 4])
    matrix = values[: len(values) // 4 * 4].reshape(-1, 4)

    ours = round_like_python(matrix, 6)

    assert _same_floats(ours, [[round(value, 6) for value in row] for row in matrix.tolist()])


def test_rounding_a_few_cells_matches_python_round() -> None:
    matrix = np.array([[2.5e-06, -4e-07, 0.1234565, math.nan]])

    assert _same_floats(round_like_python(matrix, 6), [[round(value, 6) for value in row] for row in matrix.tolist()])


def test_contribution_field_order() -> None:
    # TriageModel._explanations builds Contribution(feature, value, contribution) positionally.
    assert [field.name for field in dataclasses.fields(Contribution)] == ["feature", "value", "contribution"]
