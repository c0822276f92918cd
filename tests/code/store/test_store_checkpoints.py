"""Background WAL checkpoints: connections defer their own, a thread checkpoints, stop restores."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from workflow.store import checkpoints, open_store
from workflow.store.checkpoints import DEFAULT_AUTOCHECKPOINT_PAGES, DEFERRED_AUTOCHECKPOINT_PAGES, WalCheckpointer


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


def test_restart_checkpoint_starts_log_over(tmp_path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        checkpointer = WalCheckpointer(store.engine)
        _write_rows(store, 500)

        busy, log_frames, checkpointed = checkpointer.checkpoint("RESTART")
        _write_rows(store, 1)
        _, log_after, _ = checkpointer.checkpoint()

        assert busy == 0
        assert checkpointed == log_frames
        assert log_after < log_frames


def test_restart_keeps_pooled_busy_timeout(tmp_path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        with store.engine.connect() as connection:
            before = connection.execute(text("PRAGMA busy_timeout")).scalar()

        WalCheckpointer(store.engine).checkpoint("RESTART")

        with store.engine.connect() as connection:
            after = connection.execute(text("PRAGMA busy_timeout")).scalar()
        assert after == before


def test_invalid_checkpoint_mode_is_rejected(tmp_path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        with pytest.raises(ValueError, match="'TRUNCATE'"):
            WalCheckpointer(store.engine).checkpoint("TRUNCATE")


def test_large_log_is_restarted_by_thread(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(checkpoints, "RESTART_LOG_FRAMES", 10)
    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        checkpointer = WalCheckpointer(store.engine)
        modes: list[str] = []
        real_checkpoint = checkpointer.checkpoint

        def record(mode: str = "PASSIVE"):
            modes.append(mode)
            return real_checkpoint(mode)

        monkeypatch.setattr(checkpointer, "checkpoint", record)
        _write_rows(store, 500)

        checkpointer._checkpoint_logging_errors()

        assert modes == ["PASSIVE", "RESTART"]
        assert checkpointer.failures == 0
