"""Background WAL checkpoints: connections defer their own, a thread checkpoints, stop restores."""

from __future__ import annotations

import time

from sqlalchemy import text

from workflow.store import open_store
from workflow.store.checkpoints import DEFAULT_AUTOCHECKPOINT_PAGES, DEFERRED_AUTOCHECKPOINT_PAGES


def _autocheckpoint(store) -> int:
    with store.engine.connect() as connection:
        return connection.execute(text("PRAGMA wal_autocheckpoint")).scalar()


def _write_rows(store, count: int) -> None:
    with store.engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS filler (value TEXT)"))
        connection.execute(text("INSERT INTO filler (value) VALUES (:value)"), [{"value": "x" * 500}] * count)


def test_running_checkpoints_defer_connection_threshold(tmp_path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        assert _autocheckpoint(store) == DEFAULT_AUTOCHECKPOINT_PAGES

        assert store.start_wal_checkpoints() is True
        assert _autocheckpoint(store) == DEFERRED_AUTOCHECKPOINT_PAGES

        store.stop_wal_checkpoints()
        assert _autocheckpoint(store) == DEFAULT_AUTOCHECKPOINT_PAGES


def test_background_thread_checkpoints_log(tmp_path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        store.start_wal_checkpoints()
        _write_rows(store, 200)

        deadline = time.monotonic() + 10
        busy, log_frames, checkpointed = store._checkpointer.checkpoint()
        while checkpointed < log_frames and time.monotonic() < deadline:
            time.sleep(0.05)
            busy, log_frames, checkpointed = store._checkpointer.checkpoint()

        assert busy == 0
        assert log_frames > 0
        assert checkpointed == log_frames
        assert store._checkpointer.failures == 0


def test_close_stops_thread(tmp_path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    store.start_wal_checkpoints()
    checkpointer = store._checkpointer

    store.close()

    assert checkpointer.running is False


def test_start_twice_keeps_one_thread(tmp_path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        store.start_wal_checkpoints()
        first = store._checkpointer._thread

        store.start_wal_checkpoints()

        assert store._checkpointer._thread is first


def test_in_memory_store_skips_checkpoints() -> None:
    with open_store("sqlite:///:memory:") as store:
        assert store.start_wal_checkpoints() is False
        assert store._checkpointer is None


def test_only_sqlite_files_get_checkpoints(store) -> None:
    started = store.start_wal_checkpoints()

    assert started is (store.engine.dialect.name == "sqlite")
