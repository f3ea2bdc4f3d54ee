"""Database wiring: one engine per app, one session per app context, a typed model base.

Services use :func:`get_session` and only ``flush``; views and CLI commands commit once
(see STYLE.md). The same code runs on SQLite (the embedded default) and PostgreSQL.

What follows a commit is explicit: a service that writes something with consequences
outside its transaction (statements for the consumers and forwarding, mail in the outbox,
LTI scores, a background job) calls :func:`after_commit` with a *kind*; when the
transaction commits, :func:`dispatch` runs every handler registered for that kind
(:func:`on_commit`), and a rollback drops the queue. Whether a handler runs in this
process (``inline``: in the request, or a thread it pokes) or is handed to a Celery
worker (``worker``) is decided in :func:`dispatch` alone: on a worker when a broker is
configured (:func:`lms.config.broker_url`) and the handler has a worker side.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy import event, orm
from sqlalchemy.engine import Engine

from lms.config import broker_url
from lms.plugins.registry import AFTER_COMMIT, AFTER_COMMIT_WORKERS

log = logging.getLogger(__name__)

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
    _orjson = None  # type: ignore[assignment]

#: Text orjson would read differently from the standard library: integers beyond 64 bits
#: (orjson makes them floats; any run of 19+ digits is sent to the standard library) and
#: numbers beyond a double (orjson refuses them).
#: (Every digit mapped to "0", then 19 zeros looked for: several times faster than a
#: regular expression, which cost more than parsing the statement.)
_DIGITS_TO_ZERO = bytes(48 if 48 <= b <= 57 else b for b in range(256))
_NOT_FOR_ORJSON = b"0" * 19


def json_loads(data: Any) -> Any:
    """Parse a JSON column value. Statements are parsed on every consumer batch and every
    LRS query, so this takes the faster parser when installed, for text it reads exactly as
    :func:`json.loads` does, and the standard library otherwise."""
    if _orjson is not None:
        raw = data.encode() if isinstance(data, str) else bytes(data)
        if _NOT_FOR_ORJSON not in raw.translate(_DIGITS_TO_ZERO):
            try:
                return _orjson.loads(raw)
            except _orjson.JSONDecodeError:
                pass  # NaN, Infinity, lone surrogates...: the standard library's answer
        return json.loads(raw)
    return json.loads(data)


def create_db_engine(url: str, echo: bool = False, ping_after: float = 5.0,
                     autocommit: bool = False) -> Engine:
    """Create the engine for ``url`` with the settings each backend needs.

    A server database's pooled connections are tested before use when they have been idle
    for ``ping_after`` seconds or more (:func:`_ping_when_idle`). ``autocommit=True``: its
    connections are in autocommit, and not rolled back when they return to the pool."""
    if url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; plain postgresql:// URLs should just work.
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    kwargs: dict[str, Any] = {"echo": echo, "json_deserializer": json_loads}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    else:
        kwargs.update(pool_size=10, max_overflow=20)
    if autocommit:
        kwargs.update(isolation_level="AUTOCOMMIT", pool_reset_on_return=None)
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _on_sqlite_connect)
    else:
        _ping_when_idle(engine, ping_after)
    return engine


def _ping_when_idle(engine: Engine, after: float) -> None:
    """Test a pooled connection with a round trip before use when it has been idle for
    ``after`` seconds or more, and have the pool replace it when the server closed it.

    This is SQLAlchemy's pessimistic disconnect handling (``pool_pre_ping``) for the
    connections that can have been closed meanwhile: a server restart, a proxy's or
    firewall's idle timeout. A connection checked in a moment ago is not pinged: that round
    trip was a sixth of the server time of an LRS request storing one statement. (A restart
    during those seconds fails the requests that were using the connections then, as it
    would with a ping; the pool then replaces that connection, and tests the others idle
    as long when they are next used.)"""
    import time

    pool = engine.pool

    @event.listens_for(pool, "connect")
    def _fresh(_dbapi_connection: Any, record: Any) -> None:
        record.info["lms_used"] = time.monotonic()

    @event.listens_for(pool, "checkin")
    def _used(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["lms_used"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        used = record.info.get("lms_used")
        if used is not None and time.monotonic() - used < after:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool closes this connection and checks out another (a new one when
            # the server was restarted: the others of this generation go too).
            raise sa.exc.DisconnectionError(str(exc)) from exc
        if not alive:  # pragma: no cover - psycopg raises rather than answering False
            raise sa.exc.DisconnectionError("the database connection did not answer")
        record.info["lms_used"] = time.monotonic()


def init_app(app: Flask) -> None:
    """Create the app's engine and close the app-context session at teardown."""
    ping_after = float(app.config.get("DATABASE_PING_AFTER", 5.0))
    engine = create_db_engine(app.config["DATABASE_URL"], app.config.get("DATABASE_ECHO", False),
                              ping_after)
    app.extensions["lms.db"] = {
        "engine": engine,
        "ping_after": ping_after,
        "sessionmaker": orm.sessionmaker(bind=engine, expire_on_commit=False),
    }
    app.teardown_appcontext(_close_session)
    # The autocommit engine goes with the app's engine (tests, a worker after fork).
    event.listen(engine, "engine_disposed", lambda _engine: dispose_autocommit_engine(app))
    if not event.contains(orm.Session, "after_commit", _after_commit):
        event.listen(orm.Session, "after_commit", _after_commit)
        event.listen(orm.Session, "after_soft_rollback", _after_rollback)


