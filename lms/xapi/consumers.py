"""Statement consumers: code that derives data from every stored statement, exactly once.

A consumer keeps a cursor (the ``seq`` of the last statement it handled) in
``xapi_consumer_cursor``. :func:`run_consumers` feeds each consumer the statements after
its cursor in stored order; the consumer's own writes and the cursor advance commit in the
same transaction, so a statement is handled exactly once even if the process dies. A
consumer that raises is rolled back, logged, and retried on the next run from where it
stopped; other consumers and the LRS carry on. :func:`replay` resets a consumer and runs
it from the first statement (``lms xapi replay``).

In the embedded default, consumers run in-process right after the commit of a
transaction that stored statements (``store_statements`` queues the after-commit kind
``statements``; :func:`lms.db.dispatch` runs :data:`CONSUME`'s handler), so a page that
stores a statement and commits sees the derived data on the next request. With a broker,
the same handler queues a run on a worker instead (see docs/architecture.md, "After a
commit").

Ordering on PostgreSQL: ``seq`` comes from a sequence, so a transaction that took seq 10
may commit after one that took seq 11. A consumer therefore stops at a gap in ``seq``
until the gap fills or is older than :data:`GAP_TIMEOUT` (a rolled-back insert leaves a
gap forever).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import traceback
from collections.abc import Callable, Collection, Iterable
from typing import Any, cast

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy import orm

from lms.db import dispatch, get_engine, hold, json_loads, on_commit, session_of_its_own
from lms.errors import LmsError, NotFound
from lms.plugins.registry import app_registry
from lms.xapi.models import ConsumerCursor, ConsumerFailure, Statement
from lms.xapi.validation.verbs import VOIDED

log = logging.getLogger(__name__)

#: How long a gap in ``seq`` may be waited for before it is taken as a rollback.
GAP_TIMEOUT = dt.timedelta(seconds=30)
#: Statements read per batch (one transaction per batch and consumer), unless
#: ``LMS_XAPI_CONSUMERS_BATCH_SIZE`` says otherwise. Each consumer's transaction costs
#: about half a millisecond of CPU whatever its size (the cursor lock and update, the
#: commit, the session); at 500 that was a quarter of what the consumers spent per
#: statement when a worker caught up with the LRS at full rate.
BATCH_SIZE = 1000
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
        #: When the LRS stored it (the runner always knows; a hand-made one: now).
        self.stored: dt.datetime = stored if stored is not None else dt.datetime.now(dt.UTC)
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

    @property
    def voided_id(self) -> str:
        """For a voiding statement: the id of the statement it voids (lower case)."""
        return str(self.data["object"]["id"]).lower()

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
    #: True for a consumer that only reads the statements it is handed (never changes a
    #: statement's ``data`` or the list): the runner then hands it the batch's statements
    #: shared with the other such consumers, parsed once for all of them. False (the
    #: default, for plugins): it gets its own copies, parsed for it alone.
    shares_statements: bool = False

    def handle(self, statement: StoredStatement) -> None:
        raise NotImplementedError

    def handle_voiding(self, voided_id: str, voiding: StoredStatement) -> None:
        """Withdraw what ``voided_id`` produced. Default: nothing."""

    def reset(self) -> None:
        """Delete everything derived, before a replay. Default: nothing."""

    def relevant(self, statements: list[StoredStatement]) -> list[StoredStatement]:
        """The statements of a batch this consumer may act on; the others are not handed
        to it (its cursor passes over them all the same). Default: all of them.

        A consumer that would otherwise ask the database per statement whether the
        statement is about something of its own (a SCO, an AU, an LTI link) asks once per
        batch here. Voiding statements must be kept (``handle_voiding``). It only reads:
        the runner may ask it in a transaction of its own, before the batch, and move the
        cursors of every consumer that found nothing past the batch together."""
        return statements

    # A consumer may also define ``handle_batch(statements)``: it then gets each batch
    # whole (voiding statements included, in stored order) instead of one call per
    # statement, inside the same transaction.


def about_known_activities(statements: list[StoredStatement], verbs: Collection[str],
                           known: Callable[[set[str]], Iterable[str]],
                           voiding: bool = True) -> list[StoredStatement]:
    """For :meth:`StatementConsumer.relevant`: the statements with one of ``verbs`` whose
    object is an Activity among ``known(ids)`` (one query for the batch), and the voiding
    statements when ``voiding``."""
    ids = {s.activity_id for s in statements if s.verb_id in verbs and s.activity_id}
    found = set(known(ids)) if ids else set()
    return [s for s in statements if (voiding and s.verb_id == VOIDED)
            or (s.activity_id in found and s.verb_id in verbs)]


def with_verbs(statements: list[StoredStatement], verbs: Collection[str],
               voiding: bool = True) -> list[StoredStatement]:
    """For :meth:`StatementConsumer.relevant`: the statements with one of ``verbs`` (read
    from the indexed column: nothing parsed), and the voiding statements when ``voiding``."""
    return [s for s in statements if s.verb_id in verbs or (voiding and s.verb_id == VOIDED)]


def _registry(app: Flask) -> dict[str, StatementConsumer]:
    return app_registry(app, "statement_consumers")


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


def run_batch_size(app: Flask) -> int:
    """Statements per batch of a consumers run (``LMS_XAPI_CONSUMERS_BATCH_SIZE``, else
    :data:`BATCH_SIZE`)."""
    return max(1, int(app.config.get("XAPI_CONSUMERS_BATCH_SIZE") or BATCH_SIZE))


def _to_stored(row: Any) -> StoredStatement:
    """A row of :func:`_pending` (``text=True``) as a consumer sees it."""
    seq, statement_id, data, stored, voided, verb_id, activity_id = row
    return StoredStatement(seq=seq, id=statement_id, raw=data, stored=stored, voided=voided,
                           verb_id=verb_id, activity_id=activity_id)


def _pending(session: orm.Session, after: int, now: dt.datetime,
             limit: int | None = None, text: bool = False,
             gaps: list[dt.datetime] | None = None) -> list[Any]:
    """Statements after ``after`` up to the first unexplained gap in ``seq``.

    ``text=True``: ``data`` is the JSON text, unparsed (see :class:`StoredStatement`).
    ``gaps``: when the batch stops at a gap, the ``stored`` time of the statement after it
    is appended (the gap is passed :data:`GAP_TIMEOUT` after that).
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
            if gaps is not None:
                gaps.append(row.stored)
            break  # an earlier seq may still be committing
        ready.append(row)
        expected = row.seq + 1
    return ready


