"""`triage extract`: read one PDF and print its fields with confidence and position."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from serving.cli import app
from workflow.errors import PdfError

logger = logging.getLogger(__name__)
console = Console(stderr=True)


def _print_table(doc) -> None:
    table = Table(title=f"{doc.file} ({doc.kind}{', template ' + doc.template if doc.template else ''})")
    for column in ("field", "value", "confidence", "page", "position (x0, top, x1, bottom)"):
        table.add_column(column)
    for name, found in doc.fields.items():
        box = "" if found.bbox is None else ", ".join(f"{v:.0f}" for v in found.bbox)
        table.add_row(name, found.value, f"{found.confidence:.2f}", str(found.page or ""), box)
    Console().print(table)
    console.print(f"{len(doc.line_items)} line items, {len(doc.claims)} claims, {len(doc.form_fields)} form fields")
    for finding in doc.findings:
        console.print(f"[{finding.severity.value}] {finding.code}: {finding.message}")


@app.command("extract")
def extract_command(
    file: Annotated[Path, typer.Argument(help="the PDF to read")],
    output_format: Annotated[str, typer.Option("--format", help="output format: json or table")] = "table",
    templates: Annotated[Path | None, typer.Option("--templates", help="folder or YAML file of vendor templates; "
                                                   "default: the templates shipped with the service")] = None,
) -> None:
    """Read an invoice, remittance advice or claim form PDF and print what was found."""
    from features.pdf import extract_pdf

    if output_format not in ("json", "table"):
        console.print(f"error: --format must be json or table, not {output_format!r}")
        raise typer.Exit(2)
    try:
        doc = extract_pdf(file, templates=templates)
    except PdfError as exc:
        console.print(f"error: {exc}")
        raise typer.Exit(1) from exc
    if output_format == "json":
        typer.echo(json.dumps(doc.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_table(doc)
