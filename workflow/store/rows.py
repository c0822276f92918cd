"""Conversion of records into row values for the store's tables, and of rows back into records."""

from __future__ import annotations

import dataclasses
import functools
import math
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from workflow.records import (
    Claim,
    ClaimPayment,
    Document,
    ExceptionRecord,
    Finding,
    Payment,
    PredictionRecord,
    ProviderAdjustment,
    Record,
    Source,
    record_to_dict,
)
from workflow.store.models import (
    Base,
    ClaimPaymentRow,
    ClaimRow,
    DocumentRow,
    ExceptionRow,
    FindingRow,
    PaymentRow,
    PredictionRow,
    ProviderAdjustmentRow,
)

__all__ = [
    "EVIDENCE_CODE_FIELDS",
    "document_values",
    "exception_from_row",
    "exception_values",
    "feature_values_to_json",
    "prediction_values",
    "record_values",
    "source_to_dict",
]

# ExceptionRecord fields that the store keeps inside the ``evidence`` JSON column rather than in
# columns of their own; exception_from_row reads them back from there.
EVIDENCE_CODE_FIELDS = ("group_codes", "carc_codes", "rarc_codes", "procedure_codes", "diagnosis_codes")
EVIDENCE_AMOUNT_FIELDS = ("billed_amount", "paid_amount")

# Exact types that json_safe returns unchanged; float is absent because NaN and infinity need a check.
_PLAIN_TYPES = frozenset({str, int, bool, type(None)})


# A run or a batch stores many rows from the same few files, and PurePath costs about 2 us a call
# (measured on Python 3.11).
@functools.lru_cache(maxsize=4096)
def file_name_only(file: str) -> str:
    """Return the last part of a path, so the store never keeps a folder of the ingesting machine."""
    return PurePath(file.replace("\\", "/")).name or file


def source_to_dict(source: Source) -> dict[str, Any]:
    """Convert a source to JSON types, keeping only the file name of its path."""
    values = record_to_dict(source)
    values["file"] = file_name_only(source.file)
    return values


def source_from_dict(values: dict[str, Any]) -> Source:
    """Rebuild a source from :func:`source_to_dict` output, ignoring keys Source does not have."""
    known = {field.name for field in dataclasses.fields(Source)}
    arguments = {key: value for key, value in values.items() if key in known}
    if arguments.get("bbox") is not None:
        arguments["bbox"] = tuple(arguments["bbox"])
    return Source(**arguments)


def document_values(document: Document, run_id: str | None, ingested_at: dt.datetime) -> dict[str, Any]:
    return {
        "document_id": document.document_id,
        "file_name": file_name_only(document.file),
        "kind": document.kind,
        "size_bytes": document.size_bytes,
        "status": document.status,
        "error": document.error,
        "ingested_at": ingested_at,
        "run_id": run_id,
    }


def record_values(record: Record, document_id: str) -> tuple[type[Base], dict[str, Any]]:
    """Return the table model and column values that store ``record`` under ``document_id``.

    Raises TypeError for an object that is not one of the five record types.
    """
    if isinstance(record, Claim):
        return ClaimRow, _claim_values(record, document_id)
    if isinstance(record, ClaimPayment):
        return ClaimPaymentRow, _claim_payment_values(record, document_id)
    if isinstance(record, Payment):
        return PaymentRow, _payment_values(record, document_id)
    if isinstance(record, ProviderAdjustment):
        return ProviderAdjustmentRow, _provider_adjustment_values(record, document_id)
    if isinstance(record, Finding):
        return FindingRow, _finding_values(record, document_id)
    raise TypeError(
        f"cannot store a {type(record).__name__}: expected Claim, ClaimPayment, Payment, "
        "ProviderAdjustment or Finding"
    )


