"""Runs and KPI snapshots."""

from __future__ import annotations

import pytest

from workflow.errors import StoreError


def test_start_run_returns_new_ids(store) -> None:
    assert store.start_run() != store.start_run()


def test_finish_run_stores_summary(store) -> None:
    run_id = store.start_run()

    store.finish_run(run_id, {"documents_read": 3, "exceptions_new": 7})

    run = store.get_run(run_id)
    assert run["summary"] == {"documents_read": 3, "exceptions_new": 7}
    assert run["finished_at"] >= run["started_at"]


def test_finish_unknown_run_raises(store) -> None:
    with pytest.raises(StoreError, match="run no-such-run not found"):
        store.finish_run("no-such-run", {})


def test_record_kpis_appends_snapshots(store) -> None:
    run_id = store.start_run()

    store.record_kpis(run_id, {"auto_route_rate": 0.42, "first_pass_validation_rate": 0.9})

    kpis = store.get_run(run_id)["kpis"]
    assert [(kpi["name"], kpi["value"]) for kpi in kpis] == [
        ("auto_route_rate", 0.42),
        ("first_pass_validation_rate", 0.9),
    ]


def test_record_kpis_unknown_run_raises(store) -> None:
    with pytest.raises(StoreError, match="record KPIs"):
        store.record_kpis("no-such-run", {"auto_route_rate": 0.5})


def test_get_unknown_run_returns_none(store) -> None:
    assert store.get_run("no-such-run") is None
