"""Store access for remittance reconciliation: what matching needs from earlier runs, and the outbox.

These are functions that take a :class:`~workflow.store.Store`, so the store class stays small;
each runs in its own transaction like the Store methods do.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import os
import tempfile
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workflow.errors import StoreError
from workflow.records import Claim
from workflow.remittance.classify import PaymentRef
from workflow.remittance.duplicates import PaymentKey
from workflow.remittance.posting import JournalLine
from workflow.remittance.reconcile import PaymentOutcome, Reconciliation
from workflow.store import queries
from workflow.store.models import ClaimPaymentRow, ClaimRow, PaymentRow
from workflow.store.models_posting import JournalLineRow, PostingExportRow, RemittanceLineMatchRow, RemittanceMatchRow
from workflow.store.store import ClaimPaymentMatch, Store
from workflow.store.types import utc_now

logger = logging.getLogger(__name__)

__all__ = [
    "EXPORT_COLUMNS",
    "ExportResult",
    "StoredClaimDetail",
    "StoredLine",
    "add_journal_lines",
    "export_postings",
    "find_claim_details",
    "find_claim_payment_refs",
    "find_payer_claim_links",
    "find_payment_keys",
    "journal_line_totals",
    "save_reconciliation",
]

EXPORT_FORMATS = ("csv", "json")
EXPORT_COLUMNS = (
    "line_id", "posting_key", "entry_type", "group_code", "reason_code", "debit_account", "credit_account",
    "amount", "claim_id", "payer_id", "payer_claim_id", "trace_number", "posting_date", "document_id",
    "segment_index", "run_id",
)


@dataclass(frozen=True, slots=True)
class StoredLine:
    """The columns of a stored claim's service line that line matching reads."""

    line_number: int
    procedure_code: str | None
    modifiers: tuple[str, ...]
    charge: Decimal
    service_date_from: dt.date | None
    line_control_number: str | None


@dataclass(frozen=True, slots=True)
class StoredClaimDetail:
    """A stored 837 claim as claim and line matching see it; ``pk`` is its surrogate key."""

    pk: int
    claim_id: str
    payer_id: str | None
    patient_id: str | None
    total_charge: Decimal
    service_date: dt.date | None
    document_id: str
    payer_claim_control_number: str | None
    service_lines: tuple[StoredLine, ...]


def _optional_date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _stored_line(values: dict[str, Any]) -> StoredLine:
    return StoredLine(
        line_number=int(values["line_number"]),
        procedure_code=values.get("procedure_code"),
        modifiers=tuple(values.get("modifiers") or ()),
        charge=Decimal(str(values["charge"])),
        service_date_from=_optional_date(values.get("service_date_from")),
        line_control_number=values.get("line_control_number"),
    )


def _claim_detail(row: ClaimRow) -> StoredClaimDetail:
    data = row.data or {}
    return StoredClaimDetail(
        pk=row.id,
        claim_id=row.claim_id,
        payer_id=row.payer_id,
        patient_id=row.patient_id,
        total_charge=row.total_charge,
        service_date=row.service_date,
        document_id=row.document_id,
        payer_claim_control_number=data.get("payer_claim_control_number"),
        service_lines=tuple(_stored_line(line) for line in data.get("service_lines") or ()),
    )


def find_claim_details(
    store: Store, claim_ids: Iterable[str], patient_ids: Iterable[str] = (), exclude_documents: Iterable[str] = ()
) -> list[StoredClaimDetail]:
    """Return stored claims with one of ``claim_ids`` or of ``patient_ids``, oldest first.

    Claims of ``exclude_documents`` (documents read in the current run) are left out.
    """
    ids = list(dict.fromkeys(claim_ids))
    patients = list(dict.fromkeys(p for p in patient_ids if p))
    excluded = set(exclude_documents)
    found: dict[int, StoredClaimDetail] = {}
    with store._sessions() as session:
        for column, values in ((ClaimRow.claim_id, ids), (ClaimRow.patient_id, patients)):
            for chunk in queries.chunked(values):
                for row in session.scalars(select(ClaimRow).where(column.in_(chunk)).order_by(ClaimRow.id)):
                    if row.document_id not in excluded:
                        found.setdefault(row.id, _claim_detail(row))
    return [found[pk] for pk in sorted(found)]


