"""Data tests of the feature frame: its schema, and that it leaks neither labels nor the future."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from features.history import ExceptionHistory
from features.pipeline import FEATURE_DESCRIPTIONS, FeatureSpec, exception_features
from training.dataset import LabelledData
from training.train import HEAD_LABEL_COLUMNS, TrainConfig, prepare_features, time_split

CONFIG = TrainConfig()


@pytest.fixture(scope="module")
def prepared(labelled_history):
    return prepare_features(labelled_history, CONFIG)


def test_history_has_every_detection_kind(labelled_history):
    kinds = {payload["kind"] for payload in labelled_history.payloads}
    assert {"validation", "denial", "unmatched_payment"} <= kinds


def test_rows_have_every_spec_column(prepared):
    raw_columns = [*prepared.spec.categorical, *prepared.spec.numeric, *prepared.spec.frequency]
    for row in prepared.rows:
        assert set(raw_columns) <= set(row)


def test_categorical_values_are_text_or_missing(prepared):
    for row in prepared.rows:
        for name in prepared.spec.categorical:
            assert row[name] is None or isinstance(row[name], str), name


def test_numeric_values_are_floats(prepared):
    for row in prepared.rows:
        for name in prepared.spec.numeric:
            assert isinstance(row[name], float), name


def test_matrix_shape_matches_spec(prepared):
    assert prepared.matrix.shape == (len(prepared.rows), len(prepared.spec.columns))
    assert prepared.matrix.dtype == np.float64


def test_every_column_is_described(prepared):
    for name in prepared.spec.columns:
        assert FEATURE_DESCRIPTIONS.get(name), name


def test_no_feature_is_named_for_a_label(prepared):
    for name in prepared.spec.columns:
        assert name not in HEAD_LABEL_COLUMNS.values()
        assert name not in {"root_cause", "event"}


def test_amounts_are_never_negative(prepared):
    frame = pd.DataFrame(prepared.rows)
    for name in ("billed_amount", "amount_at_risk", "history_payer_exceptions"):
        assert (frame[name].dropna() >= 0).all(), name


def test_shuffled_labels_leave_features_unchanged(labelled_history, prepared):
    frame = labelled_history.frame.copy()
    rng = np.random.default_rng(3)
    for column in HEAD_LABEL_COLUMNS.values():
        frame[column] = rng.permutation(frame[column].to_numpy())
    shuffled = LabelledData(frame=frame, unlabelled=0, ceiling={}, payer_kinds=labelled_history.payer_kinds)
    again = prepare_features(shuffled, CONFIG)
    np.testing.assert_array_equal(again.matrix, prepared.matrix)


def test_history_feature_ignores_later_exceptions(labelled_history):
    payloads = labelled_history.payloads
    middle = len(payloads) // 2
    target = payloads[middle]
    everything = ExceptionHistory.from_payloads(payloads)
    only_past = ExceptionHistory.from_payloads(payloads[: middle + 1])
    assert everything.features(target) == only_past.features(target)


def test_history_ignores_same_day_exceptions():
    first = {"exception_id": "e1", "payer_id": "P", "kind": "denial", "detected_on": "2026-03-02",
             "evidence": {"adjustments": [{"group": "CO", "reason": "197", "amount": "10"}]}}
    same_day = {**first, "exception_id": "e2"}
    history = ExceptionHistory.from_payloads([first, same_day])
    assert history.features(same_day)["history_payer_exceptions"] == 0.0


def test_history_counts_earlier_same_code():
    earlier = {"exception_id": "e1", "payer_id": "P", "kind": "denial", "detected_on": "2026-03-01",
               "evidence": {"adjustments": [{"group": "CO", "reason": "197", "amount": "10"}]}}
    later = {**earlier, "exception_id": "e2", "detected_on": "2026-03-05"}
    features = ExceptionHistory.from_payloads([earlier, later]).features(later)
    assert features["history_payer_carc"] == 1.0
    assert features["history_payer_carc_share"] == 1.0
    assert features["history_payer_denial_share"] == 1.0


def test_history_window_drops_old_events():
    old = {"exception_id": "e1", "payer_id": "P", "kind": "denial", "detected_on": "2026-01-01"}
    new = {**old, "exception_id": "e2", "detected_on": "2026-06-01"}
    features = ExceptionHistory.from_payloads([old, new], window_days=90).features(new)
    assert features["history_payer_exceptions"] == 0.0


def test_history_snapshot_round_trips(labelled_history):
    history = ExceptionHistory.from_payloads(labelled_history.payloads).snapshot()
    again = ExceptionHistory.from_dict(json.loads(json.dumps(history.to_dict())))
    target = labelled_history.payloads[-1]
    assert again.features(target) == history.features(target)


def test_serving_rows_match_training_rows(labelled_history, prepared):
    # Serving counts from the bundle's snapshot plus the batch; the held-out rows must come out
    # exactly as training built them.
    _, _, test = time_split(len(prepared.rows), CONFIG)
    spec = FeatureSpec.from_dict(json.loads(json.dumps(prepared.spec.to_dict())), history=prepared.spec.history)
    served = spec.feature_rows(labelled_history.payloads[test])
    np.testing.assert_array_equal(spec.encode(served), prepared.matrix[test])


def test_levels_come_from_training_rows_only(prepared):
    train, _, _ = time_split(len(prepared.rows), CONFIG)
    seen = {row["payer_id"] for row in prepared.rows[train]}
    assert set(prepared.spec.levels["payer_id"]) <= seen


def test_frequencies_come_from_training_rows_only(prepared):
    train, _, _ = time_split(len(prepared.rows), CONFIG)
    shares = prepared.spec.frequencies["code_set"]
    assert math.isclose(sum(shares.values()), 1.0, abs_tol=1e-3) or sum(shares.values()) < 1.0
    assert set(shares) <= {row["code_set"] for row in prepared.rows[train] if row["code_set"]}


def test_row_reads_only_json_form(labelled_history):
    payload = labelled_history.payloads[0]
    again = json.loads(json.dumps(payload))
    first, second = exception_features(payload), exception_features(again)
    assert json.dumps(first, sort_keys=True, default=str) == json.dumps(second, sort_keys=True, default=str)


def test_simulated_payers_get_a_kind(prepared):
    # Supplier invoices have no payer, so only claim and remittance exceptions need a payer kind.
    kinds = {row["payer_kind"] for row in prepared.rows if row["kind"] not in ("invoice_mismatch", "extraction")}
    assert "other" not in kinds
