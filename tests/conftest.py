"""Shared fixtures: a fresh store on SQLite and on PostgreSQL, and factories of fake records.

Every record the factories build is invented test data; no field comes from a real claim.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from workflow.records import (
    Adjustment,
    Claim,
    ClaimPayment,
    Contribution,
    Document,
    ExceptionRecord,
    Finding,
    Payment,
    PredictionRecord,
    ProviderAdjustment,
    Severity,
    Source,
)
from workflow.store import Store, open_store

# Databases ------------------------------------------------------------------------------------

POSTGRES_URL = os.environ.get("TRIAGE_TEST_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """Return the PostgreSQL test URL; skip when the server is unreachable, unless CI is set."""
    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        message = (
            f"PostgreSQL at {make_url(POSTGRES_URL).render_as_string(hide_password=True)} is not "
            f"reachable ({type(exc.orig).__name__}); start it or set TRIAGE_TEST_POSTGRES_URL"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    finally:
        engine.dispose()
    return POSTGRES_URL


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """Yield a URL whose connections use a new, empty schema, dropped after the test."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_admin_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_admin_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return the URL of an empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'triage.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """Yield a migrated, empty store on each database."""
    opened = open_store(store_url)
    try:
        yield opened
    finally:
        opened.close()


# Record factories -----------------------------------------------------------------------------

DOCUMENT_ID = "a" * 64
SERVICE_DATE = dt.date(2024, 3, 4)
DETECTED_ON = dt.date(2024, 4, 1)


def build_source(segment_index: int | None = 10, document_id: str = DOCUMENT_ID, **overrides: Any) -> Source:
    values: dict[str, Any] = {
        "file": "/inbox/batch/claims_837p.txt",
        "document_id": document_id,
        "interchange_control": "000000001",
        "group_control": "1",
        "transaction_control": "0001",
        "segment_index": segment_index,
        "segment_id": "CLM",
    }
    values.update(overrides)
    return Source(**values)


def build_document(document_id: str = DOCUMENT_ID, **overrides: Any) -> Document:
    values: dict[str, Any] = {
        "document_id": document_id,
        "file": "/inbox/batch/claims_837p.txt",
        "kind": "x12_837p",
        "size_bytes": 2048,
        "status": "read",
    }
    values.update(overrides)
    return Document(**values)


def build_claim(
    claim_id: str = "CLM-001", *, segment_index: int = 10, document_id: str = DOCUMENT_ID, **overrides: Any
) -> Claim:
    values: dict[str, Any] = {
        "claim_id": claim_id,
        "claim_type": "professional",
        "version": "005010X222A1",
        "total_charge": Decimal("125.40"),
        "frequency_code": "1",
        "place_of_service": "11",
        "facility_type": None,
        "payer_id": "PAYER01",
        "payer_name": None,
        "billing_npi": "1234567893",
        "billing_tax_id": "999999999",
        "rendering_npi": None,
        "referring_npi": None,
        "subscriber_id": "SUB0001",
        "patient_id": "MEM0001",
        "patient_is_subscriber": True,
        "patient_birth_date": dt.date(1980, 1, 1),
        "patient_sex": "F",
        "diagnosis_codes": ("R05.9",),
        "statement_from": SERVICE_DATE,
        "statement_to": SERVICE_DATE,
        "dates": {},
        "prior_authorization": None,
        "payer_claim_control_number": None,
        "filing_indicator": "CI",
        "payer_responsibility": "P",
        "service_lines": (),
        "other_payers": (),
        "source": build_source(segment_index, document_id),
    }
    values.update(overrides)
    return Claim(**values)


def build_claim_payment(
    claim_id: str = "CLM-001", *, segment_index: int = 20, document_id: str = DOCUMENT_ID, **overrides: Any
) -> ClaimPayment:
    values: dict[str, Any] = {
        "claim_id": claim_id,
        "status": "4",
        "charge": Decimal("125.40"),
        "paid": Decimal("0.00"),
        "patient_responsibility": Decimal("0.00"),
        "filing_indicator": "CI",
        "payer_claim_id": "PCN-9",
        "facility_type": None,
        "frequency_code": "1",
        "patient_id": "MEM0001",
        "payer_id": "PAYER01",
        "payee_id": "1234567893",
        "trace_number": "TRACE-1",
        "payment_date": dt.date(2024, 3, 30),
        "statement_from": SERVICE_DATE,
        "statement_to": SERVICE_DATE,
        "received_date": None,
        "adjustments": (Adjustment(group="CO", reason="197", amount=Decimal("125.40")),),
        "remark_codes": ("N54",),
        "amounts": {},
        "quantities": {},
        "service_payments": (),
        "source": build_source(segment_index, document_id, segment_id="CLP"),
    }
    values.update(overrides)
    return ClaimPayment(**values)


def build_payment(*, segment_index: int = 3, document_id: str = DOCUMENT_ID, **overrides: Any) -> Payment:
    values: dict[str, Any] = {
        "trace_number": "TRACE-1",
        "amount": Decimal("1000.01"),
        "credit_debit": "C",
        "method": "ACH",
        "payment_date": dt.date(2024, 3, 30),
        "payer_id": "PAYER01",
        "payer_name": None,
        "payee_id": "1234567893",
        "payee_id_qualifier": "XX",
        "payee_name": None,
        "production_date": None,
        "source": build_source(segment_index, document_id, segment_id="BPR"),
    }
    values.update(overrides)
    return Payment(**values)


def build_provider_adjustment(
    *, segment_index: int = 40, document_id: str = DOCUMENT_ID, **overrides: Any
) -> ProviderAdjustment:
    values: dict[str, Any] = {
        "provider_id": "1234567893",
        "fiscal_period_date": dt.date(2024, 12, 31),
        "reason": "WO",
        "reference": "REF-1",
        "amount": Decimal("-15.25"),
        "payer_id": "PAYER01",
        "trace_number": "TRACE-1",
        "source": build_source(segment_index, document_id, segment_id="PLB"),
    }
    values.update(overrides)
    return ProviderAdjustment(**values)


def build_finding(*, segment_index: int = 12, document_id: str = DOCUMENT_ID, **overrides: Any) -> Finding:
    values: dict[str, Any] = {
        "severity": Severity.ERROR,
        "code": "rule.npi_check_digit",
        "message": "billing NPI fails the Luhn check digit",
        "source": build_source(segment_index, document_id, segment_id="NM1"),
        "element": "NM109",
        "value": "1234567890",
        "expected": "a 10-digit NPI with a valid check digit",
        "claim_id": "CLM-001",
    }
    values.update(overrides)
    return Finding(**values)


def build_exception(exception_id: str = "EXC-001", **overrides: Any) -> ExceptionRecord:
    values: dict[str, Any] = {
        "exception_id": exception_id,
        "kind": "denial",
        "code": "match.denied",
        "message": "claim denied by the payer",
        "claim_id": "CLM-001",
        "payer_id": "PAYER01",
        "amount_at_risk": Decimal("125.40"),
        "service_date": SERVICE_DATE,
        "detected_on": DETECTED_ON,
        "claim_status": "4",
        "group_codes": ("CO",),
        "carc_codes": ("197",),
        "rarc_codes": ("N54",),
        "billed_amount": Decimal("125.40"),
        "paid_amount": Decimal("0.00"),
        "procedure_codes": ("99213",),
        "diagnosis_codes": ("R05.9",),
        "evidence": {"adjusted": Decimal("125.40"), "payer_claim_id": "PCN-9"},
        "source": build_source(20, segment_id="CLP"),
        "document_id": DOCUMENT_ID,
    }
    values.update(overrides)
    return ExceptionRecord(**values)


def build_prediction(
    prediction_id: str = "PRED-001", exception_id: str = "EXC-001", **overrides: Any
) -> PredictionRecord:
    values: dict[str, Any] = {
        "prediction_id": prediction_id,
        "exception_id": exception_id,
        "model_name": "exception-type",
        "model_version": "3",
        "predicted_type": "authorization",
        "confidence": 0.91,
        "threshold": 0.8,
        "probabilities": {"authorization": 0.91, "coding": 0.06, "duplicate": 0.03},
        "explanation": (
            Contribution(feature="carc_197", value="1", contribution=1.75),
            Contribution(feature="amount_at_risk", value="125.40", contribution=-0.12),
        ),
        "feature_values": {"carc_197": 1, "amount_at_risk": 125.4},
        "route": "auto",
        "route_reason": "confidence 0.91 is at least the threshold 0.80",
        "queue": "authorizations",
        "created_at": dt.datetime(2024, 4, 1, 12, 0, tzinfo=dt.timezone.utc),
        "latency_ms": 4.2,
        "predicted_priority": "high",
        "predicted_resolution": "obtain_authorization",
        "run_id": None,
    }
    values.update(overrides)
    return PredictionRecord(**values)


# The factories as fixtures, so test modules never import conftest.
@pytest.fixture
def make_document() -> Callable[..., Document]:
    return build_document


@pytest.fixture
def make_claim() -> Callable[..., Claim]:
    return build_claim


@pytest.fixture
def make_claim_payment() -> Callable[..., ClaimPayment]:
    return build_claim_payment


@pytest.fixture
def make_payment() -> Callable[..., Payment]:
    return build_payment


@pytest.fixture
def make_provider_adjustment() -> Callable[..., ProviderAdjustment]:
    return build_provider_adjustment


@pytest.fixture
def make_finding() -> Callable[..., Finding]:
    return build_finding


@pytest.fixture
def make_exception() -> Callable[..., ExceptionRecord]:
    return build_exception


@pytest.fixture
def make_prediction() -> Callable[..., PredictionRecord]:
    return build_prediction
