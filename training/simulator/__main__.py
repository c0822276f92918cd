"""Command line: ``python -m training.simulator --out DIR --months 1 --claims-per-month 600 --seed 7``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from pathlib import Path

from training.simulator.simulate import SimulationConfig, simulate

logger = logging.getLogger(__name__)


def _parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m training.simulator",
        description="Write simulated 837 claims, 835 remittances, truth.csv and ceiling.json.",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder (created if missing)")
    parser.add_argument("--months", type=int, default=1, help="number of months to simulate (default 1)")
    parser.add_argument(
        "--claims-per-month", type=int, default=600, help="claims drawn per month (default 600)"
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument(
        "--start",
        type=dt.date.fromisoformat,
        default=dt.date(2026, 9, 1),
        help="first service date, YYYY-MM-DD (default 2026-09-01)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run one simulation and print the ceiling as JSON."""
    arguments = _parse_arguments(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config = SimulationConfig(
        seed=arguments.seed,
        start=arguments.start,
        months=arguments.months,
        claims_per_month=arguments.claims_per_month,
    )
    result = simulate(config, arguments.out)
    sys.stdout.write(json.dumps(result.ceiling, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
