"""Typed records that flow between the stages of the triage service.

Readers in ``features/`` produce these records from documents; ``workflow/`` validates and matches
them and turns every problem into an :class:`ExceptionRecord`; ``serving/`` predicts and routes.
Money is :class:`~decimal.Decimal` and dates are :class:`~datetime.date` everywhere, so a record
never loses a cent or a day on its way through the flow.

Records carry no member names: the readers skip name elements on purpose, so nothing downstream
can log or store them by accident. Member and claim identifiers are kept because matching needs them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = [
    "Adjustment",
    "Contribution",
    "Document",
    "PredictionRecord",
    "Claim",
    "ClaimPayment",
    "ExceptionRecord",
    "Finding",
    "OtherPayer",
    "Payment",
    "ProviderAdjustment",
    "Record",
    "ServiceLine",
    "ServicePayment",
    "Severity",
    "Source",
    "RECORD_KINDS",
    "record_to_dict",
]


class Severity(str, enum.Enum):
    """How bad a finding is: an error blocks a claim, a warning only informs a reviewer."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Source:
    """Where a record came from, precise enough to show a reviewer the segment that caused it.

    ``segment_index`` counts segments from the start of the file, starting at 1 with the first ISA,
    so the same index points at the same segment whatever the line endings are.
    """

    file: str
    document_id: str
    interchange_control: str | None = None
    group_control: str | None = None
    transaction_control: str | None = None
    segment_index: int | None = None
    segment_id: str | None = None
    page: int | None = None
    bbox: tuple[float, float, float, float] | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem found while reading or checking a document.

    ``code`` is a stable machine-readable id (``x12.se_count_mismatch``, ``rule.npi_check_digit``);
    ``element`` names the element position (``CLM02``), ``value`` what was found and
    ``expected`` what should have been there.
    """

    severity: Severity
    code: str
    message: str
    source: Source
    element: str | None = None
    value: str | None = None
    expected: str | None = None
    claim_id: str | None = None
    rule_set_version: str | None = None


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One CAS triplet: group code (CO, PR, OA, PI, CR), reason code (CARC) and amount."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OtherPayer:
    """Another payer on an 837 claim (loops 2320 and 2330), with its adjudication if present."""

    payer_id: str | None
    payer_name: str | None
    payer_responsibility: str | None
    filing_indicator: str | None
    paid_amount: Decimal | None = None
    adjustments: tuple[Adjustment, ...] = ()


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """One service line of an 837 claim (SV1 professional, SV2 institutional, SV3 dental)."""

    line_number: int
    procedure_qualifier: str | None
    procedure_code: str | None
    modifiers: tuple[str, ...]
    charge: Decimal
    units: Decimal | None
    unit_type: str | None = None
    revenue_code: str | None = None
    place_of_service: str | None = None
    diagnosis_pointers: tuple[int, ...] = ()
    service_date_from: dt.date | None = None
    service_date_to: dt.date | None = None
    line_control_number: str | None = None
    rendering_npi: str | None = None
    adjustments: tuple[Adjustment, ...] = ()
    source: Source | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """A claim from an 837 transaction (CLM loop 2300 with its service lines)."""

    claim_id: str
    claim_type: str
    version: str | None
    total_charge: Decimal
    frequency_code: str | None
    place_of_service: str | None
    facility_type: str | None
    payer_id: str | None
    payer_name: str | None
    billing_npi: str | None
    billing_tax_id: str | None
    rendering_npi: str | None
    referring_npi: str | None
    subscriber_id: str | None
    patient_id: str | None
    patient_is_subscriber: bool
    patient_birth_date: dt.date | None
    patient_sex: str | None
    diagnosis_codes: tuple[str, ...]
    statement_from: dt.date | None
    statement_to: dt.date | None
    dates: dict[str, dt.date]
    prior_authorization: str | None
    payer_claim_control_number: str | None
    filing_indicator: str | None
    payer_responsibility: str | None
    service_lines: tuple[ServiceLine, ...]
    other_payers: tuple[OtherPayer, ...]
    source: Source
    submitted_on: dt.date | None = None
    """The transaction creation date (BHT04): the day the claim was sent."""

    @property
    def service_date(self) -> dt.date | None:
        """First date of service: the statement start, else the earliest line date."""
        if self.statement_from is not None:
            return self.statement_from
        line_dates = [line.service_date_from for line in self.service_lines if line.service_date_from]
        return min(line_dates) if line_dates else None


@dataclass(frozen=True, slots=True)
class ServicePayment:
    """One SVC loop (2110) of an 835 claim payment."""

    procedure_qualifier: str | None
    procedure_code: str | None
    modifiers: tuple[str, ...]
    charge: Decimal
    paid: Decimal
    revenue_code: str | None
    units_paid: Decimal | None
    original_procedure_code: str | None
    original_units: Decimal | None
    line_control_number: str | None
    service_date_from: dt.date | None
    service_date_to: dt.date | None
    adjustments: tuple[Adjustment, ...]
    remark_codes: tuple[str, ...]
    amounts: dict[str, Decimal]
    quantities: dict[str, Decimal]
    source: Source | None = None


@dataclass(frozen=True, slots=True)
class ClaimPayment:
    """One CLP loop (2100) of an 835: the payer's decision on one claim."""

    claim_id: str
    status: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal | None
    filing_indicator: str | None
    payer_claim_id: str | None
    facility_type: str | None
    frequency_code: str | None
    patient_id: str | None
    payer_id: str | None
    payee_id: str | None
    trace_number: str | None
    payment_date: dt.date | None
    statement_from: dt.date | None
    statement_to: dt.date | None
    received_date: dt.date | None
    adjustments: tuple[Adjustment, ...]
    remark_codes: tuple[str, ...]
    amounts: dict[str, Decimal]
    quantities: dict[str, Decimal]
    service_payments: tuple[ServicePayment, ...]
    source: Source

    @property
    def all_adjustments(self) -> tuple[Adjustment, ...]:
        """Claim-level adjustments followed by every line-level adjustment."""
        line_adjustments = tuple(adj for svc in self.service_payments for adj in svc.adjustments)
        return self.adjustments + line_adjustments

    @property
    def all_remark_codes(self) -> tuple[str, ...]:
        """Claim-level (MIA/MOA) and line-level (LQ) remark codes, without repeats, in order."""
        codes = list(self.remark_codes)
        for svc in self.service_payments:
            codes.extend(svc.remark_codes)
        return tuple(dict.fromkeys(codes))

    @property
    def service_date(self) -> dt.date | None:
        """First date of service: the claim statement start, else the earliest line date."""
        if self.statement_from is not None:
            return self.statement_from
        line_dates = [svc.service_date_from for svc in self.service_payments if svc.service_date_from]
        return min(line_dates) if line_dates else None


