"""Simulate a realistic claims history: 837 claims, 835 remittances and the truth behind them.

No public data links remittance codes to how each exception was resolved, so the triage models
train on documents this package writes. It records each exception's true root cause, priority
and resolution in ``truth.csv`` beside the X12 files. ``docs/simulator.md`` describes
the world, its parameters and the measures that keep the labels honest.
"""

from training.simulator.simulate import SimulationConfig, SimulationResult, simulate

__all__ = ["SimulationConfig", "SimulationResult", "simulate"]
