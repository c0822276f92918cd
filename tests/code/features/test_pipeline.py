import math
from decimal import Decimal

import numpy as np

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
