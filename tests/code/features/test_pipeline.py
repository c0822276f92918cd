import datetime as dt
import math
import random
from decimal import Decimal

import numpy as np
import pytest

from features.codesets import prior_auth_required
from features.history import ExceptionHistory, HistoryLayer
from features.payload import to_float
from features.pipeline import FeatureSpec, exception_features
from tests.factories import denied_payment, make_claim, make_payment
from workflow.exceptions import exceptions_from_matches
from workflow.matching import match_payment
from workflow.records import record_to_dict


def _denial_payload():
    claim = make_claim()
    match = match_payment(denied_payment(), {"CLM-1": [claim]})
    (exception,) = exceptions_from_matches([match], {("CLM-1", "PAYER1"): claim})
    return record_to_dict(exception)


def test_denial_features_read_codes_and_amounts():
    row = exception_features(_denial_payload())
    assert row["kind"] == "denial"
    assert row["carc_1"] == "197"
    assert row["group_1"] == "CO"
    assert row["carc_category_1"] == "authorization"
    assert row["rarc_1"] == "N30"
    assert row["billed_amount"] == 100.0
    assert row["paid_ratio"] == 0.0
    assert row["adjusted_co"] == 100.0
    assert row["days_since_service"] == 31.0


def test_missing_fields_become_missing_values():
    row = exception_features({"exception_id": "exc_1", "kind": "validation"})
    assert row["carc_1"] is None
    assert math.isnan(row["billed_amount"])


def test_unseen_category_encodes_as_missing():
    spec = FeatureSpec(min_count=1).fit([{"payer_id": "A"}, {"payer_id": "B"}])
    matrix = spec.encode([{"payer_id": "B"}, {"payer_id": "NEW"}])
    column = spec.columns.index("payer_id")
    assert matrix[0, column] == 1.0
    assert np.isnan(matrix[1, column])


def test_rare_levels_are_folded_away():
    spec = FeatureSpec(min_count=2).fit([{"payer_id": "A"}, {"payer_id": "A"}, {"payer_id": "RARE"}])
    assert spec.levels["payer_id"] == ["A"]


def test_spec_round_trips_through_json_form():
    spec = FeatureSpec(min_count=1).fit([exception_features(_denial_payload())])
    again = FeatureSpec.from_dict(spec.to_dict())
    assert again.columns == spec.columns
    assert again.levels == spec.levels


def test_payment_without_service_date_has_missing_age():
    payment = make_payment(service_payments=(), paid=Decimal("0"))
    match = match_payment(payment, {"CLM-1": [make_claim(service_lines=())]})
    (exception,) = exceptions_from_matches([match], {})
    row = exception_features(record_to_dict(exception))
    assert math.isnan(row["days_since_service"])


# Batches ------------------------------------------------------------------------------------------

def _varied_payloads(days: int) -> list[dict]:
    """Fake exceptions over ``days`` detection days, with the odd shapes the store and the API send."""
    rng = random.Random(days)
    payloads = []
    for number in range(120):
        day = dt.date(2026, 10, 1) + dt.timedelta(days=number % days)
        carc, group = rng.choice(["197", "16", "45", "18"]), rng.choice(["CO", "PR", "OA"])
        payload = {
            "exception_id": f"exc_batch_{number % 100}",  # the last twenty repeat earlier ids
            "kind": rng.choice(["denial", "validation", "underpayment", "zero_paid"]),
            "code": "payment.denied",
            "claim_id": f"FAKECLAIM{number}",
            "payer_id": rng.choice(["FAKEPAYER1", "FAKEPAYER2", "UNLISTED"]),
            "detected_on": day.isoformat(),
            "service_date": rng.choice([(day - dt.timedelta(days=rng.randint(5, 400))).isoformat(), None, ""]),
            "billed_amount": rng.choice(["240.00", "0", 12.5, None, "n/a"]),
            "paid_amount": rng.choice(["0", "60.10", None]),
            "amount_at_risk": "180.00",
            "group_codes": [group, "PR"],
            "carc_codes": [carc, "2"],
            "rarc_codes": rng.choice([[], ["N30"], ["M15", "N130", "M15"]]),
            "procedure_codes": rng.choice([["70553"], ["99213", "72148"], [], ["0001F"]]),
            "diagnosis_codes": rng.choice([["M545"], ["E11.9", "I10"], []]),
            "evidence": rng.choice([
                {"adjustments": [{"group": group, "reason": carc, "amount": "180.00"},
                                 {"group": "PR", "reason": "2", "amount": "20"}], "filing_indicator": "CI"},
                {"details": {"claim_candidates": 2}, "line_count": 3, "filing_indicator": "MB"},
                None,
                {"adjustments": ["not a mapping"]},
            ]),
        }
        if number % 17 == 0:
            payload.pop("detected_on")
        payloads.append(payload)
    return payloads


def _same_row(ours: dict, expected: dict) -> bool:
    if list(ours) != list(expected):
        return False
    for name, value in expected.items():
        other = ours[name]
        if isinstance(value, float) and math.isnan(value):
            if not (isinstance(other, float) and math.isnan(other)):
                return False
        elif type(other) is not type(value) or other != value:
            return False
    return True


