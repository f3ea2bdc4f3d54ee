"""Monthly partitions of the statement tables on PostgreSQL.

``xapi_statement``, ``xapi_statement_activity`` and ``xapi_statement_agent`` are
partitioned by range of ``stored``, one partition per calendar month (UTC), named
``<table>_y2027m01``, plus a DEFAULT partition (``<table>_default``) that catches any row
whose month has no partition yet, so ingest never fails for want of one. ``stored`` is
set by the LRS (now), so rows land in the default partition only when the months ahead
were not created in time or the clock was wrong.

:func:`ensure_months` creates the months asked for on the three tables, moving rows of
those months out of the default partition; it is idempotent and safe to run from several
processes at once (an advisory lock). The periodic task creates the current and next
month (:func:`ensure_ahead`), ``lms xapi partitions --ahead N`` any number ahead.
On SQLite (plain tables) every function here does nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, MutableMapping
from typing import Any

import sqlalchemy as sa

#: The partitioned tables, statements first.
TABLES = ("xapi_statement", "xapi_statement_activity", "xapi_statement_agent")
#: Months ahead of the current one that ``lms init`` makes sure of.
MONTHS_AHEAD = 3
#: Serialises partition upkeep between processes (any constant both sides agree on).
_LOCK_KEY = 7_260_060


_PARTITION = re.compile(r"^xapi_statement(_activity|_agent)?_(y\d{4}m\d{2}|default)$")


def is_partition(table_name: str | None) -> bool:
    """Whether ``table_name`` is one of the statement tables' partitions (made here, not
    by the models: schema comparisons leave them out)."""
    return bool(table_name and _PARTITION.match(table_name))


def include_name(name: str | None, type_: str,
                 parent_names: MutableMapping[Any, str | None]) -> bool:
    """Alembic's ``include_name`` hook: everything but the partitions and their indexes."""
    if type_ == "table":
        return not is_partition(name)
    if type_ in ("index", "unique_constraint", "foreign_key_constraint"):
        return not is_partition(parent_names.get("table_name"))
    return True


def month_start(moment: dt.datetime) -> dt.datetime:
    """The first instant (UTC) of the month ``moment`` falls in."""
    moment = moment.astimezone(dt.UTC)
    return dt.datetime(moment.year, moment.month, 1, tzinfo=dt.UTC)


def add_months(month: dt.datetime, count: int) -> dt.datetime:
    """``month`` (a month start) moved ``count`` months on (or back, when negative)."""
    index = month.year * 12 + month.month - 1 + count
    return dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=dt.UTC)


def partition_name(table: str, month: dt.datetime) -> str:
    """The name of ``table``'s partition for ``month``."""
    return f"{table}_y{month.year:04d}m{month.month:02d}"


def is_partitioned(conn: Any) -> bool:
    """Whether the statement table is a partitioned table (PostgreSQL after 0060)."""
    if conn.dialect.name != "postgresql":
        return False
    kind = conn.scalar(sa.text("SELECT relkind FROM pg_class WHERE oid = "
                               "to_regclass('xapi_statement')"))
    return bool(kind == "p")


def _exists(conn: Any, name: str) -> bool:
    return conn.scalar(sa.text("SELECT to_regclass(:n) IS NOT NULL"), {"n": name}) is True


def _create_month(conn: Any, table: str, month: dt.datetime) -> bool:
    name = partition_name(table, month)
    if _exists(conn, name):
        return False
    bounds = {"a": month, "b": add_months(month, 1)}
    default = f"{table}_default"
    # Created apart and then attached: ATTACH takes a lock that lets reads and writes of
    # the parent go on (CREATE ... PARTITION OF would stop them), and leaves room to
    # move this month's rows out of the default partition first (ATTACH refuses while
    # the default partition holds rows of the new range).
    conn.execute(sa.text(f'CREATE TABLE "{name}" (LIKE "{table}" INCLUDING DEFAULTS)'))
    if _exists(conn, default):
        conn.execute(sa.text(
            f'WITH moved AS (DELETE FROM "{default}" WHERE stored >= :a AND stored < :b '
            f'RETURNING *) INSERT INTO "{name}" SELECT * FROM moved'), bounds)
    # The bounds are literals in DDL (no parameters there); both are month starts in UTC.
    conn.execute(sa.text(
        f'ALTER TABLE "{table}" ATTACH PARTITION "{name}" FOR VALUES '
        f"FROM ('{bounds['a'].isoformat()}') TO ('{bounds['b'].isoformat()}')"))
    return True


