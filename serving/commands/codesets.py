"""``triage codesets``: load official code lists into the local overlay folder."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Annotated

import typer

from features.codesets import codesets_dir, import_icd10_order_file, import_official_codes
from serving.cli import app
from workflow.errors import InputError

logger = logging.getLogger(__name__)

KINDS = ("carc", "rarc", "icd10cm")

codesets_app = typer.Typer(
    name="codesets",
    help="Manage the local code-set overlay (TRIAGE_CODESETS_DIR, default ./var/codesets).",
    no_args_is_help=True,
)
app.add_typer(codesets_app, name="codesets")


@codesets_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="Official list: CARC or RARC as CSV/TSV, or a CMS ICD-10-CM order file.")],
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="carc, rarc or icd10cm; guessed from the file name when left out."),
    ] = None,
    effective_from: Annotated[
        str | None,
        typer.Option("--effective-from", help="First day (YYYY-MM-DD) an ICD-10-CM release is valid; required for icd10cm."),
    ] = None,
    target_dir: Annotated[
        Path | None, typer.Option("--target-dir", help="Overlay folder to write to; default TRIAGE_CODESETS_DIR.")
    ] = None,
) -> None:
    """Copy an official code list into the overlay folder, where lookups read it beside the shipped maps.

    CARC and RARC files need a header with code and description columns (start_date and stop_date
    are optional). An ICD-10-CM order file becomes a release in force from --effective-from.
    """
    resolved_kind = kind or _guess_kind(file)
    if resolved_kind not in KINDS:
        typer.echo(f"error: --kind {resolved_kind!r} is not supported; use one of {', '.join(KINDS)}", err=True)
        raise typer.Exit(code=2)

    folder = target_dir or codesets_dir()
    try:
        if resolved_kind == "icd10cm":
            written = import_icd10_order_file(file, _required_date(effective_from), folder)
            typer.echo(f"imported ICD-10-CM release effective {effective_from} into {written}", err=True)
            return
        written, count = import_official_codes(file, resolved_kind, folder)  # type: ignore[arg-type]
    except (InputError, OSError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from error
    typer.echo(f"imported {count} {resolved_kind} codes into {written}", err=True)


def _guess_kind(file: Path) -> str:
    name = file.name.lower()
    for kind in KINDS:
        if kind in name:
            return kind
    typer.echo(f"error: cannot tell the kind of {file.name} from its name; pass --kind carc, rarc or icd10cm", err=True)
    raise typer.Exit(code=2)


def _required_date(text: str | None) -> dt.date:
    if text is None:
        typer.echo("error: --effective-from is required for an ICD-10-CM release; write it as YYYY-MM-DD", err=True)
        raise typer.Exit(code=2)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        typer.echo(f"error: --effective-from {text!r} is not a date; write it as YYYY-MM-DD", err=True)
        raise typer.Exit(code=2) from None
