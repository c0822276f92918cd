"""The whole flow on simulated documents: counts in the store match what the files hold."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from serving.run import run_flow
from workflow.store import open_store

pytestmark = pytest.mark.slow

AS_OF = dt.date(2026, 11, 15)


def _segment_count(folder: Path, pattern: str, segment: str) -> int:
    total = 0
    for path in folder.glob(pattern):
        total += len(re.findall(rf"(?:^|~)\s*{segment}\*", path.read_text(encoding="utf-8")))
    return total


@pytest.fixture()
def store(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'triage.db'}")
    yield store
    store.close()


def _documents(folder: Path) -> list[Path]:
    return [folder / "claims", folder / "remittances", folder / "invoices"]


def test_run_stores_every_claim_and_payment(simulated_month, triage_model, store):
    summary = run_flow(_documents(simulated_month), store=store, model=triage_model, as_of=AS_OF)
    counts = store.counts()

    assert counts["claims"] == _segment_count(simulated_month, "claims/*.837", "CLM")
    assert counts["claim_payments"] == _segment_count(simulated_month, "remittances/*.835", "CLP")
    assert counts["payments"] == _segment_count(simulated_month, "remittances/*.835", "BPR")
    assert summary.claims == counts["claims"]
    assert summary.documents_failed == []


def test_run_triages_every_exception(simulated_month, triage_model, store):
    summary = run_flow(_documents(simulated_month), store=store, model=triage_model, as_of=AS_OF)
    counts = store.counts()
    truth = pd.read_csv(simulated_month / "truth.csv", dtype=str)
    unmatched_in_truth = int((truth["detection"] == "unmatched_payment").sum())

    assert summary.exceptions_new > 0
    assert counts["exceptions"] == summary.exceptions_new
    assert counts["predictions"] == counts["exceptions"]
    assert sum(summary.exceptions_by_route.values()) == summary.predictions
    assert summary.exceptions_by_kind["validation"] > 0
    assert summary.exceptions_by_kind["denial"] > 0
    assert summary.exceptions_by_kind["unmatched_payment"] == unmatched_in_truth


def test_second_run_of_same_files_adds_nothing(simulated_month, triage_model, store):
    first = run_flow(_documents(simulated_month), store=store, model=triage_model, as_of=AS_OF)
    before = store.counts()
    second = run_flow(_documents(simulated_month), store=store, model=triage_model, as_of=AS_OF)

    assert second.documents_read == 0
    assert second.documents_skipped == first.documents_read
    assert second.exceptions_new == 0
    assert store.counts()["claims"] == before["claims"]
    assert store.counts()["exceptions"] == before["exceptions"]


def test_stored_prediction_has_explanation(simulated_month, triage_model, store):
    run_flow(_documents(simulated_month), store=store, model=triage_model, as_of=AS_OF)
    items, total = store.list_exceptions(limit=1)
    detail = store.get_exception(items[0]["exception_id"])

    prediction = detail["latest_prediction"]
    assert total > 0
    assert prediction["model_version"] == triage_model.version
    assert len(prediction["explanation"]) == 3
    assert prediction["route"] in ("auto", "review")


def test_unreadable_file_is_reported_and_run_goes_on(simulated_month, triage_model, store, tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("this is not an X12 interchange\n", encoding="utf-8")
    summary = run_flow([bad, simulated_month / "claims"], store=store, model=triage_model, as_of=AS_OF)

    assert [Path(d.file).name for d in summary.documents_failed] == ["notes.txt"]
    assert "notes.txt" in summary.documents_failed[0].error
    assert summary.claims > 0


def test_invoice_pdfs_and_exports_are_matched(simulated_month, triage_model, store):
    summary = run_flow(_documents(simulated_month), store=store, model=triage_model, as_of=AS_OF)

    assert summary.documents_failed == []
    assert summary.exceptions_by_kind["invoice_mismatch"] > 0
