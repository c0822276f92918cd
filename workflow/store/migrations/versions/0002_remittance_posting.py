"""Add the tables of remittance matching and posting: match decisions, line matches, the outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04

Types are spelled out here (``sa.Numeric``, ``sa.DateTime``) instead of imported from
``workflow.store.types``, so this revision keeps working when those classes change.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('remittance_matches',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('document_id', sa.String(length=64), nullable=False),
    sa.Column('segment_index', sa.Integer(), nullable=True),
    sa.Column('claim_id', sa.String(length=80), nullable=False),
    sa.Column('payer_id', sa.String(length=80), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('match_key', sa.String(length=64), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('claim_pk', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('posting', sa.String(length=16), nullable=False),
    sa.Column('hold_reasons', sa.JSON(), nullable=False),
    sa.Column('reversal', sa.JSON(), nullable=True),
    sa.Column('run_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['claim_pk'], ['claims.id'], name=op.f('fk_remittance_matches_claim_pk_claims')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.document_id'], name=op.f('fk_remittance_matches_document_id_documents')),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_remittance_matches_run_id_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remittance_matches')),
    sa.UniqueConstraint('document_id', 'segment_index', name=op.f('uq_remittance_matches_document_id_segment_index'))
    )
    with op.batch_alter_table('remittance_matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remittance_matches_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_remittance_matches_claim_pk'), ['claim_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_remittance_matches_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_remittance_matches_posting'), ['posting'], unique=False)
        batch_op.create_index(batch_op.f('ix_remittance_matches_run_id'), ['run_id'], unique=False)

    op.create_table('remittance_line_matches',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('document_id', sa.String(length=64), nullable=False),
    sa.Column('segment_index', sa.Integer(), nullable=True),
    sa.Column('service_index', sa.Integer(), nullable=False),
    sa.Column('service_segment_index', sa.Integer(), nullable=True),
    sa.Column('claim_pk', sa.Integer(), nullable=True),
    sa.Column('claim_line_number', sa.Integer(), nullable=True),
    sa.Column('match_key', sa.String(length=64), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['claim_pk'], ['claims.id'], name=op.f('fk_remittance_line_matches_claim_pk_claims')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.document_id'], name=op.f('fk_remittance_line_matches_document_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remittance_line_matches')),
    sa.UniqueConstraint('document_id', 'segment_index', 'service_index', name=op.f('uq_remittance_line_matches_document_id_segment_index_service_index'))
    )
    with op.batch_alter_table('remittance_line_matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remittance_line_matches_document_id'), ['document_id'], unique=False)

    op.create_table('posting_exports',
    sa.Column('export_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('include_all', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('export_id', name=op.f('pk_posting_exports'))
    )

    op.create_table('journal_lines',
    sa.Column('line_id', sa.String(length=64), nullable=False),
    sa.Column('posting_key', sa.String(length=64), nullable=False),
    sa.Column('entry_type', sa.String(length=32), nullable=False),
    sa.Column('group_code', sa.String(length=8), nullable=False),
    sa.Column('reason_code', sa.String(length=8), nullable=False),
    sa.Column('debit_account', sa.String(length=32), nullable=False),
    sa.Column('credit_account', sa.String(length=32), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('claim_id', sa.String(length=80), nullable=True),
    sa.Column('payer_id', sa.String(length=80), nullable=True),
    sa.Column('payer_claim_id', sa.String(length=80), nullable=True),
    sa.Column('trace_number', sa.String(length=80), nullable=True),
    sa.Column('document_id', sa.String(length=64), nullable=False),
    sa.Column('segment_index', sa.Integer(), nullable=True),
    sa.Column('posting_date', sa.Date(), nullable=True),
    sa.Column('run_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('export_id', sa.String(length=64), nullable=True),
    sa.Column('exported_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['export_id'], ['posting_exports.export_id'], name=op.f('fk_journal_lines_export_id_posting_exports')),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_journal_lines_run_id_runs')),
    sa.PrimaryKeyConstraint('line_id', name=op.f('pk_journal_lines'))
    )
    with op.batch_alter_table('journal_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_journal_lines_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_journal_lines_export_id'), ['export_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_journal_lines_posting_key'), ['posting_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_journal_lines_run_id'), ['run_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('journal_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_journal_lines_run_id'))
        batch_op.drop_index(batch_op.f('ix_journal_lines_posting_key'))
        batch_op.drop_index(batch_op.f('ix_journal_lines_export_id'))
        batch_op.drop_index(batch_op.f('ix_journal_lines_claim_id'))
    op.drop_table('journal_lines')
    op.drop_table('posting_exports')

    with op.batch_alter_table('remittance_line_matches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remittance_line_matches_document_id'))
    op.drop_table('remittance_line_matches')

    with op.batch_alter_table('remittance_matches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remittance_matches_run_id'))
        batch_op.drop_index(batch_op.f('ix_remittance_matches_posting'))
        batch_op.drop_index(batch_op.f('ix_remittance_matches_document_id'))
        batch_op.drop_index(batch_op.f('ix_remittance_matches_claim_pk'))
        batch_op.drop_index(batch_op.f('ix_remittance_matches_claim_id'))
    op.drop_table('remittance_matches')
