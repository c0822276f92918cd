"""Load a versioned rule set from YAML and run it over claims.

A rule file has a ``version``, a list of ``rules`` and optional payer ``overrides``::

    version: "2026.1"
    rules:
      - id: billing_npi_check_digit
        check: npi_luhn            # a function registered with @check("npi_luhn")
        field: billing_npi
        severity: error
        applies_to: {payer_kinds: [], payer_ids: [], claim_types: []}   # empty = every claim
        effective_from: 2020-01-01
        enabled: true
        params: {}
        message: The billing provider NPI fails its check digit.
        carc_hint: "16"
    overrides:
      - payer_id: "12345"
        rule: billing_npi_check_digit
        enabled: false

Every finding carries the rule id (``rule.<id>``) and the rule set version, so a stored finding
can be traced to the exact rules that produced it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from features.codesets import payer_kind as lookup_payer_kind
from workflow.errors import InputError
from workflow.records import Claim, Finding, Severity, Source
from workflow.validation import checks as _checks  # noqa: F401  (registers the shipped checks)
from workflow.validation.fields import claim_kind, is_known_field, normalize_claim_kind
from workflow.validation.history import ClaimHistory
from workflow.validation.registry import CHECKS, CheckContext, RuleViolation

logger = logging.getLogger(__name__)

RULES_PATH_ENV = "TRIAGE_RULES_PATH"
SHIPPED_RULES_PATH = Path(__file__).resolve().parent / "rules" / "claims.yaml"

CHECK_FAILED_CODE = "validation.check_failed"


def _as_text(value: Any) -> Any:
    # YAML reads 16 and 2026.1 as numbers, but CARC codes and versions are text.
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


class AppliesTo(BaseModel):
    """The claims a rule runs on. An empty list puts no restriction on that attribute."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    payer_ids: tuple[str, ...] = ()
    payer_kinds: tuple[str, ...] = ()
    claim_types: tuple[str, ...] = ()

    @field_validator("payer_ids", mode="before")
    @classmethod
    def _payer_ids_as_text(cls, value: Any) -> Any:
        return [_as_text(item) for item in value] if isinstance(value, list) else value

    @field_validator("claim_types")
    @classmethod
    def _known_claim_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(normalize_claim_kind(item) for item in value)

    def matches(self, payer_id: str | None, payer_kind: str, kind: str) -> bool:
        """Tell whether a claim with this payer and claim type is in scope."""
        if self.payer_ids and payer_id not in self.payer_ids:
            return False
        if self.payer_kinds and payer_kind not in self.payer_kinds:
            return False
        return not self.claim_types or kind in self.claim_types


class Rule(BaseModel):
    """One declared rule: the check to run, its field, the claims it covers and its message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    check: str
    field: str
    severity: Severity
    applies_to: AppliesTo = AppliesTo()
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    enabled: bool = True
    params: dict[str, Any] = Field(default_factory=dict)
    message: str
    carc_hint: str | None = None
    rarc_hint: str | None = None

    @field_validator("carc_hint", "rarc_hint", mode="before")
    @classmethod
    def _carc_as_text(cls, value: Any) -> Any:
        return _as_text(value)

    @model_validator(mode="after")
    def _check_is_registered(self) -> Rule:
        registered = CHECKS.get(self.check)
        if registered is None:
            raise ValueError(f"unknown check {self.check!r}; registered checks: {', '.join(sorted(CHECKS))}")
        if registered.needs_field and not is_known_field(self.field):
            raise ValueError(
                f"check {self.check!r} needs a claim field, but {self.field!r} is neither a Claim attribute "
                "nor service_lines[].<ServiceLine attribute>"
            )
        return self

    def is_effective(self, on: dt.date) -> bool:
        """Tell whether the rule is in force on ``on`` (both bounds inclusive)."""
        if self.effective_from is not None and on < self.effective_from:
            return False
        return self.effective_to is None or on <= self.effective_to


class Override(BaseModel):
    """A payer-specific change to one rule: switch it off or on, change params or severity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: str
    payer_id: str | None = None
    payer_kind: str | None = None
    enabled: bool | None = None
    severity: Severity | None = None
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("payer_id", mode="before")
    @classmethod
    def _payer_id_as_text(cls, value: Any) -> Any:
        return _as_text(value)

    @model_validator(mode="after")
    def _names_a_payer(self) -> Override:
        if (self.payer_id is None) == (self.payer_kind is None):
            raise ValueError(f"override of rule {self.rule!r} must set exactly one of payer_id or payer_kind")
        return self

    def matches(self, payer_id: str | None, payer_kind: str) -> bool:
        """Tell whether the override is for this claim's payer."""
        if self.payer_id is not None:
            return self.payer_id == payer_id
        return self.payer_kind == payer_kind

    def apply_to(self, rule: Rule) -> Rule:
        """Return the rule with this override applied."""
        update: dict[str, Any] = {"params": {**rule.params, **self.params}}
        if self.enabled is not None:
            update["enabled"] = self.enabled
        if self.severity is not None:
            update["severity"] = self.severity
        return rule.model_copy(update=update)


