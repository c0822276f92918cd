"""Add the tables of the API's governance: API keys, reviewer decisions, queue claims, idempotency.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # TODO: API keys, decisions, queue assignments and idempotency records land here.
    pass


def downgrade() -> None:
    pass
