"""`triage simulate` and `triage train`: simulated documents and the model bundle."""

from __future__ import annotations

import datetime as dt
import logging
import math
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from serving.cli import app
from training.model_card import update_model_card
from serving.settings import DEFAULT_MODEL_PATH
from workflow.errors import TriageError

if TYPE_CHECKING:
    from training.dataset import LabelledData
    from training.train import TrainReport

logger = logging.getLogger(__name__)
console = Console(stderr=True)

TRAINING_SEED = 20260901
TRAINING_START = dt.date(2026, 1, 1)


@app.command("simulate")
def simulate_command(
    out: Annotated[Path, typer.Option("--out", help="folder to write the simulated documents into")],
    months: Annotated[int, typer.Option("--months", min=1, max=60, help="months of history to simulate")] = 1,
    claims_per_month: Annotated[int, typer.Option("--claims-per-month", min=10, help="claims sent per month")] = 600,
    seed: Annotated[int, typer.Option("--seed", help="random seed; the same seed writes the same bytes")] = 7,
    start: Annotated[str, typer.Option("--start", help="first day of the history, YYYY-MM-DD")] = "2026-09-01",
    invoices: Annotated[int, typer.Option("--invoices", min=0, help="supplier invoice PDFs to write")] = 24,
) -> None:
    """Write simulated 837 claims, 835 remittances, supplier invoices and the truth into a folder.

    Claims go to ``claims/``, remittances to ``remittances/``, the payer contracts to
    ``contracts.csv``, and invoice PDFs with their purchase order, receipt and vendor exports to
    ``invoices/`` (none with ``--invoices 0``).
    """
    from training.invoices import generate_invoices
    from training.simulator import SimulationConfig, simulate

    try:
        first_day = dt.date.fromisoformat(start)
    except ValueError:
        raise typer.BadParameter(f"{start!r} is not a date; write it as YYYY-MM-DD", param_hint="--start") from None
    config = SimulationConfig(seed=seed, start=first_day, months=months, claims_per_month=claims_per_month)
    result = simulate(config, out)
    invoice_files = []
    if invoices:
        invoice_files = generate_invoices(out / "invoices", count=invoices, seed=seed, start=first_day,
                                          days=30 * months)
    console.print(f"wrote {len(result.claim_files)} claim files, {len(result.remittance_files)} remittance "
                  f"files and {len(invoice_files)} invoice PDFs to {out}; truth in {result.truth_path}")


def store_labelled_data(url: str) -> LabelledData:
    """Read reviewer decisions from the store at ``url`` as labelled exceptions."""
    from training.dataset import labelled_data_from_store
    from workflow.store import open_store

    store = open_store(url)
    try:
        return labelled_data_from_store(store)
    finally:
        store.close()


def _cell(value: float | None) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def metrics_table(report: TrainReport) -> Table:
    """Tabulate each head against its baselines and, for the type head, the simulator's ceiling."""
    table = Table(title=f"Model bundle {report.version} in {report.output} (held-out rows: {report.rows.get('test')})")
    for column in ("head", "model", "macro F1", "accuracy", "log loss", "ECE", "auto share", "auto precision"):
        table.add_column(column, justify="right")
    for head, head_report in report.heads.items():
        entries = [("lightgbm", head_report.metrics)]
        entries += [(name, heads[head].metrics) for name, heads in report.baselines.items() if head in heads]
        for name, m in entries:
            table.add_row(head, name, _cell(m["macro_f1"]), _cell(m["accuracy"]), _cell(m["log_loss"]),
                          _cell(m["ece"]), _cell(m["auto_route_share"]), _cell(m["auto_route_precision"]))
        if head == "type" and report.ceiling.get("root_cause_accuracy") is not None:
            for label, key in (("ceiling (in-sample)", "root_cause_accuracy"),
                               ("ceiling (holdout)", "root_cause_accuracy_holdout")):
                table.add_row(head, label, "-", _cell(report.ceiling.get(key)), "-", "-", "-", "-")
    return table


@app.command("train")
def train_command(
    output: Annotated[Path, typer.Option("--output", help="folder to write the model bundle into")] = DEFAULT_MODEL_PATH,
    months: Annotated[int, typer.Option("--months", min=2, help="months of simulated history to train on")] = 8,
    claims_per_month: Annotated[int, typer.Option("--claims-per-month", min=50, help="simulated claims per month")] = 1200,
    seed: Annotated[int, typer.Option("--seed", help="random seed of the simulation and the training")] = TRAINING_SEED,
    target_precision: Annotated[float, typer.Option(
        "--target-precision", min=0.5, max=1.0,
        help="precision each class must reach on held-out rows before it is routed automatically")] = 0.95,
    from_store: Annotated[str | None, typer.Option(
        "--from-store", help="SQLAlchemy URL of a store whose reviewer decisions become the training labels")] = None,
    mix_simulated: Annotated[bool, typer.Option(
        "--mix-simulated", help="with --from-store, add the simulated history to the reviewed exceptions")] = False,
    use_mlflow: Annotated[bool, typer.Option(
        "--mlflow/--no-mlflow", help="log the run to MLflow (MLFLOW_TRACKING_URI, else ./mlflow.db) and register it")] = True,
    promote: Annotated[bool, typer.Option(
        "--promote/--no-promote", help="move the champion alias to the new version when it beats the champion")] = True,
) -> None:
    """Train the three heads on simulated or reviewed exceptions, compare them with baselines, write the bundle."""
    from training.dataset import combine_labelled_data, simulate_labelled_data
    from training.train import TrainConfig, train_bundle

    if mix_simulated and not from_store:
        raise typer.BadParameter("--mix-simulated only applies with --from-store URL")
    simulation = {"seed": seed, "start": TRAINING_START.isoformat(), "months": months,
                  "claims_per_month": claims_per_month}
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("reading the labelled exceptions")

        def update(text: str) -> None:
            bar.update(task, description=text)

        parts = []
        if from_store:
            update("reading reviewer decisions from the store")
            try:
                parts.append(store_labelled_data(from_store))
            except TriageError as error:
                console.print(f"[red]error:[/red] {error}")
                raise typer.Exit(code=2) from None
        if not from_store or mix_simulated:
            parts.append(simulate_labelled_data(seed, TRAINING_START, months, claims_per_month, update))
        data = combine_labelled_data(*parts) if len(parts) > 1 else parts[0]
        # The provenance goes into bundle.json, so it names no URL (it may carry a password).
        provenance = {"sources": dict(data.sources),
                      **({"simulation": simulation} if not from_store or mix_simulated else {})}
        config = TrainConfig(seed=seed % (2**31), target_precision=target_precision)
        try:
            report = train_bundle(data, output, config=config, provenance=provenance, progress=update)
            update_model_card(output)
        except ValueError as error:
            raise typer.BadParameter(str(error)) from error

        tracked = None
        if use_mlflow:
            from training.tracking import log_training_run

            update("logging the run to MLflow and registering the model")
            tracked = log_training_run(report, params={"data.sources": str(data.sources), **{
                f"simulation.{k}": v for k, v in simulation.items()}}, promote=promote)

    console.print(metrics_table(report))
    if tracked is not None:
        import mlflow

        console.print(f"MLflow run {tracked.run_id} in {mlflow.get_tracking_uri()}; "
                      f"registered claims-triage version {tracked.model_version}")
        if tracked.champion is not None:
            state = "is now the champion" if tracked.champion.promoted else "is not the champion"
            console.print(f"version {tracked.model_version} {state}: {tracked.champion.reason}")
