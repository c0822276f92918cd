"""Store operations of the API's governance: keys, predictions with context, queues, decisions,
idempotency records, ingestion jobs and KPIs.

Each function takes the :class:`~workflow.store.Store` and runs in one of its transactions, so a
function that raises leaves nothing half-written. Every state change of an exception (claimed,
decided) writes an append-only audit event in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import logging
import secrets
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, case, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow.errors import StoreError
from workflow.records import ExceptionRecord, PredictionRecord, record_to_dict
from workflow.store.models import (
    AuditEventRow,
    ClaimPaymentRow,
    DocumentRow,
    ExceptionRow,
    KpiSnapshotRow,
    PredictionRow,
)
from workflow.store.models_governance import (
    ApiKeyRow,
    AssignmentRow,
    DecisionRow,
    IdempotencyRow,
    JobRow,
    PredictionContextRow,
)
from workflow.store import queries
from workflow.store.driver_insert import DriverInsert
from workflow.store.rows import exception_from_row, exception_values, prediction_values
from workflow.store.types import utc_now

if TYPE_CHECKING:
    from workflow.store.store import Store

__all__ = [
    "API_ROLES",
    "CLAIMABLE_STATUSES",
    "DECISION_ACTIONS",
    "DECISION_OUTCOMES",
    "EXCEPTION_KINDS",
    "EXCEPTION_STATUSES",
    "OPEN_STATUSES",
    "PRIORITY_ORDER",
    "AlreadyResolvedError",
    "ClaimedByAnotherError",
    "NotClaimedError",
    "ApiKey",
    "ApiPredictionWrite",
    "IdempotencyRecord",
    "PredictionContext",
    "claim_next",
    "release_claim",
    "release_claims_of",
    "compute_kpis",
    "count_active_api_keys",
    "create_api_key",
    "create_job",
    "finish_job",
    "find_api_key",
    "get_job",
    "idempotency_abandon",
    "idempotency_begin",
    "idempotency_complete",
    "document_statuses",
    "exception_decisions",
    "labelled_exceptions",
    "list_exceptions",
    "list_api_keys",
    "prediction_context",
    "queue_stats",
    "record_decision",
    "record_prediction_audit",
    "revoke_api_key",
    "save_api_prediction_writes",
    "save_api_predictions",
    "start_job",
    "update_job_progress",
]

logger = logging.getLogger(__name__)

API_ROLES = ("workflow", "reviewer", "admin")
KEY_PREFIX = "trk"

# Statuses of an exception that still needs work. ``assigned`` is set when a reviewer claims it.
OPEN_STATUSES = ("open", "in_review", "auto_routed", "assigned")
# Statuses a queue may hand out: the ones a model set, which no person has taken yet.
CLAIMABLE_STATUSES = ("open", "in_review", "auto_routed")
ASSIGNED_STATUS = "assigned"
MAX_CLAIM_ATTEMPTS = 20

# Most urgent first; a label outside this list (or no prediction) sorts after "low".
PRIORITY_ORDER = ("critical", "high", "normal", "low")

DECISION_ACTIONS = ("accept", "override")
DECISION_OUTCOMES = ("recovered", "resubmitted", "written_off")
# Status an exception gets after a decision: resolved with an outcome, reviewed without one.
DECIDED_STATUS = "reviewed"
RESOLVED_STATUS = "resolved"
# Status a resolved exception passes through when a decision reopens it; the audit trail shows it.
REOPENED_STATUS = "in_review"
# Every status the store gives an exception: ``open`` when detected, ``in_review`` or
# ``auto_routed`` by a prediction, ``assigned`` by a claim, ``reviewed`` or ``resolved`` by a decision.
EXCEPTION_STATUSES = ("open", "in_review", "auto_routed", "assigned", DECIDED_STATUS, RESOLVED_STATUS)
# Every kind of exception the detectors produce: claim validation (workflow.exceptions), payment
# matching and reconciliation (workflow.exceptions, workflow.remittance), invoice matching and
# invoice extraction (workflow.invoices). A test scans those modules for kinds missing here.
EXCEPTION_KINDS = (
    "validation",
    "denial",
    "zero_paid",
    "unmatched_payment",
    "ambiguous_match",
    "underpayment",
    "duplicate_remittance",
    "remittance_imbalance",
    "reversal",
    "invoice_mismatch",
    "extraction",
)

# CLP02 claim status code 4: the payer denied the claim.
DENIED_CLAIM_STATUS = "4"

# The route reason serving.routing gives a quality-assurance sample (a test keeps the two equal).
# Predictions made outside the API have no context row, so their QA flag is read from the reason.
QA_SAMPLE_REASON = "quality-assurance sample of automatic routing"

# Run KPIs that are amounts of money. Store.record_kpis keeps every KPI as a float, so these are
# read back as Decimal rounded to the cent.
MONEY_RUN_KPIS = ("reconciliation_posting_variance", "reconciliation_imbalance_total")
CENT = Decimal("0.01")


# API keys ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A valid, unrevoked API key as the API sees it: its name and role, never its secret."""

    name: str
    role: str


def create_api_key(store: Store, *, name: str, role: str) -> str:
    """Create a key for ``name`` with ``role`` and return the key; only its salted hash is stored.

    The key is ``trk_<prefix>_<secret>``; show it to its owner once, because it cannot be read
    back. Raises ValueError for an unknown role and StoreError when the name is taken.
    """
    if role not in API_ROLES:
        raise ValueError(f"unknown role {role!r}; use one of {', '.join(API_ROLES)}")
    if not name or len(name) > 100:
        raise ValueError("the key name must be 1 to 100 characters long")

    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    row = {
        "name": name,
        "role": role,
        "key_prefix": prefix,
        "salt": salt,
        "key_hash": _hash_secret(salt, secret),
        "created_at": utc_now(),
        "revoked_at": None,
    }
    try:
        with store._transaction(f"create API key {name}") as session:
            session.execute(insert(ApiKeyRow), [row])
    except StoreError as exc:
        if isinstance(exc.__cause__, IntegrityError):
            raise StoreError(
                f"an API key named {name!r} already exists: revoke it first or choose another name"
            ) from exc
        raise
    logger.info("created API key %s with role %s", name, role)
    return f"{KEY_PREFIX}_{prefix}_{secret}"


def revoke_api_key(store: Store, name: str) -> bool:
    """Revoke the active key called ``name``; returns False when no active key has that name.

    A revoked key keeps its row, renamed with a suffix, so its name can be reused for a new key.
    """
    now = utc_now()
    with store._transaction(f"revoke API key {name}") as session:
        row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.name == name, ApiKeyRow.revoked_at.is_(None)))
        if row is None:
            return False
        row.revoked_at = now
        row.name = f"{name[:60]}~revoked~{row.key_prefix}"
    logger.info("revoked API key %s", name)
    return True


