"""Engine creation and schema migration for the store.

The Alembic environment ships inside the package (``workflow/store/migrations``) and is
configured here in code, so an installed package migrates its database without an alembic.ini.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from workflow.errors import StoreError

__all__ = [
    "DEFAULT_STORE_URL",
    "MIGRATIONS_DIR",
    "create_store_engine",
    "dump_json",
    "sqlite_synchronous",
    "upgrade_schema",
]

logger = logging.getLogger(__name__)

DEFAULT_STORE_URL = "sqlite:///triage.db"
SUPPORTED_BACKENDS = ("sqlite", "postgresql")
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Seconds a SQLite writer waits for another writer's lock before it fails with "database is locked".
SQLITE_BUSY_TIMEOUT_S = 30

# PRAGMA synchronous of every SQLite connection, from this environment variable. NORMAL, the
# default and SQLite's advice for WAL mode, flushes the write-ahead log to disk at checkpoints, not
# at every commit. A commit survives a crash of the process and the database stays consistent, but
# the commits since the last checkpoint may roll back after a power loss or an operating-system
# crash. FULL flushes at every commit, so each commit also waits for the disk.
SQLITE_SYNCHRONOUS_VARIABLE = "TRIAGE_SQLITE_SYNCHRONOUS"
SQLITE_SYNCHRONOUS_MODES = ("off", "normal", "full", "extra")
DEFAULT_SQLITE_SYNCHRONOUS = "normal"

# orjson writes dates and dataclasses by itself, but the stdlib json it replaces rejects them. With
# these options orjson rejects them too, so dump_json hands them on to json.dumps, which raises.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def create_store_engine(url: str) -> Engine:
    """Create an engine for ``url``; for a SQLite file, check its folder and enable WAL and FKs.

    JSON columns are serialized by :func:`dump_json` on both databases. Parameters are hidden
    from SQLAlchemy's error messages because they carry claim content.
    """
    parsed = parse_store_url(url)
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise StoreError(
            f"unsupported database {backend!r} in the store URL: the store runs on SQLite and PostgreSQL; "
            f"use a URL such as '{DEFAULT_STORE_URL}' or 'postgresql+psycopg://127.0.0.1:5432/triage'"
        )

    if backend != "sqlite":
        try:
            return create_engine(parsed, hide_parameters=True, pool_pre_ping=True, json_serializer=dump_json)
        except ImportError as exc:
            raise StoreError(f"the database driver for {parsed.drivername!r} is not installed: {exc}; "
                             "use postgresql+psycopg://, whose driver ships with the project") from exc

    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or parsed.query.get("mode") == "memory"
    engine_options: dict[str, Any] = {"hide_parameters": True, "json_serializer": dump_json}
    if in_memory:
        # Each new connection to ":memory:" is a new empty database, so every session
        # has to share the one connection.
        engine_options["poolclass"] = StaticPool
        engine_options["connect_args"] = {"check_same_thread": False}
    else:
        folder = Path(database).expanduser().parent
        if not folder.is_dir():
            # A typo in the path should not create folders: say which one is missing.
            raise StoreError(f"the folder {str(folder)!r} of the SQLite store does not exist; "
                             "create it first or choose another path with --db")
        engine_options["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S}

    engine = create_engine(parsed, **engine_options)
    event.listen(engine, "connect", functools.partial(_configure_sqlite_connection, synchronous=sqlite_synchronous()))
    return engine


def sqlite_synchronous() -> str:
    """Return the PRAGMA synchronous mode for SQLite connections from TRIAGE_SQLITE_SYNCHRONOUS."""
    raw = os.environ.get(SQLITE_SYNCHRONOUS_VARIABLE, "")
    # A variable set to nothing, as shells and env files often leave it, means the default.
    value = raw.strip().lower() or DEFAULT_SQLITE_SYNCHRONOUS
    if value not in SQLITE_SYNCHRONOUS_MODES:
        raise StoreError(
            f"invalid {SQLITE_SYNCHRONOUS_VARIABLE}={raw!r}: expected one of {', '.join(SQLITE_SYNCHRONOUS_MODES)}; "
            "use normal (the default) to flush the log at WAL checkpoints, or full to flush it at every commit"
        )
    return value


def dump_json(value: Any) -> str:
    """Serialize a JSON column's value with orjson, or with json.dumps where orjson rejects it.

    orjson is several times faster than json.dumps and writes compact UTF-8 text that reads back as
    the same values, with three differences. It writes NaN and infinity as null, where json.dumps
    wrote the NaN token that SQLite kept and PostgreSQL rejected. It writes a UUID as its string
    and an Enum that is neither str nor int as its value, where json.dumps raised. Values that orjson rejects go to
    json.dumps, which stores them as before or raises its TypeError: dicts with keys other than
    str, integers beyond 64 bits, strings with lone surrogates, NumPy integers, dates and dataclasses.
    """
    try:
        return orjson.dumps(value, option=_ORJSON_OPTIONS).decode()
    except orjson.JSONEncodeError:
        # Outside the handler, so an error of json.dumps does not show orjson's as its context.
        pass
    return json.dumps(value)


def parse_store_url(url: str) -> URL:
    """Parse a database URL, raising StoreError with an example when it is malformed."""
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise StoreError(
            f"invalid store URL {url!r}: expected a SQLAlchemy URL such as "
            f"'{DEFAULT_STORE_URL}' or 'postgresql+psycopg://127.0.0.1:5432/triage'"
        ) from exc


def _configure_sqlite_connection(dbapi_connection: Any, _connection_record: Any, *, synchronous: str) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # SQLite leaves foreign keys off unless every connection turns them on.
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL lets the API read while a run writes. An in-memory database returns "memory"
        # and keeps its journal mode, which is fine.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
    finally:
        cursor.close()


def alembic_config() -> Config:
    """Return an Alembic configuration that points at the migrations inside this package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade_schema(engine: Engine, revision: str = "head") -> None:
    """Run the Alembic migrations on ``engine`` up to ``revision`` (the newest by default)."""
    config = alembic_config()
    safe_url = engine.url.render_as_string(hide_password=True)
    logger.info("migrating store %s to revision %s", safe_url, revision)
    try:
        with engine.begin() as connection:
            # The connection is handed over in attributes rather than as sqlalchemy.url, so
            # env.py never re-parses the URL (configparser would choke on % in passwords).
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc
        raise StoreError(
            f"could not open or migrate the store at {safe_url}: {type(reason).__name__}: {reason}. "
            "Check that the database server is running and that the user may create tables."
        ) from exc
