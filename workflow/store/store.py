"""The store: every write and read of the triage database goes through :class:`Store`.

Each public method runs in its own transaction, so a method that raises leaves nothing
half-written. Database errors come out as :class:`~workflow.errors.StoreError` naming the
operation and the driver's reason. The engine hides SQL parameters from error messages because
they carry claim content, but a driver's reason may still name a key value such as a run id.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from workflow.errors import StoreError
from workflow.records import Document, ExceptionRecord, PredictionRecord, Record
from workflow.store import queries
from workflow.store.checkpoints import WalCheckpointer
from workflow.store.database import create_store_engine, upgrade_schema
from workflow.store.models import (
    AuditEventRow,
    Base,
    ClaimPaymentRow,
    ClaimRow,
    DocumentRow,
    ExceptionRow,
    KpiSnapshotRow,
    PredictionRow,
    RunRow,
)
from workflow.store.rows import (
    document_values,
    exception_from_row,
    exception_values,
    prediction_values,
    record_values,
)
from workflow.store.types import utc_now

__all__ = [
    "AUTO_ROUTE",
    "MODEL_MANAGED_STATUSES",
    "ClaimPaymentMatch",
    "Store",
    "StoredClaim",
    "open_store",
]

logger = logging.getLogger(__name__)

SYSTEM_ACTOR = "system"

# A prediction whose route is AUTO_ROUTE marks its exception auto_routed; any other route
# (review, abstain, ...) sends it to a person as in_review.
AUTO_ROUTE = "auto"

# Statuses that a prediction may overwrite. Anything else (resolved, closed, ...) was set by a
# person and stays as it is when a model predicts again.
MODEL_MANAGED_STATUSES = frozenset({"open", "in_review", "auto_routed"})


def routed_status(route: str) -> str:
    """Return the status a prediction's route gives its exception: auto_routed or in_review."""
    if route == AUTO_ROUTE:
        return "auto_routed"
    return "in_review"


@dataclass(frozen=True, slots=True)
class StoredClaim:
    """The stored columns of one 837 claim that matching needs; ``pk`` is its surrogate key."""

    pk: int
    claim_id: str
    payer_id: str | None
    patient_id: str | None
    total_charge: Decimal
    service_date: dt.date | None
    document_id: str
    billing_npi: str | None = None
    frequency_code: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimPaymentMatch:
    """A match decision: the claim payment at ``segment_index`` of ``document_id`` paid one claim.

    ``segment_index`` is ``ClaimPayment.source.segment_index``. Name the claim by ``claim_pk``
    (``StoredClaim.pk``) or, for a claim read in the same run, by its own ``claim_document_id``
    and ``claim_segment_index`` (``Claim.source``). With neither, the payment is recorded as
    matching no claim.
    """

    document_id: str
    segment_index: int
    claim_pk: int | None = None
    claim_document_id: str | None = None
    claim_segment_index: int | None = None


def open_store(url: str) -> Store:
    """Open the database at ``url``, migrate it to the newest schema and return a :class:`Store`.

    For SQLite the database file's folder must exist. Raises StoreError when the URL is invalid,
    names another database than SQLite or PostgreSQL, or the database cannot be reached or migrated.
    """
    engine = create_store_engine(url)
    try:
        upgrade_schema(engine)
    except Exception:
        engine.dispose()
        raise
    return Store(engine)


