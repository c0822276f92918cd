"""Each shipped rule, table-driven: a claim that breaks it and a nearby claim that passes it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest

from tests.code.validation.claim_builders import (
    AS_OF,
    SERVICE_DAY,
    institutional_claim,
    primary_adjudication,
    professional_claim,
    professional_line,
    with_line,
)
from workflow.records import Claim
from workflow.validation import RuleSet, load_rule_set


@pytest.fixture(scope="module")
def rule_set() -> RuleSet:
    return load_rule_set()


def finding_codes(rule_set: RuleSet, claim: Claim, as_of: dt.date = AS_OF) -> list[str]:
    return [finding.code for finding in rule_set.validate([claim], as_of=as_of)]


def many_lines(count: int) -> Claim:
    lines = tuple(professional_line(number) for number in range(1, count + 1))
    return professional_claim(service_lines=lines, total_charge=Decimal("100.00") * count)


def on_day(day: dt.date, claim: Claim) -> Claim:
    return with_line(claim, service_date_from=day, service_date_to=day)


FAILING: list[tuple[str, Callable[[], Claim]]] = [
    ("billing_npi_present", lambda: professional_claim(billing_npi=None)),
    ("billing_npi_check_digit", lambda: professional_claim(billing_npi="1234567890")),
    ("billing_npi_check_digit", lambda: professional_claim(billing_npi="123456789")),
    ("rendering_npi_check_digit", lambda: professional_claim(rendering_npi="12345678AB")),
    ("line_rendering_npi_check_digit", lambda: with_line(professional_claim(), rendering_npi="1234567899")),
    ("referring_npi_check_digit", lambda: professional_claim(referring_npi="1245319590")),
    ("payer_id_present", lambda: professional_claim(payer_id=" ")),
    ("claim_id_length", lambda: professional_claim("X" * 39)),
    ("frequency_code_professional", lambda: professional_claim(frequency_code="3")),
    ("frequency_code_professional", lambda: professional_claim(frequency_code=None)),
    ("frequency_code_institutional", lambda: institutional_claim(frequency_code="6")),
    ("original_claim_reference", lambda: professional_claim(frequency_code="7")),
    ("original_claim_reference", lambda: professional_claim(frequency_code="8")),
    ("type_of_bill_valid", lambda: institutional_claim(facility_type="19")),
    ("type_of_bill_valid", lambda: institutional_claim(facility_type=None)),
    ("place_of_service_valid", lambda: professional_claim(place_of_service="30")),
    ("place_of_service_valid", lambda: on_day(dt.date(2023, 1, 5), professional_claim(place_of_service="27"))),
    ("line_place_of_service_valid", lambda: with_line(professional_claim(), place_of_service="98")),
    ("patient_sex_valid", lambda: professional_claim(patient_sex="X")),
    ("patient_birth_date_present", lambda: professional_claim(patient_birth_date=None)),
    ("diagnosis_code_present", lambda: professional_claim(diagnosis_codes=())),
    ("diagnosis_code_count_professional", lambda: professional_claim(diagnosis_codes=("E119",) * 13)),
    ("diagnosis_code_exists", lambda: professional_claim(diagnosis_codes=("E119", "ZZZ99"))),
    ("diagnosis_code_billable", lambda: professional_claim(diagnosis_codes=("E11",))),
    ("diagnosis_pointer_valid", lambda: with_line(professional_claim(), diagnosis_pointers=(2,))),
    ("diagnosis_pointer_valid", lambda: with_line(professional_claim(), diagnosis_pointers=())),
    ("diagnosis_pointer_valid", lambda: with_line(professional_claim(), diagnosis_pointers=(1, 1))),
    ("diagnosis_sex_consistent", lambda: professional_claim(diagnosis_codes=("N400",), patient_sex="F")),
    ("diagnosis_sex_consistent", lambda: professional_claim(diagnosis_codes=("O80",), patient_sex="M")),
    ("diagnosis_age_consistent", lambda: professional_claim(diagnosis_codes=("O80",), patient_birth_date=dt.date(2016, 1, 1))),
    ("diagnosis_age_consistent", lambda: professional_claim(diagnosis_codes=("P0710",))),
    ("line_count_professional", lambda: many_lines(51)),
    ("line_count_professional", lambda: professional_claim(service_lines=())),
    ("line_count_institutional", lambda: institutional_claim(service_lines=())),
    ("procedure_code_present", lambda: with_line(professional_claim(), procedure_code=None)),
    ("procedure_code_format", lambda: with_line(professional_claim(), procedure_code="9921")),
    ("procedure_code_format", lambda: with_line(professional_claim(), procedure_code="W1234")),
    ("procedure_code_format", lambda: with_line(professional_claim(), procedure_code="0591X")),
    ("modifier_format", lambda: with_line(professional_claim(), modifiers=("2",))),
    ("modifier_format", lambda: with_line(professional_claim(), modifiers=("A-",))),
    ("modifier_count", lambda: with_line(professional_claim(), modifiers=("25", "59", "XU", "GA", "GY"))),
    ("line_units_positive", lambda: with_line(professional_claim(), units=Decimal("0"))),
    ("line_units_positive", lambda: with_line(professional_claim(), units=None)),
    ("line_charge_positive", lambda: with_line(professional_claim(total_charge=Decimal("0")), charge=Decimal("0"))),
    ("line_charge_positive", lambda: with_line(professional_claim(total_charge=Decimal("-5")), charge=Decimal("-5"))),
    ("claim_total_matches_lines", lambda: professional_claim(total_charge=Decimal("100.01"))),
    ("service_date_present", lambda: with_line(professional_claim(), service_date_from=None, service_date_to=None)),
    ("service_dates_ordered", lambda: with_line(professional_claim(), service_date_to=SERVICE_DAY - dt.timedelta(days=1))),
    ("service_dates_ordered", lambda: institutional_claim(statement_to=SERVICE_DAY - dt.timedelta(days=1))),
    ("service_dates_not_future", lambda: on_day(AS_OF + dt.timedelta(days=1), professional_claim())),
    ("service_dates_after_birth", lambda: professional_claim(patient_birth_date=SERVICE_DAY + dt.timedelta(days=1))),
    ("prior_authorization_present", lambda: with_line(professional_claim(), procedure_code="70551")),
    ("timely_filing", lambda: on_day(dt.date(2024, 1, 2), professional_claim())),
    (
        "timely_filing",
        lambda: on_day(dt.date(2023, 1, 2), institutional_claim(statement_from=dt.date(2023, 1, 1), statement_to=dt.date(2023, 1, 3))),
    ),
    ("timely_filing", lambda: on_day(dt.date(2024, 1, 2), professional_claim(submitted_on=dt.date(2024, 4, 2)))),
    (
        "timely_filing",
        lambda: on_day(dt.date(2024, 1, 2), professional_claim(dates={"050": dt.date(2024, 4, 2)})),
    ),
    ("secondary_claim_primary_adjudication", lambda: professional_claim(payer_responsibility="S")),
    ("secondary_claim_primary_adjudication", lambda: professional_claim(payer_responsibility="T")),
]

PASSING: list[tuple[str, Callable[[], Claim]]] = [
    ("billing_npi_check_digit", lambda: professional_claim(billing_npi="1245319599")),
    ("rendering_npi_check_digit", lambda: professional_claim(rendering_npi=None)),
    ("frequency_code_institutional", lambda: institutional_claim(frequency_code="1")),
    ("original_claim_reference", lambda: professional_claim(frequency_code="7", payer_claim_control_number="PCN1")),
    ("type_of_bill_valid", lambda: institutional_claim(facility_type="0131")),
    ("type_of_bill_valid", lambda: professional_claim(facility_type=None)),
    ("place_of_service_valid", lambda: on_day(dt.date(2024, 1, 5), professional_claim(place_of_service="27"))),
    ("place_of_service_valid", lambda: institutional_claim(place_of_service=None)),
    ("line_place_of_service_valid", lambda: with_line(professional_claim(), place_of_service="23")),
    ("patient_sex_valid", lambda: professional_claim(patient_sex="U")),
    ("diagnosis_code_exists", lambda: professional_claim(diagnosis_codes=("E11.9", "T36.0X1A"))),
    ("diagnosis_code_exists", lambda: professional_claim(diagnosis_codes=("E11",))),
    ("diagnosis_code_billable", lambda: professional_claim(diagnosis_codes=("S72.001A",))),
    ("diagnosis_pointer_valid", lambda: with_line(professional_claim(diagnosis_codes=("E119", "I10")), diagnosis_pointers=(2, 1))),
    ("diagnosis_pointer_valid", lambda: institutional_claim()),
    ("diagnosis_sex_consistent", lambda: professional_claim(diagnosis_codes=("N400",), patient_sex="M")),
    ("diagnosis_sex_consistent", lambda: professional_claim(diagnosis_codes=("N400",), patient_sex="U")),
    ("diagnosis_age_consistent", lambda: professional_claim(diagnosis_codes=("O80",), patient_birth_date=dt.date(1995, 1, 1))),
    ("diagnosis_age_consistent", lambda: professional_claim(diagnosis_codes=("P0710",), patient_birth_date=dt.date(2024, 4, 30))),
    ("line_count_professional", lambda: many_lines(50)),
    ("procedure_code_present", lambda: with_line(institutional_claim(), procedure_code=None)),
    ("procedure_code_format", lambda: with_line(professional_claim(), procedure_code="0591T")),
    ("procedure_code_format", lambda: with_line(professional_claim(), procedure_code="J1100")),
    ("procedure_code_format", lambda: with_line(professional_claim(), procedure_code="0001A")),
    ("procedure_code_format", lambda: with_line(professional_claim(), procedure_qualifier="N4", procedure_code="00002143380")),
    ("modifier_format", lambda: with_line(professional_claim(), modifiers=("25", "XU", "GA"))),
    ("line_charge_positive", lambda: with_line(professional_claim(total_charge=Decimal("0")), procedure_code="3074F", charge=Decimal("0"))),
    ("service_date_present", lambda: with_line(institutional_claim(), service_date_from=None, service_date_to=None)),
    ("service_dates_not_future", lambda: on_day(AS_OF, professional_claim())),
    ("service_dates_after_birth", lambda: professional_claim(patient_birth_date=SERVICE_DAY)),
    ("prior_authorization_present", lambda: with_line(professional_claim(prior_authorization="AUTH1"), procedure_code="70551")),
    ("prior_authorization_present", lambda: with_line(professional_claim(filing_indicator="MC"), procedure_code="70551")),
    ("timely_filing", lambda: on_day(dt.date(2024, 3, 3), professional_claim())),
    ("timely_filing", lambda: on_day(dt.date(2024, 1, 2), professional_claim(dates={"050": dt.date(2024, 3, 1)}))),
    ("timely_filing", lambda: on_day(dt.date(2023, 1, 2), professional_claim(filing_indicator="ZZ"))),
    ("timely_filing", lambda: on_day(dt.date(2024, 1, 2), professional_claim(submitted_on=dt.date(2024, 3, 1)))),
    ("secondary_claim_primary_adjudication", lambda: professional_claim(payer_responsibility="S", other_payers=(primary_adjudication(),))),
]


@pytest.mark.parametrize(("rule_id", "build"), FAILING)
def test_rule_flags_broken_claim(rule_set: RuleSet, rule_id: str, build: Callable[[], Claim]) -> None:
    assert f"rule.{rule_id}" in finding_codes(rule_set, build())


@pytest.mark.parametrize(("rule_id", "build"), PASSING)
def test_rule_passes_valid_variant(rule_set: RuleSet, rule_id: str, build: Callable[[], Claim]) -> None:
    assert f"rule.{rule_id}" not in finding_codes(rule_set, build())


@pytest.mark.parametrize("build", [professional_claim, institutional_claim])
def test_clean_claim_has_no_findings(rule_set: RuleSet, build: Callable[[], Claim]) -> None:
    assert finding_codes(rule_set, build()) == []


def test_every_rule_has_a_failing_case(rule_set: RuleSet) -> None:
    covered = {rule_id for rule_id, _ in FAILING} | {"duplicate_claim"}
    assert {rule.id for rule in rule_set.rules} - covered == set()


def test_shipped_rules_number_at_least_25(rule_set: RuleSet) -> None:
    assert len(rule_set.rules) >= 25


def test_icd_rules_skip_claims_before_icd10(rule_set: RuleSet) -> None:
    claim = on_day(dt.date(2015, 9, 30), professional_claim(diagnosis_codes=("25000",)))
    codes = finding_codes(rule_set, claim, as_of=dt.date(2015, 10, 15))
    assert "rule.diagnosis_code_exists" not in codes


def test_dental_claim_uses_professional_frequency(rule_set: RuleSet) -> None:
    claim = with_line(professional_claim(claim_type="837D", frequency_code="2"), procedure_qualifier="AD", procedure_code="D0120")
    codes = finding_codes(rule_set, claim)
    assert "rule.frequency_code_professional" in codes
    assert "rule.procedure_code_format" not in codes


def test_header_and_unknown_codes_differ(rule_set: RuleSet) -> None:
    header = finding_codes(rule_set, professional_claim(diagnosis_codes=("E11",)))
    assert "rule.diagnosis_code_billable" in header
    assert "rule.diagnosis_code_exists" not in header


def test_line_finding_keeps_line_source(rule_set: RuleSet) -> None:
    claim = with_line(professional_claim(), procedure_code="9921")
    finding = next(f for f in rule_set.validate([claim], as_of=AS_OF) if f.code == "rule.procedure_code_format")
    assert finding.source == claim.service_lines[0].source
    assert finding.value == "9921"
    assert finding.element == "service_lines[].procedure_code"


def test_claim_total_finding_shows_sum(rule_set: RuleSet) -> None:
    claim = dataclasses.replace(professional_claim(), total_charge=Decimal("150.00"))
    finding = next(f for f in rule_set.validate([claim], as_of=AS_OF) if f.code == "rule.claim_total_matches_lines")
    assert finding.value == "150.00"
    assert finding.expected == "100.00"
    assert finding.source == claim.source
