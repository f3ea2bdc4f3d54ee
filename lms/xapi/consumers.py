"""Statement consumers: code that derives data from every stored statement, exactly once.

A consumer keeps a cursor (the ``seq`` of the last statement it handled) in
``xapi_consumer_cursor``. :func:`run_consumers` feeds each consumer the statements after
its cursor in stored order; the consumer's own writes and the cursor advance commit in the
same transaction, so a statement is handled exactly once even if the process dies. A
consumer that raises is rolled back, logged, and retried on the next run from where it
stopped; other consumers and the LRS carry on. :func:`replay` resets a consumer and runs
it from the first statement (``lms xapi replay``).

In the embedded default, consumers run in-process right after the commit of a
transaction that stored statements (an ``after_commit`` hook on the session), so a page
that stores a statement and commits sees the derived data on the next request.

Ordering on PostgreSQL: ``seq`` comes from a sequence, so a transaction that took seq 10
may commit after one that took seq 11. A consumer therefore stops at a gap in ``seq``
until the gap fills or is older than :data:`GAP_TIMEOUT` (a rolled-back insert leaves a
gap forever).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy import event, orm

from lms.db import get_engine, json_loads
from lms.errors import LmsError
from lms.xapi.models import ConsumerCursor, Statement
from lms.xapi.validation.verbs import VOIDED

log = logging.getLogger(__name__)

#: How long a gap in ``seq`` may be waited for before it is taken as a rollback.
GAP_TIMEOUT = dt.timedelta(seconds=30)
#: Statements read per batch (one transaction per batch and consumer).
BATCH_SIZE = 500
#: Batch size of a replay (``lms xapi replay``, ``lms profiles rebuild``): nothing waits
#: for its transactions, and fewer, larger batches save round trips per statement.
REPLAY_BATCH_SIZE = 2000


class StoredStatement:
    """A statement as a consumer sees it.

    ``data`` (the statement's JSON) is parsed on first use. Parsing is most of what
    reading a batch costs, so a consumer that can tell from the indexed ``verb_id`` and
    ``activity_id`` (the object's id when it is an Activity, else None) that a statement
    is not for it should look at those first.
    """

    __slots__ = ("seq", "id", "stored", "voided", "verb_id", "activity_id", "_data", "_raw")

    def __init__(self, seq: int, id: str, data: dict[str, Any] | None = None,
                 stored: dt.datetime | None = None, voided: bool = False, *,
                 verb_id: str | None = None, activity_id: str | None = None,
                 raw: str | bytes | None = None) -> None:
        if data is None and raw is None:
            raise ValueError("a stored statement needs its data or its JSON text")
        self.seq = seq
        self.id = id
        self.stored = stored
        self.voided = voided
        self._data = data
        self._raw = raw
        if data is not None and verb_id is None:
            verb_id = (data.get("verb") or {}).get("id")
            obj = data.get("object") or {}
            if activity_id is None and obj.get("objectType", "Activity") == "Activity":
                activity_id = obj.get("id")
        self.verb_id = verb_id
        self.activity_id = activity_id

    @property
    def data(self) -> dict[str, Any]:
        if self._data is None:
            self._data = json_loads(self._raw)
            self._raw = None
        return self._data

    def __repr__(self) -> str:
        return f"<StoredStatement {self.seq} {self.id}>"


class StatementConsumer:
    """Base class of statement consumers. Subclasses set ``name`` and override ``handle``.

    ``handle`` is called for every stored statement except voiding statements; a voiding
    statement calls ``handle_voiding`` with the id of the statement it voids (which may
    be unknown to the LRS). Both run inside the transaction that also advances the
    consumer's cursor: use :func:`lms.db.get_session`, flush, never commit.
    """

    name: str = ""

    def handle(self, statement: StoredStatement) -> None:
        raise NotImplementedError

    def handle_voiding(self, voided_id: str, voiding: StoredStatement) -> None:
        """Withdraw what ``voided_id`` produced. Default: nothing."""

    def reset(self) -> None:
        """Delete everything derived, before a replay. Default: nothing."""

    # A consumer may also define ``handle_batch(statements)``: it then gets each batch
    # whole (voiding statements included, in stored order) instead of one call per
    # statement, inside the same transaction.


def _registry(app: Flask) -> dict[str, StatementConsumer]:
    return app.extensions.setdefault("lms.xapi.consumers", {})


def register_consumer(app: Flask, consumer: StatementConsumer) -> None:
    """Register ``consumer`` with ``app``. A duplicate name is an error."""
    if not consumer.name:
        raise ValueError("a statement consumer needs a name")
    registry = _registry(app)
    if consumer.name in registry:
        raise ValueError(f"a statement consumer named {consumer.name!r} is registered "
                         "already")
    registry[consumer.name] = consumer


def registered_consumers(app: Flask | None = None) -> dict[str, StatementConsumer]:
    return dict(_registry(app or current_app))


def _to_stored(row: Any) -> StoredStatement:
    """A row of :func:`_pending` (``text=True``) as a consumer sees it."""
    return StoredStatement(seq=row.seq, id=row.statement_id, raw=row.data, stored=row.stored,
                           voided=row.voided, verb_id=row.verb_id, activity_id=row.activity_id)


def _pending(session: orm.Session, after: int, now: dt.datetime,
             limit: int | None = None, text: bool = False) -> list[Any]:
    """Statements after ``after`` up to the first unexplained gap in ``seq``.

    ``text=True``: ``data`` is the JSON text, unparsed (see :class:`StoredStatement`).
    """
    data = sa.cast(Statement.data, sa.Text).label("data") if text else Statement.data
    rows = session.execute(
        sa.select(Statement.seq, Statement.statement_id, data, Statement.stored,
                  Statement.voided, Statement.verb_id, Statement.activity_id)
        .where(Statement.seq > after).order_by(Statement.seq).limit(limit or BATCH_SIZE)
    ).all()
    ready = []
    expected = after + 1
    for row in rows:
        if row.seq != expected and now - row.stored < GAP_TIMEOUT:
            break  # an earlier seq may still be committing
        ready.append(row)
        expected = row.seq + 1
    return ready


def _lock_cursor(session: orm.Session, name: str) -> int:
    """Lock the consumer's cursor for this transaction; return its ``last_seq``.

    Several processes (gunicorn workers, a worker machine) may run the same consumer at
    once. Starting the transaction with a write to the cursor row serialises them: on
    PostgreSQL the row lock makes the second wait and then read the advanced cursor; on
    SQLite the write takes the database write lock before anything is read.
    """
    from lms.xapi.service import _dialect_insert

    if session.get_bind().dialect.name == "postgresql" and current_app.config.get(
            "XAPI_CONSUMERS_ASYNC_COMMIT", True):
        # What a consumer writes is derived and commits together with its cursor: a crash
        # that loses the last few commits (asynchronous commit) loses both, and the
        # statements are simply handled again. Not waiting for the WAL flush saves a disk
        # sync per batch (most of the time of a small batch).
        session.execute(sa.text("SET LOCAL synchronous_commit = off"))
    table = ConsumerCursor.__table__
    return session.execute(_dialect_insert(session)(table)
                           .values(name=name, last_seq=0, updated=dt.datetime.now(dt.UTC))
                           .on_conflict_do_update(index_elements=["name"],
                                                  set_={"updated": dt.datetime.now(dt.UTC)})
                           .returning(table.c.last_seq)).scalar_one()


def _run_one(app: Flask, consumer: StatementConsumer, session_factory: Any,
             failed: set[str] | None = None,
             progress: Callable[[int], Any] | None = None,
             batch_size: int | None = None, look: bool = True,
             max_batches: int | None = None) -> int:
    """Feed ``consumer`` everything pending (at most ``max_batches`` batches); return how
    many statements it handled.

    When it raises, its name is added to ``failed`` (it is retried on a later run).
    ``progress`` is called with the number of statements of each committed batch.
    ``look=False``: the caller has just seen that statements are pending (no first look).
    A batch shorter than the batch size ends the run: nothing more was ready (a later run,
    after the next commit or poll, takes what arrives meanwhile).
    """
    from flask import g

    handled = 0
    batches = 0
    full = not look  # the last batch was full: more is pending, no need to look first
    while max_batches is None or batches < max_batches:
        batches += 1
        session: orm.Session = session_factory()
        previous = g.get("_lms_session")
        g._lms_session = session  # the consumer's get_session() is this transaction
        try:
            if not full:
                # A cheap look first (no lock, no write) whether there is anything to do.
                top, last = session.execute(sa.select(
                    sa.select(sa.func.max(Statement.seq)).scalar_subquery(),
                    sa.select(ConsumerCursor.last_seq)
                    .where(ConsumerCursor.name == consumer.name).scalar_subquery())).one()
                session.commit()  # end the read: SQLite cannot upgrade a stale snapshot
                if last is not None and last >= (top or 0):
                    return handled
            last_seq = _lock_cursor(session, consumer.name)
            size = batch_size or BATCH_SIZE
            rows = _pending(session, last_seq, dt.datetime.now(dt.UTC), size, text=True)
            if not rows:
                session.commit()
                return handled
            statements = [_to_stored(row) for row in rows]
            handle_batch = getattr(consumer, "handle_batch", None)
            if handle_batch is not None:
                handle_batch(statements)
            else:
                for stored in statements:
                    if stored.verb_id == VOIDED:
                        consumer.handle_voiding(str(stored.data["object"]["id"]).lower(),
                                                stored)
                    else:
                        consumer.handle(stored)
            session.execute(sa.update(ConsumerCursor)
                            .where(ConsumerCursor.name == consumer.name)
                            .values(last_seq=rows[-1].seq, updated=dt.datetime.now(dt.UTC),
                                    last_error=None))
            session.commit()
            handled += len(rows)
            full = len(rows) == size
            if progress is not None:
                progress(len(rows))
            if not full:
                return handled
        except Exception as exc:  # a failing consumer must not stop the LRS or others
            session.rollback()
            log.exception("statement consumer %s failed; it will resume from its cursor",
                          consumer.name)
            _record_error(session_factory, consumer.name, exc)
            if failed is not None:
                failed.add(consumer.name)
            return handled
        finally:
            session.close()
            if previous is None:
                g.pop("_lms_session", None)
            else:
                g._lms_session = previous
    return handled


def _record_error(session_factory: Any, name: str, exc: Exception) -> None:
    session = session_factory()
    try:
        cursor = session.get(ConsumerCursor, name)
        if cursor is None:
            cursor = ConsumerCursor(name=name, last_seq=0)
            session.add(cursor)
        cursor.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        session.commit()
    except Exception:  # pragma: no cover - the database itself is failing
        session.rollback()
    finally:
        session.close()


_running = threading.local()


def _behind(session_factory: Any, names: list[str]) -> set[str]:
    """The consumers among ``names`` with statements after their cursor: one look for all
    (a run after each request's commit would otherwise ask once per consumer)."""
    if not names:
        return set()
    session = session_factory()
    try:
        top = session.scalar(sa.select(sa.func.max(Statement.seq))) or 0
        last = dict(session.execute(sa.select(ConsumerCursor.name, ConsumerCursor.last_seq)
                                    .where(ConsumerCursor.name.in_(names))).all())
        session.commit()
    finally:
        session.close()
    return {name for name in names if last.get(name, 0) < top}


def run_consumers(app: Flask | None = None) -> int:
    """Process all pending statements for every consumer; return how many were handled.

    Each consumer runs from its own cursor in ``seq`` order, in its own transactions. A
    consumer that raises is logged (and its error kept on its cursor) and retried on the
    next run.
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    consumers = _registry(app)
    if not consumers or getattr(_running, "active", False):
        return 0
    _running.active = True
    try:
        factory = app.extensions["lms.db"]["sessionmaker"]
        total = 0
        with app.app_context():
            # Rounds until quiet: a consumer may itself store statements for the others.
            failed: set[str] = set()
            for _round in range(10):
                behind = _behind(factory, [name for name in consumers if name not in failed])
                handled = sum(_run_one(app, consumer, factory, failed, look=False)
                              for consumer in list(consumers.values())
                              if consumer.name in behind)
                total += handled
                if not handled:
                    break
        return total
    finally:
        _running.active = False


def replay(name: str | None = None, progress: Callable[[int], Any] | None = None) -> int:
    """Reset consumer ``name`` (or every consumer) and run it again from the first statement.

    ``progress`` is called with the number of statements handled after each batch.
    Returns the number of statements handled (summed over consumers).
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    consumers = _registry(app)
    if name is not None and name not in consumers:
        raise LmsError(f"no statement consumer named {name!r}; registered: "
                       f"{', '.join(sorted(consumers)) or 'none'}")
    chosen = [consumers[name]] if name else list(consumers.values())
    factory = app.extensions["lms.db"]["sessionmaker"]
    from flask import g

    total = 0
    for consumer in chosen:
        session = factory()
        previous = g.get("_lms_session")
        g._lms_session = session
        try:
            consumer.reset()
            cursor = session.get(ConsumerCursor, consumer.name)
            if cursor is None:
                session.add(ConsumerCursor(name=consumer.name, last_seq=0))
            else:
                cursor.last_seq = 0
                cursor.last_error = None
            session.commit()
        finally:
            session.close()
            if previous is None:
                g.pop("_lms_session", None)
            else:
                g._lms_session = previous
        while True:
            handled = _run_one(app, consumer, factory, progress=progress,
                               batch_size=REPLAY_BATCH_SIZE)
            total += handled
            if handled == 0:
                break
    return total


def consumer_status(app: Flask | None = None) -> list[dict[str, Any]]:
    """Each registered consumer's cursor, lag and last error (for the CLI and admin)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    with get_engine(app).connect() as conn:
        top = conn.scalar(sa.select(sa.func.max(Statement.seq))) or 0
        cursors = {row.name: row for row in conn.execute(sa.select(ConsumerCursor))}
    status = []
    for name in sorted(_registry(app)):
        cursor = cursors.get(name)
        last = cursor.last_seq if cursor else 0
        status.append({"name": name, "last_seq": last, "pending": max(0, top - last),
                       "last_error": cursor.last_error if cursor else None})
    return status


# --- running after commit -----------------------------------------------------------------


def _after_commit(session: orm.Session) -> None:
    from lms.xapi.service import PENDING_FLAG

    app = session.info.pop(PENDING_FLAG, None)
    if app is None:
        return
    # Other work that follows new statements (forwarding): each hook queues or wakes it.
    for hook in app.extensions.get("lms.xapi.after_store_hooks", ()):
        try:
            hook(app)
        except Exception:  # stored is stored: the periodic run catches up
            log.exception("an after-store hook failed")
    dispatch = app.extensions.get("lms.xapi.dispatch")
    if dispatch is not None:  # a broker is configured (lms.tasks): workers run consumers
        try:
            dispatch(app)
        except Exception:  # the broker is away: the workers' periodic run catches up
            log.exception("queueing the statement consumers failed")
        return
    if not app.config.get("XAPI_CONSUMERS_INLINE", True):
        return
    try:
        run_consumers(app)
    except Exception:  # stored is stored: consumers catch up on the next run
        log.exception("running statement consumers after commit failed")


def _after_rollback(session: orm.Session) -> None:
    from lms.xapi.service import PENDING_FLAG

    session.info.pop(PENDING_FLAG, None)


def init_app(app: Flask) -> None:
    """Run consumers after every commit that stored statements (the embedded default)."""
    if not getattr(init_app, "_listening", False):
        event.listen(orm.Session, "after_commit", _after_commit)
        event.listen(orm.Session, "after_soft_rollback", lambda s, _t: _after_rollback(s))
        init_app._listening = True  # type: ignore[attr-defined]
