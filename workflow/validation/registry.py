"""The registry of check functions that rules in the YAML file name by their ``check`` key.

A check is a small function ``(claim, context) -> list[RuleViolation]``. It reads its settings
from ``context.params`` and the claim field it looks at from ``context.field``, so one check
serves many rules (``npi_luhn`` checks the billing, rendering and referring NPI).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workflow.records import Claim

if TYPE_CHECKING:
    from workflow.validation.history import ClaimHistory

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RuleViolation:
    """One place where a claim breaks a rule.

    ``field`` overrides the rule's field when the check has a more precise one; ``line_number``
    is the service line's number (LX) or None for a claim-level problem.
    """

    field: str | None
    value: str | None
    expected: str | None
    message_detail: str | None = None
    line_number: int | None = None


@dataclass(frozen=True, slots=True)
class CheckContext:
    """Input of a check besides the claim: the rule's field and params and the run's context."""

    rule_id: str
    field: str
    params: Mapping[str, Any]
    as_of: dt.date
    history: ClaimHistory
    payer_kind: str
    claim_kind: str


CheckFunction = Callable[[Claim, CheckContext], list[RuleViolation]]


@dataclass(frozen=True, slots=True)
class RegisteredCheck:
    """A check function and whether its rules must name a claim field that exists."""

    name: str
    function: CheckFunction
    needs_field: bool


CHECKS: dict[str, RegisteredCheck] = {}


def check(name: str, *, needs_field: bool = False) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check function under ``name``, the value a rule's ``check`` key uses.

    With ``needs_field`` the loader makes sure each rule's ``field`` names a Claim attribute or
    ``service_lines[].<ServiceLine attribute>``, so a typo fails at load time and not silently.
    """

    def register(function: CheckFunction) -> CheckFunction:
        if name in CHECKS and CHECKS[name].function is not function:
            raise ValueError(f"check {name!r} is already registered by {CHECKS[name].function.__module__}")
        CHECKS[name] = RegisteredCheck(name=name, function=function, needs_field=needs_field)
        return function

    return register
