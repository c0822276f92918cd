"""A small labelled history, simulated once per session, for the data tests of the feature frame."""

from __future__ import annotations

import datetime as dt

import pytest

from training.dataset import LabelledData, simulate_labelled_data


@pytest.fixture(scope="session")
def labelled_history() -> LabelledData:
    return simulate_labelled_data(seed=5, start=dt.date(2026, 1, 1), months=3, claims_per_month=400)
