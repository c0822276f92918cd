"""`triage simulate` and `triage train`: simulated documents and the model bundle."""

from __future__ import annotations

import datetime as dt
import json
import logging
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from serving.cli import app
from serving.settings import DEFAULT_MODEL_PATH

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
) -> None:
    """Write simulated 837 claims, 835 remittances and the truth table into a folder."""
    from training.simulator import SimulationConfig, simulate

    config = SimulationConfig(seed=seed, start=dt.date.fromisoformat(start), months=months,
                              claims_per_month=claims_per_month)
    result = simulate(config, out)
    console.print(f"wrote {len(result.claim_files)} claim files and {len(result.remittance_files)} "
                  f"remittance files to {out}; truth in {result.truth_path}")


@app.command("train")
def train_command(
    output: Annotated[Path, typer.Option("--output", help="folder to write the model bundle into")] = DEFAULT_MODEL_PATH,
    months: Annotated[int, typer.Option("--months", min=2, help="months of simulated history to train on")] = 8,
    claims_per_month: Annotated[int, typer.Option("--claims-per-month", min=50, help="simulated claims per month")] = 1200,
    seed: Annotated[int, typer.Option("--seed", help="random seed of the simulation and the training")] = TRAINING_SEED,
) -> None:
    """Simulate a history, run the detection flow over it, and train the model bundle."""
    from training.dataset import build_labelled_data
    from training.simulator import SimulationConfig, simulate
    from training.train import TrainConfig, train_bundle

    config = SimulationConfig(seed=seed, start=TRAINING_START, months=months, claims_per_month=claims_per_month)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("simulating the history")
        with tempfile.TemporaryDirectory(prefix="triage-sim-") as folder:
            simulation = simulate(config, Path(folder))
            bar.update(task, description="detecting exceptions in the simulated documents")
            data = build_labelled_data(Path(folder), simulation.truth, simulation.ceiling)
        provenance = {"simulation": {"seed": seed, "start": TRAINING_START.isoformat(), "months": months,
                                     "claims_per_month": claims_per_month}}
        report = train_bundle(data, output, config=TrainConfig(seed=seed % (2**31)), provenance=provenance,
                              progress=lambda text: bar.update(task, description=text))

    table = Table(title=f"Model bundle {report.version} in {output}")
    for column in ("head", "macro F1", "accuracy", "log loss", "ECE", "auto share", "auto precision"):
        table.add_column(column, justify="right")
    for head, head_report in report.heads.items():
        m = head_report.metrics
        table.add_row(head, f"{m['macro_f1']:.3f}", f"{m['accuracy']:.3f}", f"{m['log_loss']:.3f}",
                      f"{m['ece']:.3f}", f"{m['auto_route_share']:.3f}", f"{m['auto_route_precision']:.3f}")
    console.print(table)
    if data.ceiling:
        console.print("simulator ceiling: " + json.dumps(data.ceiling, default=str))