@pytest.mark.parametrize("days", [1, 9])
def test_batch_rows_equal_rows_built_one_by_one(days):
    payloads = _varied_payloads(days)
    history = ExceptionHistory.from_payloads(_varied_payloads(5)[:60])
    spec = FeatureSpec(payer_kinds={"UNLISTED": "medicaid"}, history=history)

    # What feature_rows did before it shared lookups across a batch: every event in a layer, then
    # one row at a time.
    layer = HistoryLayer(history)
    layer.add(payloads)
    expected = [exception_features(payload, history=layer, payer_kinds=spec.payer_kinds) for payload in payloads]

    rows = spec.feature_rows(payloads)

    assert [i for i, (row, want) in enumerate(zip(rows, expected, strict=True)) if not _same_row(row, want)] == []


def test_prior_authorization_follows_the_rule_table():
    # The shipped rules ask commercial plans for authorization of brain MRIs (70551-70553) from 2020.
    def needs_auth(procedures, service_date):
        payload = {**_denial_payload(), "procedure_codes": procedures, "service_date": service_date,
                   "evidence": {"filing_indicator": "CI"}}
        row = FeatureSpec().feature_rows([payload])[0]
        assert row["payer_kind"] == "commercial"
        on = dt.date.fromisoformat(service_date) if service_date else None
        expected = any(prior_auth_required(payload["payer_id"], "commercial", code, on) for code in procedures)
        assert row["procedure_needs_auth"] == float(expected)
        return row["procedure_needs_auth"]

    assert needs_auth(["99213", "70553"], "2026-05-01") == 1.0
    assert needs_auth(["99213"], "2026-05-01") == 0.0
    assert needs_auth(["70553"], "2019-06-01") == 0.0
    assert needs_auth(["70553"], None) == 1.0


# Encoding -----------------------------------------------------------------------------------------

def _encode_cell_by_cell(spec: FeatureSpec, rows: list[dict]) -> np.ndarray:
    """The encoding rules one cell at a time, as FeatureSpec.encode first wrote them."""
    missing = float("nan")
    matrix = np.full((len(rows), len(spec.columns)), missing)
    for i, row in enumerate(rows):
        column = 0
        for name in spec.categorical:
            value = row.get(name)
            levels = {level: float(index) for index, level in enumerate(spec.levels.get(name, []))}
            matrix[i, column] = missing if value is None else levels.get(str(value), missing)
            column += 1
        for name in spec.numeric:
            matrix[i, column] = to_float(row.get(name))
            column += 1
        for name in spec.frequency:
            value = row.get(name)
            shares = spec.frequencies.get(name, {})
            matrix[i, column] = missing if value is None or value == "" else shares.get(str(value), 0.0)
            column += 1
    return matrix


def test_encoding_by_column_equals_encoding_cell_by_cell():
    rng = random.Random(3)
    fitted = [{"payer_id": rng.choice(["A", "B", "4"]), "carc_1": rng.choice(["16", "197"]),
               "code_set": rng.choice(["CO-16", "routine"])} for _ in range(30)]
    spec = FeatureSpec(min_count=1).fit(fitted)
    odd = [None, "", "A", "4", 4, 4.0, True, "1.5", "n/a", float("nan"), -0.0, Decimal("1.1"),
           np.float32(0.1), np.float64(0.3), 2**60, "CO-16"]

    def row():
        values = {name: rng.choice(odd) for name in spec.categorical + spec.numeric + spec.frequency
                  if rng.random() < 0.9}
        if rng.random() < 0.5:  # most rows hold plain floats in every numeric column, as feature rows do
            values.update({name: rng.uniform(-1e4, 1e4) for name in spec.numeric})
        return values

    for size in (0, 1, 7, 8, 40):
        rows = [row() for _ in range(size)]
        ours, expected = spec.encode(rows), _encode_cell_by_cell(spec, rows)

        assert ours.shape == expected.shape
        np.testing.assert_array_equal(ours, expected)
        assert np.array_equal(np.signbit(ours), np.signbit(expected))


def test_encoding_sees_levels_fitted_after_an_earlier_encoding():
    spec = FeatureSpec(min_count=1).fit([{"payer_id": "A"}])
    column = spec.columns.index("payer_id")
    assert np.isnan(spec.encode([{"payer_id": "B"}])[0, column])

    spec.fit([{"payer_id": "A"}, {"payer_id": "B"}])

    assert spec.encode([{"payer_id": "B"}])[0, column] == 1.0


def test_reasonless_adjustments_use_code_lists() -> None:
    from features.payload import primary_carc

    payload = {"group_codes": ["CO"], "carc_codes": ["16"], "evidence": {"adjustments": [{"group": "CO", "amount": "5"}]}}

    assert primary_carc(payload) == "16"


def test_adjustment_reason_outranks_the_code_lists() -> None:
    from features.payload import primary_carc

    payload = {"group_codes": ["CO"], "carc_codes": ["16"],
               "evidence": {"adjustments": [{"group": "CO", "reason": "45", "amount": "5"}]}}

    assert primary_carc(payload) == "45"
