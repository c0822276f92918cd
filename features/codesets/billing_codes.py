"""Place of service and type of bill code sets, with the dates each code is valid on.

Both tables are the project's own CSV files (code, short name, effective and end date). An
operator can add or correct codes with a file of the same name in the overlay folder.
"""

from __future__ import annotations

import datetime as dt
import functools

from features.codesets._tables import DatedCode, codesets_dir, load_dated_codes


def place_of_service(code: str) -> DatedCode | None:
    """Look up a two-digit CMS place of service code; return None when the code does not exist."""
    return _table("place_of_service.csv", str(codesets_dir())).get(code.strip())


def type_of_bill(code: str) -> DatedCode | None:
    """Look up the first two digits of a type of bill (facility type and classification).

    A leading zero, as in ``0131``, and a trailing frequency digit are ignored, so ``13``,
    ``131`` and ``0131`` all look up ``13``.
    """
    digits = code.strip().lstrip("0")[:2]
    return _table("type_of_bill.csv", str(codesets_dir())).get(digits)


def is_code_effective(entry: DatedCode | None, on: dt.date | None) -> bool:
    """Tell whether a looked-up code exists and is valid on ``on``."""
    return entry is not None and entry.is_effective(on)


@functools.lru_cache(maxsize=8)
def _table(name: str, overlay_dir: str) -> dict[str, DatedCode]:
    # overlay_dir is part of the cache key so that a changed TRIAGE_CODESETS_DIR is seen.
    return load_dated_codes(name)