def get_engine(app: Flask | None = None) -> Engine:
    """The engine of ``app`` (default: the current app)."""
    return (app or current_app).extensions["lms.db"]["engine"]


_autocommit_lock = threading.Lock()


def get_autocommit_engine(app: Flask | None = None) -> Engine:
    """An engine on the app's database whose connections are in autocommit, created on
    first use: for one SQL statement that commits on its own (the LRS's ingest,
    :func:`lms.xapi.store.write.write_alone`). Switching a pooled connection of the app's
    engine to autocommit and back, and rolling it back on its return to the pool, cost a
    tenth of such a request. It is disposed with the app's engine."""
    extension = (app or current_app).extensions["lms.db"]
    engine: Engine | None = extension.get("autocommit_engine")
    if engine is None:
        with _autocommit_lock:
            engine = extension.get("autocommit_engine")
            if engine is None:
                main: Engine = extension["engine"]
                engine = extension["autocommit_engine"] = create_db_engine(
                    main.url.render_as_string(hide_password=False), bool(main.echo),
                    extension.get("ping_after", 5.0), autocommit=True)
    return engine


def dispose_autocommit_engine(app: Flask, close: bool = True) -> None:
    """Dispose of the app's autocommit engine, if it made one (``close=False`` after a
    fork: the parent's connections are left to the parent)."""
    engine = app.extensions["lms.db"].pop("autocommit_engine", None)
    if engine is not None:
        engine.dispose(close=close)


def get_session() -> orm.Session:
    """The session of the current app context, created on first use."""
    session: orm.Session | None = g.get("_lms_session")
    if session is None:
        session = current_app.extensions["lms.db"]["sessionmaker"]()
        g._lms_session = session
    return session


@contextmanager
def session_of_its_own(factory: Callable[[], orm.Session]) -> Iterator[orm.Session]:
    """A new session from ``factory``, the app context's session (what
    :func:`get_session` returns) while the block runs; then it is closed and the previous
    one is back. The statement consumers' runner runs each transaction of its own so."""
    session = factory()
    previous: orm.Session | None = g.get("_lms_session")
    g._lms_session = session
    try:
        yield session
    finally:
        session.close()
        if previous is None:
            g.pop("_lms_session", None)
        else:
            g._lms_session = previous


def opened_session() -> orm.Session | None:
    """The session of the current app context if one was opened, else None (opening none)."""
    return g.get("_lms_session")


def commit_opened_session() -> None:
    """Commit the app context's session if one was opened. (An LRS request that stored
    its statements on their own opens none: :func:`lms.xapi.store.store_statements`.)"""
    session = opened_session()
    if session is not None:
        session.commit()


def among(column: Any, values: Iterable[str]) -> Any:
    """``column IN values`` for text values whose number changes from call to call (the
    activity ids of a consumer's batch). On PostgreSQL the values go as one JSON
    parameter, so the query's text, and the driver's and the server's work on it, stay the
    same whatever their number: an IN list of hundreds of parameters was built anew for
    each batch and took a third of a consumers run. A plain IN list elsewhere."""
    values = list(values)
    if get_session().get_bind().dialect.name != "postgresql":
        return column.in_(values)
    from sqlalchemy.dialects.postgresql import JSONB

    listed = sa.func.jsonb_array_elements_text(
        sa.cast(sa.bindparam(None, dumps_json(values), type_=sa.Text), JSONB))
    return column.in_(sa.select(listed.table_valued("value").c.value))


