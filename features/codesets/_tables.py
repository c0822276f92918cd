"""Shared plumbing for the code sets: where the data lives and how a CSV table is read.

Two folders feed every table. The shipped folder ``features/codesets/data`` contains the project's
own files. The overlay folder (``TRIAGE_CODESETS_DIR``, default ``./var/codesets``) contains what an
operator imported or edited, and a file there with the same name as a shipped file adds rows to it
or replaces rows with the same key.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from workflow.errors import CsvError

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
"""Folder of the code-set files shipped with the project."""

CODESETS_DIR_ENV = "TRIAGE_CODESETS_DIR"
DEFAULT_CODESETS_DIR = Path("var/codesets")


def codesets_dir() -> Path:
    """Return the operator's overlay folder: ``TRIAGE_CODESETS_DIR`` or ``./var/codesets``."""
    configured = os.environ.get(CODESETS_DIR_ENV)
    return Path(configured) if configured else DEFAULT_CODESETS_DIR


@dataclass(frozen=True, slots=True)
class DatedCode:
    """One code of a dated code set with a short name and the days it is valid on (inclusive)."""

    code: str
    name: str
    effective_date: dt.date | None = None
    end_date: dt.date | None = None

    def is_effective(self, on: dt.date | None) -> bool:
        """Tell whether the code is valid on ``on``; with no date, any code in the table counts."""
        if on is None:
            return True
        if self.effective_date is not None and on < self.effective_date:
            return False
        return self.end_date is None or on <= self.end_date


def parse_optional_date(text: str | None, *, path: Path, line: int, column: str) -> dt.date | None:
    """Parse an ISO date cell, or return None for an empty one."""
    text = (text or "").strip()
    if not text:
        return None

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CsvError(
            f"{path}, line {line}: invalid date {text!r} in column {column!r}; "
            "write dates as YYYY-MM-DD or leave the cell empty"
        ) from None


def read_rows(path: Path, required_columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line_number, row)`` for each row of a CSV file, after checking its header."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [column for column in required_columns if column not in header]
        if missing:
            raise CsvError(
                f"{path}: missing column(s) {', '.join(missing)}; "
                f"the header must contain {', '.join(required_columns)}"
            )

        for row in reader:
            yield reader.line_num, {key: (value or "").strip() for key, value in row.items() if key}


def table_paths(name: str) -> list[Path]:
    """Return the shipped file ``name`` and, when it exists, the operator's file of that name."""
    paths = [DATA_DIR / name]
    overlay = codesets_dir() / name
    if overlay.is_file():
        paths.append(overlay)
    return paths


def load_dated_codes(name: str) -> dict[str, DatedCode]:
    """Load a ``code,name,effective_date,end_date`` table; overlay rows replace shipped ones."""
    codes: dict[str, DatedCode] = {}
    for path in table_paths(name):
        for line, row in read_rows(path, ("code", "name", "effective_date", "end_date")):
            codes[row["code"]] = DatedCode(
                code=row["code"],
                name=row["name"],
                effective_date=parse_optional_date(row["effective_date"], path=path, line=line, column="effective_date"),
                end_date=parse_optional_date(row["end_date"], path=path, line=line, column="end_date"),
            )

    logger.debug("loaded %d codes from %s", len(codes), name)
    return codes
