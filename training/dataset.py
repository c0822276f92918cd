"""Build labelled training data by running the real detection flow over simulated documents.

The simulator writes 837 and 835 files and a truth table of what it injected. This module reads
those files with the same reader, rules and matcher as production input, then joins each
exception to the truth row that caused it. An exception the simulator did not cause (a rule that
fired on an innocent claim, say) has no label and is left out of training, and counted.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from training.invoices import generate_invoices
from workflow.flow import detect
from workflow.remittance import load_contracts
from workflow.records import ExceptionRecord, record_to_dict
from workflow.validation import load_rule_set

logger = logging.getLogger(__name__)

__all__ = [
    "LabelledData",
    "VALIDATION_EVENTS",
    "build_labelled_data",
    "combine_labelled_data",
    "label_exceptions",
    "label_invoice_exceptions",
    "labelled_data_from_store",
    "simulate_labelled_data",
]

# Simulator events that a claim validation rule catches before submission; every other event
# shows up in a remittance.
VALIDATION_EVENTS = frozenset({"invalid_npi", "total_mismatch", "future_service_date", "invalid_icd"})
LABEL_COLUMNS = ("root_cause", "priority", "resolution")
INVOICE_KINDS = frozenset({"invoice_mismatch", "extraction"})
INVOICES_PER_MONTH = 40
# The simulator names one payer kind differently from the code sets.
SIMULATOR_PAYER_KINDS = {"managed_medicaid": "medicaid_managed_care"}


@dataclass
class LabelledData:
    """Exceptions in JSON form with their true labels, ordered by detection date."""

    frame: pd.DataFrame
    unlabelled: int
    ceiling: dict[str, Any]
    payer_kinds: dict[str, str] = field(default_factory=dict)
    sources: dict[str, int] = field(default_factory=dict)

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


def _invoice_labels(exception: ExceptionRecord) -> dict[str, str]:
    """The type, priority and resolution a buyer would give an invoice or extraction exception.

    NOTE: these labels are rules of thumb of our own, not figures from a published source. The
    resolution depends on the amount as well as the finding, so no label follows from one field.
    """
    amount = float(exception.amount_at_risk)
    priority = "low"
    for floor, level in ((5000, "critical"), (1000, "high"), (100, "normal")):
        if amount >= floor:
            priority = level
            break
    code = exception.code
    if code.startswith("pdf."):
        return {"type": "extraction_failure", "priority": priority, "resolution": "manual_keying"}
    if code == "invoice.duplicate":
        return {"type": "duplicate", "priority": priority, "resolution": "void_duplicate"}
    small = amount < 50
    if code == "invoice.price_over_po":
        resolution = "approve_variance" if small else "request_vendor_credit"
    elif code == "invoice.qty_over_received":
        resolution = "request_vendor_credit"
    else:
        resolution = "approve_variance" if amount < 500 else "request_vendor_credit"
    return {"type": "invoice_mismatch", "priority": priority, "resolution": resolution}


def label_invoice_exceptions(exceptions: Sequence[ExceptionRecord]) -> pd.DataFrame:
    """Label the invoice and extraction exceptions of a generated invoice folder."""
    rows = [
        {"exception_id": e.exception_id, "detected_on": e.detected_on, "payload": record_to_dict(e),
         **_invoice_labels(e), "event": e.code}
        for e in exceptions if e.kind in INVOICE_KINDS
    ]
    return pd.DataFrame(rows)


def _simulated_inputs(simulation_dir: Path) -> list[Path]:
    # The simulator's truth, ceiling and contract files sit beside the documents; only the
    # document folders go through detection.
    folders = [simulation_dir / name for name in ("claims", "remittances", "invoices")]
    return [folder for folder in folders if folder.is_dir()]


def build_labelled_data(simulation_dir: Path, truth: pd.DataFrame, ceiling: dict[str, Any] | None = None,
                        as_of: dt.date | None = None) -> LabelledData:
    """Detect exceptions in a simulated folder and label them from the simulator's truth."""
    rule_set = load_rule_set()
    as_of = as_of or _latest_date(truth)
    contracts_path = simulation_dir / "contracts.csv"
    contracts = load_contracts(contracts_path) if contracts_path.is_file() else None
    result = detect(_simulated_inputs(simulation_dir), rule_set=rule_set, as_of=as_of, contracts=contracts)
    claim_exceptions = [e for e in result.exceptions if e.kind not in INVOICE_KINDS]
    frame, unlabelled = label_exceptions(claim_exceptions, truth)
    invoice_frame = label_invoice_exceptions(result.exceptions)
    if not invoice_frame.empty:
        frame = pd.concat([frame, invoice_frame], ignore_index=True)
        frame = frame.sort_values(["detected_on", "exception_id"], kind="stable").reset_index(drop=True)
    logger.info(
        "labelled %d of %d exceptions (%d had no simulator cause)",
        len(frame), len(result.exceptions), unlabelled,
    )
    if not frame.empty:
        frame["source"] = "simulated"
    return LabelledData(frame=frame, unlabelled=unlabelled, ceiling=ceiling or {},
                        payer_kinds=payer_kinds_from_truth(truth), sources={"simulated": len(frame)})


