"""The mapping from journal entry types and CAS codes to general-ledger accounts.

The mapping is a CSV that the operator edits (``data/gl_accounts.csv`` ships as the default)::

    entry_type,group_code,reason_code,debit_account,credit_account,description

An entry looks up the most specific row first: its type, group and reason; then its type and
group with an empty reason; then its type alone. PLB entries (``provider_adjustment``) have no
group, so they look up their reason (the PLB03-1 code, such as L6 or WO) under an empty group.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

from workflow.errors import CsvError

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_GL_PATH", "ENTRY_TYPES", "GlAccount", "GlMapping", "load_gl_mapping"]

DEFAULT_GL_PATH = Path(__file__).resolve().parent / "data" / "gl_accounts.csv"
GL_COLUMNS = ("entry_type", "group_code", "reason_code", "debit_account", "credit_account", "description")
ENTRY_TYPES = (
    "payment",
    "contractual_adjustment",
    "patient_responsibility",
    "forwarded_balance",
    "other_adjustment",
    "provider_adjustment",
)


@dataclass(frozen=True, slots=True)
class GlAccount:
    """The debit and credit accounts of one entry."""

    debit: str
    credit: str


class GlMapping:
    """Accounts by (entry type, group code, reason code), with fallbacks to less specific rows."""

    def __init__(self, accounts: dict[tuple[str, str, str], GlAccount], source: str = "<memory>") -> None:
        self.source = source
        self._accounts = accounts
        missing = [entry for entry in ENTRY_TYPES if not any(key[0] == entry for key in accounts)]
        if missing:
            raise CsvError(f"{source}: no account for entry types {', '.join(missing)}; add a row for each")

    def account_for(self, entry_type: str, group: str = "", reason: str = "") -> GlAccount:
        """Return the accounts of an entry; raises CsvError when the mapping has no row that fits."""
        for key in ((entry_type, group, reason), (entry_type, group, ""), (entry_type, "", reason), (entry_type, "", "")):
            if key in self._accounts:
                return self._accounts[key]
        raise CsvError(
            f"{self.source}: no account for entry type {entry_type!r} with group {group!r} and reason {reason!r}; "
            f"add a row with entry_type {entry_type} and empty group_code and reason_code"
        )


def load_gl_mapping(path: str | Path | None = None) -> GlMapping:
    """Read the GL mapping CSV (the shipped default when ``path`` is None)."""
    path = Path(path) if path else DEFAULT_GL_PATH
    accounts: dict[tuple[str, str, str], GlAccount] = {}
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in GL_COLUMNS[:5] if c not in (reader.fieldnames or [])]
            if missing:
                raise CsvError(f"{path}: missing columns {', '.join(missing)}; the header must be {','.join(GL_COLUMNS)}")
            for row in reader:
                where = f"{path} line {reader.line_num}"
                entry = (row["entry_type"] or "").strip()
                if entry not in ENTRY_TYPES:
                    raise CsvError(f"{where}: entry_type {entry!r} is unknown; use one of {', '.join(ENTRY_TYPES)}")
                debit, credit = (row["debit_account"] or "").strip(), (row["credit_account"] or "").strip()
                if not debit or not credit:
                    raise CsvError(f"{where}: debit_account and credit_account are required")
                key = (entry, (row["group_code"] or "").strip(), (row["reason_code"] or "").strip())
                accounts[key] = GlAccount(debit, credit)
    except OSError as error:
        raise CsvError(f"{path}: cannot read the GL mapping: {error.strerror or error}") from error
    logger.info("loaded %d GL account rows from %s", len(accounts), path)
    return GlMapping(accounts, source=str(path))