def _claim_values(claim: Claim, document_id: str) -> dict[str, Any]:
    return {
        "claim_id": claim.claim_id,
        "document_id": document_id,
        "segment_index": claim.source.segment_index,
        "payer_id": claim.payer_id,
        "patient_id": claim.patient_id,
        "billing_npi": claim.billing_npi,
        "total_charge": claim.total_charge,
        "service_date": claim.service_date,
        "claim_type": claim.claim_type,
        "frequency_code": claim.frequency_code,
        "data": record_to_dict(claim),
    }


def _claim_payment_values(payment: ClaimPayment, document_id: str) -> dict[str, Any]:
    return {
        "claim_id": payment.claim_id,
        "document_id": document_id,
        "segment_index": payment.source.segment_index,
        "payer_id": payment.payer_id,
        "payer_claim_id": payment.payer_claim_id,
        "status": payment.status,
        "charge": payment.charge,
        "paid": payment.paid,
        "patient_responsibility": payment.patient_responsibility,
        "trace_number": payment.trace_number,
        "service_date": payment.service_date,
        "matched_claim_pk": None,
        "data": record_to_dict(payment),
    }


def _payment_values(payment: Payment, document_id: str) -> dict[str, Any]:
    return {
        "document_id": document_id,
        "segment_index": payment.source.segment_index,
        "trace_number": payment.trace_number,
        "payer_id": payment.payer_id,
        "amount": payment.amount,
        "payment_date": payment.payment_date,
        "data": record_to_dict(payment),
    }


def _provider_adjustment_values(adjustment: ProviderAdjustment, document_id: str) -> dict[str, Any]:
    return {
        "document_id": document_id,
        "segment_index": adjustment.source.segment_index,
        "provider_id": adjustment.provider_id,
        "reason": adjustment.reason,
        "reference": adjustment.reference,
        "amount": adjustment.amount,
        "payer_id": adjustment.payer_id,
        "trace_number": adjustment.trace_number,
        "fiscal_period_date": adjustment.fiscal_period_date,
        "data": record_to_dict(adjustment),
    }


def _finding_values(finding: Finding, document_id: str) -> dict[str, Any]:
    return {
        "document_id": document_id,
        "code": finding.code,
        "severity": finding.severity.value,
        "claim_id": finding.claim_id,
        "message": finding.message,
        "element": finding.element,
        "value": finding.value,
        "expected": finding.expected,
        "rule_set_version": finding.rule_set_version,
        "source": source_to_dict(finding.source),
    }


def _at_least_cents(amount: Decimal) -> Decimal:
    """Return ``amount`` with two decimals when it has fewer ("935" becomes "935.00"), else as it is.

    An X12 amount such as ``935`` or ``12.5`` has fewer decimals than the API shows. Padding it is
    exact. Rounding an amount with more decimals would change it, so such an amount stays.
    """
    if amount.is_finite() and int(amount.as_tuple().exponent) > -2:
        return amount.quantize(Decimal("0.01"))
    return amount


def exception_values(
    exception: ExceptionRecord, run_id: str | None, created_at: dt.datetime
) -> dict[str, Any]:
    """Return the ``exceptions`` row for ``exception``; codes and amounts go into ``evidence``."""
    evidence: dict[str, Any] = {name: list(getattr(exception, name)) for name in EVIDENCE_CODE_FIELDS}
    for name in EVIDENCE_AMOUNT_FIELDS:
        amount = getattr(exception, name)
        evidence[name] = None if amount is None else str(_at_least_cents(amount))
    evidence["details"] = record_to_dict(exception.evidence)

    return {
        "exception_id": exception.exception_id,
        "kind": exception.kind,
        "code": exception.code,
        "message": exception.message,
        "claim_id": exception.claim_id,
        "payer_id": exception.payer_id,
        "amount_at_risk": exception.amount_at_risk,
        "service_date": exception.service_date,
        "detected_on": exception.detected_on,
        "claim_status": exception.claim_status,
        "status": exception.status,
        "queue": None,
        "document_id": exception.document_id or exception.source.document_id,
        "run_id": run_id,
        "created_at": created_at,
        "updated_at": created_at,
        "evidence": evidence,
        "source": source_to_dict(exception.source),
    }