def find_api_key(store: Store, key: str) -> ApiKey | None:
    """Return the active key that ``key`` is, or None when it is malformed, unknown or revoked."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    _, prefix, secret = parts
    with store._sessions() as session:
        row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_prefix == prefix))
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.key_hash, _hash_secret(row.salt, secret)):
        return None
    return ApiKey(name=row.name, role=row.role)


def count_active_api_keys(store: Store) -> int:
    """Return the number of keys that are not revoked."""
    with store._sessions() as session:
        return session.scalar(select(func.count()).select_from(ApiKeyRow).where(ApiKeyRow.revoked_at.is_(None))) or 0


def list_api_keys(store: Store) -> list[dict[str, Any]]:
    """Return name, role, creation and revocation time of every key, oldest first."""
    with store._sessions() as session:
        rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id)).all()
    return [
        {"name": row.name, "role": row.role, "created_at": row.created_at, "revoked_at": row.revoked_at}
        for row in rows
    ]


def _hash_secret(salt: str, secret: str) -> str:
    # The secret is 256 random bits, so one salted SHA-256 is enough; a slow hash such as scrypt
    # protects guessable passwords and would add its cost to every request.
    return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()


# Predictions ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PredictionContext:
    """What the ``predictions`` table does not hold: request id, caller, MLflow run, QA flag, heads."""

    prediction_id: str
    request_id: str | None
    actor: str
    mlflow_run_id: str | None
    qa_sample: bool
    heads: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ApiPredictionWrite:
    """The rows of one API request: its new exceptions, predictions, their contexts and the caller."""

    predictions: Sequence[PredictionRecord]
    contexts: Sequence[PredictionContext]
    new_exceptions: Sequence[ExceptionRecord]
    actor: str


def save_api_predictions(
    store: Store,
    predictions: Sequence[PredictionRecord],
    contexts: Sequence[PredictionContext],
    *,
    new_exceptions: Sequence[ExceptionRecord] = (),
    actor: str,
) -> list[str]:
    """Store exceptions sent in a request, then predictions and their contexts, in one transaction.

    ``new_exceptions`` that are stored already are left as they are. Each prediction routes its
    exception as :meth:`Store.add_predictions` does. Returns the ids of the exceptions inserted.

    A batch costs one INSERT per table (exceptions, predictions, audit events, contexts), plus a
    SELECT and an UPDATE when some of the exceptions were stored before. On a database other than
    SQLite or PostgreSQL, or when a prediction names an exception the request did not send, the
    SELECT comes first. A new
    exception is inserted with the status and queue its prediction routes it to, and gets its
    ``created`` and ``routed`` audit events, as if it had been inserted and then routed.
    """
    write = ApiPredictionWrite(predictions=predictions, contexts=contexts, new_exceptions=new_exceptions, actor=actor)
    return save_api_prediction_writes(store, [write])[0]


def save_api_prediction_writes(store: Store, writes: Sequence[ApiPredictionWrite]) -> list[list[str]]:
    """Store several requests' writes in one transaction, in order, as :func:`save_api_predictions` each.

    One commit covers them all, which saves a concurrent API one wait for the disk per request on
    SQLite. A failure rolls every write back. Returns the ids of the exceptions each write inserted.
    """
    now = utc_now()
    with store._transaction("save API predictions") as session:
        return [_save_write(session, write, now) for write in writes]


def _save_write(session: Session, write: ApiPredictionWrite, now: dt.datetime) -> list[str]:
    predictions, contexts, new_exceptions = write.predictions, write.contexts, write.new_exceptions
    # The INSERTs are Core statements on tables. Session.execute would run ORM checks and then
    # hand them to this same connection, so calling the connection saves those checks.
    connection = session.connection()
    # A batch may name one new exception twice; the first body is the one stored, as the
    # response reports it created by the first result.
    candidates: dict[str, ExceptionRecord] = {}
    for exception in new_exceptions:
        candidates.setdefault(exception.exception_id, exception)
    if candidates and _inserts_skip_select(connection) and all(p.exception_id in candidates for p in predictions):
        state, fresh, moves, routed_events = _insert_then_route(connection, predictions, candidates, now)
    else:
        state, fresh, moves, routed_events = _select_then_insert(connection, predictions, candidates, now)
    created_events = [_created_event(exception_id, e, actor=write.actor, at=now) for exception_id, e in fresh.items()]

    if predictions:
        _insert_rows(connection, _INSERT_PREDICTIONS, _DRIVER_PREDICTIONS, [prediction_values(p) for p in predictions])
    updates = [values for exception_id, values in moves.items() if exception_id not in fresh]
    if updates:
        # An ORM bulk UPDATE by primary key, so it goes through the session.
        session.execute(update(ExceptionRow), updates)
    events = created_events + routed_events
    if events:
        _insert_rows(connection, _INSERT_AUDIT_EVENTS, _DRIVER_AUDIT_EVENTS, events)
    if contexts:
        _insert_rows(connection, _INSERT_CONTEXTS, _DRIVER_CONTEXTS, [_context_values(c) for c in contexts])
    return list(fresh)


def _insert_rows(connection: Connection, statement: Any, driver: DriverInsert, rows: list[dict[str, Any]]) -> None:
    # SQLite takes the rows through the DB-API cursor (see workflow.store.driver_insert); other
    # databases through SQLAlchemy, where PostgreSQL's driver pipelines them.
    if connection.dialect.name == "sqlite":
        driver.execute(connection, rows)
    else:
        connection.execute(statement, rows)


# Below this many new exceptions, PostgreSQL's INSERT ... RETURNING is as fast as the pipelined
# INSERT in a savepoint (the two cross at about 5 rows, measured on a local server).
PIPELINED_INSERT_MIN_ROWS = 8
# Built once: a statement is immutable, and building one costs about as much as executing it.
_INSERT_EXCEPTIONS = ExceptionRow.__table__.insert()
_INSERT_PREDICTIONS = PredictionRow.__table__.insert()
_INSERT_AUDIT_EVENTS = AuditEventRow.__table__.insert()
_INSERT_CONTEXTS = PredictionContextRow.__table__.insert()
_DRIVER_PREDICTIONS = DriverInsert(PredictionRow.__table__)
_DRIVER_AUDIT_EVENTS = DriverInsert(AuditEventRow.__table__)
_DRIVER_CONTEXTS = DriverInsert(PredictionContextRow.__table__)
_Routed = tuple[
    dict[str, tuple[str, str | None]], dict[str, ExceptionRecord], dict[str, dict[str, Any]], list[dict[str, Any]]
]


def _select_then_insert(
    connection: Connection, predictions: Sequence[PredictionRecord], candidates: dict[str, ExceptionRecord],
    now: dt.datetime,
) -> _Routed:
    """Look up which exceptions are stored, route, then insert the new ones already routed."""
    from workflow.store.store import take_write_lock

    take_write_lock(connection)
    wanted = list(candidates) + [p.exception_id for p in predictions]
    state = _exception_states(connection, list(dict.fromkeys(wanted)))
    fresh = {exception_id: e for exception_id, e in candidates.items() if exception_id not in state}
    # Fresh exceptions start with their records' status; routing below moves them like stored ones.
    state.update({exception_id: (e.status, None) for exception_id, e in fresh.items()})
    _require_stored(predictions, state)
    moves, routed_events = _route_moves(predictions, state, at=now)
    if fresh:
        connection.execute(_INSERT_EXCEPTIONS, _routed_rows(fresh, state, now))
    return state, fresh, moves, routed_events


def _insert_then_route(
    connection: Connection, predictions: Sequence[PredictionRecord], candidates: dict[str, ExceptionRecord],
    now: dt.datetime,
) -> _Routed:
    """Insert the request's exceptions as if all were new, skipping stored ones, and route.

    An API request nearly always sends new exceptions, so this saves the SELECT: the INSERT skips
    the ids already stored and returns the ids it inserted. A row's route depends only on its own
    exception, so the inserted rows are right whatever the others turn out to be. When some were
    stored, their statuses are read and routing runs again on the real states.
    """
    state = {exception_id: (e.status, None) for exception_id, e in candidates.items()}
    moves, routed_events = _route_moves(predictions, state, at=now)
    rows = _routed_rows(candidates, state, now)
    if _inserted_all_pipelined(connection, rows):
        return state, candidates, moves, routed_events
    statement = _insert_skipping_stored(connection.dialect.name)
    inserted = set(connection.execute(statement, rows).scalars())
    if len(inserted) == len(candidates):
        return state, candidates, moves, routed_events

    fresh = {exception_id: e for exception_id, e in candidates.items() if exception_id in inserted}
    state = _exception_states(connection, [exception_id for exception_id in candidates if exception_id not in inserted])
    state.update({exception_id: (e.status, None) for exception_id, e in fresh.items()})
    _require_stored(predictions, state)
    moves, routed_events = _route_moves(predictions, state, at=now)
    return state, fresh, moves, routed_events


def _inserted_all_pipelined(connection: Connection, rows: list[dict[str, Any]]) -> bool:
    """On PostgreSQL, insert many exceptions without RETURNING; True when every row was inserted.

    SQLAlchemy sends an INSERT ... RETURNING of many rows as long multi-row VALUES statements,
    which cost more client CPU than psycopg's pipelined executemany of the plain INSERT. For 200
    rows the two took 32 ms and 12 ms (psycopg 3.3, SQLAlchemy 2.1, a local server on 2 cores).
    The INSERT runs in a savepoint. When some ids were stored already, the savepoint is rolled
    back and this returns False, so the caller's RETURNING insert finds which ones.
    """
    if (
        connection.dialect.name != "postgresql"
        or len(rows) < PIPELINED_INSERT_MIN_ROWS
        or not connection.dialect.supports_sane_multi_rowcount
    ):
        return False
    with connection.begin_nested() as savepoint:
        inserted = connection.execute(_insert_skipping_stored_counted(), rows).rowcount
        if inserted != len(rows):
            # Includes -1, a count the driver did not report.
            savepoint.rollback()
    return inserted == len(rows)


@functools.cache
def _insert_skipping_stored_counted() -> Any:
    """Return PostgreSQL's exceptions INSERT that skips stored ids and reports how many it inserted."""
    from sqlalchemy.dialects.postgresql import insert as postgresql_insert

    table = ExceptionRow.__table__
    statement = postgresql_insert(table).on_conflict_do_nothing(index_elements=[table.c.exception_id])
    # SQLAlchemy 2 reads the row count of an executemany only when asked to.
    return statement.execution_options(preserve_rowcount=True)