@dataclass(frozen=True, slots=True)
class Payment:
    """The payment header of one 835 transaction (BPR, TRN, payer N1*PR and payee N1*PE)."""

    trace_number: str | None
    amount: Decimal
    credit_debit: str | None
    method: str | None
    payment_date: dt.date | None
    payer_id: str | None
    payer_name: str | None
    payee_id: str | None
    payee_id_qualifier: str | None
    payee_name: str | None
    production_date: dt.date | None
    source: Source


@dataclass(frozen=True, slots=True)
class ProviderAdjustment:
    """One PLB adjustment at transaction level: a reason code, a reference and an amount."""

    provider_id: str | None
    fiscal_period_date: dt.date | None
    reason: str
    reference: str | None
    amount: Decimal
    payer_id: str | None
    trace_number: str | None
    source: Source


@dataclass(slots=True)
class ExceptionRecord:
    """A unit of work for a person or a workflow: what is wrong, on which record, with evidence.

    ``kind`` says how the problem was detected (``validation``, ``denial``, ``zero_paid``,
    ``unmatched_payment``); ``code`` is the rule or match finding id. The root-cause ``type`` is
    what the model predicts, so it is not stored here.
    """

    exception_id: str
    kind: str
    code: str
    message: str
    claim_id: str | None
    payer_id: str | None
    amount_at_risk: Decimal
    service_date: dt.date | None
    detected_on: dt.date
    claim_status: str | None
    group_codes: tuple[str, ...]
    carc_codes: tuple[str, ...]
    rarc_codes: tuple[str, ...]
    billed_amount: Decimal | None
    paid_amount: Decimal | None
    procedure_codes: tuple[str, ...]
    diagnosis_codes: tuple[str, ...]
    evidence: dict[str, Any]
    source: Source
    status: str = "open"
    document_id: str | None = None


