"""``triage validate`` and ``triage codesets import`` end to end, and the public 837 samples."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import serving.commands.codesets  # noqa: F401  (registers the command)
import serving.commands.validate  # noqa: F401  (registers the command)
from features.codesets import carc_category
from serving.cli import app
from workflow.errors import NotX12Error
from workflow.records import Claim
from workflow.validation import load_rule_set

PROJECT_ROOT = Path(__file__).resolve().parents[3]
SHARED_DATA = PROJECT_ROOT / ".." / "shared" / "data"
SAMPLE_AS_OF = dt.date(2026, 6, 1)

# One fake professional claim with a bad billing NPI (check digit 0 instead of 3) and a charge
# total that does not match its single line.
FAKE_837P = "\n".join(
    [
        "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *240501*1200*^*00501*000000101*0*T*:~",
        "GS*HC*SENDER*RECEIVER*20240501*1200*101*X*005010X222A1~",
        "ST*837*0001*005010X222A1~",
        "BHT*0019*00*REF1*20240501*1200*CH~",
        "NM1*41*2*TEST SUBMITTER*****46*TS1~",
        "NM1*40*2*TEST RECEIVER*****46*TR1~",
        "HL*1**20*1~",
        "NM1*85*2*TEST CLINIC*****XX*1234567890~",
        "REF*EI*999999999~",
        "HL*2*1*22*0~",
        "SBR*P*18*******CI~",
        "NM1*IL*1*FAKE*PATIENT****MI*FAKEMEM01~",
        "DMG*D8*19800517*F~",
        "NM1*PR*2*FAKE PAYER*****PI*FAKEPAYER1~",
        "CLM*FAKECLM1*120***11:B:1*Y*A*Y*Y~",
        "HI*ABK:E119~",
        "LX*1~",
        "SV1*HC:99213*100*UN*1***1~",
        "DTP*472*D8*20240501~",
        "SE*19*0001~",
        "GE*1*101~",
        "IEA*1*000000101~",
    ]
)


def run_validate(tmp_path: Path, *extra: str) -> tuple[list[dict], str, int]:
    claim_file = tmp_path / "fake_837p.txt"
    claim_file.write_text(FAKE_837P, encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(claim_file), "--as-of", "2024-06-01", *extra])
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return lines, result.stderr, result.exit_code


def test_validate_prints_rule_findings(tmp_path: Path) -> None:
    lines, _, exit_code = run_validate(tmp_path)
    rules = {line["rule"] for line in lines}
    assert exit_code == 0
    assert "rule.billing_npi_check_digit" in rules
    assert "rule.claim_total_matches_lines" in rules


def test_validate_line_has_all_keys(tmp_path: Path) -> None:
    lines, _, _ = run_validate(tmp_path)
    npi = next(line for line in lines if line["rule"] == "rule.billing_npi_check_digit")
    assert npi["rule_set_version"] == load_rule_set().version
    assert npi["claim_id"] == "FAKECLM1"
    assert npi["field"] == "billing_npi"
    assert npi["value"] == "1234567890"
    assert npi["severity"] == "error"
    assert npi["source"]["segment_index"] is not None


def test_validate_summary_on_stderr(tmp_path: Path) -> None:
    _, stderr, _ = run_validate(tmp_path)
    assert "validated 1 claims in 1 file(s)" in stderr
    assert "first-pass rate 0.0%" in stderr


def test_validate_rejects_bad_date(tmp_path: Path) -> None:
    _, stderr, exit_code = run_validate(tmp_path, "--as-of", "June 1")
    assert exit_code == 2
    assert "YYYY-MM-DD" in stderr


def test_validate_reports_unreadable_file(tmp_path: Path) -> None:
    not_x12 = tmp_path / "notes.txt"
    not_x12.write_text("hello", encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(not_x12)])
    assert result.exit_code == 1
    assert "error:" in result.stderr


def test_codesets_import_loads_carc(tmp_path: Path, empty_overlay: Path) -> None:
    official = tmp_path / "carc_list.tsv"
    official.write_text("code\tdescription\tstart_date\tstop_date\n29\tFake official text\t1995-01-01\t\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["codesets", "import", str(official)])
    assert result.exit_code == 0
    info = carc_category("29")
    assert info is not None
    assert info.description == "Fake official text"


def test_codesets_import_needs_kind(tmp_path: Path) -> None:
    official = tmp_path / "codes.csv"
    official.write_text("code,description\n1,x\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["codesets", "import", str(official)])
    assert result.exit_code == 2
    assert "--kind" in result.stderr


def shared_837_files() -> list[Path]:
    folder = SHARED_DATA / "x12"
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.rglob("*") if path.is_file() and "837" in str(path.relative_to(folder)))


@pytest.mark.shared_data
def test_public_837_samples_validate() -> None:
    files = shared_837_files()
    if not files:
        pytest.skip(f"reference samples not found at {(SHARED_DATA / 'x12').resolve()}")
    x12 = pytest.importorskip("features.x12", reason="the X12 reader is not installed")

    rule_set = load_rule_set()
    claims = 0
    for path in files:
        try:
            records = list(x12.read_x12(path))
        except NotX12Error:
            continue  # Some samples are deliberately broken; the reader's own tests cover them.
        batch = [record for record in records if isinstance(record, Claim)]
        findings = rule_set.validate(batch, as_of=SAMPLE_AS_OF)
        claims += len(batch)
        assert all(finding.code != "validation.check_failed" for finding in findings), path.name
    assert claims > 0
