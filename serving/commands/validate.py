"""``triage validate``: check the claims in X12 837 files against the claim rule set."""

from __future__ import annotations

import collections
import datetime as dt
import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from serving.cli import app
from workflow.errors import InputError, NotX12Error
from workflow.records import Claim, Finding, Severity, record_to_dict
from workflow.validation import ClaimHistory, RuleSet, load_rule_set

logger = logging.getLogger(__name__)


@app.command("validate")
def validate_command(
    files: Annotated[list[Path], typer.Argument(help="X12 837 files to validate.", show_default=False)],
    output_format: Annotated[
        str, typer.Option("--format", help="Output format; only jsonl (one JSON object per finding) is supported.")
    ] = "jsonl",
    rules: Annotated[
        Path | None,
        typer.Option("--rules", help="Rule file (YAML); defaults to TRIAGE_RULES_PATH, else the shipped rules."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Validation date as YYYY-MM-DD, for future-date and timely filing rules; default today."),
    ] = None,
) -> None:
    """Validate the claims in X12 837 files and write one JSON object per finding to standard output.

    Reader findings (``x12.*``) are written too. A summary with the first-pass rate goes to
    standard error. Claims earlier in the files count as history for the duplicate rule. The exit
    code is 1 when a file could not be read and 2 for invalid options; findings alone do not
    change it.
    """
    if output_format != "jsonl":
        typer.echo(f"error: --format {output_format!r} is not supported; use --format jsonl", err=True)
        raise typer.Exit(code=2)

    validation_date = _parse_as_of(as_of)
    try:
        rule_set = load_rule_set(rules)
    except InputError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from error

    summary = _Summary()
    history = ClaimHistory()
    for path in files:
        if not _validate_file(path, rule_set, validation_date, history, summary):
            summary.failed_files += 1

    typer.echo(summary.describe(rule_set.version), err=True)
    if summary.failed_files:
        raise typer.Exit(code=1)


class _Summary:
    def __init__(self) -> None:
        self.files = 0
        self.failed_files = 0
        self.claims = 0
        self.claims_with_errors = 0
        self.findings: list[Finding] = []

    def describe(self, version: str) -> str:
        by_severity = collections.Counter(finding.severity.value for finding in self.findings)
        # Counted per claim read, not per claim id, because test files often reuse one id.
        rate = 1.0 if self.claims == 0 else (self.claims - self.claims_with_errors) / self.claims
        counts = ", ".join(f"{by_severity[name]} {name}" for name in ("error", "warning", "info"))
        return (
            f"validated {self.claims} claims in {self.files} file(s) with rule set {version}: "
            f"{len(self.findings)} findings ({counts}); first-pass rate {rate:.1%}; "
            f"{self.failed_files} file(s) could not be read"
        )


def _parse_as_of(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        typer.echo(f"error: --as-of {text!r} is not a date; write it as YYYY-MM-DD", err=True)
        raise typer.Exit(code=2) from None


def _validate_file(path: Path, rule_set: RuleSet, as_of: dt.date, history: ClaimHistory, summary: _Summary) -> bool:
    """Validate the claims of one file; return False when the file could not be read at all."""
    # Imported here so that the rest of the command line starts without the X12 reader.
    from features.x12 import read_x12

    summary.files += 1
    try:
        for record in read_x12(path):
            if isinstance(record, Claim):
                summary.claims += 1
                findings = rule_set.validate_claim(record, as_of=as_of, history=history)
                history.add(record)
                if any(finding.severity == Severity.ERROR for finding in findings):
                    summary.claims_with_errors += 1
            elif isinstance(record, Finding):
                findings = [record]
            else:
                continue
            for finding in findings:
                summary.findings.append(finding)
                sys.stdout.write(json.dumps(finding_line(finding), ensure_ascii=False) + "\n")
    except NotX12Error as error:
        typer.echo(f"error: {error}", err=True)
        return False
    except OSError as error:
        typer.echo(f"error: {path}: cannot be read: {error.strerror or error}", err=True)
        return False
    return True


def finding_line(finding: Finding) -> dict[str, Any]:
    """Return the JSON object written for one finding."""
    return {
        "rule": finding.code,
        "rule_set_version": finding.rule_set_version,
        "severity": finding.severity.value,
        "claim_id": finding.claim_id,
        "field": finding.element,
        "value": finding.value,
        "expected": finding.expected,
        "message": finding.message,
        "source": record_to_dict(finding.source),
    }