class SharedReads:
    """The batches one pass of the runner has read, for the next consumer at the same
    cursor: consumers mostly stand at the same ``seq``, and each reading (and PostgreSQL
    sending) the same hundreds of statements again cost more than most of them spend
    handling them. Keeps the last few batches.

    The rows are shared with every consumer; the statements made of them (and their parsed
    ``data``) only with consumers that declare :attr:`StatementConsumer.shares_statements`:
    parsing the JSON of every statement once per consumer was a fifth of a run. Others
    get their own copies, so no consumer sees what another did to a statement."""

    KEEP = 3

    def __init__(self) -> None:
        self._rows: dict[tuple[int, int], list[Any]] = {}
        self._statements: dict[tuple[int, int], list[StoredStatement]] = {}
        #: When a batch stopped at a gap in ``seq``: the stored time after each gap.
        self.gaps: list[dt.datetime] = []

    def pending(self, session: orm.Session, after: int, size: int) -> list[Any]:
        rows = self._rows.get((after, size))
        if rows is None:
            rows = _pending(session, after, dt.datetime.now(dt.UTC), size, text=True,
                            gaps=self.gaps)
            self._rows[(after, size)] = rows
            while len(self._rows) > self.KEEP:
                oldest = next(iter(self._rows))
                del self._rows[oldest]
                self._statements.pop(oldest, None)
        return rows

    def statements(self, rows: list[Any]) -> list[StoredStatement]:
        """The shared statements of ``rows`` (a batch :meth:`pending` returned)."""
        key = next((k for k, kept in self._rows.items() if kept is rows), None)
        if key is None:  # not one of ours: nothing to share
            return [_to_stored(row) for row in rows]
        statements = self._statements.get(key)
        if statements is None:
            statements = self._statements[key] = [_to_stored(row) for row in rows]
        return statements


def _handed(consumer: StatementConsumer, rows: list[Any], shared: SharedReads | None,
            skip: frozenset[int] = frozenset()) -> list[StoredStatement]:
    """The statements of ``rows`` as ``consumer`` is handed them: shared with the other
    consumers of the pass when it declares :attr:`StatementConsumer.shares_statements`,
    else its own copies; those an administrator skipped (``skip``, seqs) left out."""
    if shared is not None and consumer.shares_statements:
        return [s for s in shared.statements(rows) if s.seq not in skip]
    return [_to_stored(row) for row in rows if row.seq not in skip]


