"""Reviewer decisions become labelled exceptions, alone or mixed with simulated ones."""

from __future__ import annotations

from training.dataset import combine_labelled_data, labelled_data_from_store


class FakeStore:
    """Stands in for workflow.store.Store: only ``labelled_exceptions`` is read."""

    def __init__(self, items):
        self.items = items

    def labelled_exceptions(self):
        return self.items


def _decision(exception_id, detected_on, **labels):
    values = {"type": "authorization", "priority": "high", "resolution": "appeal"}
    values.update(labels)
    return {"exception": {"exception_id": exception_id, "kind": "denial", "payer_id": "P1",
                          "detected_on": detected_on, "carc_codes": ["197"], "group_codes": ["CO"]},
            "decided_at": "2026-10-01T12:00:00+00:00", **values}


def test_decisions_are_ordered_by_detection():
    store = FakeStore([_decision("e2", "2026-09-05"), _decision("e1", "2026-09-01")])
    data = labelled_data_from_store(store)
    assert list(data.frame["exception_id"]) == ["e1", "e2"]


def test_decision_without_every_label_is_skipped():
    store = FakeStore([_decision("e1", "2026-09-01"), _decision("e2", "2026-09-02", priority=None)])
    data = labelled_data_from_store(store)
    assert len(data.frame) == 1
    assert data.unlabelled == 1


def test_reviewed_rows_are_marked():
    data = labelled_data_from_store(FakeStore([_decision("e1", "2026-09-01")]))
    assert data.sources == {"reviewed": 1}
    assert list(data.frame["source"]) == ["reviewed"]


def test_mixing_keeps_both_sources(small_history):
    reviewed = labelled_data_from_store(FakeStore([_decision("e1", "2026-09-01")]))
    mixed = combine_labelled_data(reviewed, small_history)
    assert len(mixed.frame) == len(small_history.frame) + 1
    assert mixed.sources["reviewed"] == 1
    assert mixed.frame["detected_on"].is_monotonic_increasing


def test_mixing_keeps_simulator_ceiling(small_history):
    reviewed = labelled_data_from_store(FakeStore([_decision("e1", "2026-09-01")]))
    assert combine_labelled_data(reviewed, small_history).ceiling == small_history.ceiling
