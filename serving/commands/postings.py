"""`triage postings export`: write the posting outbox as CSV or JSON and mark the lines exported."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from serving.cli import app
from serving.settings import Settings
from workflow.errors import TriageError

logger = logging.getLogger(__name__)

postings_app = typer.Typer(help="Export the journal lines of posted remittances.", no_args_is_help=True)
app.add_typer(postings_app, name="postings")


@postings_app.command("export")
def export_command(
    output: Annotated[Path, typer.Option("--output", help="file to write; replaced if it exists")],
    output_format: Annotated[str, typer.Option("--format", help="file format: csv or json")] = "csv",
    db: Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL of the store [default: sqlite:///triage.db]")] = None,
    include_all: Annotated[bool, typer.Option("--all", help="export every line, also those exported before")] = False,
) -> None:
    """Write the journal lines not exported yet and mark them exported, so each leaves the outbox once."""
    from workflow.store import open_store
    from workflow.store.posting import export_postings

    if output_format not in ("csv", "json"):
        raise typer.BadParameter(f"unknown format {output_format!r}; use csv or json", param_hint="--format")
    if not output.parent.is_dir():
        raise typer.BadParameter(f"folder {output.parent} does not exist; create it first", param_hint="--output")
    try:
        with open_store(db or Settings().store_url) as store:
            result = export_postings(store, output, output_format=output_format, include_all=include_all)
    except (TriageError, OSError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(f"exported {result.line_count} journal lines to {result.path} (export {result.export_id})", err=True)