class Store:
    """Typed access to the triage database; build one with :func:`open_store`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._checkpointer: WalCheckpointer | None = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop background checkpoints and close every pooled connection; the store may not be used afterwards."""
        self.stop_wal_checkpoints()
        self.engine.dispose()

    def start_wal_checkpoints(self) -> bool:
        """Checkpoint a SQLite file's write-ahead log in a background thread instead of in commits.

        Long-running writers such as the API call this, so no request pays for a checkpoint.
        Returns False, and does nothing, for PostgreSQL and in-memory SQLite.
        """
        if self.engine.dialect.name != "sqlite" or (self.engine.url.database or ":memory:") == ":memory:":
            return False
        if self._checkpointer is None:
            self._checkpointer = WalCheckpointer(self.engine)
        self._checkpointer.start()
        return True

    def stop_wal_checkpoints(self) -> None:
        """Stop the background checkpoints, if they run; commits checkpoint by themselves again."""
        if self._checkpointer is not None:
            self._checkpointer.stop()

    @property
    def url(self) -> str:
        """The database URL with any password masked, safe to log and show."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def _transaction(self, operation: str) -> Iterator[Session]:
        """Yield a session whose work commits on success and rolls back on any exception."""
        try:
            with self._sessions.begin() as session:
                yield session
        except SQLAlchemyError as exc:
            reason = getattr(exc, "orig", None) or exc
            raise StoreError(f"{operation} failed in {self.url}: {type(reason).__name__}: {reason}") from exc

    # Health

    def ping(self) -> None:
        """Run ``SELECT 1``; raises StoreError when the database cannot be reached."""
        with self._transaction("ping") as session:
            session.execute(text("SELECT 1"))

    # Runs and KPIs

    def start_run(self) -> str:
        """Insert a new run and return its id."""
        run_id = uuid.uuid4().hex
        with self._transaction(f"start run {run_id}") as session:
            session.add(RunRow(id=run_id, started_at=utc_now(), finished_at=None, summary=None))
        logger.info("started run %s", run_id)
        return run_id

    def finish_run(self, run_id: str, summary: dict[str, Any]) -> None:
        """Set the run's finish time and summary; raises StoreError for an unknown run."""
        with self._transaction(f"finish run {run_id}") as session:
            run = session.get(RunRow, run_id)
            if run is None:
                raise StoreError(f"run {run_id} not found: start it with start_run() first")
            run.finished_at = utc_now()
            run.summary = summary
        logger.info("finished run %s", run_id)

    def record_kpis(self, run_id: str, kpis: dict[str, float]) -> None:
        """Append one KPI snapshot per name for the run, all with the same timestamp."""
        at = utc_now()
        rows = [{"run_id": run_id, "name": name, "value": float(value), "at": at} for name, value in kpis.items()]
        if not rows:
            return
        with self._transaction(f"record KPIs of run {run_id}") as session:
            session.execute(insert(KpiSnapshotRow), rows)

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        """Return the run with its summary and KPI snapshots, or None when it does not exist."""
        with self._sessions() as session:
            return queries.run_detail(session, run_id)

    # Documents and records

    def save_document(
        self, document: Document, records: Sequence[Record], *, run_id: str | None = None
    ) -> bool:
        """Store the document row and all its records in one transaction.

        Returns False and writes nothing when a document with the same id (the SHA-256 of its
        bytes) is already stored, so ingesting the same file twice is harmless.
        """
        try:
            return self._insert_document(document=document, records=records, run_id=run_id)
        except StoreError as exc:
            # Another writer may have stored the same bytes between the check and the insert.
            if isinstance(exc.__cause__, IntegrityError) and self._document_exists(document.document_id):
                logger.info("document %s was stored by another writer", document.document_id)
                return False
            raise

    def _insert_document(
        self, *, document: Document, records: Sequence[Record], run_id: str | None
    ) -> bool:
        rows_by_model = _group_record_rows(records, document.document_id)

        with self._transaction(f"save document {document.document_id}") as session:
            if session.get(DocumentRow, document.document_id) is not None:
                logger.info("document %s is already stored; skipped", document.document_id)
                return False
            session.execute(insert(DocumentRow), [document_values(document, run_id, utc_now())])
            for model, rows in rows_by_model.items():
                session.execute(insert(model), rows)

        logger.info("stored document %s with %d records", document.document_id, len(records))
        return True

    def _document_exists(self, document_id: str) -> bool:
        with self._sessions() as session:
            return session.get(DocumentRow, document_id) is not None

    def record_failed_document(
        self, document: Document, *, run_id: str | None = None, error: str | None = None
    ) -> bool:
        """Store a document that could not be read, with status ``failed`` and its error.

        ``error`` overrides ``document.error``. Returns False when the document is already stored.
        """
        failed = Document(
            document_id=document.document_id,
            file=document.file,
            kind=document.kind,
            size_bytes=document.size_bytes,
            status="failed",
            error=error if error is not None else document.error,
        )
        return self.save_document(failed, (), run_id=run_id)

    def find_claims(self, claim_ids: Iterable[str]) -> dict[str, list[StoredClaim]]:
        """Return the stored claims for each requested claim id that has any, oldest first.

        Ids without a stored claim are absent from the result, so use ``result.get(id, [])``.
        """
        found: dict[str, list[StoredClaim]] = {}
        unique_ids = list(dict.fromkeys(claim_ids))
        with self._sessions() as session:
            for chunk in queries.chunked(unique_ids):
                rows = session.scalars(
                    select(ClaimRow).where(ClaimRow.claim_id.in_(chunk)).order_by(ClaimRow.id)
                )
                for row in rows:
                    found.setdefault(row.claim_id, []).append(_stored_claim(row))
        return found

    def save_matches(self, matches: Iterable[ClaimPaymentMatch]) -> int:
        """Record which claim each claim payment paid; returns the number of payments updated.

        Raises StoreError, and changes nothing, when a match names a claim payment or a claim
        that is not stored.
        """
        updated = 0
        with self._transaction("save payment matches") as session:
            for match in matches:
                claim_pk = match.claim_pk if match.claim_pk is not None else _claim_pk_by_key(session, match)
                result = session.execute(
                    update(ClaimPaymentRow)
                    .where(
                        ClaimPaymentRow.document_id == match.document_id,
                        ClaimPaymentRow.segment_index == match.segment_index,
                    )
                    .values(matched_claim_pk=claim_pk)
                )
                if result.rowcount == 0:
                    raise StoreError(
                        f"no claim payment at segment {match.segment_index} of document "
                        f"{match.document_id}: save the document before its matches"
                    )
                updated += result.rowcount
        return updated

    # Exceptions and predictions

    def add_exceptions(self, exceptions: Sequence[ExceptionRecord], *, run_id: str | None = None) -> int:
        """Insert the exceptions not stored yet, each with a ``created`` audit event.

        Returns the number inserted; ids already stored, or repeated in ``exceptions``, are skipped.
        """
        unique: dict[str, ExceptionRecord] = {}
        for exception in exceptions:
            unique.setdefault(exception.exception_id, exception)
        now = utc_now()

        with self._transaction(f"add exceptions of run {run_id}") as session:
            stored = _stored_ids(session, ExceptionRow.exception_id, list(unique))
            new = [exception for exception_id, exception in unique.items() if exception_id not in stored]
            if not new:
                return 0

            session.execute(insert(ExceptionRow), [exception_values(e, run_id, now) for e in new])
            events = [
                _audit_event(
                    entity_id=exception.exception_id,
                    action="created",
                    actor=SYSTEM_ACTOR,
                    at=now,
                    details={
                        "kind": exception.kind,
                        "code": exception.code,
                        "status": exception.status,
                        "run_id": run_id,
                    },
                )
                for exception in new
            ]
            session.execute(insert(AuditEventRow), events)

        skipped = len(exceptions) - len(new)
        logger.info("stored %d new exceptions (%d skipped) for run %s", len(new), skipped, run_id)
        return len(new)

    def load_exceptions(self, exception_ids: Iterable[str]) -> list[ExceptionRecord]:
        """Rebuild stored exceptions as records, in the order of ``exception_ids``, skipping unknown ids."""
        requested_ids = list(dict.fromkeys(exception_ids))
        by_id: dict[str, ExceptionRecord] = {}
        with self._sessions() as session:
            for chunk in queries.chunked(requested_ids):
                for row in session.scalars(select(ExceptionRow).where(ExceptionRow.exception_id.in_(chunk))):
                    by_id[row.exception_id] = exception_from_row(row)
        return [by_id[exception_id] for exception_id in requested_ids if exception_id in by_id]

    def exceptions_detected_between(self, first: dt.date, last: dt.date) -> list[ExceptionRecord]:
        """Rebuild the stored exceptions detected from ``first`` to ``last``, both included."""
        with self._sessions() as session:
            rows = session.scalars(
                select(ExceptionRow)
                .where(ExceptionRow.detected_on >= first, ExceptionRow.detected_on <= last)
                .order_by(ExceptionRow.detected_on, ExceptionRow.exception_id)
            )
            return [exception_from_row(row) for row in rows]

    def add_predictions(self, predictions: Sequence[PredictionRecord]) -> int:
        """Insert predictions and route their exceptions; returns the number inserted.

        An ``auto`` route sets the exception's status to ``auto_routed``, any other route to
        ``in_review``; the queue becomes the prediction's queue. Statuses outside
        MODEL_MANAGED_STATUSES are left alone. Every status or queue change writes an audit event
        with the model as actor. Prediction ids already stored are skipped. Raises StoreError,
        and stores nothing, when a prediction names an exception that is not stored.
        """
        with self._transaction("add predictions") as session:
            # Routing reads each exception's status, and a claim must not slip in before the UPDATE.
            take_write_lock(session)
            stored = _stored_ids(session, PredictionRow.prediction_id, [p.prediction_id for p in predictions])
            inserted = 0
            for prediction in predictions:
                if prediction.prediction_id in stored:
                    continue
                _apply_prediction(session, prediction)
                stored.add(prediction.prediction_id)
                inserted += 1

        logger.info("stored %d predictions (%d skipped)", inserted, len(predictions) - inserted)
        return inserted

    # Queries

    def list_exceptions(
        self,
        *,
        kind: str | None = None,
        status: str | None = None,
        payer_id: str | None = None,
        predicted_type: str | None = None,
        route: str | None = None,
        queue: str | None = None,
        min_amount: Decimal | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """Return one page of exception summaries, newest first, and the total that match.

        ``predicted_type`` and ``route`` filter on each exception's latest prediction.
        """
        if limit < 1 or offset < 0:
            raise ValueError(
                f"limit must be at least 1 and offset at least 0, got limit={limit}, offset={offset}"
            )
        with self._sessions() as session:
            return queries.list_exception_summaries(
                session,
                kind=kind,
                status=status,
                payer_id=payer_id,
                predicted_type=predicted_type,
                route=route,
                queue=queue,
                min_amount=min_amount,
                limit=limit,
                offset=offset,
            )

    def get_exception(self, exception_id: str) -> dict[str, Any] | None:
        """Return the exception with evidence, source, latest prediction, history and audit events."""
        with self._sessions() as session:
            return queries.exception_detail(session, exception_id)

    def get_prediction(self, prediction_id: str) -> dict[str, Any] | None:
        with self._sessions() as session:
            return queries.prediction_detail(session, prediction_id)

    def counts(self) -> dict[str, int]:
        """Return the number of rows per table: documents, claims, exceptions, predictions and more."""
        with self._sessions() as session:
            return queries.count_rows(session)

    def exception_ids_without_prediction(self) -> list[str]:
        """Return the ids of exceptions that no model has predicted yet, oldest first."""
        with self._sessions() as session:
            return queries.exception_ids_without_prediction(session)

    # Reviewer decisions (the API's governance functions live in workflow.store.governance)

    def labelled_exceptions(self) -> list[dict[str, Any]]:
        """Return each decided exception with the labels of its latest decision, oldest first.

        Each item has ``exception`` (the ``record_to_dict`` form of the ExceptionRecord),
        ``type``, ``priority``, ``resolution``, ``decided_at`` and ``decided_by``.
        """
        from workflow.store.governance import labelled_exceptions

        return labelled_exceptions(self)


def _group_record_rows(records: Sequence[Record], document_id: str) -> dict[type[Base], list[dict[str, Any]]]:
    grouped: dict[type[Base], list[dict[str, Any]]] = {}
    for record in records:
        model, values = record_values(record, document_id)
        grouped.setdefault(model, []).append(values)
    return grouped


def _stored_claim(row: ClaimRow) -> StoredClaim:
    return StoredClaim(
        pk=row.id,
        claim_id=row.claim_id,
        payer_id=row.payer_id,
        patient_id=row.patient_id,
        total_charge=row.total_charge,
        service_date=row.service_date,
        document_id=row.document_id,
        billing_npi=row.billing_npi,
        frequency_code=row.frequency_code,
    )


def _claim_pk_by_key(session: Session, match: ClaimPaymentMatch) -> int | None:
    """Return the pk of the claim that ``match`` names by document and segment, or None if it names none."""
    if match.claim_document_id is None:
        return None
    claim_pk = session.scalar(
        select(ClaimRow.id).where(
            ClaimRow.document_id == match.claim_document_id,
            ClaimRow.segment_index == match.claim_segment_index,
        )
    )
    if claim_pk is None:
        raise StoreError(
            f"no claim at segment {match.claim_segment_index} of document {match.claim_document_id}: "
            "save the claim's document before matches that name it"
        )
    return claim_pk


def _stored_ids(session: Session, column: Any, ids: list[str]) -> set[str]:
    stored: set[str] = set()
    for chunk in queries.chunked(ids):
        stored.update(session.scalars(select(column).where(column.in_(chunk))))
    return stored


def _audit_event(
    *, entity_id: str, action: str, actor: str, at: Any, details: dict[str, Any], entity: str = "exception"
) -> dict[str, Any]:
    return {
        "entity": entity,
        "entity_id": entity_id,
        "action": action,
        "actor": actor,
        "at": at,
        "details": details,
    }


def take_write_lock(session: Session | Connection) -> None:
    """Take SQLite's write lock for the session's transaction; do nothing on PostgreSQL.

    On SQLite a status read before the first write may be stale when the UPDATE based on it runs,
    so a claim committed in between would be overwritten unseen. An UPDATE that matches no row
    still takes the write lock, and every later read returns the latest commit, which no other
    connection can change until this transaction ends. Call it as the transaction's first
    statement, because a transaction that has read cannot take the lock once another connection
    has committed. PostgreSQL code locks rows with ``FOR UPDATE`` instead.
    """
    dialect = session.dialect if isinstance(session, Connection) else session.get_bind().dialect
    if dialect.name == "sqlite":
        session.execute(text("UPDATE exceptions SET status = status WHERE 0"))


def _apply_prediction(session: Session, prediction: PredictionRecord) -> None:
    """Insert one prediction and move its exception to the status and queue the route implies."""
    exception = session.get(ExceptionRow, prediction.exception_id, with_for_update=True)
    if exception is None:
        raise StoreError(
            f"prediction {prediction.prediction_id} names exception {prediction.exception_id}, "
            "which is not stored: add the exception with add_exceptions() first"
        )
    session.execute(insert(PredictionRow), [prediction_values(prediction)])

    if exception.status not in MODEL_MANAGED_STATUSES:
        return
    new_status = routed_status(prediction.route)
    if (exception.status, exception.queue) == (new_status, prediction.queue):
        return

    now = utc_now()
    details = {
        "prediction_id": prediction.prediction_id,
        "from_status": exception.status,
        "to_status": new_status,
        "from_queue": exception.queue,
        "to_queue": prediction.queue,
        "route": prediction.route,
    }
    exception.status = new_status
    exception.queue = prediction.queue
    exception.updated_at = now
    session.flush()
    session.execute(
        insert(AuditEventRow),
        [
            _audit_event(
                entity_id=exception.exception_id,
                action="routed",
                actor=f"{prediction.model_name}@{prediction.model_version}",
                at=now,
                details=details,
            )
        ],
    )