def _inserts_skip_select(connection: Connection) -> bool:
    # Both dialects know INSERT ... ON CONFLICT DO NOTHING RETURNING (SQLite from 3.35).
    return connection.dialect.name in ("sqlite", "postgresql")


@functools.cache
def _insert_skipping_stored(dialect_name: str) -> Any:
    """Return the exceptions INSERT that skips stored ids and returns inserted ones, built once per dialect."""
    if dialect_name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    table = ExceptionRow.__table__
    return dialect_insert(table).on_conflict_do_nothing(index_elements=[table.c.exception_id]).returning(
        table.c.exception_id
    )


def _routed_rows(
    exceptions: dict[str, ExceptionRecord], state: dict[str, tuple[str, str | None]], now: dt.datetime
) -> list[dict[str, Any]]:
    rows = [exception_values(e, None, now) for e in exceptions.values()]
    for row in rows:
        status, queue = state[row["exception_id"]]
        row.update(status=status, queue=queue)
    return rows


def _require_stored(predictions: Sequence[PredictionRecord], state: dict[str, tuple[str, str | None]]) -> None:
    missing = [p.exception_id for p in predictions if p.exception_id not in state]
    if missing:
        raise StoreError(
            f"{len(missing)} predictions name exceptions that are not stored (first: {missing[0]}): "
            "add the exceptions first"
        )


def _exception_states(connection: Connection, exception_ids: list[str]) -> dict[str, tuple[str, str | None]]:
    """Return the status and queue of each stored exception among ``exception_ids``.

    On PostgreSQL the rows stay locked until the transaction ends, so a claim cannot change a
    status between this read and the routing UPDATE based on it. On SQLite the caller's INSERT
    has taken the write lock already, or the transaction took it first (``take_write_lock``).
    """
    # A Core select on the table skips the ORM's result handling: about 20 us of 120 per call.
    table = ExceptionRow.__table__
    state: dict[str, tuple[str, str | None]] = {}
    for chunk in queries.chunked(exception_ids):
        query = select(table.c.exception_id, table.c.status, table.c.queue).where(table.c.exception_id.in_(chunk))
        if connection.dialect.name == "postgresql":
            query = query.with_for_update()
        rows = connection.execute(query)
        state.update({exception_id: (status, queue) for exception_id, status, queue in rows})
    return state


def _created_event(exception_id: str, exception: ExceptionRecord, *, actor: str, at: dt.datetime) -> dict[str, Any]:
    from workflow.store.store import _audit_event

    return _audit_event(
        entity_id=exception_id, action="created", actor=actor, at=at,
        details={"kind": exception.kind, "code": exception.code, "status": exception.status, "source": "api"},
    )