def _lock_cursor(session: orm.Session, name: str) -> int:
    """Lock the consumer's cursor for this transaction; return its ``last_seq``.

    Several processes (gunicorn workers, a worker machine) may run the same consumer at
    once. Starting the transaction with a write to the cursor row serialises them: on
    PostgreSQL the row lock makes the second wait and then read the advanced cursor; on
    SQLite the write takes the database write lock before anything is read. On
    PostgreSQL the same statement makes the transaction's commit asynchronous
    when :func:`_asynchronous` says so.
    """
    dialect = session.get_bind().dialect.name
    last_seq: int = session.execute(
        _lock_statement(dialect, _asynchronous(session)),
        {"cursor_name": name, "now": dt.datetime.now(dt.UTC)}).scalar_one()
    return last_seq


def _asynchronous(session: orm.Session) -> bool:
    """Whether consumer transactions commit asynchronously: on PostgreSQL unless
    ``XAPI_CONSUMERS_ASYNC_COMMIT`` is off.

    What a consumer writes is derived and commits together with its cursor: a crash that
    loses the last few commits (asynchronous commit) loses both, and the statements are
    simply handled again. Not waiting for the WAL flush saves a disk sync per batch (most
    of the time of a small batch)."""
    return session.get_bind().dialect.name == "postgresql" and bool(
        current_app.config.get("XAPI_CONSUMERS_ASYNC_COMMIT", True))


def _asynchronous_commit(session: orm.Session) -> None:
    """This transaction's commit does not wait for the WAL flush, if :func:`_asynchronous`."""
    if _asynchronous(session):
        session.execute(sa.text("SET LOCAL synchronous_commit = off"))


#: The cursor statements, built once (per dialect for the upsert): constructing and
#: looking up a statement's compiled form on each call cost a fifth of a consumers run,
#: as they run per consumer and batch.
_LOCK_STATEMENTS: dict[tuple[str, bool], Any] = {}
_CURSORS = cast(sa.Table, ConsumerCursor.__table__)
_ADVANCE = (sa.update(_CURSORS)
            .where(_CURSORS.c.name == sa.bindparam("cursor_name"))
            .values(last_seq=sa.bindparam("new_seq"), updated=sa.bindparam("now"),
                    last_error=None))


def _lock_statement(dialect: str, asynchronous: bool = False) -> Any:
    """The upsert that locks a cursor. ``asynchronous`` (PostgreSQL): it also sets
    ``synchronous_commit`` off for the transaction (``set_config(..., true)``, as ``SET
    LOCAL`` would), which saved a round trip per consumer transaction, a quarter of the
    statements of a run of small batches."""
    statement = _LOCK_STATEMENTS.get((dialect, asynchronous))
    if statement is None:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
        table = _CURSORS
        upsert = insert(table)
        if asynchronous:
            setting = sa.select(sa.func.set_config("synchronous_commit", "off", True)
                                .label("done")).cte("asynchronous_commit")
            upsert = upsert.from_select(
                ["name", "last_seq", "updated"],
                sa.select(sa.bindparam("cursor_name", type_=table.c.name.type),
                          sa.literal(0, table.c.last_seq.type),
                          sa.bindparam("now", type_=table.c.updated.type))
                .select_from(setting).where(sa.true()))  # (WHERE: ON CONFLICT parses)
        else:
            upsert = upsert.values(name=sa.bindparam("cursor_name"), last_seq=0,
                                   updated=sa.bindparam("now"))
        statement = _LOCK_STATEMENTS[(dialect, asynchronous)] = (
            upsert.on_conflict_do_update(index_elements=["name"],
                                         set_={"updated": sa.bindparam("now")})
            .returning(table.c.last_seq))
    return statement


#: The cursors of consumers with nothing to act on in their batch, moved past it together
#: unless another run moved them first (``after`` is where the batch was read from).
_PASS_OVER = (sa.update(_CURSORS)
              .where(_CURSORS.c.name.in_(sa.bindparam("names", expanding=True)),
                     _CURSORS.c.last_seq == sa.bindparam("after"))
              .values(last_seq=sa.bindparam("new_seq"), updated=sa.bindparam("now"),
                      last_error=None)
              .returning(_CURSORS.c.name))


