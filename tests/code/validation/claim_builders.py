"""Claims built by hand with fake data: one clean claim per claim type, changed per test case."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from workflow.records import Adjustment, Claim, OtherPayer, ServiceLine, Source

AS_OF = dt.date(2024, 6, 1)
SERVICE_DAY = dt.date(2024, 5, 1)
VALID_NPI = "1234567893"
OTHER_VALID_NPI = "1245319599"


def fake_source(segment_index: int = 20, segment_id: str = "CLM") -> Source:
    return Source(
        file="fake_837.txt",
        document_id="f" * 64,
        interchange_control="000000001",
        group_control="1",
        transaction_control="0001",
        segment_index=segment_index,
        segment_id=segment_id,
    )


def professional_line(line_number: int = 1, **changes: Any) -> ServiceLine:
    values: dict[str, Any] = {
        "line_number": line_number,
        "procedure_qualifier": "HC",
        "procedure_code": "99213",
        "modifiers": (),
        "charge": Decimal("100.00"),
        "units": Decimal("1"),
        "unit_type": "UN",
        "place_of_service": None,
        "diagnosis_pointers": (1,),
        "service_date_from": SERVICE_DAY,
        "service_date_to": SERVICE_DAY,
        "line_control_number": f"L{line_number}",
        "source": fake_source(30 + line_number, "SV1"),
    }
    values.update(changes)
    return ServiceLine(**values)


def professional_claim(claim_id: str = "PCLM-1", segment_index: int = 20, **changes: Any) -> Claim:
    """A professional claim that passes every shipped rule when validated on AS_OF."""
    values: dict[str, Any] = {
        "claim_id": claim_id,
        "claim_type": "837P",
        "version": "005010X222A1",
        "total_charge": Decimal("100.00"),
        "frequency_code": "1",
        "place_of_service": "11",
        "facility_type": None,
        "payer_id": "FAKEPAYER1",
        "payer_name": None,
        "billing_npi": VALID_NPI,
        "billing_tax_id": "999999999",
        "rendering_npi": OTHER_VALID_NPI,
        "referring_npi": None,
        "subscriber_id": "FAKEMEM01",
        "patient_id": "FAKEMEM01",
        "patient_is_subscriber": True,
        "patient_birth_date": dt.date(1980, 5, 17),
        "patient_sex": "F",
        "diagnosis_codes": ("E119",),
        "statement_from": None,
        "statement_to": None,
        "dates": {},
        "prior_authorization": None,
        "payer_claim_control_number": None,
        "filing_indicator": "CI",
        "payer_responsibility": "P",
        "service_lines": (professional_line(),),
        "other_payers": (),
        "source": fake_source(segment_index),
    }
    values.update(changes)
    return Claim(**values)


def institutional_claim(claim_id: str = "ICLM-1", **changes: Any) -> Claim:
    """An outpatient hospital claim (type of bill 131) that passes every shipped rule on AS_OF."""
    line = professional_line(
        procedure_code="36415",
        revenue_code="0300",
        diagnosis_pointers=(),
        source=fake_source(31, "SV2"),
    )
    values: dict[str, Any] = {
        "claim_type": "837I",
        "version": "005010X223A2",
        "place_of_service": None,
        "facility_type": "13",
        "statement_from": SERVICE_DAY,
        "statement_to": SERVICE_DAY,
        "filing_indicator": "MB",
        "service_lines": (line,),
    }
    values.update(changes)
    return professional_claim(claim_id, **values)


def with_line(claim: Claim, **changes: Any) -> Claim:
    """Return the claim with its first service line changed."""
    first = dataclasses.replace(claim.service_lines[0], **changes)
    return dataclasses.replace(claim, service_lines=(first, *claim.service_lines[1:]))


def primary_adjudication() -> OtherPayer:
    return OtherPayer(
        payer_id="FAKEPRIMARY",
        payer_name=None,
        payer_responsibility="P",
        filing_indicator="CI",
        paid_amount=Decimal("60.00"),
        adjustments=(Adjustment("CO", "45", Decimal("40.00")),),
    )
