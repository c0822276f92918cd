"""``triage validate-x12``: check X12 files against their TR3 implementation guides with pyx12."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from features.x12.guide_validation import GuideValidation, validate_x12_file
from serving.cli import app
from workflow.records import record_to_dict

logger = logging.getLogger(__name__)

OUTPUT_FORMATS = ("jsonl", "table")


@app.command("validate-x12")
def validate_x12_command(
    files: Annotated[list[Path], typer.Argument(help="X12 files to validate.", show_default=False)],
    output_format: Annotated[
        str,
        typer.Option("--format", help="Output format: jsonl (one JSON object per finding) or table."),
    ] = "jsonl",
) -> None:
    """Validate X12 files against their implementation guide (TR3) with pyx12.

    Each finding has a ``code``: ``x12.tr3.<level>.<pyx12 error code>`` for what pyx12 found, and
    ``x12.validator_*`` for input that was rewritten before validation, versions pyx12 has no map
    for and pyx12 failures. The exit code is 0 when every file was validated (findings alone do
    not change it), 1 when any file could not be validated at all and 2 for invalid options.
    """
    if output_format not in OUTPUT_FORMATS:
        typer.echo(f"error: --format {output_format!r} is not supported; use --format jsonl or --format table", err=True)
        raise typer.Exit(code=2)

    results = []
    failed = 0
    for path in files:
        try:
            result = validate_x12_file(path)
        except OSError as error:
            typer.echo(f"error: {path}: cannot be read: {error.strerror or error}", err=True)
            failed += 1
            continue
        if not result.validated:
            typer.echo(f"error: {path}: could not be validated; the findings say why", err=True)
            failed += 1
        if output_format == "jsonl":
            _write_jsonl(result)
        results.append(result)

    if output_format == "table":
        _print_table(results)
    if failed:
        raise typer.Exit(code=1)


def _write_jsonl(result: GuideValidation) -> None:
    for finding in result.findings:
        sys.stdout.write(json.dumps({"record": "finding", **record_to_dict(finding)}, ensure_ascii=False) + "\n")


def _print_table(results: list[GuideValidation]) -> None:
    table = Table(title="X12 implementation guide findings")
    for column in ("file", "severity", "code", "segment", "element", "message"):
        table.add_column(column)
    for result in results:
        for finding in result.findings:
            source = finding.source
            segment = f"{source.segment_id or ''} #{source.segment_index}" if source.segment_index else ""
            table.add_row(
                result.file, finding.severity.value, finding.code, segment, finding.element or "", finding.message
            )
    # A wide console keeps long messages on one line when the output is piped to a file.
    Console(width=200 if not sys.stdout.isatty() else None).print(table)
