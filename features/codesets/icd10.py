"""ICD-10-CM diagnosis codes: is a code billable, a header (a category with children) or unknown.

The default source is the ``simple_icd_10_cm`` package (MIT), which ships one release of the
code set: 1.5.0 holds the April 1 2026 release. An operator can add dated releases by importing
the CMS "order" file of a release (``triage codesets import FILE --kind icd10cm --effective-from
2025-10-01``). :func:`icd10_status` then uses the newest imported release that is in
effect on the date of service, and from the package when no imported release covers that date.
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

from features.codesets._tables import DATA_DIR, codesets_dir, read_rows
from workflow.errors import InputError

logger = logging.getLogger(__name__)

Icd10Status = Literal["billable", "header", "unknown"]

ICD10_RELEASES_FOLDER = "icd10cm"
_RELEASE_FILE = re.compile(r"^icd10cm_(\d{4}-\d{2}-\d{2})\.csv$")
_ORDER_LINE = re.compile(r"^\s*\d{1,5}\s+([A-Z][0-9][0-9A-Z]{1,5})\s+([01])\s")


def normalize_icd10(code: str) -> str:
    """Return the code in claim form: upper case, no dot, no surrounding spaces."""
    return code.strip().replace(".", "").upper()


def icd10_status(code: str, on: dt.date | None = None) -> Icd10Status:
    """Classify an ICD-10-CM code as ``billable``, ``header`` or ``unknown``.

    Dots are optional (``E11.9`` and ``E119`` are the same code).
    """
    normalized = normalize_icd10(code)
    if not normalized:
        return "unknown"

    # NOTE: without an imported dated release, "valid on the date of service" is checked
    # against the single release inside simple_icd_10_cm, whatever the date is.
    release = _release_for(on, str(codesets_dir()))
    if release is not None:
        return release.get(normalized, "unknown")

    return _package_status(normalized)


@functools.lru_cache(maxsize=65536)
def _package_status(code: str) -> Icd10Status:
    icd = _package()
    # is_valid_item also accepts chapter numbers and block ranges such as "A00-A09", which are
    # never valid on a claim, so only categories and subcategories count.
    if not icd.is_valid_item(code) or not icd.is_category_or_subcategory(code):
        return "unknown"
    return "billable" if icd.is_leaf(code) else "header"


@functools.lru_cache(maxsize=1)
def _package():  # type: ignore[no-untyped-def]
    # Importing the package parses its XML (about 2 seconds), so it is deferred to the first lookup.
    import simple_icd_10_cm

    return simple_icd_10_cm


def _release_for(on: dt.date | None, overlay_dir: str) -> dict[str, Icd10Status] | None:
    if on is None:
        return None

    in_effect = [effective for effective in _release_dates(overlay_dir) if effective <= on]
    if not in_effect:
        return None
    return _load_release(overlay_dir, max(in_effect))


@functools.lru_cache(maxsize=8)
def _release_dates(overlay_dir: str) -> tuple[dt.date, ...]:
    folder = Path(overlay_dir) / ICD10_RELEASES_FOLDER
    if not folder.is_dir():
        return ()

    dates = []
    for path in folder.iterdir():
        match = _RELEASE_FILE.match(path.name)
        if match:
            dates.append(dt.date.fromisoformat(match.group(1)))
    return tuple(sorted(dates))


@functools.lru_cache(maxsize=4)
def _load_release(overlay_dir: str, effective_from: dt.date) -> dict[str, Icd10Status]:
    path = Path(overlay_dir) / ICD10_RELEASES_FOLDER / f"icd10cm_{effective_from.isoformat()}.csv"
    release: dict[str, Icd10Status] = {}
    for _, row in read_rows(path, ("code", "billable")):
        release[row["code"]] = "billable" if row["billable"] == "Y" else "header"

    logger.info("loaded ICD-10-CM release %s with %d codes", effective_from, len(release))
    return release


def import_icd10_order_file(path: Path, effective_from: dt.date, target_dir: Path | None = None) -> Path:
    """Convert a CMS ICD-10-CM order file into a dated release in the overlay folder.

    The order file (``icd10cm_order_YYYY.txt``) has one code per line: an order number, the code
    without a dot, a header flag (0 = header, 1 = billable) and the descriptions. Only the code
    and the flag are kept. Returns the path of the written release.
    """
    rows: list[tuple[str, str]] = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            match = _ORDER_LINE.match(line)
            if match is None:
                raise InputError(
                    f"{path}, line {line_number}: not an ICD-10-CM order file line: {line[:40]!r}; "
                    "expected an order number, a code without a dot and a 0/1 header flag"
                )
            rows.append((match.group(1), "Y" if match.group(2) == "1" else "N"))

    if not rows:
        raise InputError(f"{path}: no ICD-10-CM codes found; expected a CMS order file")

    folder = (target_dir or codesets_dir()) / ICD10_RELEASES_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"icd10cm_{effective_from.isoformat()}.csv"
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code", "billable"])
        writer.writerows(rows)

    _release_dates.cache_clear()
    _load_release.cache_clear()
    logger.info("imported %d ICD-10-CM codes effective %s into %s", len(rows), effective_from, target)
    return target


@dataclass(frozen=True, slots=True)
class DemographicEdit:
    """A range of diagnosis categories that fits only one sex or an age band (ages in whole years)."""

    code_from: str
    code_to: str
    sex: str | None
    min_age_years: int | None
    max_age_years: int | None
    note: str

    def covers(self, code: str) -> bool:
        """Tell whether the code's three-character category falls inside the range."""
        category = normalize_icd10(code)[:3]
        return self.code_from <= category <= self.code_to


def demographic_edits_for(code: str) -> list[DemographicEdit]:
    """Return the sex and age edits whose category range contains ``code``."""
    return [edit for edit in _demographic_edits() if edit.covers(code)]


@functools.lru_cache(maxsize=1)
def _demographic_edits() -> tuple[DemographicEdit, ...]:
    path = DATA_DIR / "diagnosis_demographics.csv"
    columns = ("code_from", "code_to", "sex", "min_age_years", "max_age_years", "note")
    edits = []
    for _, row in read_rows(path, columns):
        edits.append(
            DemographicEdit(
                code_from=row["code_from"],
                code_to=row["code_to"],
                sex=row["sex"] or None,
                min_age_years=int(row["min_age_years"]) if row["min_age_years"] else None,
                max_age_years=int(row["max_age_years"]) if row["max_age_years"] else None,
                note=row["note"],
            )
        )
    return tuple(edits)
