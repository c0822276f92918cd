"""Alembic revisions of the triage store, oldest first by their ``down_revision`` chain."""
