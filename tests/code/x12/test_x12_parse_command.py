"""``triage parse``: JSON Lines output, and a clear error for a file that is not X12."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from serving.cli import app
from tests.code.x12.x12_builders import PROFESSIONAL_BODY, REMITTANCE_BODY, interchange, render_interchange, transaction

runner = CliRunner()


def write_samples(tmp_path: Path) -> tuple[Path, Path]:
    claims = tmp_path / "claims.837"
    claims.write_text(render_interchange(interchange([transaction(PROFESSIONAL_BODY)])))
    remittance = tmp_path / "remit.835"
    remittance.write_text(
        render_interchange(interchange([transaction(REMITTANCE_BODY, "835")], version="005010X221A1", functional_id="HP"))
    )
    return claims, remittance


def test_parse_writes_jsonl(tmp_path: Path) -> None:
    claims, remittance = write_samples(tmp_path)
    result = runner.invoke(app, ["parse", str(claims), str(remittance), "--format", "jsonl"])
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 0
    assert [line["record"] for line in lines] == [
        "claim",
        "payment",
        "claim_payment",
        "claim_payment",
        "claim_payment",
        "provider_adjustment",
        "provider_adjustment",
        "provider_adjustment",
    ]


def test_parse_amounts_are_strings(tmp_path: Path) -> None:
    claims, remittance = write_samples(tmp_path)
    result = runner.invoke(app, ["parse", str(claims), str(remittance)])
    claim, payment, claim_payment = (json.loads(line) for line in result.stdout.splitlines()[:3])
    assert claim["total_charge"] == "150.50"
    assert claim["diagnosis_codes"] == ["J029", "R05", "R509"]
    assert claim["source"]["segment_id"] == "CLM"
    assert payment["amount"] == "430.00"
    assert claim_payment["adjustments"][0] == {"group": "CO", "reason": "45", "amount": "20.00", "quantity": None}


def test_parse_reports_non_x12_and_continues(tmp_path: Path) -> None:
    claims, _ = write_samples(tmp_path)
    bad = tmp_path / "notes.txt"
    bad.write_text("just some notes")
    result = runner.invoke(app, ["parse", str(bad), str(claims)])
    assert result.exit_code == 1
    assert "notes.txt" in result.stderr
    assert "ISA" in result.stderr
    assert json.loads(result.stdout.splitlines()[0])["record"] == "claim"


def test_parse_rejects_unknown_format(tmp_path: Path) -> None:
    claims, _ = write_samples(tmp_path)
    result = runner.invoke(app, ["parse", str(claims), "--format", "csv"])
    assert result.exit_code == 2