def _pass_over(consumers: list[StatementConsumer], session_factory: Any,
               shared: SharedReads, sizes: dict[str, int]) -> dict[str, tuple[int, bool]]:
    """Move the cursors of the ``consumers`` that find nothing relevant in their next batch
    (of ``sizes[name]`` statements) past it, all in one transaction; return, by consumer
    name, how many statements its cursor passed over and whether the batch was full.

    Most batches concern a few consumers only (a lesson read is nothing to the SCORM, cmi5,
    LTI, evaluation or JP consumers), and each consumer's own transaction (cursor lock,
    update, commit) cost more than deciding that. Nothing is handed to these consumers, so
    nothing of theirs can fail or wait on a lock: they need no transaction of their own.
    A cursor moves only if it still stands where its batch was read (another run may have
    moved it meanwhile; that run then saw the same statements). Consumers not moved here,
    and all of them if anything here fails, take the usual path (:func:`_run_one`).
    """
    if len(consumers) < 2:  # one consumer: its own transaction costs the same
        return {}
    # relevant() may ask the database: get_session() is this transaction
    with session_of_its_own(session_factory) as session:
        moved: dict[str, tuple[int, bool]] = {}
        try:
            at = dict(session.execute(
                sa.select(ConsumerCursor.name, ConsumerCursor.last_seq)
                .where(ConsumerCursor.name.in_([c.name for c in consumers]))).all())
            idle: dict[tuple[int, int], list[str]] = {}
            for consumer in consumers:
                after = at.get(consumer.name)
                if after is None:  # no cursor yet: the usual path makes it
                    continue
                key = (after, sizes[consumer.name])
                rows = shared.pending(session, *key)
                if not rows:
                    continue
                if not consumer.relevant(_handed(consumer, rows, shared)):
                    idle.setdefault(key, []).append(consumer.name)
            if not idle:
                session.commit()
                return {}
            _asynchronous_commit(session)
            now = dt.datetime.now(dt.UTC)
            for (after, size), names in idle.items():
                rows = shared.pending(session, after, size)
                for name in session.execute(_PASS_OVER, {"names": names, "after": after,
                                                         "new_seq": rows[-1].seq,
                                                         "now": now}).scalars():
                    moved[name] = (len(rows), len(rows) == size)
            session.commit()
        except Exception:  # the usual path runs them, and records what fails
            session.rollback()
            log.warning("passing statement consumers over a batch failed; each runs on its own",
                        exc_info=True)
            return {}
    return moved


def _feed(consumer: StatementConsumer, statements: list[StoredStatement]) -> None:
    """Hand ``statements`` (in stored order) to ``consumer``, in the current transaction."""
    if statements:
        statements = consumer.relevant(statements)
    if not statements:
        return
    handle_batch = getattr(consumer, "handle_batch", None)
    if handle_batch is not None:
        handle_batch(statements)
        return
    for stored in statements:
        if stored.verb_id == VOIDED:
            consumer.handle_voiding(stored.voided_id, stored)
        else:
            consumer.handle(stored)


def _advance(session: orm.Session, name: str, seq: int) -> None:
    session.execute(_ADVANCE, {"cursor_name": name, "new_seq": seq,
                               "now": dt.datetime.now(dt.UTC)})


def _transient(exc: BaseException) -> bool:
    """Whether ``exc`` says the database is away or busy (retry later, skip nothing) rather
    than that a statement cannot be handled (record it and go on)."""
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError | sa.exc.TimeoutError):
        return True
    return isinstance(exc, sa.exc.DBAPIError) and bool(exc.connection_invalidated)


def _run_one(app: Flask, consumer: StatementConsumer, session_factory: Any,
             failed: set[str] | None = None,
             progress: Callable[[int], Any] | None = None,
             batch_size: int | None = None, look: bool = True,
             max_batches: int | None = None, limit: int | None = None,
             skip: frozenset[int] = frozenset(), shared: SharedReads | None = None) -> int:
    """Feed ``consumer`` everything pending (at most ``max_batches`` batches and about
    ``limit`` statements); return how many statements its cursor moved over.

    A batch that raises is rolled back and its statements are handled again one at a time
    (:func:`_isolate`): a statement that fails on its own is recorded as a
    :class:`~lms.xapi.models.ConsumerFailure` and passed over, so one poison statement never
    stops the consumer. When the database itself fails (connection, lock timeout), nothing
    is passed over: the consumer's name is added to ``failed`` and it resumes from its
    cursor on a later run. ``progress`` is called with the number of statements of each
    committed batch. ``look=False``: the caller has just seen that statements are pending
    (no first look). A batch shorter than the batch size ends the run: nothing more was
    ready (a later run, after the next commit or poll, takes what arrives meanwhile).
    ``skip``: seqs an administrator skipped, not fed again (a replay). ``shared``: batches
    other consumers of this pass read (see :class:`SharedReads`).
    """
    handled = 0
    batches = 0
    full = not look  # the last batch was full: more is pending, no need to look first
    while (max_batches is None or batches < max_batches) and (limit is None
                                                              or handled < limit):
        batches += 1
        # the consumer's get_session() is this transaction
        with session_of_its_own(session_factory) as session:
            rows: list[Any] = []
            size = batch_size or run_batch_size(app)
            if limit is not None:  # never more than asked for (a request's inline run)
                size = max(1, min(size, limit - handled))
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
                rows = (shared.pending(session, last_seq, size) if shared is not None
                        else _pending(session, last_seq, dt.datetime.now(dt.UTC), size, text=True))
                if not rows:
                    session.commit()
                    return handled
                statements = _handed(consumer, rows, shared, skip)
                _feed(consumer, statements)
                _advance(session, consumer.name, rows[-1].seq)
                session.commit()
                handled += len(rows)
                full = len(rows) == size
                if progress is not None:
                    progress(len(rows))
                if not full:
                    return handled
            except Exception as exc:  # a failing consumer must not stop the LRS or others
                session.rollback()
                if not rows or _transient(exc):
                    log.exception("statement consumer %s failed; it will resume from its cursor",
                                  consumer.name)
                    _record_error(session_factory, consumer.name, exc)
                    if failed is not None:
                        failed.add(consumer.name)
                    return handled
                log.warning("statement consumer %s failed on a batch of %d statements (%s: %s); "
                            "handling them one at a time", consumer.name, len(rows),
                            type(exc).__name__, exc)
                done, stopped = _isolate(consumer, session_factory, len(rows), progress, skip)
                handled += done
                if stopped:
                    if failed is not None:
                        failed.add(consumer.name)
                    return handled
                full = True
    return handled


