"""Reviewer decisions in the store become labels that `triage train --from-store` trains on."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from serving.run import run_flow
from training.dataset import labelled_data_from_store
from training.train import train_bundle
from workflow.store import open_store
from workflow.store.governance import record_decision

pytestmark = pytest.mark.slow


def test_reviewed_exceptions_train_a_bundle(simulated_month, triage_model, tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'triage.db'}")
    run_flow([simulated_month / "claims", simulated_month / "remittances"], store=store, model=triage_model,
             as_of=dt.date(2026, 11, 15))
    items, _ = store.list_exceptions(limit=500)
    for item in items:
        record_decision(store, exception_id=item["exception_id"], action="accept", decided_by="reviewer:test")

    data = labelled_data_from_store(store)
    report = train_bundle(data, tmp_path / "bundle")
    store.close()

    assert len(data.frame) == len(items)
    assert report.heads["type"].labels
    assert json.loads((tmp_path / "bundle" / "bundle.json").read_text())["label_sources"]
