"""Create the initial schema: documents, records, exceptions, predictions, audit events, KPIs.

Revision ID: 0001
Revises:
Create Date: 2026-12-04

Types are spelled out here (``sa.Numeric``, ``sa.DateTime``) instead of imported from
``workflow.store.types``, so this revision keeps working when those classes change.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Audit events are append-only: the database itself rejects UPDATE and DELETE, so no code path
# (ORM or raw SQL) can rewrite history.
APPEND_ONLY_MESSAGE = "audit_events is append-only: insert a new event instead of changing one"

SQLITE_AUDIT_TRIGGERS = [
    f"""
    CREATE TRIGGER audit_events_reject_{action.lower()}
    BEFORE {action} ON audit_events
    BEGIN
        SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}');
    END
    """
    for action in ("UPDATE", "DELETE")
]

POSTGRESQL_AUDIT_TRIGGERS = [
    f"""
    CREATE FUNCTION audit_events_reject_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}';
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER audit_events_reject_change
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_reject_change()
    """,
]


def _create_audit_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        statements = SQLITE_AUDIT_TRIGGERS
    elif dialect == "postgresql":
        statements = POSTGRESQL_AUDIT_TRIGGERS
    else:
        # NOTE: other databases get no append-only guard; the store itself never updates events.
        return
    for statement in statements:
        op.execute(statement)


def _drop_audit_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_events_reject_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_reject_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_reject_change ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_reject_change()")


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_entity_entity_id', ['entity', 'entity_id'], unique=False)
    _create_audit_triggers()

    op.create_table('runs',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_runs'))
    )
    op.create_table('documents',
    sa.Column('document_id', sa.String(length=64), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('ingested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_documents_run_id_runs')),
    sa.PrimaryKeyConstraint('document_id', name=op.f('pk_documents'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documents_run_id'), ['run_id'], unique=False)

    op.create_table('exceptions',
    sa.Column('exception_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('claim_id', sa.String(length=80), nullable=True),
    sa.Column('payer_id', sa.String(length=80), nullable=True),
    sa.Column('amount_at_risk', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('service_date', sa.Date(), nullable=True),
    sa.Column('detected_on', sa.Date(), nullable=False),
    sa.Column('claim_status', sa.String(length=8), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=True),
    sa.Column('document_id', sa.String(length=64), nullable=True),
    sa.Column('run_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('source', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_exceptions_run_id_runs')),
    sa.PrimaryKeyConstraint('exception_id', name=op.f('pk_exceptions'))
    )
    with op.batch_alter_table('exceptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exceptions_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exceptions_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_exceptions_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exceptions_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_exceptions_payer_id'), ['payer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exceptions_queue'), ['queue'], unique=False)
        batch_op.create_index(batch_op.f('ix_exceptions_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exceptions_status'), ['status'], unique=False)

    op.create_table('kpi_snapshots',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_kpi_snapshots_run_id_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_snapshots'))
    )
    with op.batch_alter_table('kpi_snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kpi_snapshots_run_id'), ['run_id'], unique=False)

    op.create_table('claims',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('claim_id', sa.String(length=80), nullable=False),
    sa.Column('document_id', sa.String(length=64), nullable=False),
    sa.Column('segment_index', sa.Integer(), nullable=True),
    sa.Column('payer_id', sa.String(length=80), nullable=True),
    sa.Column('patient_id', sa.String(length=80), nullable=True),
    sa.Column('billing_npi', sa.String(length=80), nullable=True),
    sa.Column('total_charge', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('service_date', sa.Date(), nullable=True),
    sa.Column('claim_type', sa.String(length=32), nullable=False),
    sa.Column('frequency_code', sa.String(length=8), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.document_id'], name=op.f('fk_claims_document_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claims')),
    sa.UniqueConstraint('document_id', 'segment_index', name=op.f('uq_claims_document_id_segment_index'))
    )
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claims_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claims_document_id'), ['document_id'], unique=False)

    op.create_table('findings',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('document_id', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('claim_id', sa.String(length=80), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('element', sa.String(length=32), nullable=True),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('expected', sa.Text(), nullable=True),
    sa.Column('rule_set_version', sa.String(length=32), nullable=True),
    sa.Column('source', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.document_id'], name=op.f('fk_findings_document_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_findings'))
    )
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_findings_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_findings_code'), ['code'], unique=False)
        batch_op.create_index(batch_op.f('ix_findings_document_id'), ['document_id'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('document_id', sa.String(length=64), nullable=False),
    sa.Column('segment_index', sa.Integer(), nullable=True),
    sa.Column('trace_number', sa.String(length=80), nullable=True),
    sa.Column('payer_id', sa.String(length=80), nullable=True),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('payment_date', sa.Date(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.document_id'], name=op.f('fk_payments_document_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_trace_number'), ['trace_number'], unique=False)

    op.create_table('predictions',
    sa.Column('prediction_id', sa.String(length=64), nullable=False),
    sa.Column('exception_id', sa.String(length=64), nullable=False),
    sa.Column('model_name', sa.String(length=128), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=True),
    sa.Column('predicted_type', sa.String(length=64), nullable=False),
    sa.Column('predicted_priority', sa.String(length=64), nullable=True),
    sa.Column('predicted_resolution', sa.String(length=64), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('probabilities', sa.JSON(), nullable=False),
    sa.Column('explanation', sa.JSON(), nullable=False),
    sa.Column('feature_values', sa.JSON(), nullable=False),
    sa.Column('route', sa.String(length=32), nullable=False),
    sa.Column('route_reason', sa.Text(), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=True),
    sa.Column('latency_ms', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['exception_id'], ['exceptions.exception_id'], name=op.f('fk_predictions_exception_id_exceptions')),
    sa.PrimaryKeyConstraint('prediction_id', name=op.f('pk_predictions'))
    )
    with op.batch_alter_table('predictions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_predictions_exception_id'), ['exception_id'], unique=False)
        batch_op.create_index('ix_predictions_exception_id_created_at', ['exception_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_predictions_predicted_type'), ['predicted_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_predictions_route'), ['route'], unique=False)

    op.create_table('provider_adjustments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('document_id', sa.String(length=64), nullable=False),
    sa.Column('segment_index', sa.Integer(), nullable=True),
    sa.Column('provider_id', sa.String(length=80), nullable=True),
    sa.Column('reason', sa.String(length=8), nullable=False),
    sa.Column('reference', sa.String(length=80), nullable=True),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('payer_id', sa.String(length=80), nullable=True),
    sa.Column('trace_number', sa.String(length=80), nullable=True),
    sa.Column('fiscal_period_date', sa.Date(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.document_id'], name=op.f('fk_provider_adjustments_document_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_adjustments'))
    )
    with op.batch_alter_table('provider_adjustments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provider_adjustments_document_id'), ['document_id'], unique=False)

    op.create_table('claim_payments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('claim_id', sa.String(length=80), nullable=False),
    sa.Column('document_id', sa.String(length=64), nullable=False),
    sa.Column('segment_index', sa.Integer(), nullable=True),
    sa.Column('payer_id', sa.String(length=80), nullable=True),
    sa.Column('payer_claim_id', sa.String(length=80), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('charge', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('paid', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('patient_responsibility', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('trace_number', sa.String(length=80), nullable=True),
    sa.Column('service_date', sa.Date(), nullable=True),
    sa.Column('matched_claim_pk', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.document_id'], name=op.f('fk_claim_payments_document_id_documents')),
    sa.ForeignKeyConstraint(['matched_claim_pk'], ['claims.id'], name=op.f('fk_claim_payments_matched_claim_pk_claims')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_payments')),
    sa.UniqueConstraint('document_id', 'segment_index', name=op.f('uq_claim_payments_document_id_segment_index'))
    )
    with op.batch_alter_table('claim_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_payments_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_payments_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_payments_matched_claim_pk'), ['matched_claim_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_payments_trace_number'), ['trace_number'], unique=False)



def downgrade() -> None:
    _drop_audit_triggers()
    with op.batch_alter_table('claim_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_payments_trace_number'))
        batch_op.drop_index(batch_op.f('ix_claim_payments_matched_claim_pk'))
        batch_op.drop_index(batch_op.f('ix_claim_payments_document_id'))
        batch_op.drop_index(batch_op.f('ix_claim_payments_claim_id'))

    op.drop_table('claim_payments')
    with op.batch_alter_table('provider_adjustments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provider_adjustments_document_id'))

    op.drop_table('provider_adjustments')
    with op.batch_alter_table('predictions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_predictions_route'))
        batch_op.drop_index(batch_op.f('ix_predictions_predicted_type'))
        batch_op.drop_index('ix_predictions_exception_id_created_at')
        batch_op.drop_index(batch_op.f('ix_predictions_exception_id'))

    op.drop_table('predictions')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_trace_number'))
        batch_op.drop_index(batch_op.f('ix_payments_document_id'))

    op.drop_table('payments')
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_findings_document_id'))
        batch_op.drop_index(batch_op.f('ix_findings_code'))
        batch_op.drop_index(batch_op.f('ix_findings_claim_id'))

    op.drop_table('findings')
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claims_document_id'))
        batch_op.drop_index(batch_op.f('ix_claims_claim_id'))

    op.drop_table('claims')
    with op.batch_alter_table('kpi_snapshots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpi_snapshots_run_id'))

    op.drop_table('kpi_snapshots')
    with op.batch_alter_table('exceptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exceptions_status'))
        batch_op.drop_index(batch_op.f('ix_exceptions_run_id'))
        batch_op.drop_index(batch_op.f('ix_exceptions_queue'))
        batch_op.drop_index(batch_op.f('ix_exceptions_payer_id'))
        batch_op.drop_index(batch_op.f('ix_exceptions_kind'))
        batch_op.drop_index(batch_op.f('ix_exceptions_document_id'))
        batch_op.drop_index(batch_op.f('ix_exceptions_created_at'))
        batch_op.drop_index(batch_op.f('ix_exceptions_claim_id'))

    op.drop_table('exceptions')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_run_id'))

    op.drop_table('documents')
    op.drop_table('runs')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_entity_entity_id')

    op.drop_table('audit_events')
