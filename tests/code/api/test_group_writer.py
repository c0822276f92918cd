"""Grouped prediction writes: a failing group falls back to one write per request."""

from __future__ import annotations

import anyio
import pytest

from serving.api.routes import triage as triage_route


def _run_concurrently(writer, writes):
    results: dict[str, object] = {}

    async def save(write):
        try:
            results[write] = await writer.save(write)
        except ValueError as error:
            results[write] = error

    async def main():
        async with anyio.create_task_group() as group:
            for write in writes:
                group.start_soon(save, write)

    anyio.run(main)
    return results


def test_failed_group_retries_each_write(monkeypatch):
    calls: list[list[str]] = []

    def fake_writes(store, writes):
        calls.append(list(writes))
        if "bad" in writes:
            raise ValueError("the bad write fails")
        return [[f"id-{write}"] for write in writes]

    monkeypatch.setattr(triage_route, "save_api_prediction_writes", fake_writes)
    writer = triage_route.GroupWriter(store=None)

    results = _run_concurrently(writer, ["good-1", "bad", "good-2"])

    assert results["good-1"] == ["id-good-1"]
    assert results["good-2"] == ["id-good-2"]
    assert isinstance(results["bad"], ValueError)
    assert any(len(call) > 1 for call in calls)


def test_single_write_error_reaches_its_request(monkeypatch):
    def failing(store, writes):
        raise ValueError("store unavailable")

    monkeypatch.setattr(triage_route, "save_api_prediction_writes", failing)
    writer = triage_route.GroupWriter(store=None)

    with pytest.raises(ValueError, match="store unavailable"):
        anyio.run(writer.save, "only")


class _Prepared:
    def __init__(self, write: str) -> None:
        self._write = write

    def write(self) -> str:
        return self._write


def test_predict_and_save_returns_both(monkeypatch):
    calls: list[list[str]] = []

    def fake_writes(store, writes):
        calls.append(list(writes))
        return [[f"id-{write}"] for write in writes]

    monkeypatch.setattr(triage_route, "save_api_prediction_writes", fake_writes)
    writer = triage_route.GroupWriter(store=None)

    async def main():
        return await writer.predict_and_save(lambda: _Prepared("one"), limiter=anyio.CapacityLimiter(1))

    prepared, created = anyio.run(main)

    assert prepared.write() == "one"
    assert created == ["id-one"]
    assert calls == [["one"]]
    assert writer.idle


def test_predict_and_save_raises_write_error(monkeypatch):
    def failing(store, writes):
        raise ValueError("store unavailable")

    monkeypatch.setattr(triage_route, "save_api_prediction_writes", failing)
    writer = triage_route.GroupWriter(store=None)

    async def main():
        return await writer.predict_and_save(lambda: _Prepared("one"), limiter=anyio.CapacityLimiter(1))

    with pytest.raises(ValueError, match="store unavailable"):
        anyio.run(main)
    assert writer.idle


def test_predict_error_writes_nothing(monkeypatch):
    calls: list[object] = []
    monkeypatch.setattr(triage_route, "save_api_prediction_writes", lambda store, writes: calls.append(writes))
    writer = triage_route.GroupWriter(store=None)

    def predict():
        raise RuntimeError("model failed")

    async def main():
        return await writer.predict_and_save(predict, limiter=anyio.CapacityLimiter(1))

    with pytest.raises(RuntimeError, match="model failed"):
        anyio.run(main)
    assert calls == []
