"""Build labelled training data by running the real detection flow over simulated documents.

The simulator writes 837 and 835 files and a truth table of what it injected. This module reads
those files with the same reader, rules and matcher as production input, then joins each
exception to the truth row that caused it. An exception the simulator did not cause (a rule that
fired on an innocent claim, say) has no label and is left out of training, and counted.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from workflow.flow import detect
from workflow.records import ExceptionRecord, record_to_dict
from workflow.validation import load_rule_set

logger = logging.getLogger(__name__)

__all__ = ["LabelledData", "VALIDATION_EVENTS", "build_labelled_data", "label_exceptions"]

# Simulator events that a claim validation rule catches before submission; every other event
# shows up in a remittance.
VALIDATION_EVENTS = frozenset({"invalid_npi", "total_mismatch", "future_service_date", "invalid_icd"})
LABEL_COLUMNS = ("root_cause", "priority", "resolution")


@dataclass
class LabelledData:
    """Exceptions in JSON form with their true labels, ordered by detection date."""

    frame: pd.DataFrame
    unlabelled: int
    ceiling: dict[str, Any]

    @property
    def payloads(self) -> list[dict[str, Any]]:
        """The exceptions in the JSON form that the feature pipeline reads."""
        return list(self.frame["payload"])


def _truth_by_claim(truth: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    index: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in truth.to_dict(orient="records"):
        index[str(row["claim_id"])].append(row)
    return index


def _pick_truth(exception: ExceptionRecord, rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    if not rows:
        return None
    wants_validation = exception.kind == "validation"
    compatible = [r for r in rows if (str(r.get("event")) in VALIDATION_EVENTS) == wants_validation]
    if compatible:
        return compatible[0]
    return rows[0] if len(rows) == 1 else None


def label_exceptions(exceptions: Sequence[ExceptionRecord], truth: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Join exceptions to the truth table; return the labelled frame and the unlabelled count."""
    index = _truth_by_claim(truth)
    rows = []
    unlabelled = 0
    for exception in exceptions:
        row = _pick_truth(exception, index.get(exception.claim_id or "", []))
        if row is None:
            unlabelled += 1
            continue
        rows.append({
            "exception_id": exception.exception_id,
            "detected_on": exception.detected_on,
            "payload": record_to_dict(exception),
            "type": row["root_cause"],
            "priority": row["priority"],
            "resolution": row["resolution"],
            "event": row.get("event"),
        })
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame = frame.sort_values(["detected_on", "exception_id"], kind="stable").reset_index(drop=True)
    return frame, unlabelled


def build_labelled_data(simulation_dir: Path, truth: pd.DataFrame, ceiling: dict[str, Any] | None = None,
                        as_of: dt.date | None = None) -> LabelledData:
    """Detect exceptions in a simulated folder and label them from the simulator's truth."""
    rule_set = load_rule_set()
    as_of = as_of or _latest_date(truth)
    result = detect([simulation_dir], rule_set=rule_set, as_of=as_of)
    frame, unlabelled = label_exceptions(result.exceptions, truth)
    logger.info(
        "labelled %d of %d exceptions (%d had no simulator cause)",
        len(frame), len(result.exceptions), unlabelled,
    )
    return LabelledData(frame=frame, unlabelled=unlabelled, ceiling=ceiling or {})


def _latest_date(truth: pd.DataFrame) -> dt.date:
    if "service_date" in truth and len(truth):
        latest = pd.to_datetime(truth["service_date"]).max()
        return (latest + pd.Timedelta(days=60)).date()
    return dt.date.today()
