"""Payer tables that operators edit: the payer directory, timely filing limits, prior authorization.

``payer_kind`` decides which rules and limits apply to a claim. The directory
(``payer_directory.csv``: payer_id, payer_kind) wins. A payer missing from it gets a kind from the
claim filing indicator (SBR09), which every 837 carries.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from dataclasses import dataclass

from features.codesets._tables import codesets_dir, parse_optional_date, read_rows, table_paths
from workflow.errors import CsvError

logger = logging.getLogger(__name__)

PAYER_KINDS: tuple[str, ...] = (
    "medicare",
    "medicare_advantage",
    "medicaid",
    "medicaid_managed_care",
    "commercial",
    "tricare",
    "veterans",
    "workers_comp",
    "auto",
    "other",
)

# Claim filing indicator codes (SBR09 in the 837 5010 guides) mapped to the payer kinds above.
FILING_INDICATOR_KINDS: dict[str, str] = {
    "MA": "medicare",
    "MB": "medicare",
    "16": "medicare_advantage",
    "MC": "medicaid",
    "CI": "commercial",
    "BL": "commercial",
    "HM": "commercial",
    "12": "commercial",
    "13": "commercial",
    "14": "commercial",
    "15": "commercial",
    "17": "commercial",
    "DS": "commercial",
    "CH": "tricare",
    "VA": "veterans",
    "WC": "workers_comp",
    "AM": "auto",
}

CLOCK_STARTS = ("service_from", "service_to")


@dataclass(frozen=True, slots=True)
class TimelyFilingLimit:
    """How many days a payer kind allows between the date of service and the claim's receipt."""

    payer_kind: str
    days: int
    clock_start: str


@dataclass(frozen=True, slots=True)
class PriorAuthRule:
    """A procedure code range that needs prior authorization; an empty payer_id and kind mean every payer."""

    payer_id: str | None
    payer_kind: str | None
    procedure_from: str
    procedure_to: str
    effective_from: dt.date | None
    effective_to: dt.date | None

    def matches(self, payer_id: str | None, payer_kind: str, procedure_code: str, on: dt.date | None) -> bool:
        """Tell whether the rule covers this payer, procedure code and date of service."""
        if self.payer_id is not None and self.payer_id != payer_id:
            return False
        if self.payer_kind is not None and self.payer_kind != payer_kind:
            return False
        if not _in_code_range(procedure_code, self.procedure_from, self.procedure_to):
            return False
        if on is None:
            return True
        if self.effective_from is not None and on < self.effective_from:
            return False
        return self.effective_to is None or on <= self.effective_to


def _in_code_range(code: str, low: str, high: str) -> bool:
    # Codes of one system share a length and their order is the string order ("70551" < "70553").
    return len(code) == len(low) and low <= code.upper() <= high


def payer_kind(payer_id: str | None, filing_indicator: str | None = None) -> str:
    """Return the payer kind from the directory, else from the filing indicator, else ``other``."""
    directory = _payer_directory(str(codesets_dir()))
    if payer_id and payer_id in directory:
        return directory[payer_id]
    return FILING_INDICATOR_KINDS.get((filing_indicator or "").strip().upper(), "other")


def timely_filing_limit(kind: str) -> TimelyFilingLimit | None:
    """Return the filing limit for a payer kind, or None when the table has no row for it."""
    return _timely_filing_limits(str(codesets_dir())).get(kind)


def prior_auth_rules() -> tuple[PriorAuthRule, ...]:
    """Return every row of ``payer_rules/prior_auth_required.csv``, shipped and operator's."""
    return _prior_auth_rules(str(codesets_dir()))


def prior_auth_required(payer_id: str | None, kind: str, procedure_code: str, on: dt.date | None) -> bool:
    """Tell whether any prior authorization rule covers the procedure for this payer on ``on``."""
    return any(rule.matches(payer_id, kind, procedure_code, on) for rule in prior_auth_rules())


@functools.lru_cache(maxsize=8)
def _payer_directory(overlay_dir: str) -> dict[str, str]:
    directory: dict[str, str] = {}
    for path in table_paths("payer_directory.csv"):
        for line, row in read_rows(path, ("payer_id", "payer_kind")):
            _check_payer_kind(row["payer_kind"], path=str(path), line=line)
            directory[row["payer_id"]] = row["payer_kind"]
    return directory


@functools.lru_cache(maxsize=8)
def _timely_filing_limits(overlay_dir: str) -> dict[str, TimelyFilingLimit]:
    limits: dict[str, TimelyFilingLimit] = {}
    for path in table_paths("timely_filing.csv"):
        for line, row in read_rows(path, ("payer_kind", "days", "clock_start")):
            if not row["days"].isdigit() or row["clock_start"] not in CLOCK_STARTS:
                raise CsvError(
                    f"{path}, line {line}: invalid timely filing row {row!r}; "
                    f"days must be a whole number and clock_start one of {', '.join(CLOCK_STARTS)}"
                )
            limits[row["payer_kind"]] = TimelyFilingLimit(row["payer_kind"], int(row["days"]), row["clock_start"])
    return limits


@functools.lru_cache(maxsize=8)
def _prior_auth_rules(overlay_dir: str) -> tuple[PriorAuthRule, ...]:
    columns = ("payer_id", "payer_kind", "procedure_from", "procedure_to", "effective_from", "effective_to")
    rules = []
    for path in table_paths("payer_rules/prior_auth_required.csv"):
        for line, row in read_rows(path, columns):
            rules.append(
                PriorAuthRule(
                    payer_id=row["payer_id"] or None,
                    payer_kind=row["payer_kind"] or None,
                    procedure_from=row["procedure_from"].upper(),
                    procedure_to=(row["procedure_to"] or row["procedure_from"]).upper(),
                    effective_from=parse_optional_date(row["effective_from"], path=path, line=line, column="effective_from"),
                    effective_to=parse_optional_date(row["effective_to"], path=path, line=line, column="effective_to"),
                )
            )
    return tuple(rules)


def _check_payer_kind(kind: str, *, path: str, line: int) -> None:
    if kind not in PAYER_KINDS:
        raise CsvError(f"{path}, line {line}: unknown payer_kind {kind!r}; use one of {', '.join(PAYER_KINDS)}")