def _route_moves(
    predictions: Sequence[PredictionRecord], state: dict[str, tuple[str, str | None]], *, at: dt.datetime
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Apply each prediction's route to ``state`` as ``Store.add_predictions`` does.

    The rules are the store's. An ``auto`` route sets ``auto_routed`` and any other route
    ``in_review``, statuses a person set stay, and each change makes a ``routed`` audit event with
    the model as actor. Returns the new status, queue and update time of each moved exception
    and the audit events, in prediction order.
    """
    from workflow.store.store import MODEL_MANAGED_STATUSES, _audit_event, routed_status

    moves: dict[str, dict[str, Any]] = {}
    events = []
    for prediction in predictions:
        status, queue = state[prediction.exception_id]
        new_status = routed_status(prediction.route)
        if status not in MODEL_MANAGED_STATUSES or (status, queue) == (new_status, prediction.queue):
            continue
        state[prediction.exception_id] = (new_status, prediction.queue)
        moves[prediction.exception_id] = {
            "exception_id": prediction.exception_id, "status": new_status, "queue": prediction.queue, "updated_at": at,
        }
        details = {
            "prediction_id": prediction.prediction_id,
            "from_status": status,
            "to_status": new_status,
            "from_queue": queue,
            "to_queue": prediction.queue,
            "route": prediction.route,
        }
        events.append(_audit_event(
            entity_id=prediction.exception_id, action="routed",
            actor=f"{prediction.model_name}@{prediction.model_version}", at=at, details=details,
        ))
    return moves, events


def _context_values(context: PredictionContext) -> dict[str, Any]:
    return {
        "prediction_id": context.prediction_id,
        "request_id": context.request_id,
        "actor": context.actor,
        "mlflow_run_id": context.mlflow_run_id,
        "qa_sample": context.qa_sample,
        "heads": context.heads,
    }


def prediction_context(store: Store, prediction_id: str) -> dict[str, Any] | None:
    """Return the stored context of a prediction, or None when it was made outside the API."""
    with store._sessions() as session:
        row = session.get(PredictionContextRow, prediction_id)
        if row is None:
            return None
        return {
            "request_id": row.request_id,
            "actor": row.actor,
            "mlflow_run_id": row.mlflow_run_id,
            "qa_sample": row.qa_sample,
            "heads": row.heads,
        }


def record_prediction_audit(
    store: Store, *, prediction_id: str, action: str, actor: str, details: dict[str, Any]
) -> None:
    """Append one audit event about a prediction (a re-run, for example)."""
    from workflow.store.store import _audit_event

    with store._transaction(f"audit prediction {prediction_id}") as session:
        session.execute(
            insert(AuditEventRow),
            [
                _audit_event(
                    entity="prediction", entity_id=prediction_id, action=action, actor=actor,
                    at=utc_now(), details=details,
                )
            ],
        )


# Work queues ---------------------------------------------------------------------------------


def _latest_prediction_value(column: Any) -> Any:
    """Return a correlated subquery with ``column`` of the exception's newest prediction."""
    return (
        select(column)
        .where(PredictionRow.exception_id == ExceptionRow.exception_id)
        .order_by(PredictionRow.created_at.desc(), PredictionRow.prediction_id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _priority_rank(priority: Any) -> Any:
    whens = [(priority == label, rank) for rank, label in enumerate(PRIORITY_ORDER)]
    return case(*whens, else_=len(PRIORITY_ORDER))


def claim_next(store: Store, *, queue: str, reviewer: str) -> dict[str, Any] | None:
    """Hand the most urgent unclaimed exception of ``queue`` to ``reviewer``; None when the queue is empty.

    Urgency is the predicted priority of the latest prediction, then the amount at risk (largest
    first), then age (oldest first). Two concurrent callers never get the same exception: on
    PostgreSQL the candidate row is locked with ``FOR UPDATE SKIP LOCKED``; on SQLite the status
    changes with a conditional UPDATE and a lost race moves on to the next candidate.
    """
    if store.engine.dialect.name == "postgresql":
        return _claim_locked(store, queue=queue, reviewer=reviewer)
    return _claim_conditional(store, queue=queue, reviewer=reviewer)


def _claim_locked(store: Store, *, queue: str, reviewer: str) -> dict[str, Any] | None:
    with store._transaction(f"claim from queue {queue}") as session:
        candidates = _claim_candidates(session, queue=queue, lock=True)
        if candidates and _take(session, exception_id=candidates[0], queue=queue, reviewer=reviewer):
            return _claimed(candidates[0], queue, reviewer)
    return None


def _claim_conditional(store: Store, *, queue: str, reviewer: str) -> dict[str, Any] | None:
    # The candidates are read outside the write transaction, so each attempt's first statement is
    # the UPDATE: SQLite then waits for the write lock instead of failing to upgrade a read.
    for _attempt in range(MAX_CLAIM_ATTEMPTS):
        with store._sessions() as session:
            candidates = _claim_candidates(session, queue=queue, lock=False)
        if not candidates:
            return None
        for exception_id in candidates:
            with store._transaction(f"claim from queue {queue}") as session:
                if _take(session, exception_id=exception_id, queue=queue, reviewer=reviewer):
                    return _claimed(exception_id, queue, reviewer)
    # NOTE: only reached when other reviewers took every candidate read, MAX_CLAIM_ATTEMPTS times.
    return None


def _claimed(exception_id: str, queue: str, reviewer: str) -> dict[str, Any]:
    logger.info("exception %s claimed from queue %s", exception_id, queue)
    return {"exception_id": exception_id, "queue": queue, "assigned_to": reviewer}


def _claim_candidates(session: Session, *, queue: str, lock: bool) -> list[str]:
    priority = _latest_prediction_value(PredictionRow.predicted_priority)
    query = (
        select(ExceptionRow.exception_id)
        .where(ExceptionRow.queue == queue, ExceptionRow.status.in_(CLAIMABLE_STATUSES))
        .order_by(
            _priority_rank(priority),
            ExceptionRow.amount_at_risk.desc(),
            ExceptionRow.created_at,
            ExceptionRow.exception_id,
        )
    )
    if lock:
        # One row, locked; rows other transactions hold are skipped instead of waited for.
        query = query.limit(1).with_for_update(skip_locked=True, of=ExceptionRow)
    else:
        query = query.limit(10)
    return list(session.scalars(query))


def _take(session: Session, *, exception_id: str, queue: str, reviewer: str) -> bool:
    from workflow.store.store import _audit_event

    now = utc_now()
    result = session.execute(
        update(ExceptionRow)
        .where(
            ExceptionRow.exception_id == exception_id,
            ExceptionRow.queue == queue,
            ExceptionRow.status.in_(CLAIMABLE_STATUSES),
        )
        .values(status=ASSIGNED_STATUS, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    session.execute(
        insert(AssignmentRow),
        [{"exception_id": exception_id, "queue": queue, "assigned_to": reviewer, "assigned_at": now}],
    )
    session.execute(
        insert(AuditEventRow),
        [
            _audit_event(
                entity_id=exception_id, action="claimed", actor=reviewer, at=now,
                details={"queue": queue, "to_status": ASSIGNED_STATUS},
            )
        ],
    )
    return True


class NotClaimedError(Exception):
    """A release was sent for an exception that is not claimed (its status is not ``assigned``)."""


def release_claim(store: Store, *, exception_id: str, released_by: str, override_claim: bool = False) -> dict[str, Any] | None:
    """Give a claimed exception back to its queue, so the next claim may hand it to someone else.

    Only the reviewer holding the claim may release it, unless ``override_claim`` is set (the API
    sets it for admin keys). The exception takes the status and queue its latest prediction's
    route gives, as if routed now; without a prediction it becomes ``open`` in its queue. A
    ``released`` audit event names the claim's holder.

    Returns the exception id, queue and new status, or None when the exception does not exist.
    Raises NotClaimedError when it is not claimed and ClaimedByAnotherError when another
    reviewer has claimed it.
    """
    with store._transaction(f"release exception {exception_id}") as session:
        exception = _locked_exception(session, exception_id)
        if exception is None:
            return None
        if exception.status != ASSIGNED_STATUS:
            raise NotClaimedError(f"exception {exception_id} is not claimed")
        holder = _claim_holder(session, exception_id)
        if holder != released_by and not override_claim:
            raise ClaimedByAnotherError(f"exception {exception_id} is claimed by another reviewer")
        released = _release_locked(session, exception, holder=holder, released_by=released_by)
    logger.info("exception %s released to queue %s", exception_id, released["queue"])
    return released


def release_claims_of(store: Store, *, holder: str, released_by: str) -> list[str]:
    """Give every exception ``holder`` has claimed and not decided back to its queue; return their ids.

    ``triage apikeys revoke`` calls this, so the items of a key that is revoked (a reviewer who
    left) go back to the queues instead of waiting for a key created again under the same name.
    Each release is its own transaction, as :func:`release_claim`, with ``released_by`` as actor.
    """
    with store._sessions() as session:
        candidates = list(session.scalars(
            select(AssignmentRow.exception_id)
            .join(ExceptionRow, ExceptionRow.exception_id == AssignmentRow.exception_id)
            .where(AssignmentRow.assigned_to == holder, ExceptionRow.status == ASSIGNED_STATUS)
            .distinct()
        ))
    released = []
    for exception_id in candidates:
        with store._transaction(f"release exception {exception_id}") as session:
            exception = _locked_exception(session, exception_id)
            # Read again under the lock: the claim may have been decided, or taken over, since.
            if exception is None or exception.status != ASSIGNED_STATUS or _claim_holder(session, exception_id) != holder:
                continue
            _release_locked(session, exception, holder=holder, released_by=released_by)
        released.append(exception_id)
    logger.info("released %d claims of a revoked key", len(released))
    return released


def _release_locked(session: Session, exception: ExceptionRow, *, holder: str | None, released_by: str) -> dict[str, Any]:
    """Release a claimed exception whose row the session has locked; return its id, queue and status."""
    from workflow.store.store import _audit_event, routed_status

    now = utc_now()
    exception_id = exception.exception_id
    latest = session.execute(
        select(PredictionRow.route, PredictionRow.queue)
        .where(PredictionRow.exception_id == exception_id)
        .order_by(PredictionRow.created_at.desc(), PredictionRow.prediction_id.desc())
        .limit(1)
    ).first()
    # Routing leaves a claimed exception alone, so the latest prediction may not have moved
    # it. The release applies that prediction's route now, and status and queue agree.
    if latest is None:
        new_status, new_queue = "open", exception.queue
    else:
        new_status, new_queue = routed_status(latest.route), latest.queue
    # _locked_exception keeps the row as it was read; the status condition in the UPDATE
    # checks it once more at no cost.
    result = session.execute(
        update(ExceptionRow)
        .where(ExceptionRow.exception_id == exception_id, ExceptionRow.status == ASSIGNED_STATUS)
        .values(status=new_status, queue=new_queue, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise NotClaimedError(f"exception {exception_id} was decided or released by a concurrent request")
    details = {
        "from_status": ASSIGNED_STATUS, "to_status": new_status,
        "from_queue": exception.queue, "to_queue": new_queue, "claimed_by": holder,
    }
    session.execute(
        insert(AuditEventRow),
        [_audit_event(entity_id=exception_id, action="released", actor=released_by, at=now, details=details)],
    )
    return {"exception_id": exception_id, "queue": new_queue, "status": new_status}


def queue_stats(store: Store, *, sla_hours: float, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Return each queue's open count, oldest age in hours, SLA breaches and assigned count.

    Age counts from the time the exception was stored; an item breaches the SLA when it is open
    for longer than ``sla_hours``.
    """
    now = now or utc_now()
    with store._sessions() as session:
        rows = session.execute(
            select(ExceptionRow.queue, ExceptionRow.status, ExceptionRow.created_at).where(
                ExceptionRow.queue.is_not(None), ExceptionRow.status.in_(OPEN_STATUSES)
            )
        ).all()

    stats: dict[str, dict[str, Any]] = {}
    for queue, status, created_at in rows:
        entry = stats.setdefault(
            queue, {"name": queue, "open": 0, "assigned": 0, "oldest_age_hours": 0.0, "sla_breaches": 0}
        )
        age_hours = (now - created_at).total_seconds() / 3600.0
        entry["open"] += 1
        entry["assigned"] += status == ASSIGNED_STATUS
        entry["oldest_age_hours"] = max(entry["oldest_age_hours"], round(age_hours, 3))
        entry["sla_breaches"] += age_hours > sla_hours
    return [stats[name] for name in sorted(stats)]


# Decisions -----------------------------------------------------------------------------------


class AlreadyResolvedError(Exception):
    """A decision was sent for a resolved exception without ``reopen``, which would replace its outcome."""


class ClaimedByAnotherError(Exception):
    """A decision was sent for an exception that another reviewer has claimed and not yet decided."""


def record_decision(
    store: Store,
    *,
    exception_id: str,
    action: str,
    decided_by: str,
    type: str | None = None,
    priority: str | None = None,
    resolution: str | None = None,
    outcome: str | None = None,
    amount_recovered: Decimal | None = None,
    reopen: bool = False,
    override_claim: bool = False,
) -> dict[str, Any] | None:
    """Record a reviewer's accept or override of the latest prediction, and the outcome if any.

    ``accept`` takes the labels of the latest prediction; ``override`` takes the given labels and
    the prediction's for any left out. The exception becomes ``resolved`` with an outcome and
    ``reviewed`` without one, and a ``decided`` audit event records the decision. A ``reviewed``
    exception takes further decisions, and the latest one is its training label. A ``resolved``
    exception takes one only with ``reopen``, which first writes a ``reopened`` audit event;
    ``reopen`` changes nothing on an exception that is not resolved.

    An exception claimed from a queue (status ``assigned``) takes decisions only from the reviewer
    who claimed it, unless ``override_claim`` is set (the API sets it for admin keys); the
    ``decided`` event then names the reviewer whose claim was overridden.

    Returns the decision, or None when the exception does not exist. Raises AlreadyResolvedError
    for a resolved exception without ``reopen``, ClaimedByAnotherError for an exception another
    reviewer has claimed, and ValueError when ``accept`` has no prediction to accept or ``override``
    leaves the type unknown.
    """
    from workflow.store.store import _audit_event

    if action not in DECISION_ACTIONS:
        raise ValueError(f"unknown decision {action!r}; use one of {', '.join(DECISION_ACTIONS)}")
    if outcome is not None and outcome not in DECISION_OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; use one of {', '.join(DECISION_OUTCOMES)}")

    now = utc_now()
    with store._transaction(f"record decision on exception {exception_id}") as session:
        exception = _locked_exception(session, exception_id)
        if exception is None:
            return None
        events = []
        from_status = exception.status
        claimed_by = _claim_holder(session, exception_id) if exception.status == ASSIGNED_STATUS else None
        if claimed_by is not None and claimed_by != decided_by and not override_claim:
            raise ClaimedByAnotherError(f"exception {exception_id} is claimed by another reviewer")
        if exception.status == RESOLVED_STATUS:
            if not reopen:
                raise AlreadyResolvedError(f"exception {exception_id} is resolved; send reopen to decide again")
            events.append(_reopened_event(session, exception_id, decided_by=decided_by, at=now))
            from_status = REOPENED_STATUS
        new_status = RESOLVED_STATUS if outcome is not None else DECIDED_STATUS
        _set_decided_status(session, exception_id, new_status, reopening=exception.status == RESOLVED_STATUS, at=now)

        latest = session.scalar(
            select(PredictionRow)
            .where(PredictionRow.exception_id == exception_id)
            .order_by(PredictionRow.created_at.desc(), PredictionRow.prediction_id.desc())
            .limit(1)
        )
        labels = _decided_labels(action, latest, type=type, priority=priority, resolution=resolution)
        qa_sample = False
        if latest is not None:
            context = session.get(PredictionContextRow, latest.prediction_id)
            qa_sample = context.qa_sample if context is not None else latest.route_reason == QA_SAMPLE_REASON

        decision = {
            "decision_id": f"dec_{uuid.uuid4().hex[:20]}",
            "exception_id": exception_id,
            "prediction_id": latest.prediction_id if latest is not None else None,
            "action": action,
            **labels,
            "model_type": latest.predicted_type if latest is not None else None,
            "model_priority": latest.predicted_priority if latest is not None else None,
            "model_resolution": latest.predicted_resolution if latest is not None else None,
            "qa_sample": qa_sample,
            "outcome": outcome,
            "amount_recovered": amount_recovered,
            "decided_by": decided_by,
            "decided_at": now,
        }
        session.execute(insert(DecisionRow), [decision])

        details = {
            "decision_id": decision["decision_id"],
            "action": action,
            "from_status": from_status,
            "to_status": new_status,
            "outcome": outcome,
        }
        if claimed_by is not None and claimed_by != decided_by:
            details["overrode_claim_of"] = claimed_by
        events.append(_audit_event(entity_id=exception_id, action="decided", actor=decided_by, at=now, details=details))
        session.execute(insert(AuditEventRow), events)
    logger.info("decision %s recorded on exception %s", decision["decision_id"], exception_id)
    return decision


def _locked_exception(session: Session, exception_id: str) -> ExceptionRow | None:
    """Read an exception so that no other transaction changes it before this one ends.

    PostgreSQL locks the row (``FOR UPDATE``); SQLite takes the database's write lock first (see
    :func:`workflow.store.store.take_write_lock`), so a claim, release or decision made meanwhile
    waits for this transaction instead of being overwritten unseen.
    """
    from workflow.store.store import take_write_lock

    take_write_lock(session)
    return session.get(ExceptionRow, exception_id, with_for_update=True)


def _claim_holder(session: Session, exception_id: str) -> str | None:
    """Return the API key name of the latest claim on an exception, or None when it was never claimed."""
    return session.scalar(
        select(AssignmentRow.assigned_to)
        .where(AssignmentRow.exception_id == exception_id)
        .order_by(AssignmentRow.id.desc())
        .limit(1)
    )


def _set_decided_status(session: Session, exception_id: str, status: str, *, reopening: bool, at: dt.datetime) -> None:
    """Set the status a decision gives, unless another decision resolved the exception meanwhile.

    The row was read under the lock of :func:`_locked_exception`; the status condition in the
    UPDATE checks the committed row once more at no cost.
    """
    resolved = ExceptionRow.status == RESOLVED_STATUS
    result = session.execute(
        update(ExceptionRow)
        .where(ExceptionRow.exception_id == exception_id, resolved if reopening else ~resolved)
        .values(status=status, updated_at=at)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise AlreadyResolvedError(f"exception {exception_id} was resolved by a concurrent decision")


def _reopened_event(session: Session, exception_id: str, *, decided_by: str, at: dt.datetime) -> dict[str, Any]:
    """Build the ``reopened`` audit event of a resolved exception, naming the decision that resolved it."""
    from workflow.store.store import _audit_event

    previous = session.scalar(
        select(DecisionRow).where(DecisionRow.exception_id == exception_id).order_by(DecisionRow.id.desc()).limit(1)
    )
    details = {
        "from_status": RESOLVED_STATUS,
        "to_status": REOPENED_STATUS,
        "previous_decision_id": previous.decision_id if previous is not None else None,
        "previous_outcome": previous.outcome if previous is not None else None,
    }
    return _audit_event(entity_id=exception_id, action="reopened", actor=decided_by, at=at, details=details)


def _decided_labels(
    action: str, latest: PredictionRow | None, *, type: str | None, priority: str | None, resolution: str | None
) -> dict[str, str | None]:
    if action == "accept":
        if latest is None:
            raise ValueError("the exception has no prediction to accept: send decision 'override' with a type")
        return {
            "type": latest.predicted_type,
            "priority": latest.predicted_priority,
            "resolution": latest.predicted_resolution,
        }
    # An override keeps the prediction's label for every head it leaves out.
    predicted = {
        "type": latest.predicted_type if latest else None,
        "priority": latest.predicted_priority if latest else None,
        "resolution": latest.predicted_resolution if latest else None,
    }
    given = {"type": type, "priority": priority, "resolution": resolution}
    labels = {head: given[head] if given[head] is not None else predicted[head] for head in given}
    if labels["type"] is None:
        raise ValueError("an override of an exception without a prediction needs a type")
    return labels


def labelled_exceptions(store: Store) -> list[dict[str, Any]]:
    """Return every decided exception with the labels of its latest decision, oldest decision first.

    Each item has ``exception`` (the exception's JSON form, as ``record_to_dict`` gives it),
    ``type``, ``priority``, ``resolution``, ``decided_at`` and ``decided_by``.
    """
    with store._sessions() as session:
        ranked = select(
            DecisionRow.id,
            func.row_number()
            .over(partition_by=DecisionRow.exception_id, order_by=(DecisionRow.decided_at.desc(), DecisionRow.id.desc()))
            .label("rank"),
        ).subquery()
        rows = session.execute(
            select(DecisionRow, ExceptionRow)
            .join(ranked, ranked.c.id == DecisionRow.id)
            .join(ExceptionRow, ExceptionRow.exception_id == DecisionRow.exception_id)
            .where(ranked.c.rank == 1)
            .order_by(DecisionRow.decided_at, DecisionRow.id)
        ).all()
        return [
            {
                "exception": record_to_dict(exception_from_row(exception)),
                "type": decision.type,
                "priority": decision.priority,
                "resolution": decision.resolution,
                "decided_at": decision.decided_at,
                "decided_by": decision.decided_by,
            }
            for decision, exception in rows
        ]


# Idempotency ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """The state of an idempotency key: ``new`` (this request owns it), ``done``, ``running`` or ``mismatch``."""

    state: str
    status_code: int | None = None
    response_body: str | None = None
    media_type: str | None = None


def idempotency_begin(
    store: Store, *, key_hash: str, request_hash: str, method: str, path: str
) -> IdempotencyRecord:
    """Reserve ``key_hash`` for this request, or report what an earlier request with it did."""
    row = {
        "key_hash": key_hash,
        "request_hash": request_hash,
        "method": method,
        "path": path[:255],
        "status_code": None,
        "response_body": None,
        "media_type": None,
        "created_at": utc_now(),
        "completed_at": None,
    }
    try:
        with store._transaction("reserve idempotency key") as session:
            session.execute(insert(IdempotencyRow), [row])
        return IdempotencyRecord("new")
    except StoreError as exc:
        if not isinstance(exc.__cause__, IntegrityError):
            raise

    with store._sessions() as session:
        existing = session.get(IdempotencyRow, key_hash)
    if existing is None:
        # The first request failed and released the key between our insert and this read.
        return idempotency_begin(store, key_hash=key_hash, request_hash=request_hash, method=method, path=path)
    if (existing.request_hash, existing.method, existing.path) != (request_hash, method, path[:255]):
        return IdempotencyRecord("mismatch")
    if existing.status_code is None:
        return IdempotencyRecord("running")
    return IdempotencyRecord("done", existing.status_code, existing.response_body, existing.media_type)


def idempotency_complete(
    store: Store, *, key_hash: str, status_code: int, response_body: str, media_type: str | None
) -> None:
    """Store the response of the request that reserved ``key_hash``."""
    with store._transaction("complete idempotency key") as session:
        session.execute(
            update(IdempotencyRow)
            .where(IdempotencyRow.key_hash == key_hash)
            .values(status_code=status_code, response_body=response_body, media_type=media_type, completed_at=utc_now())
        )


def idempotency_abandon(store: Store, *, key_hash: str) -> None:
    """Release ``key_hash`` after a failed request, so a retry with the same key runs again."""
    with store._transaction("release idempotency key") as session:
        session.execute(delete(IdempotencyRow).where(IdempotencyRow.key_hash == key_hash))


# Jobs ----------------------------------------------------------------------------------------


def create_job(store: Store, *, created_by: str, files: Sequence[dict[str, Any]]) -> str:
    """Insert a queued ingestion job for ``files`` (name, size and document id each) and return its id."""
    job_id = f"job_{uuid.uuid4().hex[:20]}"
    row = {
        "job_id": job_id,
        "status": "queued",
        "created_by": created_by,
        "created_at": utc_now(),
        "started_at": None,
        "finished_at": None,
        "files_total": len(files),
        "files_done": 0,
        "files": [dict(item, status="queued") for item in files],
        "run_id": None,
        "summary": None,
        "error": None,
    }
    with store._transaction(f"create job {job_id}") as session:
        session.execute(insert(JobRow), [row])
    return job_id


def start_job(store: Store, job_id: str) -> None:
    """Mark the job running."""
    _update_job(store, job_id, status="running", started_at=utc_now())


def update_job_progress(store: Store, job_id: str, files_done: int) -> None:
    """Set how many files the job has read so far."""
    _update_job(store, job_id, files_done=files_done)


def finish_job(
    store: Store,
    job_id: str,
    *,
    status: str,
    files: list[dict[str, Any]] | None = None,
    run_id: str | None = None,
    summary: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    """Mark the job ``succeeded`` or ``failed`` with each file's result, the run and its summary."""
    values: dict[str, Any] = {"status": status, "finished_at": utc_now(), "run_id": run_id, "summary": summary, "error": error}
    if files is not None:
        values["files"] = files
        values["files_done"] = len(files)
    _update_job(store, job_id, **values)


def _update_job(store: Store, job_id: str, **values: Any) -> None:
    with store._transaction(f"update job {job_id}") as session:
        session.execute(update(JobRow).where(JobRow.job_id == job_id).values(**values))


def get_job(store: Store, job_id: str) -> dict[str, Any] | None:
    """Return the job with its progress and per-file results, or None when it does not exist."""
    with store._sessions() as session:
        row = session.get(JobRow, job_id)
        if row is None:
            return None
        return {
            "job_id": row.job_id,
            "status": row.status,
            "created_by": row.created_by,
            "created_at": row.created_at,
            "started_at": row.started_at,
            "finished_at": row.finished_at,
            "files_total": row.files_total,
            "files_done": row.files_done,
            "files": row.files,
            "run_id": row.run_id,
            "summary": row.summary,
            "error": row.error,
        }


def document_statuses(store: Store, document_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Return status, kind, error and run id of each stored document among ``document_ids``."""
    ids = list(dict.fromkeys(document_ids))
    with store._sessions() as session:
        rows = session.scalars(select(DocumentRow).where(DocumentRow.document_id.in_(ids))).all() if ids else []
        return {
            row.document_id: {"status": row.status, "kind": row.kind, "error": row.error, "run_id": row.run_id}
            for row in rows
        }


# KPIs ----------------------------------------------------------------------------------------


def compute_kpis(store: Store, *, sla_hours: float) -> dict[str, Any]:
    """Measure the KPIs the API reports; a rate with nothing to measure is None.

    Rates measured here: auto-route rate (latest prediction of each exception), override rate
    (share of decisions that override), QA precision (decided QA-sampled items whose reviewer
    kept the model's type) and denial rate by payer (share of claim payments with status 4).
    The first-pass validation rate, auto-posting rate and reconciliation variance are the latest
    values recorded by runs with Store.record_kpis. The variance is ``posting_variance`` (the
    BPR total minus the cash posted) and ``imbalance_total`` (the sum of the absolute differences
    of remittances that do not balance), each a Decimal, or None when no run recorded either.
    """
    with store._sessions() as session:
        latest_route = _latest_prediction_value(PredictionRow.route)
        latest_type = _latest_prediction_value(PredictionRow.predicted_type)
        exception_rows = session.execute(select(ExceptionRow.status, latest_type, latest_route)).all()
        decisions = session.execute(
            select(DecisionRow.action, DecisionRow.qa_sample, DecisionRow.type, DecisionRow.model_type)
        ).all()
        payments = session.execute(
            select(ClaimPaymentRow.payer_id, ClaimPaymentRow.status, func.count())
            .group_by(ClaimPaymentRow.payer_id, ClaimPaymentRow.status)
        ).all()
        run_kpis = _latest_run_kpis(session)

    by_status = Counter(status for status, _, _ in exception_rows)
    by_type = Counter(type_ or "unpredicted" for _, type_, _ in exception_rows)
    routes = [route for _, _, route in exception_rows if route is not None]
    qa_decided = [(kept, model) for _, qa, kept, model in decisions if qa and model is not None]

    return {
        "first_pass_validation_rate": run_kpis.get("first_pass_validation_rate"),
        "exceptions_by_type": dict(sorted(by_type.items())),
        "exceptions_by_status": dict(sorted(by_status.items())),
        "queues": queue_stats(store, sla_hours=sla_hours),
        "sla_hours": sla_hours,
        "auto_route_rate": _share(sum(route == "auto" for route in routes), len(routes)),
        "override_rate": _share(sum(action == "override" for action, *_ in decisions), len(decisions)),
        "qa_precision": _share(sum(kept == model for kept, model in qa_decided), len(qa_decided)),
        "qa_decided": len(qa_decided),
        "auto_posting_rate": run_kpis.get("auto_posting_rate"),
        "reconciliation_variance": _reconciliation_variance(run_kpis),
        "denial_rate_by_payer": _denial_rates(payments),
        "latest_run_kpis": run_kpis,
    }


def _latest_run_kpis(session: Session) -> dict[str, float | Decimal]:
    """Return the newest recorded value of each run KPI; money KPIs are Decimal, the rest float."""
    newest = (
        select(KpiSnapshotRow.name, func.max(KpiSnapshotRow.id).label("id")).group_by(KpiSnapshotRow.name).subquery()
    )
    rows = session.execute(select(KpiSnapshotRow.name, KpiSnapshotRow.value).join(newest, newest.c.id == KpiSnapshotRow.id))
    return {name: _money(value) if name in MONEY_RUN_KPIS else value for name, value in rows}


def _money(value: float) -> Decimal:
    # repr() of a float is the shortest text that reads back as the same float, so 3049.44 stays
    # 3049.44 instead of becoming the binary expansion 3049.44000000000005456968210637569427490234375.
    return Decimal(repr(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _reconciliation_variance(run_kpis: dict[str, Any]) -> dict[str, Decimal | None] | None:
    variance = {
        "posting_variance": run_kpis.get("reconciliation_posting_variance"),
        "imbalance_total": run_kpis.get("reconciliation_imbalance_total"),
    }
    if all(value is None for value in variance.values()):
        return None
    return variance


def _denial_rates(payments: Sequence[Any]) -> dict[str, float]:
    totals: Counter[str] = Counter()
    denied: Counter[str] = Counter()
    for payer_id, status, count in payments:
        payer = payer_id or "unknown"
        totals[payer] += count
        if status == DENIED_CLAIM_STATUS:
            denied[payer] += count
    return {payer: round(denied[payer] / totals[payer], 6) for payer in sorted(totals)}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


# Exception lists -----------------------------------------------------------------------------


def list_exceptions(
    store: Store,
    *,
    filters: dict[str, Any],
    min_amount: Decimal | None = None,
    max_amount: Decimal | None = None,
    detected_on_or_before: dt.date | None = None,
    detected_on_or_after: dt.date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Return one page of exception summaries, newest first, and the number that match.

    ``filters`` maps ``kind``, ``status``, ``payer_id``, ``queue``, ``predicted_type`` and
    ``route`` to a required value (None means any); the last two read each exception's latest
    prediction. Age filters compare ``detected_on``.
    """
    with store._sessions() as session:
        latest = queries._latest_predictions()
        query = select(ExceptionRow, latest.c.predicted_type, latest.c.confidence, latest.c.route).outerjoin(
            latest, latest.c.exception_id == ExceptionRow.exception_id
        )
        columns = {
            "kind": ExceptionRow.kind,
            "status": ExceptionRow.status,
            "payer_id": ExceptionRow.payer_id,
            "queue": ExceptionRow.queue,
            "predicted_type": latest.c.predicted_type,
            "route": latest.c.route,
        }
        for name, value in filters.items():
            if value is not None:
                query = query.where(columns[name] == value)
        if min_amount is not None:
            query = query.where(ExceptionRow.amount_at_risk >= min_amount)
        if max_amount is not None:
            query = query.where(ExceptionRow.amount_at_risk <= max_amount)
        if detected_on_or_before is not None:
            query = query.where(ExceptionRow.detected_on <= detected_on_or_before)
        if detected_on_or_after is not None:
            query = query.where(ExceptionRow.detected_on >= detected_on_or_after)

        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        page = query.order_by(ExceptionRow.created_at.desc(), ExceptionRow.exception_id).limit(limit).offset(offset)
        items = [
            queries._exception_summary(row, predicted_type=row_type, confidence=confidence, route=route)
            for row, row_type, confidence, route in session.execute(page)
        ]
    return items, total


def exception_decisions(store: Store, exception_id: str) -> list[dict[str, Any]]:
    """Return every decision on an exception, oldest first."""
    with store._sessions() as session:
        rows = session.scalars(
            select(DecisionRow).where(DecisionRow.exception_id == exception_id).order_by(DecisionRow.id)
        ).all()
        return [
            {
                "decision_id": row.decision_id,
                "prediction_id": row.prediction_id,
                "action": row.action,
                "type": row.type,
                "priority": row.priority,
                "resolution": row.resolution,
                "outcome": row.outcome,
                "amount_recovered": row.amount_recovered,
                "decided_by": row.decided_by,
                "decided_at": row.decided_at,
            }
            for row in rows
        ]
