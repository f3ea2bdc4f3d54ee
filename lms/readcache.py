"""Read-mostly data kept in each process, checked against a stamp in the database.

The catalog, the course listing and the competency names change when someone publishes
or imports, not when learners read; every learner page used to read them again. A cache
here has a name and the models whose rows it is computed from (:func:`watch`). A flush
that adds, changes or deletes a row of one of those models bumps the name's stamp (a row
of ``read_stamp``) in the same transaction, so the change and the new stamp commit
together. A process reads the stamps once per transaction (one small query, the first
time a cache is asked) and drops what it holds under a name whose stamp moved: every
process (each gunicorn worker, the Celery worker) sees a publication on its next request.

Values computed while the session's own transaction has bumped a stamp are not kept (the
transaction may still roll back). Changes that do not go through an ORM session (SQL typed
into ``psql``, another program) bump nothing: whoever makes them calls :func:`bump`.

Cached values are shared by every request of the process: keep them immutable (rows,
tuples, frozensets, dicts nobody changes), never ORM objects, which belong to a session.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Model, get_session

T = TypeVar("T")

#: Values kept per cache name (the oldest are dropped beyond this: search texts are many).
MAX_KEYS = 256

_STAMPS_KEY = "lms_read_stamps"  # session.info: {name: stamp} read in this transaction
_BUMPED_KEY = "lms_read_stamps_bumped"  # session.info: this transaction bumped a stamp
_URL = " url"  # in the stamps read: the database they come from (no cache has this name)


class ReadStamp(Model):
    """The version of one cache's data: a new random value at every change to the rows
    behind it (random rather than counted, so that two databases a process uses one
    after the other, as tests do, never share a stamp)."""

    __tablename__ = "read_stamp"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0)


#: Model class -> names of the caches computed from its rows.
_WATCHED: dict[type, set[str]] = {}
#: (database URL, cache name) -> (stamp the values were computed under, {key: value}).
_VALUES: dict[tuple[str, str], tuple[int | None, dict[Hashable, Any]]] = {}


def watch(name: str, *models: type) -> None:
    """Declare that cache ``name`` is computed from the rows of ``models``."""
    for model in models:
        _WATCHED.setdefault(model, set()).add(name)


def cached(name: str, key: Hashable, compute: Callable[[], T]) -> T:
    """The value of ``compute()`` for ``key`` in cache ``name``: from this process's copy
    when the stamp of ``name`` has not moved since it was computed, else computed again."""
    session = get_session()
    if session.info.get(_BUMPED_KEY):
        return compute()
    stamps = session.info.get(_STAMPS_KEY)
    if stamps is None:
        stamps = session.info[_STAMPS_KEY] = dict(
            session.execute(sa.select(ReadStamp.name, ReadStamp.value)).all())
        stamps[_URL] = str(session.get_bind().engine.url)
    stamp = stamps.get(name)
    where = (stamps[_URL], name)
    entry = _VALUES.get(where)
    if entry is None or entry[0] != stamp:
        entry = _VALUES[where] = (stamp, {})
    values = entry[1]
    try:
        return values[key]  # type: ignore[no-any-return]
    except KeyError:
        pass
    value = compute()
    if len(values) >= MAX_KEYS:
        values.pop(next(iter(values)))
    values[key] = value
    return value


def bump(session: orm.Session, names: Iterable[str]) -> None:
    """Move the stamps of ``names`` in ``session``'s transaction (every process drops its
    values of those caches once the transaction commits)."""
    names = sorted(set(names))
    if not names:
        return
    connection = session.connection()
    dialect = connection.dialect.name
    value = secrets.randbits(62)
    if dialect in ("postgresql", "sqlite"):
        insert: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(
            ReadStamp)
        connection.execute(
            insert.values([{"name": n, "value": value} for n in names])
            .on_conflict_do_update(index_elements=[ReadStamp.name], set_={"value": value}))
    else:  # pragma: no cover - the two databases Lentera runs on are above
        for name in names:
            if not connection.execute(sa.update(ReadStamp).where(ReadStamp.name == name)
                                      .values(value=value)).rowcount:
                connection.execute(sa.insert(ReadStamp).values(name=name, value=value))
    session.info[_BUMPED_KEY] = True
    session.info.pop(_STAMPS_KEY, None)


def _names_for(objects: Iterable[Any]) -> set[str]:
    names: set[str] = set()
    for obj in objects:
        for cls in type(obj).__mro__:
            names |= _WATCHED.get(cls, set())
    return names


def _before_flush(session: orm.Session, _context: Any, _instances: Any) -> None:
    if not _WATCHED:
        return
    changed = [*session.new, *session.deleted,
               *(obj for obj in session.dirty if session.is_modified(obj))]
    bump(session, _names_for(changed))


def _bulk_statement(state: orm.ORMExecuteState) -> None:
    """``session.execute(update(Model)...)`` and ``delete(Model)`` skip the flush."""
    if (state.is_update or state.is_delete) and state.bind_mapper is not None:
        bump(state.session, _names_for_class(state.bind_mapper.class_))


def _names_for_class(cls: type) -> set[str]:
    names: set[str] = set()
    for base in cls.__mro__:
        names |= _WATCHED.get(base, set())
    return names


def _transaction_ended(session: orm.Session, *_args: Any) -> None:
    session.info.pop(_STAMPS_KEY, None)
    session.info.pop(_BUMPED_KEY, None)


def clear() -> None:
    """Forget every value this process holds (tests; a changed database URL)."""
    _VALUES.clear()


sa.event.listen(orm.Session, "before_flush", _before_flush)
sa.event.listen(orm.Session, "do_orm_execute", _bulk_statement)
sa.event.listen(orm.Session, "after_commit", _transaction_ended)
sa.event.listen(orm.Session, "after_rollback", _transaction_ended)
