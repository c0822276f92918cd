"""Add the tables of remittance matching, balancing and posting.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # TODO: the remittance posting tables (matches, balances, journal lines, outbox) land here.
    pass


def downgrade() -> None:
    pass
