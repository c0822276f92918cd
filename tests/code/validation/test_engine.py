"""The rule engine: loading YAML, overrides, versions, duplicates and the first-pass rate."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.code.validation.claim_builders import AS_OF, institutional_claim, professional_claim, with_line
from workflow.errors import InputError
from workflow.records import Claim, Finding, Severity
from workflow.validation import (
    CHECK_FAILED_CODE,
    SHIPPED_RULES_PATH,
    ClaimHistory,
    RuleViolation,
    check,
    first_pass_rate,
    load_rule_set,
)


def shipped_document() -> dict[str, Any]:
    return yaml.safe_load(SHIPPED_RULES_PATH.read_text(encoding="utf-8"))


def write_rules(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def rule_entry(document: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(rule for rule in document["rules"] if rule["id"] == rule_id)


def codes_of(findings: list[Finding]) -> list[str]:
    return [finding.code for finding in findings]


def test_finding_records_rule_and_version() -> None:
    rule_set = load_rule_set()
    claim = professional_claim(billing_npi="1234567890")
    finding = next(f for f in rule_set.validate([claim], as_of=AS_OF) if f.code == "rule.billing_npi_check_digit")
    assert finding.rule_set_version == rule_set.version
    assert finding.claim_id == "PCLM-1"
    assert finding.element == "billing_npi"
    assert finding.value == "1234567890"
    assert finding.severity == Severity.ERROR
    assert finding.source == claim.source


def test_changed_yaml_param_changes_outcome(tmp_path: Path) -> None:
    claim = professional_claim("X" * 30)
    assert "rule.claim_id_length" not in codes_of(load_rule_set().validate([claim], as_of=AS_OF))

    document = shipped_document()
    rule_entry(document, "claim_id_length")["params"] = {"max": 20}
    stricter = load_rule_set(write_rules(tmp_path, document))
    assert "rule.claim_id_length" in codes_of(stricter.validate([claim], as_of=AS_OF))


def test_changed_tolerance_accepts_rounding(tmp_path: Path) -> None:
    document = shipped_document()
    rule_entry(document, "claim_total_matches_lines")["params"] = {"tolerance": "0.05"}
    lenient = load_rule_set(write_rules(tmp_path, document))
    claim = professional_claim(total_charge=Decimal("100.03"))
    assert "rule.claim_total_matches_lines" not in codes_of(lenient.validate([claim], as_of=AS_OF))


def test_payer_override_disables_rule(tmp_path: Path) -> None:
    document = shipped_document()
    document["overrides"] = [{"payer_id": "FAKEPAYER1", "rule": "billing_npi_check_digit", "enabled": False}]
    rule_set = load_rule_set(write_rules(tmp_path, document))

    for_payer = professional_claim(billing_npi="1234567890")
    other_payer = dataclasses.replace(for_payer, payer_id="FAKEPAYER2")
    assert "rule.billing_npi_check_digit" not in codes_of(rule_set.validate([for_payer], as_of=AS_OF))
    assert "rule.billing_npi_check_digit" in codes_of(rule_set.validate([other_payer], as_of=AS_OF))


def test_payer_override_changes_params(tmp_path: Path) -> None:
    document = shipped_document()
    document["overrides"] = [{"payer_id": "FAKEPAYER1", "rule": "timely_filing", "params": {"limit_days": 180}}]
    rule_set = load_rule_set(write_rules(tmp_path, document))
    claim = with_line(professional_claim(), service_date_from=dt.date(2024, 1, 2), service_date_to=dt.date(2024, 1, 2))
    assert "rule.timely_filing" not in codes_of(rule_set.validate([claim], as_of=AS_OF))


def test_payer_id_override_beats_kind_override(tmp_path: Path) -> None:
    document = shipped_document()
    document["overrides"] = [
        {"payer_id": "FAKEPAYER1", "rule": "patient_sex_valid", "enabled": True},
        {"payer_kind": "commercial", "rule": "patient_sex_valid", "enabled": False},
    ]
    rule_set = load_rule_set(write_rules(tmp_path, document))
    claim = professional_claim(patient_sex="X")
    assert "rule.patient_sex_valid" in codes_of(rule_set.validate([claim], as_of=AS_OF))


def test_applies_to_limits_payer_kinds(tmp_path: Path) -> None:
    document = shipped_document()
    rule_entry(document, "patient_sex_valid")["applies_to"] = {"payer_kinds": ["medicare"]}
    rule_set = load_rule_set(write_rules(tmp_path, document))
    commercial = professional_claim(patient_sex="X")
    medicare = professional_claim(patient_sex="X", filing_indicator="MB")
    assert "rule.patient_sex_valid" not in codes_of(rule_set.validate([commercial], as_of=AS_OF))
    assert "rule.patient_sex_valid" in codes_of(rule_set.validate([medicare], as_of=AS_OF))


def test_rule_effective_dates_limit_claims(tmp_path: Path) -> None:
    document = shipped_document()
    rule_entry(document, "patient_sex_valid")["effective_from"] = dt.date(2025, 1, 1)
    rule_set = load_rule_set(write_rules(tmp_path, document))
    claim = professional_claim(patient_sex="X")
    assert "rule.patient_sex_valid" not in codes_of(rule_set.validate([claim], as_of=AS_OF))


def test_rules_path_env_selects_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    document = shipped_document()
    document["version"] = "test-9"
    monkeypatch.setenv("TRIAGE_RULES_PATH", str(write_rules(tmp_path, document)))
    assert load_rule_set().version == "test-9"


@pytest.mark.parametrize(
    ("change", "expected_text"),
    [
        (lambda doc: rule_entry(doc, "timely_filing").update(check="no_such_check"), "unknown check 'no_such_check'"),
        (lambda doc: rule_entry(doc, "billing_npi_check_digit").update(field="billing_npii"), "billing_npii"),
        (lambda doc: doc["rules"].append(dict(doc["rules"][0])), "appears twice"),
        (lambda doc: doc.update(overrides=[{"payer_id": "P", "rule": "nope", "enabled": False}]), "'nope'"),
        (lambda doc: rule_entry(doc, "timely_filing").update(severity="fatal"), "id='timely_filing'"),
        (lambda doc: rule_entry(doc, "timely_filing").update(applies_to={"claim_types": ["vision"]}), "vision"),
    ],
)
def test_invalid_rule_file_names_problem(tmp_path: Path, change: Any, expected_text: str) -> None:
    document = shipped_document()
    change(document)
    with pytest.raises(InputError, match="rules.yaml") as raised:
        load_rule_set(write_rules(tmp_path, document))
    assert expected_text in str(raised.value)


def test_missing_rule_file_raises_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read rule file"):
        load_rule_set(tmp_path / "absent.yaml")


def test_duplicate_claim_in_same_batch() -> None:
    first = professional_claim("PCLM-1", segment_index=20)
    second = professional_claim("PCLM-2", segment_index=60)
    findings = load_rule_set().validate([first, second], as_of=AS_OF)
    duplicates = [f for f in findings if f.code == "rule.duplicate_claim"]
    assert [f.claim_id for f in duplicates] == ["PCLM-2"]
    assert "PCLM-1" in duplicates[0].message


def test_duplicate_claim_from_history() -> None:
    history = ClaimHistory([professional_claim("OLD-1", segment_index=5)])
    findings = load_rule_set().validate([professional_claim()], as_of=AS_OF, history=history)
    assert "rule.duplicate_claim" in codes_of(findings)
    assert len(history) == 1


def test_history_with_same_claim_is_not_duplicate() -> None:
    claim = professional_claim()
    findings = load_rule_set().validate([claim], as_of=AS_OF, history=ClaimHistory([claim]))
    assert "rule.duplicate_claim" not in codes_of(findings)


@pytest.mark.parametrize("frequency", ["7", "8"])
def test_replacement_or_void_not_duplicate(frequency: str) -> None:
    original = professional_claim("PCLM-1", segment_index=20)
    corrected = professional_claim("PCLM-1", segment_index=60, frequency_code=frequency, payer_claim_control_number="PCN1")
    findings = load_rule_set().validate([original, corrected], as_of=AS_OF)
    assert "rule.duplicate_claim" not in codes_of(findings)


def test_resubmission_after_void_not_duplicate() -> None:
    original = professional_claim("PCLM-1", segment_index=20)
    void = professional_claim("PCLM-1", segment_index=40, frequency_code="8", payer_claim_control_number="PCN1")
    again = professional_claim("PCLM-1", segment_index=60)
    findings = load_rule_set().validate([original, void, again], as_of=AS_OF)
    assert "rule.duplicate_claim" not in codes_of(findings)


@pytest.mark.parametrize(
    "changes",
    [
        {"total_charge": Decimal("200.00"), "service_lines": ()},
        {"patient_id": "FAKEMEM02"},
        {"billing_npi": "1245319599"},
    ],
)
def test_different_claims_not_duplicate(changes: dict[str, Any]) -> None:
    first = professional_claim("PCLM-1", segment_index=20)
    second = professional_claim("PCLM-2", segment_index=60, **changes)
    assert "rule.duplicate_claim" not in codes_of(load_rule_set().validate([first, second], as_of=AS_OF))


def test_different_line_charge_not_duplicate() -> None:
    first = professional_claim("PCLM-1", segment_index=20)
    second = with_line(professional_claim("PCLM-2", segment_index=60, total_charge=Decimal("90.00")), charge=Decimal("90.00"))
    assert "rule.duplicate_claim" not in codes_of(load_rule_set().validate([first, second], as_of=AS_OF))


def test_failing_check_becomes_warning(tmp_path: Path) -> None:
    @check("test_always_raises")
    def always_raises(claim: Claim, context: object) -> list[RuleViolation]:
        raise RuntimeError("boom")

    document = shipped_document()
    document["rules"].append(
        {"id": "raises", "check": "test_always_raises", "field": "claim_id", "severity": "error", "message": "never shown"}
    )
    findings = load_rule_set(write_rules(tmp_path, document)).validate([professional_claim()], as_of=AS_OF)
    failed = [f for f in findings if f.code == CHECK_FAILED_CODE]
    assert len(failed) == 1
    assert failed[0].severity == Severity.WARNING


def test_first_pass_rate_counts_error_claims() -> None:
    findings = load_rule_set().validate(
        [professional_claim("A", segment_index=1, billing_npi=None), institutional_claim("B"), professional_claim("C", patient_birth_date=None, segment_index=3)],
        as_of=AS_OF,
    )
    # Claim C only has a warning (missing birth date), so two of the three claims pass.
    assert first_pass_rate(3, findings) == pytest.approx(2 / 3)


def test_first_pass_rate_without_claims() -> None:
    assert first_pass_rate(0, []) == 1.0


def test_first_pass_rate_rejects_negative_count() -> None:
    with pytest.raises(ValueError, match="claims_count"):
        first_pass_rate(-1, [])


def test_clean_claim_rate_counts_claims_sharing_an_id():
    from workflow.validation import clean_claim_rate

    first = professional_claim("SAME")
    second = professional_claim("SAME", segment_index=40)
    error = Finding(Severity.ERROR, "rule.x", "bad", first.source, claim_id="SAME")

    assert clean_claim_rate([(first, [error]), (second, [error])]) == 0.0
    assert clean_claim_rate([(first, [error]), (second, [])]) == 0.5
    assert clean_claim_rate([]) == 1.0
