"""Driver INSERTs on SQLite store the same values as SQLAlchemy's INSERT of the same rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table

from workflow.store import open_store
from workflow.store.driver_insert import DriverInsert
from workflow.store.models import AuditEventRow, PredictionRow
from workflow.store.rows import prediction_values

UTC = dt.timezone.utc


def _audit_rows() -> list[dict]:
    at = dt.datetime(2026, 9, 3, 14, 5, 6, 789012, tzinfo=UTC)
    return [
        {"entity": "exception", "entity_id": f"EXC-{i}", "action": "created", "actor": "api:test", "at": at,
         "details": {"amount": "12.50", "nested": [1, 2.5, None, "x"], "nan": float("nan")}}
        for i in range(3)
    ]


def _stored(store_url: str, table: str) -> list[tuple]:
    with open_store(store_url) as store, store.engine.connect() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(f"SELECT * FROM {table} ORDER BY 1").all()]


def _insert_both_ways(tmp_path: Path, table, rows: list[dict]) -> tuple[list[tuple], list[tuple]]:
    through_sqlalchemy = f"sqlite:///{tmp_path / 'sqlalchemy.db'}"
    through_driver = f"sqlite:///{tmp_path / 'driver.db'}"
    with open_store(through_sqlalchemy) as store, store.engine.begin() as connection:
        connection.execute(table.insert(), rows)
    with open_store(through_driver) as store, store.engine.begin() as connection:
        inserted = DriverInsert(table).execute(connection, rows)
    assert inserted == len(rows)
    return _stored(through_sqlalchemy, table.name), _stored(through_driver, table.name)


def test_audit_events_store_the_same_values_as_sqlalchemy(tmp_path) -> None:
    expected, actual = _insert_both_ways(tmp_path, AuditEventRow.__table__, _audit_rows())

    assert actual == expected


def test_predictions_store_the_same_values_as_sqlalchemy(tmp_path, make_exception, make_prediction) -> None:
    # The prediction's exception must exist for the foreign key.
    for name in ("sqlalchemy.db", "driver.db"):
        with open_store(f"sqlite:///{tmp_path / name}") as store:
            store.add_exceptions([make_exception("EXC-1")])
    rows = [prediction_values(make_prediction(f"P-{i}", "EXC-1")) for i in range(3)]

    expected, actual = _insert_both_ways(tmp_path, PredictionRow.__table__, rows)

    assert actual == expected


def test_no_rows_inserts_nothing(tmp_path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'empty.db'}") as store, store.engine.begin() as connection:
        assert DriverInsert(AuditEventRow.__table__).execute(connection, []) == 0


def test_table_with_python_default_is_rejected() -> None:
    table = Table("with_default", MetaData(), Column("id", Integer, primary_key=True),
                  Column("flag", Boolean, default=False), Column("name", String(8)))

    with pytest.raises(ValueError, match="Python default on column flag"):
        DriverInsert(table)


def test_database_error_hides_values(tmp_path) -> None:
    from sqlalchemy.exc import IntegrityError

    rows = [{**_audit_rows()[0], "entity_id": None}]
    with open_store(f"sqlite:///{tmp_path / 'bad.db'}") as store, store.engine.begin() as connection:
        with pytest.raises(IntegrityError) as raised:
            DriverInsert(AuditEventRow.__table__).execute(connection, rows)

    assert "EXC-" not in str(raised.value)
    assert "api:test" not in str(raised.value)


def test_unconvertible_value_is_raised_as_statement_error(tmp_path) -> None:
    from sqlalchemy.exc import StatementError

    rows = [{**_audit_rows()[0], "details": {"value": object()}}]
    with open_store(f"sqlite:///{tmp_path / 'bad.db'}") as store, store.engine.begin() as connection:
        with pytest.raises(StatementError):
            DriverInsert(AuditEventRow.__table__).execute(connection, rows)
