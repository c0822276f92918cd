"""Many-row INSERTs on SQLite run straight on the DB-API cursor, with SQLAlchemy's own value conversion.

``Connection.execute`` builds an execution context, processes every parameter set through its
compiled statement and sets up a result for each call. For the API's per-request write (four
INSERTs of one to a thousand rows) that work took about half as long as SQLite itself took to
run the statements and commit. :class:`DriverInsert` converts each value with the bind processor SQLAlchemy itself
uses for the column's type on the connection's dialect, so the stored bytes are the same, and hands
the rows to ``sqlite3.Cursor.executemany``.

It applies no Python-side column defaults and runs no SQLAlchemy events, so it is used only for
tables whose rows name every column they fill and on SQLite, where the store registers no
execute events.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.exc import DBAPIError, StatementError

__all__ = ["DriverInsert"]

logger = logging.getLogger(__name__)


class DriverInsert:
    """An INSERT into one table of the columns the rows name, built once per column set and dialect."""

    def __init__(self, table: Table) -> None:
        for column in table.columns:
            if column.default is not None and not column.primary_key:
                raise ValueError(
                    f"table {table.name} has a Python default on column {column.name}, which a driver "
                    "INSERT would not apply; insert it through SQLAlchemy instead"
                )
        self.table = table
        self._statements: dict[tuple[str, tuple[str, ...]], tuple[str, list[Callable[[Any], Any] | None]]] = {}

    def execute(self, connection: Connection, rows: Sequence[dict[str, Any]]) -> int:
        """Insert ``rows`` (dicts with the same keys) on ``connection``; return how many were inserted."""
        if not rows:
            return 0
        keys = tuple(rows[0])
        sql, processors = self._statement(connection, keys)
        try:
            parameters = _parameters(rows, keys, processors)
        except Exception as error:
            # As SQLAlchemy reports a value its type cannot convert; parameters stay out of the message.
            raise StatementError(str(error), sql, None, error, hide_parameters=True) from error
        dbapi_error = connection.dialect.loaded_dbapi.Error
        cursor = connection.connection.cursor()
        try:
            cursor.executemany(sql, parameters)
            return int(cursor.rowcount)
        except dbapi_error as error:
            # The same IntegrityError or OperationalError that Connection.execute would raise, so
            # callers and Store._transaction handle both paths alike.
            raise DBAPIError.instance(
                sql, None, error, dbapi_error, hide_parameters=True, dialect=connection.dialect, ismulti=True
            ) from error
        finally:
            cursor.close()

    def _statement(self, connection: Connection, keys: tuple[str, ...]) -> tuple[str, list[Callable[[Any], Any] | None]]:
        dialect = connection.dialect
        cache_key = (dialect.name, keys)
        cached = self._statements.get(cache_key)
        if cached is not None:
            return cached
        if dialect.paramstyle != "qmark":
            raise ValueError(
                f"invalid dialect for a driver INSERT: {dialect.name} uses the {dialect.paramstyle} parameter "
                "style, not qmark; insert through SQLAlchemy on this database"
            )
        columns = [self.table.columns[key] for key in keys]
        quote = dialect.identifier_preparer.quote
        sql = (
            f"INSERT INTO {quote(self.table.name)} ({', '.join(quote(column.name) for column in columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
        processors = [column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns]
        self._statements[cache_key] = (sql, processors)
        logger.debug("built driver INSERT for %s with %d columns", self.table.name, len(columns))
        return sql, processors


def _parameters(
    rows: Sequence[dict[str, Any]], keys: tuple[str, ...], processors: list[Callable[[Any], Any] | None]
) -> list[tuple[Any, ...]]:
    """Return each row's values in ``keys`` order, converted by the column's bind processor where it has one."""
    if not any(processor is not None for processor in processors):
        return [tuple([row[key] for key in keys]) for row in rows]
    converters = list(zip(keys, processors, strict=True))
    return [
        tuple([row[key] if processor is None else processor(row[key]) for key, processor in converters])
        for row in rows
    ]
