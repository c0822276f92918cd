"""The shipped model bundle and a builder of denial exceptions in their JSON form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from serving.model import TriageModel
from serving.settings import DEFAULT_MODEL_PATH


@pytest.fixture(scope="session")
def shipped_model() -> TriageModel:
    if not (DEFAULT_MODEL_PATH / "bundle.json").is_file():
        pytest.fail(f"the shipped model bundle is missing at {DEFAULT_MODEL_PATH}; build it with `make model`")
    return TriageModel.load(DEFAULT_MODEL_PATH)


def build_denial(adjustments: list[tuple[str, str, str]] | None = None, **changes: Any) -> dict[str, Any]:
    """Return a fake commercial denial of an office visit, in the JSON form the store returns."""
    adjustments = adjustments if adjustments is not None else [("CO", "16", "240")]
    payload: dict[str, Any] = {
        "exception_id": "exc_test_0001",
        "kind": "denial",
        "code": "payment.denied",
        "message": "The payer denied the claim.",
        "claim_id": "TESTCLAIM01",
        "payer_id": "SIMCOM01",
        "amount_at_risk": "240",
        "service_date": "2026-08-03",
        "detected_on": "2026-08-20",
        "claim_status": "4",
        "group_codes": [group for group, _, _ in adjustments],
        "carc_codes": [reason for _, reason, _ in adjustments],
        "rarc_codes": [],
        "billed_amount": "240",
        "paid_amount": "0",
        "procedure_codes": ["99214"],
        "diagnosis_codes": ["M545"],
        "evidence": {
            "claim_status": "4", "charge": "240", "paid": "0", "patient_responsibility": "0",
            "payer_claim_id": "TESTPCN01", "trace_number": "TESTTRACE01",
            "adjustments": [{"group": g, "reason": r, "amount": a} for g, r, a in adjustments],
            "remark_codes": [], "line_count": 1, "match_key": "claim_id+payer", "match_confidence": 1.0,
            "claim_candidates": 1, "filing_indicator": "CI",
        },
        "source": {"file": "/inbox/test.835", "document_id": "0" * 64, "segment_index": 17, "segment_id": "CLP"},
        "status": "open",
        "document_id": "0" * 64,
    }
    payload.update(changes)
    return payload


@pytest.fixture
def denial() -> Callable[..., dict[str, Any]]:
    return build_denial