def exception_from_row(row: ExceptionRow) -> ExceptionRecord:
    """Rebuild the :class:`ExceptionRecord` that :func:`exception_values` stored.

    Values inside ``evidence["details"]`` come back as JSON types (amounts as strings).
    """
    evidence = row.evidence
    codes = {name: tuple(evidence.get(name) or ()) for name in EVIDENCE_CODE_FIELDS}
    amounts = {name: _optional_decimal(evidence.get(name)) for name in EVIDENCE_AMOUNT_FIELDS}
    return ExceptionRecord(
        exception_id=row.exception_id,
        kind=row.kind,
        code=row.code,
        message=row.message,
        claim_id=row.claim_id,
        payer_id=row.payer_id,
        amount_at_risk=row.amount_at_risk,
        service_date=row.service_date,
        detected_on=row.detected_on,
        claim_status=row.claim_status,
        evidence=dict(evidence.get("details") or {}),
        source=source_from_dict(row.source),
        status=row.status,
        document_id=row.document_id,
        **codes,
        **amounts,
    )


def _optional_decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def prediction_values(prediction: PredictionRecord) -> dict[str, Any]:
    return {
        "prediction_id": prediction.prediction_id,
        "exception_id": prediction.exception_id,
        "model_name": prediction.model_name,
        "model_version": prediction.model_version,
        "run_id": prediction.run_id,
        "predicted_type": prediction.predicted_type,
        "predicted_priority": prediction.predicted_priority,
        "predicted_resolution": prediction.predicted_resolution,
        "confidence": float(prediction.confidence),
        "threshold": float(prediction.threshold),
        "probabilities": {label: float(p) for label, p in prediction.probabilities.items()},
        "explanation": explanation_to_list(prediction.explanation),
        "feature_values": feature_values_to_json(prediction.feature_values),
        "route": prediction.route,
        "route_reason": prediction.route_reason,
        "queue": prediction.queue,
        "latency_ms": None if prediction.latency_ms is None else float(prediction.latency_ms),
        "created_at": prediction.created_at,
    }


def feature_values_to_json(values: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of ``values`` as ``json_safe(record_to_dict(values))`` gives it.

    The model's feature values are nearly always str, int, float or None with str keys already,
    and then a check and a copy replace the two recursive walks.
    """
    if type(values) is dict and _is_plain_json_dict(values):
        return dict(values)
    return json_safe(record_to_dict(values))


def _is_plain_json_dict(values: dict[Any, Any]) -> bool:
    """Return True when every key is a str and every value a JSON scalar that json_safe keeps."""
    for key, value in values.items():
        if type(key) is not str:
            return False
        kind = type(value)
        if kind in _PLAIN_TYPES:
            continue
        if kind is float and math.isfinite(value):
            continue
        return False
    return True


def json_safe(value: Any) -> Any:
    """Return ``value`` with NumPy scalars made plain and NaN or infinity made None.

    Feature vectors come from pandas and NumPy, and PostgreSQL's JSON type rejects NaN.
    """
    kind = type(value)
    if kind in _PLAIN_TYPES:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is dict:
        return {key: _json_safe_item(item) for key, item in value.items()}
    if kind is list:
        return [_json_safe_item(item) for item in value]
    return _json_safe_other(value)


def _json_safe_item(value: Any) -> Any:
    # Inlines json_safe's first check, which passes for most items.
    return value if type(value) in _PLAIN_TYPES else json_safe(value)


def _json_safe_other(value: Any) -> Any:
    """Apply json_safe's rules to a value of another type (a NumPy scalar, a dict subclass, a tuple)."""
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_safe(item) for item in value]
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def explanation_to_list(explanation: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {"feature": item.feature, "value": str(item.value), "contribution": float(item.contribution)}
        for item in explanation
    ]