def _isolate(consumer: StatementConsumer, session_factory: Any, count: int,
             progress: Callable[[int], Any] | None, skip: frozenset[int]) -> tuple[int, bool]:
    """Handle the next ``count`` statements one per transaction, after a batch of them
    failed. A statement that fails alone is recorded (:func:`_record_failure`) and passed
    over. Returns (statements the cursor moved over, whether to stop: the database failed).
    """
    handled = 0
    for _ in range(count):
        with session_of_its_own(session_factory) as session:
            row = None
            try:
                last_seq = _lock_cursor(session, consumer.name)
                rows = _pending(session, last_seq, dt.datetime.now(dt.UTC), 1, text=True)
                if not rows:
                    session.commit()
                    return handled, False
                row = rows[0]
                if row.seq not in skip:
                    _feed(consumer, [_to_stored(row)])
                _advance(session, consumer.name, row.seq)
                session.commit()
            except Exception as exc:
                session.rollback()
                if row is None or _transient(exc):
                    log.exception("statement consumer %s failed; it will resume from its cursor",
                                  consumer.name)
                    _record_error(session_factory, consumer.name, exc)
                    return handled, True
                log.error("statement consumer %s cannot handle statement %s (seq %d): %s: %s; "
                          "recorded for administrators, the consumer goes on", consumer.name,
                          row.statement_id, row.seq, type(exc).__name__, exc)
                if not _record_failure(session_factory, consumer.name, row, exc):
                    return handled, True
        handled += 1
        if progress is not None:
            progress(1)
    return handled, False


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _record_failure(session_factory: Any, name: str, row: Any, exc: BaseException) -> bool:
    """Record that consumer ``name`` cannot handle the statement of ``row`` and move its
    cursor past it, in one transaction. False when the database itself failed."""
    detail = traceback.format_exc()[-8000:]
    session = session_factory()
    try:
        last_seq = _lock_cursor(session, name)
        if last_seq < row.seq:  # (another process may have got past it meanwhile)
            from lms.xapi.store.write import dialect_insert as _dialect_insert

            table = ConsumerFailure.__table__
            insert = _dialect_insert(session)(table).values(
                consumer=name, seq=row.seq, statement_id=row.statement_id, status="failed",
                error=_error_text(exc), detail=detail, attempts=1,
                failed_at=dt.datetime.now(dt.UTC))
            session.execute(insert.on_conflict_do_update(
                index_elements=["consumer", "seq"],
                set_={"error": insert.excluded.error, "detail": insert.excluded.detail,
                      "failed_at": insert.excluded.failed_at,
                      "attempts": table.c.attempts + 1}))
            _advance(session, name, row.seq)
        session.commit()
        return True
    except Exception:  # pragma: no cover - the database itself is failing
        session.rollback()
        log.exception("recording the failure of consumer %s failed", name)
        return False
    finally:
        session.close()


def _record_error(session_factory: Any, name: str, exc: Exception) -> None:
    """Keep the error of a run that stopped (the database failed) on the cursor."""
    session = session_factory()
    try:
        cursor = session.get(ConsumerCursor, name)
        if cursor is None:
            cursor = ConsumerCursor(name=name, last_seq=0)
            session.add(cursor)
        cursor.last_error = _error_text(exc)
        session.commit()
    except Exception:  # pragma: no cover - the database itself is failing
        session.rollback()
    finally:
        session.close()


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


