"""UtcDateTime's bind processor, which converts a repeated datetime object once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from workflow.store.types import UtcDateTime

UTC = dt.timezone.utc
PLUS_TWO = dt.timezone(dt.timedelta(hours=2))
DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.psycopg.dialect()}


def _processor(dialect_name: str):
    # dialect_impl gives the type with the dialect's DATETIME inside, as SQLAlchemy binds it.
    dialect = DIALECTS[dialect_name]
    return UtcDateTime().dialect_impl(dialect).bind_processor(dialect)


@pytest.mark.parametrize("dialect_name", DIALECTS)
def test_bind_processor_alternating_values(dialect_name: str) -> None:
    process = _processor(dialect_name)
    first = dt.datetime(2024, 4, 1, 12, 0, tzinfo=UTC)
    second = dt.datetime(2024, 4, 1, 14, 30, tzinfo=PLUS_TWO)

    results = [process(value) for value in (first, first, second, second, first, None, first)]

    # A new processor per value has nothing cached, so it converts each value afresh.
    expected = [_processor(dialect_name)(value) for value in (first, first, second, second, first, None, first)]
    assert results == expected
    assert results[0] != results[2]


def test_bind_processor_sqlite_writes_utc_text() -> None:
    process = _processor("sqlite")
    moment = dt.datetime(2024, 4, 1, 14, 30, 5, 120, tzinfo=PLUS_TWO)

    assert process(moment) == "2024-04-01 12:30:05.000120"
    assert process(moment) == "2024-04-01 12:30:05.000120"


def test_bind_processor_postgresql_writes_aware_utc() -> None:
    process = _processor("postgresql")
    moment = dt.datetime(2024, 4, 1, 14, 30, tzinfo=PLUS_TWO)

    converted = process(moment)

    assert converted == moment
    assert converted.tzinfo == UTC


@pytest.mark.parametrize("dialect_name", DIALECTS)
def test_bind_processor_rejects_naive_after_aware(dialect_name: str) -> None:
    process = _processor(dialect_name)
    process(dt.datetime(2024, 4, 1, tzinfo=UTC))

    with pytest.raises(ValueError, match="timestamps must be timezone-aware"):
        process(dt.datetime(2024, 4, 1))
