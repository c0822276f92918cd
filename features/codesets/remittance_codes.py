"""Claim adjustment reason codes (CARC) and remittance advice remark codes (RARC).

X12 maintains both lists and does not license their text for redistribution, so the project
ships only its own map from code to a triage category with a short wording of its own
(``data/carc_categories.csv``, ``data/rarc_categories.csv``). An operator who holds the official
lists can import them (:func:`import_official_codes`, ``triage codesets import``) into the overlay
folder, and lookups then also return the official description and start and stop dates.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from features.codesets._tables import DATA_DIR, codesets_dir, parse_optional_date, read_rows
from workflow.errors import CsvError

logger = logging.getLogger(__name__)

CodeKind = Literal["carc", "rarc"]

OTHER_CATEGORY = "other"
"""Category of a code that appears only in the imported official list, because the project has not mapped it."""

_HEADER_ALIASES = {
    "code": ("code", "carc", "rarc", "reason_code", "remark_code"),
    "description": ("description", "desc", "text"),
    "start_date": ("start_date", "start", "effective_date"),
    "stop_date": ("stop_date", "stop", "end_date", "deactivation_date"),
}


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """The project's category and wording for one CARC or RARC, with official details when imported.

    ``category`` is an exception type from :mod:`workflow.taxonomy` or ``contractual``,
    ``patient_responsibility`` or ``other``. ``wording`` is the project's own short phrase.
    ``description``, ``start_date`` and ``stop_date`` come from an imported official list and are
    None without one.
    """

    code: str
    kind: CodeKind
    category: str
    wording: str
    description: str | None = None
    start_date: dt.date | None = None
    stop_date: dt.date | None = None

    def is_active(self, on: dt.date) -> bool:
        """Tell whether the code may be used on ``on``; without official dates it counts as active."""
        if self.start_date is not None and on < self.start_date:
            return False
        return self.stop_date is None or on < self.stop_date


@dataclass(frozen=True, slots=True)
class _OfficialEntry:
    description: str
    start_date: dt.date | None
    stop_date: dt.date | None


def carc_category(code: str) -> CodeInfo | None:
    """Look up a claim adjustment reason code; return None for a code neither mapped nor imported."""
    return _lookup("carc", code)


def rarc_category(code: str) -> CodeInfo | None:
    """Look up a remittance advice remark code; return None for a code neither mapped nor imported."""
    return _lookup("rarc", code)


def shipped_carc_category(code: str) -> str | None:
    """Return the category our shipped map gives a CARC, ignoring any imported official list.

    Model features read this, so importing the official lists changes descriptions a reviewer
    sees but never the inputs of a model trained before the import.
    """
    shipped = _shipped_map("carc").get(code.strip().upper())
    return shipped[0] if shipped is not None else None


def _lookup(kind: CodeKind, code: str) -> CodeInfo | None:
    normalized = code.strip().upper()
    shipped = _shipped_map(kind).get(normalized)
    official = _official_map(kind, str(codesets_dir())).get(normalized)
    if shipped is None and official is None:
        return None

    category, wording = shipped if shipped is not None else (OTHER_CATEGORY, "")
    if official is None:
        return CodeInfo(code=normalized, kind=kind, category=category, wording=wording)

    return CodeInfo(
        code=normalized,
        kind=kind,
        category=category,
        wording=wording,
        description=official.description,
        start_date=official.start_date,
        stop_date=official.stop_date,
    )


@functools.lru_cache(maxsize=2)
def _shipped_map(kind: CodeKind) -> dict[str, tuple[str, str]]:
    path = DATA_DIR / f"{kind}_categories.csv"
    return {row["code"].upper(): (row["category"], row["wording"]) for _, row in read_rows(path, ("code", "category", "wording"))}


def _official_path(kind: CodeKind, overlay_dir: Path) -> Path:
    return overlay_dir / f"{kind}_official.csv"


@functools.lru_cache(maxsize=8)
def _official_map(kind: CodeKind, overlay_dir: str) -> dict[str, _OfficialEntry]:
    path = _official_path(kind, Path(overlay_dir))
    if not path.is_file():
        return {}

    entries = {}
    for line, row in read_rows(path, ("code", "description", "start_date", "stop_date")):
        entries[row["code"].upper()] = _OfficialEntry(
            description=row["description"],
            start_date=parse_optional_date(row["start_date"], path=path, line=line, column="start_date"),
            stop_date=parse_optional_date(row["stop_date"], path=path, line=line, column="stop_date"),
        )
    return entries


def import_official_codes(path: Path, kind: CodeKind, target_dir: Path | None = None) -> tuple[Path, int]:
    """Copy an official CARC or RARC list into the overlay folder as ``<kind>_official.csv``.

    The input is a CSV, or a TSV when the name ends in ``.tsv`` or ``.txt``, with a header naming
    at least the code and description columns (start and stop dates are optional). Returns the
    written path and the number of codes.
    """
    rows = list(_read_official_rows(path))
    if not rows:
        raise CsvError(f"{path}: no codes found; expected a header row and one code per line")
    _check_code_kind(path, kind, [row["code"] for row in rows])

    overlay_dir = target_dir or codesets_dir()
    overlay_dir.mkdir(parents=True, exist_ok=True)
    target = _official_path(kind, overlay_dir)
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["code", "description", "start_date", "stop_date"])
        writer.writeheader()
        writer.writerows(rows)

    _official_map.cache_clear()
    unmapped = sum(1 for row in rows if row["code"].upper() not in _shipped_map(kind))
    logger.info("imported %d %s codes into %s (%d without a project category)", len(rows), kind, target, unmapped)
    return target, len(rows)


REMARK_CODE = re.compile(r"^(?:M|N|MA)\d+$", re.IGNORECASE)


def _check_code_kind(path: Path, kind: CodeKind, codes: list[str]) -> None:
    """Reject a RARC list imported as CARCs, or the reverse, by the shape of its codes.

    Remark codes start with M, N or MA followed by digits; adjustment reason codes are numbers or
    a letter and digits such as B7 or P1, never of that shape.
    """
    remark_share = sum(1 for code in codes if REMARK_CODE.match(code.strip())) / len(codes)
    if kind == "carc" and remark_share > 0.5:
        raise CsvError(f"{path}: {remark_share:.0%} of the codes look like remark codes (M, N or MA and digits); "
                       "import this file with --kind rarc")
    if kind == "rarc" and remark_share < 0.5:
        raise CsvError(f"{path}: only {remark_share:.0%} of the codes look like remark codes (M, N or MA and digits); "
                       "import this file with --kind carc")


def _read_official_rows(path: Path) -> list[dict[str, str]]:
    tab_separated = path.suffix.lower() in {".tsv", ".txt"}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        if tab_separated:
            reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        else:
            reader = csv.reader(handle)
        header = [cell.strip().lower() for cell in next(reader, [])]
        positions = _column_positions(path, header)

        rows = []
        for line_number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            row = {name: _cell(cells, index) for name, index in positions.items()}
            if not row["code"]:
                raise CsvError(f"{path}, line {line_number}: empty code; every row needs a code in the first column")
            for column in ("start_date", "stop_date"):
                parse_optional_date(row[column], path=path, line=line_number, column=column)
            rows.append(row)
    return rows


def _column_positions(path: Path, header: list[str]) -> dict[str, int | None]:
    positions: dict[str, int | None] = {}
    for name, aliases in _HEADER_ALIASES.items():
        positions[name] = next((header.index(alias) for alias in aliases if alias in header), None)

    if positions["code"] is None or positions["description"] is None:
        raise CsvError(
            f"{path}: header {header!r} lacks a code or description column; "
            "name them 'code' and 'description' (optionally 'start_date' and 'stop_date')"
        )
    return positions


def _cell(cells: list[str], index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    return cells[index].strip()
