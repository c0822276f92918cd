"""ORM models of the API's governance: API keys, reviewer decisions, queue assignments,
idempotency records, ingestion jobs and the request context of each prediction.

The tables are created by migration ``0003_api_governance``; keep both in step when a column
changes. Nothing here stores a member name or a request body: idempotency records keep a hash of
the body and the response the API sent, which holds ids, labels and scores only.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from workflow.store.models import CODE_LENGTH, ID_LENGTH, Base

__all__ = [
    "ApiKeyRow",
    "AssignmentRow",
    "DecisionRow",
    "IdempotencyRow",
    "JobRow",
    "PredictionContextRow",
]

NAME_LENGTH = 100
ACTOR_LENGTH = 200


class ApiKeyRow(Base):
    """One API key: its name, role and a salted SHA-256 of its secret; the secret itself is never stored.

    ``key_prefix`` is the public first part of the key, so a request's key is found by an index
    lookup and then checked against ``key_hash`` in constant time.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    key_prefix: Mapped[str] = mapped_column(String(32), unique=True)
    salt: Mapped[str] = mapped_column(String(64))
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]


class DecisionRow(Base):
    """A reviewer's decision on one exception: the labels they confirmed or set, and the outcome.

    ``model_type``, ``model_priority`` and ``model_resolution`` are the labels of the prediction
    the reviewer saw, so the override rate and the precision of automatic routing can be measured.
    """

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    decision_id: Mapped[str] = mapped_column(String(ID_LENGTH), unique=True)
    exception_id: Mapped[str] = mapped_column(ForeignKey("exceptions.exception_id"), index=True)
    prediction_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    action: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(CODE_LENGTH))
    priority: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    resolution: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    model_type: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    model_priority: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    model_resolution: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    qa_sample: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str | None] = mapped_column(String(16))
    amount_recovered: Mapped[Decimal | None]
    decided_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    decided_at: Mapped[dt.datetime]


class AssignmentRow(Base):
    """One hand-over of an exception from a work queue to a reviewer."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    exception_id: Mapped[str] = mapped_column(ForeignKey("exceptions.exception_id"), index=True)
    queue: Mapped[str] = mapped_column(String(CODE_LENGTH))
    assigned_to: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    assigned_at: Mapped[dt.datetime]


class IdempotencyRow(Base):
    """The stored outcome of a POST sent with an ``Idempotency-Key`` header.

    ``key_hash`` is a SHA-256 of the caller's API key and the header value, so two callers never
    share a record. ``status_code`` is null while the first request is still running.
    """

    __tablename__ = "idempotency_keys"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(255))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    media_type: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime | None]


class JobRow(Base):
    """One ingestion job started by a document upload, with each file's result."""

    __tablename__ = "jobs"

    job_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    created_at: Mapped[dt.datetime]
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    files_total: Mapped[int] = mapped_column(Integer)
    files_done: Mapped[int] = mapped_column(Integer, default=0)
    files: Mapped[list[Any]]
    run_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    summary: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)


class PredictionContextRow(Base):
    """Who asked for a prediction and how: request id, caller, MLflow run, QA flag and every head.

    ``heads`` holds each head's label, confidence, probabilities and explanation, because the
    ``predictions`` table keeps the explanation of the type head only.
    """

    __tablename__ = "prediction_contexts"
    __table_args__ = (Index("ix_prediction_contexts_qa_sample", "qa_sample"),)

    prediction_id: Mapped[str] = mapped_column(ForeignKey("predictions.prediction_id"), primary_key=True)
    request_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), index=True)
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    mlflow_run_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    qa_sample: Mapped[bool] = mapped_column(Boolean)
    heads: Mapped[dict[str, Any]]