def find_payer_claim_links(
    store: Store, payer_claim_ids: Iterable[str], claims: Sequence[StoredClaimDetail] = ()
) -> dict[str, list[StoredClaimDetail]]:
    """Map each CLP07 that a stored, matched claim payment carried to the claim it matched.

    Claims already in ``claims`` are reused as the same objects, so matching sees one claim once.
    """
    by_pk = {claim.pk: claim for claim in claims}
    links: dict[str, list[StoredClaimDetail]] = {}
    wanted = list(dict.fromkeys(p for p in payer_claim_ids if p))
    with store._sessions() as session:
        for chunk in queries.chunked(wanted):
            rows = session.execute(
                select(ClaimPaymentRow.payer_claim_id, ClaimRow)
                .join(ClaimRow, ClaimRow.id == ClaimPaymentRow.matched_claim_pk)
                .where(ClaimPaymentRow.payer_claim_id.in_(chunk))
            )
            for payer_claim_id, claim_row in rows:
                claim = by_pk.setdefault(claim_row.id, _claim_detail(claim_row))
                linked = links.setdefault(payer_claim_id, [])
                if claim not in linked:
                    linked.append(claim)
    return links


def find_payment_keys(
    store: Store, trace_numbers: Iterable[str], exclude_documents: Iterable[str] = ()
) -> dict[PaymentKey, str]:
    """Map the key (payer, trace, signed amount) of each stored payment with one of ``trace_numbers`` to its document."""
    excluded = set(exclude_documents)
    keys: dict[PaymentKey, str] = {}
    with store._sessions() as session:
        for chunk in queries.chunked(list(dict.fromkeys(t for t in trace_numbers if t))):
            rows = session.scalars(
                select(PaymentRow).where(PaymentRow.trace_number.in_(chunk)).order_by(PaymentRow.id)
            )
            for row in rows:
                if row.document_id in excluded or row.trace_number is None:
                    continue
                debit = (row.data or {}).get("credit_debit") == "D"
                key = (row.payer_id or "", row.trace_number, -row.amount if debit else row.amount)
                keys.setdefault(key, row.document_id)
    return keys


def find_claim_payment_refs(
    store: Store, claim_ids: Iterable[str], exclude_documents: Iterable[str] = ()
) -> list[PaymentRef]:
    """Return stored claim payments of ``claim_ids`` (from other documents), for pairing reversals."""
    excluded = set(exclude_documents)
    refs: list[PaymentRef] = []
    with store._sessions() as session:
        for chunk in queries.chunked(list(dict.fromkeys(claim_ids))):
            rows = session.scalars(
                select(ClaimPaymentRow).where(ClaimPaymentRow.claim_id.in_(chunk)).order_by(ClaimPaymentRow.id)
            )
            refs.extend(
                PaymentRef(row.document_id, row.segment_index, row.claim_id, row.payer_id, row.payer_claim_id,
                           row.status, row.charge, row.paid)
                for row in rows if row.document_id not in excluded
            )
    return refs


def _claim_pk(session: Session, claim: object) -> int | None:
    if isinstance(claim, StoredClaimDetail):
        return claim.pk
    if isinstance(claim, Claim):
        return session.scalar(
            select(ClaimRow.id).where(
                ClaimRow.document_id == claim.source.document_id,
                ClaimRow.segment_index == claim.source.segment_index,
            )
        )
    return getattr(claim, "pk", None)


