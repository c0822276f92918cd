"""Read typed values out of an exception's JSON form (the shape ``record_to_dict`` produces).

The feature pipeline and the history index both read the same fields, so they share these readers:
a money string becomes a float for the model, an ISO date string becomes a date, and the
adjustments come back largest first.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["adjustments_by_size", "first_value", "primary_carc", "to_date", "to_float"]


def to_float(value: Any) -> float:
    """Convert a decimal string or number to float; missing or unreadable values become NaN."""
    # A batch of 1,000 converts some 30,000 values, so common inputs skip Decimal. A float comes
    # back as the Decimal round trip would return it. A string that float() reads gets the same
    # correctly rounded value as through Decimal. Anything else takes the Decimal path.
    if type(value) is float:
        return value
    if value is None or value == "":
        return float("nan")
    if type(value) is str:
        try:
            return float(value)
        except ValueError:
            pass
    try:
        return float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return float("nan")


def to_date(value: Any) -> dt.date | None:
    """Convert an ISO date string (or a date) to a date; missing or unreadable values become None."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def first_value(values: Sequence[Any] | None) -> str | None:
    """Return the first element as a string, or None for an empty or missing list."""
    return str(values[0]) if values else None


def adjustments_by_size(payload: Mapping[str, Any]) -> list[tuple[str, str, float]]:
    """Return (group, reason, amount) of every adjustment, the largest absolute amount first.

    The evidence of a payment exception lists every CAS triplet with its amount. When it does not,
    the group and reason code lists of the exception stand in, with unknown amounts, in their order.
    An entry without a reason code is left out, so a caller's partial adjustments do not hide the
    codes it sent in the lists.
    """
    evidence = payload.get("evidence") or {}
    adjustments = evidence.get("adjustments") or [] if isinstance(evidence, Mapping) else []
    triplets = [
        (str(adj.get("group", "")), str(adj["reason"]), to_float(adj.get("amount")))
        for adj in adjustments
        if isinstance(adj, Mapping) and adj.get("reason") not in (None, "")
    ]
    if not triplets:
        groups = payload.get("group_codes") or []
        reasons = payload.get("carc_codes") or []
        triplets = [(str(g), str(r), float("nan")) for g, r in zip(groups, reasons, strict=False)]
    return sorted(triplets, key=lambda t: -abs(t[2]) if not math.isnan(t[2]) else 0.0)


def primary_carc(payload: Mapping[str, Any]) -> str | None:
    """Return the adjustment reason code (CARC) with the largest amount, or None without adjustments."""
    adjustments = adjustments_by_size(payload)
    return adjustments[0][1] if adjustments else None
