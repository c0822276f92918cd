"""SQLite connection settings: WAL, foreign keys and the synchronous mode chosen by the operator."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from workflow.errors import StoreError
from workflow.store.database import SQLITE_SYNCHRONOUS_VARIABLE, create_store_engine

# PRAGMA synchronous reads back as a number: 0 off, 1 normal, 2 full, 3 extra.
SYNCHRONOUS_NUMBERS = {"off": 0, "normal": 1, "full": 2, "extra": 3}


def _pragma(engine, name: str):
    with engine.connect() as connection:
        return connection.execute(text(f"PRAGMA {name}")).scalar()


def test_sqlite_defaults_to_normal_with_wal(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(SQLITE_SYNCHRONOUS_VARIABLE, raising=False)
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")

    assert _pragma(engine, "synchronous") == SYNCHRONOUS_NUMBERS["normal"]
    assert _pragma(engine, "journal_mode") == "wal"
    assert _pragma(engine, "foreign_keys") == 1
    engine.dispose()


@pytest.mark.parametrize("mode", ["full", "EXTRA", " off "])
def test_sqlite_synchronous_follows_variable(tmp_path, monkeypatch, mode) -> None:
    monkeypatch.setenv(SQLITE_SYNCHRONOUS_VARIABLE, mode)
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")

    assert _pragma(engine, "synchronous") == SYNCHRONOUS_NUMBERS[mode.strip().lower()]
    engine.dispose()


def test_empty_synchronous_means_default(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(SQLITE_SYNCHRONOUS_VARIABLE, "")
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")

    assert _pragma(engine, "synchronous") == SYNCHRONOUS_NUMBERS["normal"]
    engine.dispose()


def test_invalid_synchronous_names_value(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(SQLITE_SYNCHRONOUS_VARIABLE, "Sometimes ")

    with pytest.raises(StoreError, match=r"TRIAGE_SQLITE_SYNCHRONOUS='Sometimes '.*off, normal, full, extra"):
        create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
