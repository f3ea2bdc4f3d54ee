"""Database wiring: one engine per app, one session per app context, a typed model base.

Services use :func:`get_session` and only ``flush``; views and CLI commands commit once
(see STYLE.md). The same code runs on SQLite (the embedded default) and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy import event, orm
from sqlalchemy.engine import Engine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """A timezone-aware datetime that comes back aware on SQLite too.

    SQLite has no timezone type, so values are normalised to UTC on the way in and
    marked as UTC on the way out; PostgreSQL stores ``timestamptz`` natively.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            # Code should pass aware values (lms.db.utcnow); a naive one is taken as UTC.
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Model(orm.DeclarativeBase):
    """Base class of every table; the naming convention keeps Alembic names stable."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    # Every ``Mapped[dt.datetime]`` column is timezone-aware, on SQLite too.
    type_annotation_map = {dt.datetime: UTCDateTime()}


def utcnow() -> dt.datetime:
    """The current time, timezone-aware in UTC (what every timestamp column stores)."""
    return dt.datetime.now(dt.UTC)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers and one writer work at once; NORMAL sync is safe with WAL and much
    # faster; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


try:  # optional: a faster parser for the JSON columns (statements, course versions)
    import orjson as _orjson
except ImportError:  # pragma: no cover - the standard library parses the same
    _orjson = None

#: Text orjson would read differently from the standard library: integers beyond 64 bits
#: (orjson makes them floats; any run of 19+ digits is sent to the standard library) and
#: numbers beyond a double (orjson refuses them).
_NOT_FOR_ORJSON = re.compile(rb"\d{19}")


def json_loads(data: Any) -> Any:
    """Parse a JSON column value. Statements are parsed on every consumer batch and every
    LRS query, so this takes the faster parser when installed, for text it reads exactly as
    :func:`json.loads` does, and the standard library otherwise."""
    if _orjson is not None:
        raw = data.encode() if isinstance(data, str) else bytes(data)
        if not _NOT_FOR_ORJSON.search(raw):
            try:
                return _orjson.loads(raw)
            except _orjson.JSONDecodeError:
                pass  # NaN, Infinity, lone surrogates...: the standard library's answer
        return json.loads(raw)
    return json.loads(data)


def create_db_engine(url: str, echo: bool = False) -> Engine:
    """Create the engine for ``url`` with the settings each backend needs."""
    if url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; plain postgresql:// URLs should just work.
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    kwargs: dict[str, Any] = {"echo": echo, "json_deserializer": json_loads}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    else:
        kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _on_sqlite_connect)
    return engine


def init_app(app: Flask) -> None:
    """Create the app's engine and close the app-context session at teardown."""
    engine = create_db_engine(app.config["DATABASE_URL"], app.config.get("DATABASE_ECHO", False))
    app.extensions["lms.db"] = {
        "engine": engine,
        "sessionmaker": orm.sessionmaker(bind=engine, expire_on_commit=False),
    }
    app.teardown_appcontext(_close_session)


def get_engine(app: Flask | None = None) -> Engine:
    """The engine of ``app`` (default: the current app)."""
    return (app or current_app).extensions["lms.db"]["engine"]


def get_session() -> orm.Session:
    """The session of the current app context, created on first use."""
    session: orm.Session | None = g.get("_lms_session")
    if session is None:
        session = current_app.extensions["lms.db"]["sessionmaker"]()
        g._lms_session = session
    return session


def _close_session(_exc: BaseException | None) -> None:
    session: orm.Session | None = g.pop("_lms_session", None)
    if session is not None:
        session.close()


def alembic_config(app: Flask | None = None) -> Any:
    """An Alembic config pointing at ``lms/migrations`` and the app's database."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.attributes["engine"] = get_engine(app)
    return cfg


def upgrade_database(app: Flask | None = None) -> None:
    """Create the database schema or migrate it to the newest revision."""
    from alembic import command

    command.upgrade(alembic_config(app), "heads")


def current_revision(app: Flask | None = None) -> str | None:
    """The Alembic revision the database is at (None when it was never initialised)."""
    from alembic.runtime.migration import MigrationContext

    with get_engine(app).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def bulk_insert(table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many plain rows into ``table`` (a Table or a model) in the current
    transaction: PostgreSQL's COPY (tens of thousands of rows a second, no statement to
    build), an ordinary multi-row INSERT elsewhere. Rows hold the columns' Python values
    (aware datetimes for timestamp columns); no ORM hook runs."""
    if not rows:
        return
    table = getattr(table, "__table__", table)
    session = get_session()
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(sa.insert(table), rows)
        return
    columns = list(rows[0])
    names = ", ".join(connection.dialect.identifier_preparer.quote(c) for c in columns)
    target = connection.dialect.identifier_preparer.format_table(table)
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])
