"""Posting through the store, on SQLite and PostgreSQL: outbox, exports and re-sent remittances."""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from serving.cli import app
from serving.model import TriageModel
from serving.run import run_flow
from serving.settings import DEFAULT_MODEL_PATH
from tests.code.remittance.pairs import CORRECTED, PAID_CLAIM, REVERSAL, claim_text, remittance_text, write_pair
from workflow.store import Store
from workflow.store.posting import export_postings, journal_line_totals

AS_OF = dt.date(2024, 4, 1)


@pytest.fixture(scope="module")
def model() -> TriageModel:
    if not (DEFAULT_MODEL_PATH / "bundle.json").is_file():
        pytest.skip(f"the shipped model bundle is missing at {DEFAULT_MODEL_PATH}; build it with `make model`")
    return TriageModel.load(DEFAULT_MODEL_PATH)


def run(paths: list[Path], store: Store, model: TriageModel):
    return run_flow(paths, store=store, model=model, as_of=AS_OF)


def test_paid_claim_reaches_outbox(store: Store, model: TriageModel, tmp_path: Path) -> None:
    claim, remittance = write_pair(tmp_path / "in", PAID_CLAIM, amount="100.00")
    summary = run([claim, remittance], store, model)

    assert summary.claim_payments_posted == 1
    assert summary.auto_posting_rate == 1.0
    assert summary.journal_lines_new == 3
    assert summary.posting_variance == Decimal("0")
    assert journal_line_totals(store) == {"total": 3, "pending": 3, "exported": 0}


def test_run_records_posting_kpis(store: Store, model: TriageModel, tmp_path: Path) -> None:
    summary = run(list(write_pair(tmp_path / "in", PAID_CLAIM, amount="100.00")), store, model)
    kpis = {k["name"]: k["value"] for k in store.get_run(summary.run_id)["kpis"]}

    assert kpis["auto_posting_rate"] == 1.0
    assert kpis["reconciliation_imbalance_total"] == 0.0
    assert kpis["reconciliation_posting_variance"] == 0.0


def test_same_bytes_twice_changes_no_posting(store: Store, model: TriageModel, tmp_path: Path) -> None:
    paths = list(write_pair(tmp_path / "in", PAID_CLAIM, amount="100.00"))
    run(paths, store, model)
    second = run(paths, store, model)

    assert second.documents_skipped == 2
    assert second.journal_lines_new == 0
    assert journal_line_totals(store)["total"] == 3


def test_resent_file_is_duplicate_without_new_lines(store: Store, model: TriageModel, tmp_path: Path) -> None:
    run(list(write_pair(tmp_path / "in", PAID_CLAIM, amount="100.00")), store, model)
    resent = tmp_path / "resent.835"
    resent.write_text(remittance_text(PAID_CLAIM, amount="100.00", control="000000777", line_break="\r\n"), encoding="utf-8")
    second = run([resent], store, model)
    items, _ = store.list_exceptions(kind="duplicate_remittance")

    assert second.documents_read == 1
    assert second.duplicate_remittances == 1
    assert second.journal_lines_new == 0
    assert journal_line_totals(store)["total"] == 3
    assert len(items) == 1
    assert items[0]["amount_at_risk"] == Decimal("100.00")


def test_reversal_in_later_run_pairs_with_stored_payment(store: Store, model: TriageModel, tmp_path: Path) -> None:
    run(list(write_pair(tmp_path / "in", PAID_CLAIM, amount="100.00")), store, model)
    later = tmp_path / "later.835"
    later.write_text(remittance_text(REVERSAL, CORRECTED, amount="10.00", trace="TRACE002", control="000000301"),
                     encoding="utf-8")
    summary = run([later], store, model)

    assert summary.claim_payments_posted == 2
    assert summary.exceptions_by_kind["reversal"] == 0
    assert summary.journal_lines_new == 6


def test_export_marks_lines_once(store: Store, model: TriageModel, tmp_path: Path) -> None:
    run(list(write_pair(tmp_path / "in", PAID_CLAIM, amount="100.00")), store, model)
    first = export_postings(store, tmp_path / "first.csv", output_format="csv")
    second = export_postings(store, tmp_path / "second.csv", output_format="csv")
    every = export_postings(store, tmp_path / "all.json", output_format="json", include_all=True)
    rows = list(csv.DictReader((tmp_path / "first.csv").open(encoding="utf-8")))

    assert first.line_count == 3
    assert second.line_count == 0
    assert every.line_count == 3
    assert sorted(row["entry_type"] for row in rows) == ["contractual_adjustment", "patient_responsibility", "payment"]
    assert len(json.loads((tmp_path / "all.json").read_text(encoding="utf-8"))) == 3
    assert journal_line_totals(store) == {"total": 3, "pending": 0, "exported": 3}


def test_cli_exports_and_lists(store: Store, model: TriageModel, tmp_path: Path) -> None:
    claim = tmp_path / "c.837"
    claim.write_text(claim_text(), encoding="utf-8")
    remittance = tmp_path / "r.835"
    remittance.write_text(remittance_text(PAID_CLAIM, amount="120.00"), encoding="utf-8")
    run([claim, remittance], store, model)
    url = store.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()

    listed = runner.invoke(app, ["exceptions", "list", "--format", "jsonl", "--db", url, "--kind", "remittance_imbalance"])
    exported = runner.invoke(app, ["postings", "export", "--format", "json", "--output", str(tmp_path / "o.json"), "--db", url])
    (line,) = [json.loads(text) for text in listed.stdout.splitlines()]

    assert listed.exit_code == 0
    assert line["kind"] == "remittance_imbalance"
    assert line["evidence"]["details"]["difference"] == "20.00"
    assert line["type"] is not None
    assert line["route"] in ("auto", "review")
    assert exported.exit_code == 0
    assert json.loads((tmp_path / "o.json").read_text(encoding="utf-8")) == []