def payer_kinds_from_truth(truth: pd.DataFrame) -> dict[str, str]:
    """Map each simulated payer id to its payer kind, in the names of ``features.codesets.PAYER_KINDS``."""
    if truth.empty or "payer_kind" not in truth:
        return {}
    pairs = truth[["payer_id", "payer_kind"]].drop_duplicates()
    return {str(row.payer_id): SIMULATOR_PAYER_KINDS.get(str(row.payer_kind), str(row.payer_kind))
            for row in pairs.itertuples(index=False)}


def _latest_date(truth: pd.DataFrame) -> dt.date:
    if "service_date" in truth and len(truth):
        latest = pd.to_datetime(truth["service_date"]).max()
        return (latest + pd.Timedelta(days=60)).date()
    return dt.date.today()


class LabelledExceptionSource(Protocol):
    """Anything that lists reviewed exceptions, such as ``workflow.store.Store``."""

    def labelled_exceptions(self) -> list[dict[str, Any]]:
        """Return each decided exception (``exception``, ``type``, ``priority``, ``resolution``, ``decided_at``)."""
        ...


def labelled_data_from_store(store: LabelledExceptionSource) -> LabelledData:
    """Turn reviewer decisions into labelled exceptions, ordered by detection date.

    A decision without all three labels cannot train every head, so it is skipped and counted in
    ``unlabelled``. The label sets are the reviewer's: a label outside the taxonomy is kept, and a
    head only predicts labels that occur in its training period.
    """
    rows = []
    unlabelled = 0
    for item in store.labelled_exceptions():
        payload = item.get("exception") or {}
        labels = {head: item.get(head) for head in ("type", "priority", "resolution")}
        detected_on = _payload_date(payload)
        if any(value in (None, "") for value in labels.values()) or detected_on is None:
            unlabelled += 1
            continue
        rows.append({
            "exception_id": payload.get("exception_id"),
            "detected_on": detected_on,
            "payload": payload,
            **labels,
            "event": None,
            "source": "reviewed",
        })
    frame = _sorted_frame(rows)
    logger.info("read %d reviewed exceptions from the store (%d without every label)", len(frame), unlabelled)
    return LabelledData(frame=frame, unlabelled=unlabelled, ceiling={}, sources={"reviewed": len(frame)})


def combine_labelled_data(*parts: LabelledData) -> LabelledData:
    """Merge labelled sets into one, ordered by detection date; the first part's ceiling is kept."""
    frames = [part.frame for part in parts if not part.frame.empty]
    frame = _sorted_frame(pd.concat(frames, ignore_index=True).to_dict(orient="records")) if frames else pd.DataFrame()
    sources: dict[str, int] = {}
    payer_kinds: dict[str, str] = {}
    for part in parts:
        payer_kinds.update(part.payer_kinds)
        for name, count in part.sources.items():
            sources[name] = sources.get(name, 0) + count
    return LabelledData(frame=frame, unlabelled=sum(part.unlabelled for part in parts),
                        ceiling=next((part.ceiling for part in parts if part.ceiling), {}),
                        payer_kinds=payer_kinds, sources=sources)


def _payload_date(payload: dict[str, Any]) -> dt.date | None:
    value = payload.get("detected_on")
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _sorted_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    return frame.sort_values(["detected_on", "exception_id"], kind="stable").reset_index(drop=True)


def simulate_labelled_data(seed: int, start: dt.date, months: int, claims_per_month: int,
                           update: Callable[[str], None] | None = None) -> LabelledData:
    """Simulate a history in a temporary folder and label its exceptions from the simulator's truth."""
    from training.simulator import SimulationConfig, simulate

    config = SimulationConfig(seed=seed, start=start, months=months, claims_per_month=claims_per_month)
    with tempfile.TemporaryDirectory(prefix="triage-sim-") as folder:
        if update:
            update("simulating the history")
        simulation = simulate(config, Path(folder))
        generate_invoices(Path(folder) / "invoices", count=INVOICES_PER_MONTH * months, seed=seed, start=start,
                          days=30 * months)
        if update:
            update("detecting exceptions in the simulated documents")
        return build_labelled_data(Path(folder), simulation.truth, simulation.ceiling)
