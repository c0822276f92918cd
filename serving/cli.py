"""The ``triage`` command line: one Typer app that gathers the commands of each package."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

app = typer.Typer(
    name="triage",
    help="Exception triage for healthcare claims, remittances and supplier invoices.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

LOG_LEVELS = ("debug", "info", "warning", "error")


@app.callback()
def configure(
    log_level: Annotated[
        str, typer.Option("--log-level", help="log records to show on standard error: debug, info, warning or error")
    ] = "error",
) -> None:
    """Configure logging for every command; commands print their own results."""
    if log_level.lower() not in LOG_LEVELS:
        raise typer.BadParameter(f"unknown log level {log_level!r}; use one of {', '.join(LOG_LEVELS)}")
    logging.basicConfig(
        level=log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _register_commands() -> None:
    # Each module in serving/commands adds its commands to ``app`` on import, so a stage owns its
    # commands without one file collecting every option of the project.
    import importlib
    import pkgutil

    import serving.commands

    for module in sorted(pkgutil.iter_modules(serving.commands.__path__), key=lambda m: m.name):
        if not module.name.startswith("_"):
            importlib.import_module(f"serving.commands.{module.name}")


_register_commands()
