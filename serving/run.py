"""The main job: read documents, detect exceptions, triage them and store everything.

:func:`run_flow` reads as the list of steps it performs. Each document is stored in its own
transaction as soon as it is read, so a failure later in the run never leaves half a document
behind, and a document read before is recognised by its content hash and skipped.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from features.history import ExceptionHistory
from serving.model import TriageModel
from serving.routing import RoutingPolicy
from serving.triage import triage_exceptions
from workflow.flow import DetectionResult, ReadDocument, detect, iter_input_files, read_document
from workflow.records import (
    ClaimPayment,
    Document,
    ExceptionRecord,
    Finding,
    Payment,
    PredictionRecord,
    Severity,
    record_to_dict,
)
from workflow.remittance import ContractTable, GlMapping, Tolerance
from workflow.store import Store
from workflow.store.posting import (
    add_journal_lines,
    find_claim_details,
    find_claim_payment_refs,
    find_payer_claim_links,
    find_payment_keys,
    save_reconciliation,
)
from workflow.validation import RuleSet, load_rule_set

logger = logging.getLogger(__name__)

__all__ = ["RunSummary", "run_flow"]


@dataclass
class RunSummary:
    """What one run did, as counts a person can check against the input."""

    run_id: str
    documents_read: int = 0
    documents_skipped: int = 0
    documents_failed: list[Document] = field(default_factory=list)
    documents_with_errors: list[dict[str, object]] = field(default_factory=list)
    claims: int = 0
    claim_payments: int = 0
    payments: int = 0
    reading_findings: int = 0
    rule_findings: int = 0
    first_pass_rate: float | None = None
    exceptions_new: int = 0
    exceptions_by_kind: Counter[str] = field(default_factory=Counter)
    exceptions_by_type: Counter[str] = field(default_factory=Counter)
    exceptions_by_route: Counter[str] = field(default_factory=Counter)
    predictions: int = 0
    model_version: str | None = None
    claim_payments_posted: int = 0
    claim_payments_held: int = 0
    duplicate_remittances: int = 0
    journal_lines_new: int = 0
    auto_posting_rate: float | None = None
    imbalance_total: Decimal = Decimal("0")
    bpr_total: Decimal = Decimal("0")
    posted_total: Decimal = Decimal("0")

    @property
    def auto_route_rate(self) -> float | None:
        """Share of this run's predictions routed automatically."""
        return self.exceptions_by_route["auto"] / self.predictions if self.predictions else None

    @property
    def posting_variance(self) -> Decimal:
        """BPR total of this run's payments (re-sent ones left out) minus the cash posted."""
        return self.bpr_total - self.posted_total

    def to_dict(self) -> dict[str, object]:
        """The summary as JSON-ready values, for the run record and `--format json`."""
        return {
            "run_id": self.run_id,
            "documents_read": self.documents_read,
            "documents_skipped": self.documents_skipped,
            "documents_failed": [{"file": d.file, "error": d.error} for d in self.documents_failed],
            "documents_with_errors": self.documents_with_errors,
            "claims": self.claims,
            "claim_payments": self.claim_payments,
            "payments": self.payments,
            "reading_findings": self.reading_findings,
            "rule_findings": self.rule_findings,
            "first_pass_rate": self.first_pass_rate,
            "exceptions_new": self.exceptions_new,
            "exceptions_by_kind": dict(self.exceptions_by_kind),
            "exceptions_by_type": dict(self.exceptions_by_type),
            "exceptions_by_route": dict(self.exceptions_by_route),
            "predictions": self.predictions,
            "auto_route_rate": self.auto_route_rate,
            "model_version": self.model_version,
            "claim_payments_posted": self.claim_payments_posted,
            "claim_payments_held": self.claim_payments_held,
            "duplicate_remittances": self.duplicate_remittances,
            "journal_lines_new": self.journal_lines_new,
            "auto_posting_rate": self.auto_posting_rate,
            "imbalance_total": str(self.imbalance_total),
            "bpr_total": str(self.bpr_total),
            "posted_total": str(self.posted_total),
            "posting_variance": str(self.posting_variance),
        }


def _ingest(paths: Iterable[str | os.PathLike[str]], store: Store, run_id: str, summary: RunSummary,
            progress: Callable[[str], None] | None) -> list[ReadDocument]:
    """Read and store each document; return the ones that are new in this run."""
    new_documents = []
    for path in iter_input_files(paths):
        if progress:
            progress(str(path))
        read = read_document(path)
        if read.document.status == "failed":
            logger.warning("could not read %s: %s", path, read.document.error)
            store.record_failed_document(read.document, run_id=run_id)
            summary.documents_failed.append(read.document)
            continue
        if not store.save_document(read.document, read.records, run_id=run_id):
            logger.info("skipped document %s: it was ingested before", read.document.document_id[:12])
            summary.documents_skipped += 1
            continue
        summary.documents_read += 1
        new_documents.append(read)
        _note_reading_errors(read, summary)
    return new_documents


def _note_reading_errors(read: ReadDocument, summary: RunSummary) -> None:
    """Remember a document that was read but contains error findings (a truncated transaction, say)."""
    errors = [r for r in read.records if isinstance(r, Finding) and r.severity == Severity.ERROR]
    if errors:
        summary.documents_with_errors.append({
            "file": read.document.file,
            "errors": len(errors),
            "first_error": errors[0].message,
            "segment_index": errors[0].source.segment_index,
        })


