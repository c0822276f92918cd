"""Alembic environment and revisions of the triage store (run through workflow.store.database)."""
