"""ORM models of remittance reconciliation: match decisions, line matches and the posting outbox.

``journal_lines`` is the outbox: a line is inserted once per posting key (the content of the
payment, not the file's bytes), and an export stamps ``export_id`` and ``exported_at`` so each line
leaves the outbox once. The tables are created by migration ``0002_remittance_posting``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflow.store.models import CODE_LENGTH, ID_LENGTH, X12_ID_LENGTH, Base

__all__ = ["JournalLineRow", "PostingExportRow", "RemittanceLineMatchRow", "RemittanceMatchRow"]

ACCOUNT_LENGTH = 32


class RemittanceMatchRow(Base):
    """The match and posting decision of one claim payment, keyed like the claim payment itself."""

    __tablename__ = "remittance_matches"
    __table_args__ = (UniqueConstraint("document_id", "segment_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.document_id"), index=True)
    segment_index: Mapped[int | None]
    claim_id: Mapped[str] = mapped_column(String(X12_ID_LENGTH), index=True)
    payer_id: Mapped[str | None] = mapped_column(String(X12_ID_LENGTH))
    status: Mapped[str] = mapped_column(String(16))
    match_key: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    confidence: Mapped[float] = mapped_column(Float)
    claim_pk: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    category: Mapped[str] = mapped_column(String(16))
    posting: Mapped[str] = mapped_column(String(16), index=True)
    hold_reasons: Mapped[list[Any]]
    reversal: Mapped[dict[str, Any] | None]
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id"), index=True)
    created_at: Mapped[dt.datetime]


class RemittanceLineMatchRow(Base):
    """The claim line that one SVC loop of a claim payment paid, with the key and confidence."""

    __tablename__ = "remittance_line_matches"
    __table_args__ = (UniqueConstraint("document_id", "segment_index", "service_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.document_id"), index=True)
    segment_index: Mapped[int | None]
    service_index: Mapped[int]
    service_segment_index: Mapped[int | None]
    claim_pk: Mapped[int | None] = mapped_column(ForeignKey("claims.id"))
    claim_line_number: Mapped[int | None]
    match_key: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    confidence: Mapped[float] = mapped_column(Float)


class JournalLineRow(Base):
    """One journal line in the posting outbox; ``export_id`` is None until an export takes it."""

    __tablename__ = "journal_lines"

    line_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    posting_key: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    entry_type: Mapped[str] = mapped_column(String(32))
    group_code: Mapped[str] = mapped_column(String(8))
    reason_code: Mapped[str] = mapped_column(String(8))
    debit_account: Mapped[str] = mapped_column(String(ACCOUNT_LENGTH))
    credit_account: Mapped[str] = mapped_column(String(ACCOUNT_LENGTH))
    amount: Mapped[Decimal]
    claim_id: Mapped[str | None] = mapped_column(String(X12_ID_LENGTH), index=True)
    payer_id: Mapped[str | None] = mapped_column(String(X12_ID_LENGTH))
    payer_claim_id: Mapped[str | None] = mapped_column(String(X12_ID_LENGTH))
    trace_number: Mapped[str | None] = mapped_column(String(X12_ID_LENGTH))
    document_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    segment_index: Mapped[int | None]
    posting_date: Mapped[dt.date | None]
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id"), index=True)
    created_at: Mapped[dt.datetime]
    export_id: Mapped[str | None] = mapped_column(ForeignKey("posting_exports.export_id"), index=True)
    exported_at: Mapped[dt.datetime | None]


class PostingExportRow(Base):
    """One export of the outbox: when, in which format, to which file and how many lines."""

    __tablename__ = "posting_exports"

    export_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    created_at: Mapped[dt.datetime]
    format: Mapped[str] = mapped_column(String(8))
    file_name: Mapped[str] = mapped_column(String(255))
    line_count: Mapped[int]
    include_all: Mapped[bool]