def _stored_context(store: Store, documents: list[ReadDocument]) -> dict[str, Any]:
    """Load what this run's remittances need from earlier runs: claims, CLP07 links and payments.

    Records of this run's own documents are left out, because detection reads them itself.
    """
    run_documents = {d.document.document_id for d in documents}
    payments = [r for d in documents for r in d.records if isinstance(r, ClaimPayment)]
    headers = [r for d in documents for r in d.records if isinstance(r, Payment)]
    claim_ids = {payment.claim_id for payment in payments}

    claims = find_claim_details(store, claim_ids, {p.patient_id for p in payments if p.patient_id}, run_documents)
    known_claims: dict[str, list[object]] = {}
    for claim in claims:
        known_claims.setdefault(claim.claim_id, []).append(claim)
    return {
        "known_claims": known_claims,
        "payer_claim_links": find_payer_claim_links(store, {p.payer_claim_id for p in payments if p.payer_claim_id}, claims),
        "known_payments": find_payment_keys(store, {h.trace_number for h in headers if h.trace_number}, run_documents),
        "stored_payments": find_claim_payment_refs(store, claim_ids, run_documents),
    }


def _post_remittances(store: Store, result: DetectionResult, run_id: str, summary: RunSummary) -> None:
    """Store the match decisions and the new journal lines, and count what was posted."""
    reconciliation = result.reconciliation
    save_reconciliation(store, reconciliation, run_id=run_id)
    summary.journal_lines_new = add_journal_lines(store, reconciliation.journal_lines, run_id=run_id)
    summary.claim_payments_posted = reconciliation.posted_payments
    summary.claim_payments_held = len(reconciliation.outcomes) - reconciliation.posted_payments
    summary.duplicate_remittances = len(reconciliation.duplicates)
    summary.auto_posting_rate = reconciliation.auto_posting_rate
    summary.imbalance_total = reconciliation.imbalance_total
    summary.bpr_total = reconciliation.bpr_total
    summary.posted_total = reconciliation.posted_total


def store_history(store: Store, model: TriageModel, exceptions: Sequence[ExceptionRecord]) -> ExceptionHistory | None:
    """Index the bundle's history snapshot plus the stored exceptions of the window before this batch.

    History features (a payer's recent denial share, say) must count what happened before each
    exception, as in training. The store contains what happened since the bundle was built.
    """
    dates = [e.detected_on for e in exceptions if e.detected_on is not None]
    if not dates:
        return None
    base = model.spec.history.copy() if model.spec.history is not None else ExceptionHistory()
    first = min(dates) - dt.timedelta(days=base.window_days)
    stored = store.exceptions_detected_between(first, max(dates))
    base.add(record_to_dict(e) for e in stored)
    return base


def _count_predictions(summary: RunSummary, predictions: list[PredictionRecord]) -> None:
    summary.predictions = len(predictions)
    for prediction in predictions:
        summary.exceptions_by_type[prediction.predicted_type] += 1
        summary.exceptions_by_route[prediction.route] += 1


def run_flow(
    paths: Iterable[str | os.PathLike[str]],
    *,
    store: Store,
    model: TriageModel,
    rule_set: RuleSet | None = None,
    policy: RoutingPolicy | None = None,
    as_of: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
    contracts: ContractTable | None = None,
    tolerance: Tolerance | None = None,
    gl: GlMapping | None = None,
) -> RunSummary:
    """Run the whole flow over files and folders and return the summary.

    ``contracts`` enables the underpayment check, ``tolerance`` sets how far below contract a
    payment may fall, and ``gl`` maps journal entries to accounts (the shipped mapping by default).
    """
    rule_set = rule_set or load_rule_set()
    as_of = as_of or dt.date.today()
    run_id = store.start_run()
    summary = RunSummary(run_id=run_id, model_version=model.version)

    documents = _ingest(paths, store, run_id, summary, progress)
    result = detect(documents=documents, rule_set=rule_set, as_of=as_of, contracts=contracts,
                    tolerance=tolerance, gl=gl, **_stored_context(store, documents))
    summary.claims = len(result.claims)
    summary.claim_payments = len(result.claim_payments)
    summary.payments = len(result.payments)
    summary.reading_findings = sum(1 for f in result.reading_findings if f.severity != Severity.INFO)
    summary.rule_findings = len(result.rule_findings)
    summary.first_pass_rate = result.first_pass_rate

    summary.exceptions_new = store.add_exceptions(result.exceptions, run_id=run_id)
    summary.exceptions_by_kind.update(e.kind for e in result.exceptions)
    _post_remittances(store, result, run_id, summary)

    if progress:
        progress(f"triaging {len(result.exceptions)} exceptions")
    history = store_history(store, model, result.exceptions)
    predictions = triage_exceptions(result.exceptions, model, policy=policy, run_id=run_id, history=history)
    store.add_predictions(predictions)
    _count_predictions(summary, predictions)

    kpis: dict[str, float | None] = {
        "auto_route_rate": summary.auto_route_rate,
        "auto_posting_rate": summary.auto_posting_rate,
        "first_pass_validation_rate": summary.first_pass_rate,
    }
    if result.claim_payments or result.payments:
        kpis["reconciliation_imbalance_total"] = float(summary.imbalance_total)
        kpis["reconciliation_posting_variance"] = float(summary.posting_variance)
    store.record_kpis(run_id, {k: v for k, v in kpis.items() if v is not None})
    store.finish_run(run_id, summary.to_dict())
    return summary