Record = Claim | ClaimPayment | Payment | ProviderAdjustment | Finding


# Types that are JSON already. Most values are of one of these exact types, and a set look-up
# skips the isinstance chain in _to_jsonable for them. Subclasses (a str enum such as Severity,
# a NumPy float) miss the look-up and still take that chain.
_PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})
# Field names of each dataclass type that _to_jsonable has converted. Which branch a value takes
# depends only on its type, so a type found here skips the isinstance chain and dataclasses.fields().
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _to_jsonable(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN_TYPES:
        return value
    if kind is dict:
        return _dict_to_jsonable(value)
    if kind is list or kind is tuple:
        return [item if type(item) in _PLAIN_TYPES else _to_jsonable(item) for item in value]
    names = _FIELD_NAMES.get(kind)
    if names is not None:
        return _dataclass_to_jsonable(value, names)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES[kind] = tuple(field.name for field in dataclasses.fields(value))
        return _dataclass_to_jsonable(value, names)
    if isinstance(value, dict):
        return _dict_to_jsonable(value)
    if isinstance(value, (list, tuple)):
        return [_to_jsonable(item) for item in value]
    return value


def _dict_to_jsonable(value: dict[Any, Any]) -> dict[str, Any]:
    jsonable = {}
    for key, item in value.items():
        if type(key) is not str:
            key = str(key)
        jsonable[key] = item if type(item) in _PLAIN_TYPES else _to_jsonable(item)
    return jsonable


def _dataclass_to_jsonable(value: Any, names: tuple[str, ...]) -> dict[str, Any]:
    jsonable = {}
    for name in names:
        item = getattr(value, name)
        jsonable[name] = item if type(item) in _PLAIN_TYPES else _to_jsonable(item)
    return jsonable


def record_to_dict(record: Any) -> dict[str, Any]:
    """Convert a record to plain JSON types: amounts become decimal strings, dates ISO strings."""
    result = _to_jsonable(record)
    if not isinstance(result, dict):
        raise TypeError(f"expected a record dataclass, got {type(record).__name__}")
    return result


RECORD_KINDS: dict[type, str] = {
    Claim: "claim",
    ClaimPayment: "claim_payment",
    Payment: "payment",
    ProviderAdjustment: "provider_adjustment",
    Finding: "finding",
}
"""The ``record`` name each record type has in JSON Lines output."""


@dataclass(frozen=True, slots=True)
class Document:
    """One input file as the store sees it: its content hash, its kind and how reading went.

    ``status`` is ``read`` when records came out of it (findings included), ``failed`` when it
    could not be read at all (``error`` says why) and ``duplicate`` when the same bytes were
    ingested before.
    """

    document_id: str
    file: str
    kind: str
    size_bytes: int
    status: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Contribution:
    """One SHAP contribution to a predicted class: the feature, its value and the signed amount."""

    feature: str
    value: str
    contribution: float


@dataclass(frozen=True, slots=True)
class PredictionRecord:
    """One model prediction for one exception, with what it drove: the route and the queue."""

    prediction_id: str
    exception_id: str
    model_name: str
    model_version: str
    predicted_type: str
    confidence: float
    threshold: float
    probabilities: dict[str, float]
    explanation: tuple[Contribution, ...]
    feature_values: dict[str, Any]
    route: str
    route_reason: str
    queue: str | None
    created_at: dt.datetime
    latency_ms: float | None = None
    predicted_priority: str | None = None
    predicted_resolution: str | None = None
    run_id: str | None = None
