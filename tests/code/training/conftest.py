"""A small simulated history and a bundle trained on it, shared by the training tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from training.dataset import LabelledData, simulate_labelled_data
from training.train import TrainConfig, TrainReport, train_bundle

SMALL_CONFIG = TrainConfig(seed=3, max_rounds=60, early_stopping_rounds=10)


@pytest.fixture(scope="session")
def small_history() -> LabelledData:
    return simulate_labelled_data(seed=9, start=dt.date(2026, 1, 1), months=3, claims_per_month=400)


@pytest.fixture(scope="session")
def small_bundle(small_history, tmp_path_factory) -> TrainReport:
    return train_bundle(small_history, tmp_path_factory.mktemp("bundle"), config=SMALL_CONFIG)