def ensure_months(conn: Any, months: Iterable[dt.datetime], *,
                  lock_timeout: str | None = None) -> list[str]:
    """Create the partitions of ``months`` (month starts) on the three statement tables,
    moving their rows out of the default partitions; return the partitions created.
    Runs in the caller's transaction; the caller commits. Nothing on SQLite."""
    if not is_partitioned(conn):
        return []
    if lock_timeout:
        conn.execute(sa.text("SELECT set_config('lock_timeout', :t, true)"),
                     {"t": lock_timeout})
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    created = []
    for month in sorted(set(months)):
        for table in TABLES:
            if _create_month(conn, table, month):
                created.append(partition_name(table, month))
    return created


def ensure_ahead(conn: Any, ahead: int = 1, *, now: dt.datetime | None = None,
                 lock_timeout: str | None = None) -> list[str]:
    """Create the partitions of the current month and the ``ahead`` months after it."""
    first = month_start(now or dt.datetime.now(dt.UTC))
    return ensure_months(conn, [add_months(first, n) for n in range(ahead + 1)],
                         lock_timeout=lock_timeout)


def list_partitions(conn: Any, *, exact: bool = False) -> list[dict[str, Any]]:
    """Every partition of the statement tables: ``table``, ``partition``, ``bounds``,
    ``rows`` (the planner's estimate, or counted with ``exact``) and ``bytes`` (with its
    indexes). Empty on SQLite."""
    if not is_partitioned(conn):
        return []
    rows = conn.execute(sa.text(
        "SELECT parent.relname, child.relname, pg_get_expr(child.relpartbound, child.oid),"
        " child.reltuples, pg_total_relation_size(child.oid)"
        " FROM pg_inherits i JOIN pg_class parent ON parent.oid = i.inhparent"
        " JOIN pg_class child ON child.oid = i.inhrelid"
        " WHERE parent.relname IN :tables AND child.relkind = 'r'"
        " ORDER BY parent.relname, child.relname")
        .bindparams(sa.bindparam("tables", expanding=True)), {"tables": list(TABLES)}).all()
    result = []
    for table, name, bounds, estimate, size in rows:
        count = conn.scalar(sa.text(f'SELECT count(*) FROM "{name}"')) if exact \
            else max(int(estimate), 0)
        result.append({"table": table, "partition": name, "bounds": bounds,
                       "rows": count, "bytes": size})
    return result


#: When this process last made sure of the months ahead (monotonic seconds), and which.
_last_upkeep: dict[str, Any] = {"at": None, "month": None}
#: How often the periodic task looks again (the catalog query is cheap; DDL is rare).
UPKEEP_INTERVAL = 3600.0


def keep_months_ahead(engine: Any, ahead: int = 1) -> list[str]:
    """The periodic upkeep: make sure of the current and the next ``ahead`` months'
    partitions, at most once an hour per process (and at once when the month turns).
    Waits for locks two seconds at most: a busy LRS is never held up, the next run
    tries again (and the default partitions keep ingest going meanwhile)."""
    import time

    month = month_start(dt.datetime.now(dt.UTC))
    last = _last_upkeep["at"]
    if (last is not None and _last_upkeep["month"] == month
            and time.monotonic() - last < UPKEEP_INTERVAL):
        return []
    with engine.begin() as conn:
        created = ensure_ahead(conn, ahead, lock_timeout="2s")
    _last_upkeep.update(at=time.monotonic(), month=month)
    return created
