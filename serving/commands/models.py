"""`triage models list` and `triage models promote`: the registered versions of the triage model."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from serving.cli import app

logger = logging.getLogger(__name__)
console = Console()

models_app = typer.Typer(help="Registered versions of the triage model in MLflow (MLFLOW_TRACKING_URI, else ./mlflow.db).",
                         no_args_is_help=True)
app.add_typer(models_app, name="models")

NAME_OPTION = typer.Option("--name", help="registered model name")


@models_app.command("list")
def list_command(name: Annotated[str, NAME_OPTION] = "claims-triage") -> None:
    """List every registered version, newest first, with its aliases and type head macro-F1."""
    import mlflow

    from training.registry import list_versions

    try:
        versions = list_versions(name)
    except LookupError as error:
        raise typer.BadParameter(str(error)) from error
    if not versions:
        console.print(f"no versions of {name} in {mlflow.get_tracking_uri()}; train one with `triage train`")
        return
    table = Table(title=f"{name} in {mlflow.get_tracking_uri()}")
    for column in ("version", "aliases", "type macro F1", "bundle", "run", "created (UTC)"):
        table.add_column(column)
    for row in versions:
        created = dt.datetime.fromtimestamp(row["created"] / 1000, tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
        score = row["type_macro_f1"]
        table.add_row(row["version"], ", ".join(row["aliases"]), "-" if score is None else f"{score:.3f}",
                      row["bundle_version"] or "-", row["run_id"] or "-", created)
    console.print(table)
    champions = [row["version"] for row in versions if "champion" in row["aliases"]]
    console.print(f"champion: version {champions[0]}" if champions else
                  "no version is champion; choose one with `triage models promote VERSION`")


@models_app.command("promote")
def promote_command(
    version: Annotated[str, typer.Argument(help="registered version number to make the champion")],
    name: Annotated[str, NAME_OPTION] = "claims-triage",
) -> None:
    """Give a version the `champion` alias, whatever its scores (an operator's override)."""
    from training.registry import CHAMPION_ALIAS, promote

    try:
        promote(version, name)
    except LookupError as error:
        raise typer.BadParameter(str(error)) from error
    console.print(f"{name} version {version} is now {CHAMPION_ALIAS}")
