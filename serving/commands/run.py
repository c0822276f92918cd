"""`triage run` and `triage serve`: the main job and the API server."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

from serving.cli import app
from serving.settings import Settings
from workflow.errors import TriageError

logger = logging.getLogger(__name__)
console = Console(stderr=True)


def _reason_without_path(file: str, reason: str) -> str:
    # Reader errors start with the file name so they stand alone in a log; the table already
    # has a file column.
    prefix = f"{file}: "
    return reason[len(prefix):] if reason.startswith(prefix) else reason


def _print_summary(summary: dict) -> None:
    table = Table(title="Triage run", show_header=True, header_style="bold")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("documents read", str(summary["documents_read"]))
    table.add_row("documents skipped (ingested before)", str(summary["documents_skipped"]))
    table.add_row("documents that could not be read", str(len(summary["documents_failed"])))
    table.add_row("claims", str(summary["claims"]))
    table.add_row("claim payments", str(summary["claim_payments"]))
    table.add_row("payments (835 transactions)", str(summary["payments"]))
    table.add_row("reading findings (warnings and errors)", str(summary["reading_findings"]))
    table.add_row("rule findings", str(summary["rule_findings"]))
    rate = summary["first_pass_rate"]
    table.add_row("first-pass validation rate", "n/a" if rate is None else f"{rate:.1%}")
    table.add_row("new exceptions", str(summary["exceptions_new"]))
    table.add_row("predictions", str(summary["predictions"]))
    auto = summary["auto_route_rate"]
    table.add_row("auto-route rate", "n/a" if auto is None else f"{auto:.1%}")
    table.add_row("claim payments posted without a person", str(summary["claim_payments_posted"]))
    table.add_row("claim payments held for a person", str(summary["claim_payments_held"]))
    table.add_row("payments delivered twice (posted once)", str(summary["duplicate_remittances"]))
    posting = summary["auto_posting_rate"]
    table.add_row("auto-posting rate", "n/a" if posting is None else f"{posting:.1%}")
    table.add_row("new journal lines in the outbox", str(summary["journal_lines_new"]))
    table.add_row("imbalance total (sum of absolute differences)", summary["imbalance_total"])
    table.add_row("BPR total of new payments", summary["bpr_total"])
    table.add_row("cash posted (payments and PLB)", summary["posted_total"])
    table.add_row("BPR total minus cash posted", summary["posting_variance"])
    console.print(table)

    for title, key in (("Exceptions by detection kind", "exceptions_by_kind"),
                       ("Exceptions by predicted type", "exceptions_by_type"),
                       ("Exceptions by route", "exceptions_by_route")):
        breakdown = Table(title=title)
        breakdown.add_column("value")
        breakdown.add_column("count", justify="right")
        for name, count in sorted(summary[key].items(), key=lambda item: (-item[1], item[0])):
            breakdown.add_row(name, str(count))
        console.print(breakdown)

    if summary["documents_with_errors"]:
        partial = Table(title="Files read with errors (the rest of each file was read; see `triage parse`)")
        partial.add_column("file", overflow="fold")
        partial.add_column("errors", justify="right")
        partial.add_column("first error (segment)")
        for item in summary["documents_with_errors"]:
            partial.add_row(item["file"], str(item["errors"]), f"{item['first_error']} ({item['segment_index']})")
        console.print(partial)

    if summary["documents_failed"]:
        failed = Table(title="Files that could not be read")
        failed.add_column("file", overflow="fold")
        failed.add_column("reason")
        for item in summary["documents_failed"]:
            failed.add_row(item["file"], _reason_without_path(item["file"], item["error"] or ""))
        console.print(failed)


@app.command("run")
def run_command(
    paths: Annotated[list[Path], typer.Argument(
        help="files or folders to read: X12 837 and 835, invoice and remittance PDFs, PO, receipt and vendor CSV exports")],
    db: Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL of the store [default: sqlite:///triage.db]")] = None,
    model: Annotated[Path | None, typer.Option("--model", help="folder of the model bundle")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="the day validation rules treat as today, YYYY-MM-DD")] = None,
    output_format: Annotated[str, typer.Option("--format", help="summary format: table or json")] = "table",
    contracts: Annotated[Path | None, typer.Option(
        "--contracts", help="CSV of contract rates for the underpayment check [default: TRIAGE_CONTRACTS_PATH, else no check]")] = None,
) -> None:
    """Read documents, detect and triage exceptions, reconcile and post remittances, and print a summary.

    Files that cannot be read are listed with the reason and the run goes on; the exit status is 0
    then, 1 when a named path does not exist, and 2 when the store or the model cannot be opened.
    """
    from serving.model import TriageModel
    from serving.routing import RoutingPolicy
    from serving.run import run_flow
    from workflow.remittance.settings import RemittanceSettings
    from workflow.store import open_store

    settings = Settings()
    if output_format not in ("table", "json"):
        raise typer.BadParameter(f"unknown format {output_format!r}; use table or json", param_hint="--format")
    try:
        run_day = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise typer.BadParameter(f"{as_of!r} is not a date; write it as YYYY-MM-DD", param_hint="--as-of") from None
    missing = [str(p) for p in paths if not p.exists()]
    for path in missing:
        console.print(f"[red]not found:[/red] {path}; check the path (the other paths are read)")
    empty = [str(p) for p in paths if p.is_dir() and not any(f.is_file() for f in p.rglob("*"))]
    for path in empty:
        console.print(f"[yellow]no files:[/yellow] the folder {path} contains no files to read")

    try:
        remittance = RemittanceSettings()
        contract_table = remittance.contracts(contracts)
        gl_mapping = remittance.gl_mapping()
        store = open_store(db or settings.store_url)
        bundle = TriageModel.load(model or settings.model_path)
        policy = RoutingPolicy(qa_sample_rate=settings.qa_sample_rate,
                               write_off_review_above=settings.write_off_review_above)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True) as bar:
            task = bar.add_task("reading")
            summary = run_flow(paths, store=store, model=bundle, policy=policy, as_of=run_day,
                               progress=lambda text: bar.update(task, description=text),
                               contracts=contract_table, tolerance=remittance.tolerance(), gl=gl_mapping)
    except TriageError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=2) from None

    if output_format == "json":
        typer.echo(json.dumps(summary.to_dict(), indent=2, default=str))
    else:
        _print_summary(summary.to_dict())
    if missing:
        # The run went on with the paths that exist, but a path that is not there is an input
        # mistake a script must notice. Files that exist but cannot be read keep exit status 0.
        raise typer.Exit(code=1)


@app.command("serve")
def serve_command(
    db: Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL of the store [default: sqlite:///triage.db]")] = None,
    host: Annotated[str | None, typer.Option("--host", help="address to listen on [default: 127.0.0.1]")] = None,
    port: Annotated[int | None, typer.Option("--port", help="port to listen on [default: 8000]")] = None,
) -> None:
    """Serve the triage API until stopped."""
    import uvicorn

    from serving.api import create_app

    settings = Settings()
    logging.getLogger().setLevel(logging.INFO)
    try:
        application = create_app(store_url=db or settings.store_url)
    except TriageError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=2) from None
    # uvicorn's access log prints full paths and query strings, which can carry claim or member
    # identifiers; the API's own middleware logs each request with its request id instead.
    uvicorn.run(application, host=host or settings.host, port=port or settings.port, log_level="info",
                access_log=False)
