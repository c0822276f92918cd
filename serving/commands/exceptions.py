"""`triage exceptions list`: print stored exceptions with their evidence and latest prediction."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

import typer

from serving.cli import app
from serving.settings import Settings
from workflow.errors import TriageError

logger = logging.getLogger(__name__)

exceptions_app = typer.Typer(help="List the exceptions in the store.", no_args_is_help=True)
app.add_typer(exceptions_app, name="exceptions")

PAGE_SIZE = 200
OUTPUT_FORMATS = ("jsonl",)


def _exception_line(detail: dict[str, Any]) -> dict[str, Any]:
    prediction = detail.get("latest_prediction") or None
    return {
        "id": detail["exception_id"],
        "type": prediction.get("predicted_type") if prediction else None,
        "kind": detail["kind"],
        "code": detail.get("code"),
        "status": detail.get("status"),
        "claim_id": detail.get("claim_id"),
        "payer_id": detail.get("payer_id"),
        "amount_at_risk": detail.get("amount_at_risk"),
        "evidence": detail.get("evidence"),
        "route": prediction.get("route") if prediction else None,
        "prediction": None if prediction is None else {
            key: prediction.get(key)
            for key in ("prediction_id", "predicted_type", "confidence", "predicted_priority",
                        "predicted_resolution", "route", "route_reason", "queue", "model_version")
        },
    }


@exceptions_app.command("list")
def list_command(
    output_format: Annotated[str, typer.Option("--format", help="output format: jsonl (one JSON object a line)")] = "jsonl",
    db: Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL of the store [default: sqlite:///triage.db]")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="only exceptions of this detection kind, such as underpayment")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="print at most this many exceptions, newest first")] = None,
) -> None:
    """Print each exception: id, predicted type, kind, claim, payer, amount at risk, evidence and route."""
    from workflow.store import open_store

    if output_format not in OUTPUT_FORMATS:
        raise typer.BadParameter(f"unknown format {output_format!r}; use jsonl", param_hint="--format")
    try:
        store = open_store(db or Settings().store_url)
    except TriageError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from None

    with store:
        printed = 0
        while limit is None or printed < limit:
            page_size = PAGE_SIZE if limit is None else min(PAGE_SIZE, limit - printed)
            items, _total = store.list_exceptions(kind=kind, limit=page_size, offset=printed)
            if not items:
                break
            for item in items:
                detail = store.get_exception(item["exception_id"])
                if detail is not None:
                    typer.echo(json.dumps(_exception_line(detail), default=str))
            printed += len(items)