def dumps_json(value: Any) -> str:
    """Compact JSON text (orjson when it can; the standard library otherwise)."""
    if _orjson is not None:
        try:
            return str(_orjson.dumps(value).decode())
        except TypeError:
            pass
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


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


# --- after commit -------------------------------------------------------------------------

#: Session.info key: the work queued for after this transaction commits.
_QUEUE = "lms.db.after_commit"
#: Session.info key: kinds whose queued work the session's owner takes over (see hold).
_HELD = "lms.db.held"

Handler = Callable[[Flask, list[Any]], None]


@dataclass(frozen=True)
class AfterCommit:
    """Work that follows a commit: ``inline(app, items)`` runs in this process (in the
    request, or by poking a thread of it); ``kinds`` are the kinds it follows; ``items``
    are what :func:`after_commit` was given for them in the transaction (in order, None
    left out)."""

    name: str
    kinds: tuple[str, ...]
    inline: Handler


def on_commit(name: str, kinds: tuple[str, ...] | str, inline: Handler,
              worker: Handler | None = None) -> None:
    """Register the handler ``name`` for ``kinds``; ``worker(app, items)`` hands the work
    to a Celery worker instead when a broker is configured. A module calls it in its
    ``init_app``; handlers run in the order registered."""
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    AFTER_COMMIT.add(name, AfterCommit(name, kinds, inline))
    if worker is not None:
        on_commit_worker(name, worker)


def on_commit_worker(name: str, worker: Handler) -> None:
    """Give the handler ``name`` its worker side (the Celery layer does, for the
    statement consumers and forwarding)."""
    AFTER_COMMIT_WORKERS.add(name, worker)


def after_commit(kind: str, item: Any = None, session: orm.Session | None = None) -> None:
    """Queue ``kind`` (with ``item``, if any) for after ``session`` (default: the app
    context's) commits; nothing runs if it rolls back."""
    session = session if session is not None else get_session()
    app, queued = session.info.setdefault(
        _QUEUE, (current_app._get_current_object(), {}))  # type: ignore[attr-defined]
    items = queued.setdefault(kind, [])
    if item is not None:
        items.append(item)


def hold(session: orm.Session, kinds: tuple[str, ...], into: dict[str, list[Any]]) -> None:
    """When ``session`` commits, move what it queued of ``kinds`` into ``into`` instead of
    dispatching it: its owner handles that work itself. The statement consumers' runner
    holds ``statements``: the statements consumers derive (``mastered``...) are fed to the
    consumers by the runner's next pass, not by a new run from inside this one."""
    session.info[_HELD] = (kinds, into)


def discard(kind: str, session: orm.Session | None = None) -> list[Any]:
    """Take ``kind`` back out of the queue of ``session`` (default: the app context's);
    returns its items. (A test uses it to leave a job's start message lost.)"""
    session = session if session is not None else get_session()
    entry = session.info.get(_QUEUE)
    return list(entry[1].pop(kind, ())) if entry is not None else []


def queued(session: orm.Session) -> dict[str, list[Any]]:
    """What ``session`` has queued so far, by kind (for tests and diagnostics)."""
    return dict(session.info.get(_QUEUE, (None, {}))[1])


def dispatch(app: Flask, queued: dict[str, list[Any]]) -> None:
    """Run the handlers of the ``queued`` kinds: on a worker when ``app`` has a broker
    and the handler a worker side, else inline. The one place that decides. A failing
    handler is logged and never fails the commit it follows (what is committed stays
    committed; the periodic runs and the CLI catch up)."""
    use_workers = bool(broker_url(app))
    for handler in list(AFTER_COMMIT.values()):
        if not any(kind in queued for kind in handler.kinds):
            continue
        items = [item for kind in handler.kinds for item in queued.get(kind, ())]
        run = AFTER_COMMIT_WORKERS.get(handler.name) if use_workers else None
        try:
            (run or handler.inline)(app, items)
        except Exception:
            log.exception("after-commit handler %s failed", handler.name)


def _after_commit(session: orm.Session) -> None:
    entry = session.info.pop(_QUEUE, None)
    if entry is None:
        return
    app, queued = entry
    held = session.info.get(_HELD)
    if held is not None:
        kinds, into = held
        for kind in kinds:
            if kind in queued:
                into.setdefault(kind, []).extend(queued.pop(kind))
    if queued:
        dispatch(app, queued)


def _after_rollback(session: orm.Session, _previous: Any = None) -> None:
    session.info.pop(_QUEUE, None)


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
    assert raw is not None  # a live connection of the session
    with raw.cursor() as cursor, cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])