def run_consumers(app: Flask | None = None, *, limit: int | None = None) -> int:
    """Process pending statements for every consumer; return how many were handled.

    Each consumer runs from its own cursor in ``seq`` order, in its own transactions. A
    statement a consumer cannot handle is recorded and passed over (see :func:`_run_one`);
    a consumer whose database work fails is logged (the error kept on its cursor) and
    retried on the next run. ``limit``: each consumer handles about that many statements
    at most (more are left for a later run); None runs until nothing is pending.
    """
    return _run_rounds(app, limit)[0]


def _run_rounds(app: Flask | None, limit: int | None,
                gaps: list[dt.datetime] | None = None) -> tuple[int, bool]:
    """:func:`run_consumers`; also whether some consumer stopped at ``limit``. ``gaps``
    gets the stored time after each gap in ``seq`` that stopped a batch (see
    :func:`_pending`).

    A pass feeds every consumer that is behind. Statements a consumer stores while it
    handles a batch (the competency engine's ``mastered``) are *derived*: their commit
    does not start another run (:func:`lms.db.hold` keeps them for this one); the runner
    makes one more pass so every consumer sees them, and forwarding follows them
    (after-commit kind ``statements.derived``). Derived statements derive nothing further
    (the engine passes over statements about competencies), so the passes end.
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    consumers = _registry(app)
    if not consumers:
        return 0, False
    derived: dict[str, list[Any]] = {}
    plain = app.extensions["lms.db"]["sessionmaker"]

    def factory() -> orm.Session:
        session: orm.Session = plain()
        hold(session, ("statements",), derived)
        return session

    total = 0
    any_derived = False
    size = run_batch_size(app)
    spent: dict[str, int] = dict.fromkeys(consumers, 0)
    failed: set[str] = set()
    with app.app_context():
        for _pass in range(len(consumers) + 1):
            derived.clear()
            ready = [name for name in consumers if name not in failed
                     and (limit is None or spent[name] < limit)]
            behind = _behind(factory, ready)
            # Batch by batch, every consumer in turn: consumers at the same cursor then
            # share each batch read (SharedReads).
            shared = SharedReads()
            active = [c for c in consumers.values() if c.name in behind]
            while active:
                more = []
                sizes = {c.name: size if limit is None else min(size, limit - spent[c.name])
                         for c in active}
                passed = _pass_over([c for c in active if sizes[c.name] > 0], factory,
                                    shared, sizes)
                for consumer in active:
                    if consumer.name in passed:
                        done, full = passed[consumer.name]
                        spent[consumer.name] += done
                        total += done
                        if full and (limit is None or spent[consumer.name] < limit):
                            more.append(consumer)
                        continue
                    left = None if limit is None else limit - spent[consumer.name]
                    done = _run_one(app, consumer, factory, failed, look=False, limit=left,
                                    max_batches=1, shared=shared)
                    spent[consumer.name] += done
                    total += done
                    if (done >= size and consumer.name not in failed
                            and (limit is None or spent[consumer.name] < limit)):
                        more.append(consumer)  # a full batch: more may be pending
                active = more
            if gaps is not None:
                gaps.extend(shared.gaps)
            if "statements" not in derived:
                break
            any_derived = True
        else:  # pragma: no cover - a consumer deriving from derived statements
            log.warning("statement consumers still derive statements after %d passes; "
                        "the next run continues", len(consumers) + 1)
        if any_derived:
            dispatch(app, {"statements.derived": []})
    return total, limit is not None and any(n >= limit for n in spent.values())


def replay(name: str | None = None, progress: Callable[[int], Any] | None = None) -> int:
    """Reset consumer ``name`` (or every consumer) and run it again from the first statement.

    Statements an administrator skipped stay skipped (a rebuild equals the incremental
    path); open failures are forgotten and met again if the statement still fails.
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
    total = 0
    for consumer in chosen:
        with session_of_its_own(factory) as session:
            consumer.reset()
            cursor = session.get(ConsumerCursor, consumer.name)
            if cursor is None:
                session.add(ConsumerCursor(name=consumer.name, last_seq=0))
            else:
                cursor.last_seq = 0
                cursor.last_error = None
            failures = ConsumerFailure.__table__.c
            skip = frozenset(session.scalars(sa.select(failures.seq).where(
                failures.consumer == consumer.name, failures.status == SKIPPED)))
            session.execute(sa.delete(ConsumerFailure).where(
                failures.consumer == consumer.name, failures.status == FAILED))
            session.commit()
        while True:
            handled = _run_one(app, consumer, factory, progress=progress,
                               batch_size=REPLAY_BATCH_SIZE, skip=skip)
            total += handled
            if handled == 0:
                break
    return total