def _reversal_values(outcome: PaymentOutcome) -> dict[str, Any] | None:
    pair = outcome.reversal
    if pair is None:
        return None

    def ref(value: PaymentRef | None) -> dict[str, Any] | None:
        return None if value is None else {"document_id": value.document_id, "segment_index": value.segment_index}

    return {"original": ref(pair.original), "corrected": ref(pair.corrected)}


def _match_values(outcome: PaymentOutcome, claim_pk: int | None, run_id: str | None) -> dict[str, Any]:
    payment = outcome.payment
    return {
        "document_id": payment.source.document_id,
        "segment_index": payment.source.segment_index,
        "claim_id": payment.claim_id,
        "payer_id": payment.payer_id,
        "status": outcome.match.status,
        "match_key": outcome.match.key,
        "confidence": outcome.match.confidence,
        "claim_pk": claim_pk,
        "category": outcome.category,
        "posting": outcome.posting,
        "hold_reasons": list(dict.fromkeys(outcome.hold_reasons)),
        "reversal": _reversal_values(outcome),
        "run_id": run_id,
        "created_at": utc_now(),
    }


def save_reconciliation(store: Store, reconciliation: Reconciliation, *, run_id: str | None = None) -> int:
    """Store the match and posting decision of every claim payment, with its line matches.

    Confident matches also set the claim payment's matched claim (``Store.save_matches``).
    Payments whose decision is already stored are skipped; returns the number stored.
    """
    saved = 0
    claim_matches: list[ClaimPaymentMatch] = []
    with store._transaction(f"save remittance matches of run {run_id}") as session:
        for outcome in reconciliation.outcomes:
            payment = outcome.payment
            exists = session.scalar(select(RemittanceMatchRow.id).where(
                RemittanceMatchRow.document_id == payment.source.document_id,
                RemittanceMatchRow.segment_index == payment.source.segment_index,
            ))
            if exists is not None:
                continue
            claim_pk = _claim_pk(session, outcome.match.claim) if outcome.match.claim is not None else None
            session.add(RemittanceMatchRow(**_match_values(outcome, claim_pk, run_id)))
            for line in outcome.line_matches:
                session.add(RemittanceLineMatchRow(
                    document_id=payment.source.document_id,
                    segment_index=payment.source.segment_index,
                    service_index=line.service_index,
                    service_segment_index=line.segment_index,
                    claim_pk=claim_pk if line.claim_line_number is not None else None,
                    claim_line_number=line.claim_line_number,
                    match_key=line.key,
                    confidence=line.confidence,
                ))
            if claim_pk is not None and "match.low_confidence" not in outcome.hold_reasons:
                claim_matches.append(ClaimPaymentMatch(payment.source.document_id, payment.source.segment_index or 0,
                                                       claim_pk=claim_pk))
            saved += 1
    store.save_matches(claim_matches)
    logger.info("stored %d remittance match decisions for run %s", saved, run_id)
    return saved


def _line_values(line: JournalLine, run_id: str | None, now: dt.datetime) -> dict[str, Any]:
    return {
        "line_id": line.line_id,
        "posting_key": line.posting_key,
        "entry_type": line.entry_type,
        "group_code": line.group_code,
        "reason_code": line.reason_code,
        "debit_account": line.debit_account,
        "credit_account": line.credit_account,
        "amount": line.amount,
        "claim_id": line.claim_id,
        "payer_id": line.payer_id,
        "payer_claim_id": line.payer_claim_id,
        "trace_number": line.trace_number,
        "document_id": line.document_id,
        "segment_index": line.segment_index,
        "posting_date": line.posting_date,
        "run_id": run_id,
        "created_at": now,
        "export_id": None,
        "exported_at": None,
    }


