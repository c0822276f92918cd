"""837 claims: professional, institutional and dental, 5010 and 4010, with their parties and lines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from features.x12 import detect_transaction_kind, read_x12_bytes
from tests.code.x12.x12_builders import (
    DENTAL_BODY,
    DEPENDENT_BODY,
    INSTITUTIONAL_BODY,
    PROFESSIONAL_BODY,
    interchange,
    render_interchange,
    transaction,
)
from workflow.records import Claim, Finding


def read_claims(body: list[str], version: str = "005010X222A1", reference: str | None = None) -> tuple[list[Claim], list[Finding]]:
    text = render_interchange(interchange([transaction(body, reference=reference)], version=version))
    records = list(read_x12_bytes(text.encode(), "test.837"))
    return [r for r in records if isinstance(r, Claim)], [r for r in records if isinstance(r, Finding)]


def professional_claim() -> Claim:
    claims, _ = read_claims(PROFESSIONAL_BODY, reference="005010X222A1")
    return claims[0]


def test_professional_claim_header_fields() -> None:
    claim = professional_claim()
    assert claim.claim_id == "CLAIM001"
    assert claim.claim_type == "837P"
    assert claim.total_charge == Decimal("150.50")
    assert claim.place_of_service == "11"
    assert claim.frequency_code == "1"
    assert claim.facility_type is None


def test_professional_claim_providers() -> None:
    claim = professional_claim()
    assert claim.billing_npi == "1234567893"
    assert claim.billing_tax_id == "111223333"
    assert claim.rendering_npi == "2222222223"
    assert claim.referring_npi == "1111111112"


def test_professional_claim_member_and_payer() -> None:
    claim = professional_claim()
    assert claim.subscriber_id == "MEM001"
    assert claim.patient_id == "MEM001"
    assert claim.patient_is_subscriber is True
    assert claim.patient_birth_date == dt.date(1980, 1, 15)
    assert claim.patient_sex == "M"
    assert claim.payer_id == "PAYER01"
    assert claim.payer_name == "ACME HEALTH"
    assert claim.payer_responsibility == "P"
    assert claim.filing_indicator == "CI"


def test_professional_claim_codes_and_references() -> None:
    claim = professional_claim()
    assert claim.diagnosis_codes == ("J029", "R05", "R509")
    assert claim.dates == {"431": dt.date(2023, 12, 20)}
    assert claim.prior_authorization == "AUTH123"
    assert claim.payer_claim_control_number == "ORIG555"


def test_professional_service_lines() -> None:
    first, second = professional_claim().service_lines
    assert (first.procedure_qualifier, first.procedure_code, first.modifiers) == ("HC", "99213", ("25",))
    assert first.charge == Decimal("100.50")
    assert first.units == Decimal("1")
    assert first.unit_type == "UN"
    assert first.place_of_service == "11"
    assert first.diagnosis_pointers == (1, 2)
    assert first.service_date_from == dt.date(2024, 1, 2)
    assert first.line_control_number == "LINE001"
    assert first.rendering_npi == "3333333334"
    assert (second.service_date_from, second.service_date_to) == (dt.date(2024, 1, 2), dt.date(2024, 1, 3))


def test_line_adjudication_adjustments() -> None:
    second = professional_claim().service_lines[1]
    assert [(a.group, a.reason, a.amount) for a in second.adjustments] == [("CO", "45", Decimal("10"))]


def test_other_payer_loop() -> None:
    (other,) = professional_claim().other_payers
    assert other.payer_id == "PAYER02"
    assert other.payer_name == "SECOND PAYER"
    assert other.payer_responsibility == "S"
    assert other.paid_amount == Decimal("80.00")
    assert [(a.reason, a.amount, a.quantity) for a in other.adjustments] == [
        ("45", Decimal("10.00"), Decimal("1")),
        ("253", Decimal("2.50"), None),
    ]


def test_claim_source_points_at_clm() -> None:
    claim = professional_claim()
    assert claim.source.segment_id == "CLM"
    assert claim.source.segment_index == 15
    assert claim.source.transaction_control == "0001"
    assert claim.source.group_control == "101"
    assert claim.source.interchange_control == "000000101"


def test_dependent_patient_claim() -> None:
    claims, _ = read_claims(DEPENDENT_BODY)
    claim = claims[0]
    assert claim.patient_is_subscriber is False
    assert claim.subscriber_id == "SUB777"
    assert claim.patient_id == "PAT888"
    assert claim.patient_birth_date == dt.date(2010, 5, 5)
    assert claim.payer_id == "MCD01"


def test_institutional_claim() -> None:
    claims, _ = read_claims(INSTITUTIONAL_BODY, version="005010X223A2")
    claim = claims[0]
    assert claim.claim_type == "837I"
    assert claim.facility_type == "11"
    assert claim.place_of_service is None
    assert claim.frequency_code == "7"
    assert (claim.statement_from, claim.statement_to) == (dt.date(2024, 1, 5), dt.date(2024, 1, 8))
    assert claim.dates["435"] == dt.date(2024, 1, 5)
    assert "096" not in claim.dates
    assert claim.diagnosis_codes == ("I10", "E119", "R079")


def test_institutional_service_lines() -> None:
    claims, _ = read_claims(INSTITUTIONAL_BODY, version="005010X223A2")
    first, second = claims[0].service_lines
    assert (first.revenue_code, first.procedure_code, first.units) == ("0120", "99221", Decimal("3"))
    assert first.charge == Decimal("1000")
    assert (second.revenue_code, second.procedure_code) == ("0300", None)


def test_dental_claim() -> None:
    claims, _ = read_claims(DENTAL_BODY, version="005010X224A2")
    claim = claims[0]
    assert claim.claim_type == "837D"
    assert claim.service_lines[0].procedure_code == "D2150"
    assert claim.service_lines[0].units == Decimal("1")
    assert claim.service_lines[0].place_of_service == "11"


def test_masked_gs08_uses_line_segments() -> None:
    claims, _ = read_claims(INSTITUTIONAL_BODY, version="999999X999X9")
    assert claims[0].claim_type == "837I"


def test_contradicting_headers_reported() -> None:
    claims, findings = read_claims(INSTITUTIONAL_BODY, version="005010X222A1", reference="005010X223A2")
    assert claims[0].claim_type == "837I"
    assert [f.code for f in findings] == ["x12.version_mismatch"]


def test_4010_npi_from_reference() -> None:
    body = [
        segment.replace("NM1*85*2*TEST CLINIC*****XX*1234567893", "NM1*85*2*TEST CLINIC*****24*111223333")
        for segment in PROFESSIONAL_BODY
    ]
    body.insert(body.index("REF*EI*111223333"), "REF*XX*1234567893")
    claims, _ = read_claims(body, version="004010X098A1")
    assert claims[0].billing_npi == "1234567893"
    assert claims[0].billing_tax_id == "111223333"


def test_names_of_people_not_kept() -> None:
    text = str(professional_claim())
    assert "DOE" not in text
    assert "RENDER" not in text


def test_invalid_claim_charge_skips_claim() -> None:
    body = [s.replace("CLM*CLAIM001*150.50", "CLM*CLAIM001*15O.50") for s in PROFESSIONAL_BODY]
    claims, findings = read_claims(body)
    assert claims == []
    assert findings[0].code == "x12.invalid_amount"
    assert findings[0].element == "CLM02"
    assert findings[0].value == "15O.50"
    assert findings[0].claim_id == "CLAIM001"


def test_invalid_line_units_keep_claim() -> None:
    body = [s.replace("SV1*HC:87880*50*UN*2", "SV1*HC:87880*50*UN*two") for s in PROFESSIONAL_BODY]
    claims, findings = read_claims(body)
    assert claims[0].service_lines[1].units is None
    assert findings[0].element == "SV104"


def test_detect_transaction_kinds() -> None:
    professional = render_interchange(interchange([transaction(PROFESSIONAL_BODY)]))
    dental = render_interchange(interchange([transaction(DENTAL_BODY)], version="999999X999X9"))
    assert detect_transaction_kind(professional.encode()) == "837P"
    assert detect_transaction_kind(dental.encode()) == "837D"
    assert detect_transaction_kind(b"not x12 at all") is None


def test_claim_submitted_on_from_bht04() -> None:
    claim = professional_claim()
    assert claim.submitted_on == dt.date(2024, 1, 1)


def test_claim_submitted_on_invalid_bht04() -> None:
    body = ["BHT*0019*00*REF1*20241345*1200*CH", *PROFESSIONAL_BODY[1:]]
    claims, findings = read_claims(body)
    assert claims[0].submitted_on is None
    assert [finding.element for finding in findings if finding.code == "x12.invalid_date"] == ["BHT04"]


def test_claim_submitted_on_without_bht() -> None:
    claims, _ = read_claims(PROFESSIONAL_BODY[1:])
    assert claims[0].submitted_on is None
