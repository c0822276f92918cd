"""record_to_dict: the JSON form of records, on its fast path for plain values and its full path."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from decimal import Decimal
from typing import Any

import pytest

from workflow.records import Adjustment, Severity, Source, record_to_dict


def _reference_jsonable(value: Any) -> Any:
    """The conversion record_to_dict made before its fast path, kept here as the oracle."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _reference_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _reference_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_reference_jsonable(v) for v in value]
    return value


class Level(enum.IntEnum):
    LOW = 1


class Tag(str):
    pass


@dataclasses.dataclass
class Holder:
    """A dataclass that is not a record, holding one value of any type."""

    value: Any


def test_amounts_become_decimal_strings() -> None:
    converted = record_to_dict(Adjustment(group="CO", reason="45", amount=Decimal("12.30"), quantity=None))

    assert converted == {"group": "CO", "reason": "45", "amount": "12.30", "quantity": None}


def test_dates_become_iso_strings() -> None:
    moment = dt.datetime(2024, 4, 1, 12, 30, tzinfo=dt.timezone.utc)

    converted = record_to_dict(Holder({"day": dt.date(2024, 3, 4), "moment": moment}))

    assert converted == {"value": {"day": "2024-03-04", "moment": "2024-04-01T12:30:00+00:00"}}


def test_plain_values_pass_unchanged() -> None:
    values = {"text": "é", "count": 3, "ratio": 0.25, "flag": True, "missing": None}

    converted = record_to_dict(Holder(values))

    assert converted == {"value": values}
    assert type(converted["value"]["flag"]) is bool


def test_subclasses_of_plain_types_take_full_path() -> None:
    converted = record_to_dict(Holder([Severity.ERROR, Level.LOW, Tag("x")]))

    assert converted == {"value": ["error", 1, "x"]}
    assert type(converted["value"][0]) is str
    assert type(converted["value"][1]) is int


def test_dict_keys_become_strings() -> None:
    converted = record_to_dict(Holder({1: "a", None: "b", Tag("c"): "c"}))

    assert converted == {"value": {"1": "a", "None": "b", "c": "c"}}
    assert all(type(key) is str for key in converted["value"])


def test_nested_evidence_converts_every_level() -> None:
    evidence = {
        "adjustments": [{"group": "CO", "amount": Decimal("5.00"), "dates": (dt.date(2024, 1, 2),)}],
        "lines": ({"paid": Decimal("0.10")}, [Adjustment("PR", "1", Decimal("1.00"))]),
    }

    converted = record_to_dict(Holder(evidence))

    assert converted == {
        "value": {
            "adjustments": [{"group": "CO", "amount": "5.00", "dates": ["2024-01-02"]}],
            "lines": [{"paid": "0.10"}, [{"group": "PR", "reason": "1", "amount": "1.00", "quantity": None}]],
        }
    }


def test_unknown_types_pass_unchanged() -> None:
    marker = object()

    assert record_to_dict(Holder(marker)) == {"value": marker}


def test_non_record_raises_type_error() -> None:
    with pytest.raises(TypeError, match="expected a record dataclass, got list"):
        record_to_dict([1, 2])


@pytest.mark.parametrize(
    "factory",
    ["make_claim", "make_claim_payment", "make_payment", "make_provider_adjustment", "make_finding", "make_exception"],
)
def test_records_match_reference_conversion(request: pytest.FixtureRequest, factory: str) -> None:
    record = request.getfixturevalue(factory)()

    assert record_to_dict(record) == _reference_jsonable(record)


def test_numpy_scalars_match_reference_conversion() -> None:
    numpy = pytest.importorskip("numpy")
    values = Holder({"float": numpy.float64(0.5), "int": numpy.int64(3), "flag": numpy.bool_(True)})

    converted = record_to_dict(values)

    assert converted == _reference_jsonable(values)
    assert type(converted["value"]["float"]) is numpy.float64


def test_source_fields_follow_dataclass_order() -> None:
    source = Source(file="a.837", document_id="doc", bbox=(1.0, 2.0, 3.0, 4.0))

    converted = record_to_dict(source)

    assert list(converted) == [field.name for field in dataclasses.fields(Source)]
    assert converted["bbox"] == [1.0, 2.0, 3.0, 4.0]