def add_journal_lines(store: Store, lines: Sequence[JournalLine], *, run_id: str | None = None) -> int:
    """Insert journal lines into the outbox, skipping any whose posting key is already stored.

    A posting key is derived from the payment's content, so a payment posted by an earlier run,
    or re-sent in a file with other bytes, adds no line. Returns the number of lines inserted.
    """
    now = utc_now()
    with store._transaction(f"add journal lines of run {run_id}") as session:
        keys = list(dict.fromkeys(line.posting_key for line in lines))
        posted: set[str] = set()
        for chunk in queries.chunked(keys):
            posted.update(session.scalars(select(JournalLineRow.posting_key).where(JournalLineRow.posting_key.in_(chunk))))
        new = [line for line in lines if line.posting_key not in posted]
        new = list({line.line_id: line for line in new}.values())
        for line in new:
            session.add(JournalLineRow(**_line_values(line, run_id, now)))
    logger.info("added %d journal lines (%d already posted) for run %s", len(new), len(lines) - len(new), run_id)
    return len(new)


def journal_line_totals(store: Store) -> dict[str, int]:
    """Return the number of journal lines in the outbox, exported and pending."""
    with store._sessions() as session:
        rows = session.execute(select(JournalLineRow.export_id)).all()
    pending = sum(1 for (export_id,) in rows if export_id is None)
    return {"total": len(rows), "pending": pending, "exported": len(rows) - pending}


@dataclass(frozen=True, slots=True)
class ExportResult:
    """One export of the outbox: its id, the file written and the number of lines in it."""

    export_id: str
    path: Path
    line_count: int


def _row_dict(row: JournalLineRow) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for column in EXPORT_COLUMNS:
        value = getattr(row, column)
        if isinstance(value, (Decimal, dt.date)):
            value = str(value) if isinstance(value, Decimal) else value.isoformat()
        values[column] = value
    return values


def _write_export(rows: list[dict[str, Any]], path: Path, output_format: str) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        if output_format == "json":
            json.dump(rows, handle, indent=2)
            handle.write("\n")
            return
        writer = csv.DictWriter(handle, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def export_postings(store: Store, output: str | Path, *, output_format: str = "csv", include_all: bool = False) -> ExportResult:
    """Write the outbox lines not exported yet (every line with ``include_all``) and mark them exported.

    The file is written next to ``output`` first and moved into place only after the lines are
    marked in the database, so a failed export neither marks lines nor leaves a partial file.
    A line is stamped with the first export that takes it; ``include_all`` re-exports without
    changing that stamp.
    """
    if output_format not in EXPORT_FORMATS:
        raise ValueError(f"export format {output_format!r} is unknown; use csv or json")
    output = Path(output)
    export_id = uuid.uuid4().hex
    now = utc_now()
    handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent or Path("."))
    os.close(handle)
    temporary_path = Path(temporary)
    try:
        with store._transaction(f"export postings {export_id}") as session:
            query = select(JournalLineRow).order_by(JournalLineRow.created_at, JournalLineRow.line_id)
            if not include_all:
                query = query.where(JournalLineRow.export_id.is_(None))
            rows = list(session.scalars(query.with_for_update()))
            _write_export([_row_dict(row) for row in rows], temporary_path, output_format)
            session.add(PostingExportRow(export_id=export_id, created_at=now, format=output_format,
                                         file_name=output.name, line_count=len(rows), include_all=include_all))
            session.flush()
            pending_ids = [row.line_id for row in rows if row.export_id is None]
            for chunk in queries.chunked(pending_ids):
                session.execute(
                    update(JournalLineRow)
                    .where(JournalLineRow.line_id.in_(chunk), JournalLineRow.export_id.is_(None))
                    .values(export_id=export_id, exported_at=now)
                )
        # NOTE: if the move fails after the commit, the lines are marked but the file is only at
        # the temporary path; `--all` writes them again.
        temporary_path.replace(output)
    except (OSError, StoreError):
        temporary_path.unlink(missing_ok=True)
        raise
    logger.info("exported %d journal lines as %s (export %s)", len(rows), output_format, export_id)
    return ExportResult(export_id, output, len(rows))