class RuleSetFile(BaseModel):
    """The whole YAML document."""

    model_config = ConfigDict(extra="forbid")

    version: str
    rules: list[Rule]
    overrides: list[Override] = Field(default_factory=list)

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        return _as_text(value)

    @model_validator(mode="after")
    def _ids_are_unique_and_known(self) -> RuleSetFile:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} appears twice; rule ids must be unique")
            seen.add(rule.id)

        for override in self.overrides:
            if override.rule not in seen:
                raise ValueError(f"override names rule {override.rule!r}, which the file does not define")
        return self


class RuleSet:
    """A loaded, versioned set of rules that validates claims."""

    def __init__(self, document: RuleSetFile, path: Path | None = None) -> None:
        self.version: str = document.version
        self.rules: tuple[Rule, ...] = tuple(document.rules)
        self.overrides: tuple[Override, ...] = tuple(document.overrides)
        self.path = path

    def __repr__(self) -> str:
        return f"RuleSet(version={self.version!r}, rules={len(self.rules)}, path={str(self.path)!r})"

    def rule(self, rule_id: str) -> Rule:
        """Return the rule with this id, or raise KeyError."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def validate(
        self,
        claims: Iterable[Claim],
        *,
        as_of: dt.date,
        history: ClaimHistory | None = None,
    ) -> list[Finding]:
        """Run every rule in force over each claim and return the findings in claim order.

        ``as_of`` is the day the claims are checked (for future dates and timely filing when a
        claim has no received date). ``history`` contains earlier claims for the duplicate rule. It
        is not changed, but claims earlier in ``claims`` count as history for later ones.
        """
        return [finding for _, findings in self.validate_each(claims, as_of=as_of, history=history) for finding in findings]

    def validate_each(
        self,
        claims: Iterable[Claim],
        *,
        as_of: dt.date,
        history: ClaimHistory | None = None,
    ) -> list[tuple[Claim, list[Finding]]]:
        """Run every rule over each claim and return each claim with its own findings, in order.

        Use this to count clean claims: two claims that share a claim id stay two claims here.
        """
        seen = history.copy() if history is not None else ClaimHistory()
        outcomes: list[tuple[Claim, list[Finding]]] = []
        for claim in claims:
            outcomes.append((claim, self.validate_claim(claim, as_of=as_of, history=seen)))
            seen.add(claim)
        return outcomes

    def validate_claim(self, claim: Claim, *, as_of: dt.date, history: ClaimHistory) -> list[Finding]:
        """Run every rule in force over one claim; ``history`` is read, never changed."""
        kind_of_payer = lookup_payer_kind(claim.payer_id, claim.filing_indicator)
        kind_of_claim = claim_kind(claim)
        rule_date = claim.service_date or as_of

        findings: list[Finding] = []
        for declared in self.rules:
            rule = self._rule_for_payer(declared, claim.payer_id, kind_of_payer)
            if not rule.enabled or not rule.is_effective(rule_date):
                continue
            if not rule.applies_to.matches(claim.payer_id, kind_of_payer, kind_of_claim):
                continue

            context = CheckContext(
                rule_id=rule.id,
                field=rule.field,
                params=rule.params,
                as_of=as_of,
                history=history,
                payer_kind=kind_of_payer,
                claim_kind=kind_of_claim,
            )
            findings.extend(self._run_rule(rule, claim, context))
        return findings

    def _rule_for_payer(self, rule: Rule, payer_id: str | None, payer_kind: str) -> Rule:
        # Payer kind overrides apply first, so an override for one payer id has the last word.
        matching = [override for override in self.overrides if override.rule == rule.id and override.matches(payer_id, payer_kind)]
        matching.sort(key=lambda override: override.payer_id is not None)
        for override in matching:
            rule = override.apply_to(rule)
        return rule

    def _run_rule(self, rule: Rule, claim: Claim, context: CheckContext) -> list[Finding]:
        try:
            violations = CHECKS[rule.check].function(claim, context)
        except Exception as error:  # noqa: BLE001  (one faulty check must not stop a whole file)
            logger.exception("check %s of rule %s failed on claim %s", rule.check, rule.id, claim.claim_id)
            return [self._check_failed_finding(rule, claim, error)]
        return [self._finding(rule, claim, violation) for violation in violations]

    def _finding(self, rule: Rule, claim: Claim, violation: RuleViolation) -> Finding:
        message = rule.message
        if violation.message_detail:
            message = f"{message} ({violation.message_detail})"
        return Finding(
            severity=rule.severity,
            code=f"rule.{rule.id}",
            message=message,
            source=_violation_source(claim, violation),
            element=violation.field or rule.field,
            value=violation.value,
            expected=violation.expected,
            claim_id=claim.claim_id,
            rule_set_version=self.version,
        )

    def _check_failed_finding(self, rule: Rule, claim: Claim, error: Exception) -> Finding:
        return Finding(
            severity=Severity.WARNING,
            code=CHECK_FAILED_CODE,
            message=f"Rule {rule.id} could not be checked on this claim: {type(error).__name__}: {error}",
            source=claim.source,
            element=rule.field,
            claim_id=claim.claim_id,
            rule_set_version=self.version,
        )


def _violation_source(claim: Claim, violation: RuleViolation) -> Source:
    if violation.line_number is None:
        return claim.source
    for line in claim.service_lines:
        if line.line_number == violation.line_number and line.source is not None:
            return line.source
    return claim.source


def load_rule_set(path: str | Path | None = None) -> RuleSet:
    """Load a rule set from ``path``, else from ``TRIAGE_RULES_PATH``, else the shipped file."""
    resolved = Path(path or os.environ.get(RULES_PATH_ENV) or SHIPPED_RULES_PATH)
    try:
        text = resolved.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"cannot read rule file {resolved}: {error.strerror}; check the path or {RULES_PATH_ENV}") from error

    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InputError(f"{resolved}: invalid YAML: {error}") from error

    try:
        document = RuleSetFile.model_validate(raw)
    except ValidationError as error:
        raise InputError(f"{resolved}: invalid rule set:\n{_describe_errors(error, raw)}") from error

    logger.info("loaded rule set %s with %d rules from %s", document.version, len(document.rules), resolved)
    return RuleSet(document, path=resolved)


def _describe_errors(error: ValidationError, raw: Any) -> str:
    # Name rules by id rather than by list position so the reader can find them in the file.
    lines = []
    for item in error.errors():
        location = list(item["loc"])
        if len(location) >= 2 and location[0] == "rules" and isinstance(location[1], int) and isinstance(raw, dict):
            rules = raw.get("rules") or []
            if location[1] < len(rules) and isinstance(rules[location[1]], dict):
                location[1] = f"id={rules[location[1]].get('id')!r}"
        lines.append(f"  {'.'.join(str(part) for part in location)}: {item['msg']}")
    return "\n".join(lines)


def clean_claim_rate(outcomes: Sequence[tuple[Claim, Sequence[Finding]]]) -> float:
    """Return the share of claims without an error finding, counting each claim record once.

    With no claims the rate is 1.0.
    """
    if not outcomes:
        return 1.0
    clean = sum(1 for _, findings in outcomes if not any(f.severity == Severity.ERROR for f in findings))
    return clean / len(outcomes)


def first_pass_rate(claims_count: int, findings: Iterable[Finding]) -> float:
    """Return the share of claims with no error finding: the first-pass (clean claim) rate.

    Claims are identified by ``claim_id``, so two claims sharing an id count as one when either
    has an error. Findings without a claim id (envelope problems) are ignored. With no claims the
    rate is 1.0.
    """
    if claims_count < 0:
        raise ValueError(f"claims_count must be zero or more, got {claims_count}")
    if claims_count == 0:
        return 1.0

    failed = {finding.claim_id for finding in findings if finding.severity == Severity.ERROR and finding.claim_id is not None}
    return max(claims_count - len(failed), 0) / claims_count
