"""Builders of small records with fake data, shared by the unit tests of several packages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from workflow.records import Adjustment, Claim, ClaimPayment, ServiceLine, ServicePayment, Source

FAKE_DOCUMENT = "0" * 64


def make_source(segment_index: int = 1, document_id: str = FAKE_DOCUMENT, **changes: Any) -> Source:
    return Source(file="fake.x12", document_id=document_id, interchange_control="000000001",
                  group_control="1", transaction_control="0001", segment_index=segment_index, **changes)


def make_line(**changes: Any) -> ServiceLine:
    values: dict[str, Any] = {
        "line_number": 1, "procedure_qualifier": "HC", "procedure_code": "99213", "modifiers": (),
        "charge": Decimal("100.00"), "units": Decimal("1"), "diagnosis_pointers": (1,),
        "service_date_from": dt.date(2026, 10, 1), "service_date_to": dt.date(2026, 10, 1),
        "line_control_number": "L1",
    }
    values.update(changes)
    return ServiceLine(**values)


def make_claim(**changes: Any) -> Claim:
    values: dict[str, Any] = {
        "claim_id": "CLM-1", "claim_type": "837P", "version": "005010X222A1", "total_charge": Decimal("100.00"),
        "frequency_code": "1", "place_of_service": "11", "facility_type": None, "payer_id": "PAYER1",
        "payer_name": "Fake Payer", "billing_npi": "1234567893", "billing_tax_id": "123456789",
        "rendering_npi": None, "referring_npi": None, "subscriber_id": "MEM0001", "patient_id": "MEM0001",
        "patient_is_subscriber": True, "patient_birth_date": dt.date(1980, 5, 17), "patient_sex": "F",
        "diagnosis_codes": ("E119",), "statement_from": None, "statement_to": None, "dates": {},
        "prior_authorization": None, "payer_claim_control_number": None, "filing_indicator": "CI",
        "payer_responsibility": "P", "service_lines": (make_line(),), "other_payers": (),
        "source": make_source(),
    }
    values.update(changes)
    return Claim(**values)


def make_service_payment(**changes: Any) -> ServicePayment:
    values: dict[str, Any] = {
        "procedure_qualifier": "HC", "procedure_code": "99213", "modifiers": (), "charge": Decimal("100.00"),
        "paid": Decimal("80.00"), "revenue_code": None, "units_paid": Decimal("1"),
        "original_procedure_code": None, "original_units": None, "line_control_number": "L1",
        "service_date_from": dt.date(2026, 10, 1), "service_date_to": None,
        "adjustments": (Adjustment("CO", "45", Decimal("20.00")),), "remark_codes": (),
        "amounts": {}, "quantities": {},
    }
    values.update(changes)
    return ServicePayment(**values)


def make_payment(**changes: Any) -> ClaimPayment:
    values: dict[str, Any] = {
        "claim_id": "CLM-1", "status": "1", "charge": Decimal("100.00"), "paid": Decimal("80.00"),
        "patient_responsibility": Decimal("0"), "filing_indicator": "CI", "payer_claim_id": "PCN1",
        "facility_type": "11", "frequency_code": "1", "patient_id": "MEM0001", "payer_id": "PAYER1",
        "payee_id": "1234567893", "trace_number": "TRACE1", "payment_date": dt.date(2026, 11, 1),
        "statement_from": None, "statement_to": None, "received_date": None, "adjustments": (),
        "remark_codes": (), "amounts": {}, "quantities": {}, "service_payments": (make_service_payment(),),
        "source": make_source(segment_index=20),
    }
    values.update(changes)
    return ClaimPayment(**values)


def denied_payment(**changes: Any) -> ClaimPayment:
    """A status-4 denial of the default claim with a CO-197 adjustment and an N30 remark."""
    line = make_service_payment(paid=Decimal("0"), adjustments=(Adjustment("CO", "197", Decimal("100.00")),),
                                remark_codes=("N30",))
    values: dict[str, Any] = {"status": "4", "paid": Decimal("0"), "service_payments": (line,)}
    values.update(changes)
    return make_payment(**values)
