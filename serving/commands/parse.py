"""``triage parse``: read X12 837 and 835 files and print their records as JSON Lines."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from features.x12 import read_x12
from serving.cli import app
from workflow.errors import NotX12Error
from workflow.records import RECORD_KINDS, record_to_dict

logger = logging.getLogger(__name__)


@app.command("parse")
def parse_command(
    files: Annotated[list[Path], typer.Argument(help="X12 837 or 835 files to read.", show_default=False)],
    output_format: Annotated[
        str, typer.Option("--format", help="Output format; only jsonl (one JSON object per record) is supported.")
    ] = "jsonl",
) -> None:
    """Read X12 files and write one JSON object per record to standard output.

    Each object has a ``record`` field (claim, claim_payment, payment, provider_adjustment or
    finding) and the record's fields. Amounts are decimal strings and dates ISO strings. A file
    that cannot be read is reported on standard error and the other files are still read. The
    exit code is 1 when any file failed.
    """
    if output_format != "jsonl":
        typer.echo(f"error: --format {output_format!r} is not supported; use --format jsonl", err=True)
        raise typer.Exit(code=2)

    failed = 0
    for path in files:
        if not _write_file_records(path):
            failed += 1
    if failed:
        raise typer.Exit(code=1)


def _write_file_records(path: Path) -> bool:
    """Write the records of one file; return False when the file could not be read at all."""
    try:
        for record in read_x12(path):
            line = {"record": RECORD_KINDS[type(record)], **record_to_dict(record)}
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
    except NotX12Error as error:
        typer.echo(f"error: {error}", err=True)
        return False
    except OSError as error:
        typer.echo(f"error: {path}: cannot be read: {error.strerror or error}", err=True)
        return False
    return True
