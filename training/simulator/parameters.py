"""Load the figures the simulator uses from ``parameters.csv``.

Each row of the CSV names one figure, its unit, the source id it comes from and whether it is
``published`` or an ``assumption``. The simulator reads every number it uses from here, so the
CSV is the one place to change the world.
"""

from __future__ import annotations

import csv
import functools
import logging
from dataclasses import dataclass
from importlib import resources

__all__ = ["Parameter", "load_parameters", "parameter", "parameters_with_prefix"]

logger = logging.getLogger(__name__)

_KINDS = frozenset({"published", "assumption"})


@dataclass(frozen=True, slots=True)
class Parameter:
    """One figure: its value, unit, source id (may be empty) and kind (published or assumption)."""

    name: str
    value: float
    unit: str
    source_id: str
    kind: str
    note: str


@functools.lru_cache(maxsize=1)
def load_parameters() -> dict[str, Parameter]:
    """Read ``parameters.csv`` shipped beside this module, keyed by parameter name."""
    path = resources.files(__package__).joinpath("parameters.csv")
    parameters: dict[str, Parameter] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for line_number, row in enumerate(csv.DictReader(handle), start=2):
            if row["kind"] not in _KINDS:
                raise ValueError(
                    f"parameters.csv line {line_number}: kind {row['kind']!r} is invalid; "
                    f"use one of {sorted(_KINDS)}"
                )
            try:
                value = float(row["value"])
            except ValueError as error:
                raise ValueError(
                    f"parameters.csv line {line_number}: value {row['value']!r} of "
                    f"{row['name']} is not a number"
                ) from error
            parameters[row["name"]] = Parameter(
                name=row["name"],
                value=value,
                unit=row["unit"],
                source_id=row["source_id"],
                kind=row["kind"],
                note=row["note"],
            )
    return parameters


def parameter(name: str) -> float:
    """Return the value of one parameter; raise KeyError naming the CSV when it is missing."""
    parameters = load_parameters()
    if name not in parameters:
        raise KeyError(f"parameter {name!r} not found in training/simulator/parameters.csv")
    return parameters[name].value


def parameters_with_prefix(prefix: str) -> dict[str, float]:
    """Return every parameter whose name starts with ``prefix``, keyed by the rest of the name."""
    return {
        name[len(prefix) :]: item.value
        for name, item in load_parameters().items()
        if name.startswith(prefix)
    }