#: Statuses of a :class:`~lms.xapi.models.ConsumerFailure`.
FAILED, SKIPPED = "failed", "skipped"
#: Lag is counted exactly up to this many statements (beyond, "at least").
PENDING_COUNT_CAP = 1_000_000


def consumer_status(app: Flask | None = None) -> list[dict[str, Any]]:
    """Each registered consumer's cursor, lag and failures (for the CLI, the admin page and
    monitoring): ``name``, ``last_seq``, ``pending`` (statements stored but not yet
    handled, counted up to :data:`PENDING_COUNT_CAP`), ``pending_capped``,
    ``oldest_pending`` (when the oldest of them was stored, or None), ``lag_seconds``
    (how long it has waited), ``failures`` (open), ``skipped``, ``last_error`` and
    ``updated`` (the cursor's last move or run)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    now = dt.datetime.now(dt.UTC)
    s = Statement.__table__.c
    failures = ConsumerFailure.__table__.c
    status = []
    with get_engine(app).connect() as conn:
        cursors = {row.name: row for row in conn.execute(sa.select(ConsumerCursor))}
        counts: dict[tuple[str, str], int] = {
            (name, state): n for name, state, n in conn.execute(
                sa.select(failures.consumer, failures.status, sa.func.count())
                .group_by(failures.consumer, failures.status))}
        for name in sorted(_registry(app)):
            cursor = cursors.get(name)
            last = cursor.last_seq if cursor else 0
            pending = conn.scalar(sa.select(sa.func.count()).select_from(
                sa.select(s.seq).where(s.seq > last).limit(PENDING_COUNT_CAP).subquery())) or 0
            oldest = conn.scalar(sa.select(s.stored).where(s.seq > last)
                                 .order_by(s.seq).limit(1)) if pending else None
            if oldest is not None and oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=dt.UTC)
            status.append({
                "name": name, "last_seq": last, "pending": pending,
                "pending_capped": pending >= PENDING_COUNT_CAP,
                "oldest_pending": oldest,
                "lag_seconds": max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
                "failures": counts.get((name, FAILED), 0),
                "skipped": counts.get((name, SKIPPED), 0),
                "last_error": cursor.last_error if cursor else None,
                "updated": cursor.updated if cursor else None,
            })
    return status


def list_failures(status: str | None = FAILED, limit: int = 100) -> list[ConsumerFailure]:
    """Recorded failures, newest first (``status`` None: open and skipped)."""
    from lms.db import get_session

    query = sa.select(ConsumerFailure).order_by(ConsumerFailure.failed_at.desc(),
                                                ConsumerFailure.id.desc()).limit(limit)
    if status is not None:
        query = query.where(ConsumerFailure.status == status)
    return list(get_session().scalars(query))


def skip_failure(failure_id: int, by: str) -> ConsumerFailure:
    """Give up a recorded failure for good: the statement stays unhandled by that consumer,
    and a replay passes it over too. Flushes; the caller commits."""
    from lms.db import get_session

    failure = get_session().get(ConsumerFailure, failure_id)
    if failure is None:
        raise NotFound(f"No recorded consumer failure {failure_id}")
    failure.status = SKIPPED
    failure.skipped_at = dt.datetime.now(dt.UTC)
    failure.skipped_by = (by or "")[:200]
    get_session().flush()
    return failure


def retry_failure(failure_id: int, app: Flask | None = None) -> str | None:
    """Hand a recorded statement to its consumer again, now, in its own transaction (the
    consumer's cursor locked, as a run does). Returns None when it was handled (the failure
    is then deleted), else the new error (kept on the failure, its attempts counted).
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    factory = app.extensions["lms.db"]["sessionmaker"]
    with session_of_its_own(factory) as session:
        consumer: StatementConsumer | None = None
        try:
            failure = session.get(ConsumerFailure, failure_id)
            if failure is None:
                raise NotFound(f"No recorded consumer failure {failure_id}")
            consumer = _registry(app).get(failure.consumer)
            if consumer is None:
                raise NotFound(f"No statement consumer named {failure.consumer!r} is registered")
            name, seq = failure.consumer, failure.seq
            _lock_cursor(session, name)
            data = sa.cast(Statement.data, sa.Text).label("data")
            row = session.execute(
                sa.select(Statement.seq, Statement.statement_id, data, Statement.stored,
                          Statement.voided, Statement.verb_id, Statement.activity_id)
                .where(Statement.seq == seq)).one_or_none()
            if row is not None:
                _feed(consumer, [_to_stored(row)])
            session.execute(sa.delete(ConsumerFailure).where(ConsumerFailure.id == failure_id))
            session.commit()
            return None
        except LmsError:
            session.rollback()
            raise
        except Exception as exc:
            session.rollback()
            log.warning("retrying statement %s for consumer %s failed again: %s", failure_id,
                        getattr(consumer, "name", "?"), exc)
            detail = traceback.format_exc()[-8000:]
            other = factory()
            try:
                other.execute(sa.update(ConsumerFailure).where(ConsumerFailure.id == failure_id)
                              .values(error=_error_text(exc), detail=detail,
                                      failed_at=dt.datetime.now(dt.UTC),
                                      attempts=ConsumerFailure.attempts + 1))
                other.commit()
            finally:
                other.close()
            return _error_text(exc)


