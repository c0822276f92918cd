"""Schema migrations: from an empty database, repeated, and in step with the ORM models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from workflow.errors import StoreError
from workflow.store import Store, open_store
from workflow.store.database import alembic_config
from workflow.store.models import Base

EXPECTED_TABLES = {
    "alembic_version",
    "audit_events",
    "claim_payments",
    "claims",
    "documents",
    "exceptions",
    "findings",
    "kpi_snapshots",
    "payments",
    "predictions",
    "provider_adjustments",
    "runs",
}


def test_migrations_create_every_table(store: Store) -> None:
    tables = set(inspect(store.engine).get_table_names())

    assert tables >= EXPECTED_TABLES


def test_migrations_reach_head_revision(store: Store) -> None:
    with store.engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()

    assert revision == _head_revision()


def _head_revision() -> str:
    from alembic.script import ScriptDirectory

    from workflow.store.database import alembic_config

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_migrations_match_orm_models(store: Store) -> None:
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    assert differences == []


def test_open_store_twice_is_harmless(store_url: str) -> None:
    open_store(store_url).close()

    with open_store(store_url) as reopened:
        counts = reopened.counts()

    assert set(counts.values()) == {0}


def test_downgrade_to_base_drops_tables(store: Store) -> None:
    config = alembic_config()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")

    assert set(inspect(store.engine).get_table_names()) <= {"alembic_version"}


def test_sqlite_store_rejects_missing_folder(tmp_path: Path) -> None:
    database = tmp_path / "new" / "nested" / "triage.db"

    with pytest.raises(StoreError, match="does not exist"):
        open_store(f"sqlite:///{database}")

    assert not database.parent.exists()


def test_unsupported_database_is_rejected() -> None:
    with pytest.raises(StoreError, match="unsupported database 'mysql'"):
        open_store("mysql://127.0.0.1/triage")


def test_sqlite_store_enables_foreign_keys(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'triage.db'}") as store, store.engine.connect() as connection:
        foreign_keys = connection.execute(text("PRAGMA foreign_keys")).scalar()

    assert foreign_keys == 1


def test_sqlite_store_uses_wal_journal(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'triage.db'}") as store, store.engine.connect() as connection:
        journal_mode = connection.execute(text("PRAGMA journal_mode")).scalar()

    assert journal_mode == "wal"


def test_in_memory_sqlite_store_keeps_tables() -> None:
    with open_store("sqlite://") as store:
        counts = store.counts()

    assert counts["exceptions"] == 0


def test_invalid_url_raises_store_error() -> None:
    with pytest.raises(StoreError, match="invalid store URL"):
        open_store("not a url")


def test_audit_events_reject_update(store: Store) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_events (entity, entity_id, action, actor, at, details) "
                "VALUES ('exception', 'EXC-1', 'created', 'system', CURRENT_TIMESTAMP, '{}')"
            )
        )

    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as connection:
        connection.execute(text("UPDATE audit_events SET actor = 'someone'"))


def test_audit_events_reject_delete(store: Store) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_events (entity, entity_id, action, actor, at, details) "
                "VALUES ('exception', 'EXC-1', 'created', 'system', CURRENT_TIMESTAMP, '{}')"
            )
        )

    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_events"))