# --- running after commit -----------------------------------------------------------------


#: The after-commit handler that feeds the consumers (lms.db.on_commit); with a broker,
#: lms.tasks gives it its worker side (a queued run).
CONSUME = "xapi.consumers"


def _consume_in_process(app: Flask, _items: list[Any]) -> None:
    """After a commit that stored statements, without a broker: :func:`run_inline`
    (unless ``XAPI_CONSUMERS_INLINE`` is off: then only ``lms xapi consume`` runs them)."""
    if app.config.get("XAPI_CONSUMERS_INLINE", True):
        run_inline(app)


def run_inline(app: Flask) -> None:
    """The embedded default, after a commit that stored statements: run the consumers in
    this request, but at most ``XAPI_CONSUMERS_INLINE_LIMIT`` statements each, so the
    request that stored them is acknowledged promptly whatever backlog there is; whatever
    is left is drained by one background thread of this process. Never raises: what is
    stored is stored, and consumers catch up on a later run."""
    limit = int(app.config.get("XAPI_CONSUMERS_INLINE_LIMIT", BATCH_SIZE))
    gaps: list[dt.datetime] = []
    try:
        _total, cut_short = _run_rounds(app, max(1, limit), gaps)
    except Exception:  # stored is stored: consumers catch up on the next run
        log.exception("running statement consumers after commit failed")
        return
    if cut_short:
        drain_in_background(app)
    elif gaps:
        drain_after_gap(app, min(gaps))


_drain_lock = threading.Lock()
#: The background drains running, by app (one per app and process at a time).
_drains: dict[int, threading.Thread] = {}


def drain_in_background(app: Flask) -> threading.Thread | None:
    """Run the consumers until nothing is pending, in a background thread of this process
    (at most one per app). Returns the thread started, or None when one is running."""
    with _drain_lock:
        running = _drains.get(id(app))
        if running is not None and running.is_alive():
            return None

        def drain() -> None:
            try:
                run_consumers(app)
            except Exception:  # pragma: no cover - logged; a later commit starts another
                log.exception("draining the statement consumers' backlog failed")
            finally:
                with _drain_lock:
                    _drains.pop(id(app), None)

        thread = threading.Thread(target=drain, name="lms-consumers-drain", daemon=True)
        _drains[id(app)] = thread
        thread.start()
        return thread


#: The drains waiting for a gap in ``seq`` to age, by app (at most one per app).
_gap_timers: dict[int, threading.Timer] = {}


def drain_after_gap(app: Flask, stored: dt.datetime) -> threading.Timer | None:
    """A run stopped at a gap in ``seq`` whose next statement was stored at ``stored``:
    drain once the gap is :data:`GAP_TIMEOUT` old. The gap is a transaction still
    committing (its commit starts a run of its own) or one that rolled back (two writers
    sending the same statement id leave one): without this, the statements after it
    would wait for the next statement stored, which on a quiet server may be hours away.
    (With a broker, the workers' periodic run does the same.) Returns the timer started,
    or None when one is waiting already."""
    delay = (stored + GAP_TIMEOUT - dt.datetime.now(dt.UTC)).total_seconds() + 0.5
    with _drain_lock:
        waiting = _gap_timers.get(id(app))
        if waiting is not None and waiting.is_alive():
            return None

        def drain() -> None:
            with _drain_lock:
                _gap_timers.pop(id(app), None)
            drain_in_background(app)

        timer = threading.Timer(max(0.0, delay), drain)
        timer.daemon = True
        timer.name = "lms-consumers-gap"
        _gap_timers[id(app)] = timer
        timer.start()
        return timer


def init_app(app: Flask) -> None:
    """Run the consumers after every commit that stored statements (lms.db)."""
    on_commit(CONSUME, "statements", inline=_consume_in_process)
