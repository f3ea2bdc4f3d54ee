"""Step 4, write: the statement rows and their index rows, and the re-sent statements.

On PostgreSQL a request is one SQL statement whatever its size: the rows go in as
arrays, and data-modifying CTEs insert the ids into ``xapi_statement_id`` (an id stored
already is skipped by the database: that table keeps ids unique across the monthly
partitions), then the statements and index rows of the ids inserted. Elsewhere (SQLite)
the same rows go in as a few core inserts. A statement whose id was stored already must be
the same statement (Part Three §2.1.1/§2.1.2), else :class:`~lms.errors.Conflict`.
"""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa

from lms.db import dumps_json
from lms.errors import Conflict, ValidationError
from lms.xapi.models import (
    Statement,
    StatementActivity,
    StatementAgent,
    StatementId,
    by_statement_id,
)
from lms.xapi.store.identify import Batch
from lms.xapi.store.index import activity_ids, agent_keys
from lms.xapi.validation.common import parse_timestamp

#: Compact JSON text of a statement (orjson; the standard library for what orjson refuses,
#: such as integers beyond 64 bits).
dumps = dumps_json


def dialect_insert(session: Any) -> Any:
    """The INSERT construct with ON CONFLICT support for the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def write(session: Any, batch: Batch) -> dict[str, int]:
    """Insert the batch's statements not stored yet with their index rows; return the seq
    of each inserted statement by id. Re-sent statements are checked, not stored again."""
    if session.get_bind().dialect.name == "postgresql":
        seq_of = _write_postgresql(session, batch)
    else:
        seq_of = _write_core(session, batch)
    if len(seq_of) < len(batch.rows):
        check_resent(session, [st for st in batch.statements if st["id"] not in seq_of],
                     batch.dated)
    return seq_of


_COLUMNS = ("statement_id", "actor_key", "verb_id", "activity_id", "object_agent_key",
            "ref_id", "registration")

# The id table decides what is new: an id that goes into xapi_statement_id (ON CONFLICT DO
# NOTHING) is a new statement and takes its seq there; the statement row and its index
# rows follow for those ids only. (A seq taken by a conflicting id is skipped, as a
# serial column's default was before: consumers pass gaps.)
#
# The rows come as one JSON array of arrays (the columns of _COLUMNS, the timestamp, the
# statement), the index rows as two more: one parameter each, written by the JSON encoder
# in C and read by PostgreSQL's, where a text array per column cost the driver more than
# the rest of the request's Python.
_PG_INGEST_CTES = """
WITH given AS (
    SELECT r->>0 AS statement_id, r->>1 AS actor_key, r->>2 AS verb_id,
           r->>3 AS activity_id, r->>4 AS object_agent_key, r->>5 AS ref_id,
           r->>6 AS registration, (r->>7)::timestamptz AS "timestamp", r->8 AS data, n
    FROM jsonb_array_elements(%(rows)s::jsonb) WITH ORDINALITY AS g(r, n)
), ids AS (
    -- nextval is evaluated after the sort: seq follows the request's order.
    INSERT INTO xapi_statement_id (statement_id, seq, stored)
    SELECT statement_id, nextval('xapi_statement_seq_seq'), %(stored)s::timestamptz
    FROM given ORDER BY n
    ON CONFLICT (statement_id) DO NOTHING
    RETURNING statement_id, seq
), inserted AS (
    INSERT INTO xapi_statement (seq, statement_id, actor_key, verb_id, activity_id,
                                object_agent_key, ref_id, registration, authority_key,
                                "timestamp", stored, voided, data)
    SELECT ids.seq, statement_id, actor_key, verb_id, activity_id, object_agent_key, ref_id,
           registration, %(authority_key)s, "timestamp", %(stored)s, false, data
    FROM given JOIN ids USING (statement_id) ORDER BY ids.seq
), activities AS (
    INSERT INTO xapi_statement_activity (activity_id, seq, stored)
    SELECT a->>1, ids.seq, %(stored)s
    FROM jsonb_array_elements(%(activities)s::jsonb) AS a
    JOIN ids ON ids.statement_id = a->>0
), agents AS (
    INSERT INTO xapi_statement_agent (agent_key, seq, stored)
    SELECT a->>1, ids.seq, %(stored)s
    FROM jsonb_array_elements(%(agents)s::jsonb) AS a
    JOIN ids ON ids.statement_id = a->>0
)
"""
_PG_INGEST = _PG_INGEST_CTES + "SELECT seq, statement_id FROM ids\n"

#: The same statement, committed on its own (:func:`write_alone`): all or nothing. When
#: fewer ids went in than were given (an id stored already, or one a concurrent request is
#: storing), ``lms_xapi_refuse`` (migration 0067) raises SQLSTATE ``LX409`` and the whole
#: statement is undone. The one-time filter runs after ``ids``, so every id was tried.
_PG_INGEST_WHOLE = _PG_INGEST_CTES + """\
SELECT seq, statement_id FROM ids
UNION ALL
SELECT lms_xapi_refuse('a statement id of this request is stored already'), NULL
WHERE (SELECT count(*) FROM ids) < %(count)s
"""
_STORED_ALREADY = "LX409"


def _write_postgresql(session: Any, batch: Batch) -> dict[str, int]:
    return {statement_id: seq for seq, statement_id
            in _fetch_raw(session, _PG_INGEST, _ingest_params(batch))}


def write_alone(engine: Any, batch: Batch) -> dict[str, int] | None:
    """Insert the whole batch with its index rows as one SQL statement committed on its
    own, outside any session: one round trip to PostgreSQL where a transaction takes
    three (BEGIN, the statement, COMMIT), and none of the ORM session's work. ``engine``
    is the app's autocommit engine (:func:`lms.db.get_autocommit_engine`). Returns the seq
    of each statement by id, or None when nothing was written and the caller must store
    the batch in a transaction: one of the ids is stored already (the re-sent statements
    are then compared, :func:`check_resent`).

    For a request that writes nothing else: what the caller's session holds is not part
    of this commit."""
    params = _ingest_params(batch)
    params["count"] = len(batch.rows)
    proxied = engine.raw_connection()  # from the pool, tested there when idle a while
    try:
        rows = _run_prepared(proxied.driver_connection, engine.dialect, proxied,
                             _PG_INGEST_WHOLE, params)
    except sa.exc.DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == _STORED_ALREADY:
            return None
        raise
    finally:
        proxied.close()
    return {statement_id: seq for seq, statement_id in rows}


def _ingest_params(batch: Batch) -> dict[str, Any]:
    rows = batch.rows
    activities: list[tuple[str, str]] = []
    agents: list[tuple[str, str]] = []
    for statement in batch.statements:
        statement_id = statement["id"]
        activities.extend((statement_id, a) for a in activity_ids(statement))
        agents.extend((statement_id, k) for k in agent_keys(statement))
    params = {
        "rows": dumps([[row["statement_id"], row["actor_key"], row["verb_id"],
                        row["activity_id"], row["object_agent_key"], row["ref_id"],
                        row["registration"], row["timestamp"].isoformat(), row["data"]]
                       for row in rows]),
        "activities": dumps(activities), "agents": dumps(agents),
        "authority_key": rows[0]["authority_key"], "stored": rows[0]["stored"]}
    return params


def _fetch_raw(session: Any, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Run ``sql`` on the session's connection, in its transaction, with the driver's own
    cursor (prepared on the server from the first run); return the rows as tuples.

    SQLAlchemy builds a result's column metadata anew for every textual statement it runs,
    and psycopg a description of each column: for the one small result of an ingest that
    was a seventh of a single-statement POST's CPU in the web worker. Errors come out as
    SQLAlchemy's (an ``OperationalError`` for a deadlock or a lock timeout, as the
    consumers expect), and a connection the server dropped is invalidated as SQLAlchemy
    would. (SQLAlchemy's statement events and echo do not see this statement.)"""
    connection = session.connection()
    return _run_prepared(connection.connection, connection.dialect, connection, sql, params)


def _run_prepared(dbapi_connection: Any, dialect: Any, owner: Any, sql: str,
                  params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """``sql`` run on the driver's cursor of ``dbapi_connection`` (prepared on the server
    from the first run); its rows as tuples. A driver error comes out as SQLAlchemy's,
    and when the server dropped the connection ``owner`` (the SQLAlchemy connection, or
    the pool's connection) is invalidated, as SQLAlchemy would."""
    dbapi = dialect.loaded_dbapi
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(sql, params, prepare=True)
            rows: list[tuple[Any, ...]] = cursor.fetchall()
            return rows
    except dbapi.Error as exc:
        invalidated = bool(dialect.is_disconnect(exc, dbapi_connection, None))
        if invalidated:
            owner.invalidate(exc)
        raise sa.exc.DBAPIError.instance(
            sql, None, exc, dbapi.Error, connection_invalidated=invalidated,
            dialect=dialect) from exc


def _write_core(session: Any, batch: Batch) -> dict[str, int]:
    # Core inserts (the tables, not the ORM entities): no unit-of-work overhead per row.
    # As on PostgreSQL the id table decides what is new; SQLite has no data-modifying
    # CTEs, so its seq (the statement table's rowid) is written back after the statements.
    ids = cast(sa.Table, StatementId.__table__)
    new = set(session.scalars(
        dialect_insert(session)(ids).on_conflict_do_nothing(index_elements=["statement_id"])
        .returning(ids.c.statement_id),
        [{"statement_id": row["statement_id"], "seq": 0, "stored": row["stored"]}
         for row in batch.rows]))
    if not new:
        return {}
    table = cast(sa.Table, Statement.__table__)
    result = session.execute(
        sa.insert(table).returning(table.c.seq, table.c.statement_id),
        [row for row in batch.rows if row["statement_id"] in new])
    seq_of = {row[1]: row[0] for row in result}
    session.execute(sa.update(ids).where(ids.c.statement_id == sa.bindparam("sid"))
                    .values(seq=sa.bindparam("new_seq")),
                    [{"sid": sid, "new_seq": seq} for sid, seq in seq_of.items()])
    activity_rows: list[dict[str, Any]] = []
    agent_rows: list[dict[str, Any]] = []
    for statement, row in zip(batch.statements, batch.rows, strict=True):
        seq = seq_of.get(statement["id"])
        if seq is None:
            continue
        stored = row["stored"]
        activity_rows.extend({"activity_id": a, "seq": seq, "stored": stored}
                             for a in activity_ids(statement))
        agent_rows.extend({"agent_key": k, "seq": seq, "stored": stored}
                          for k in agent_keys(statement))
    if activity_rows:
        session.execute(sa.insert(cast(sa.Table, StatementActivity.__table__)), activity_rows)
    if agent_rows:
        session.execute(sa.insert(cast(sa.Table, StatementAgent.__table__)), agent_rows)
    return seq_of


def _comparable(statement: dict[str, Any]) -> dict[str, Any]:
    """A statement without the properties the LRS sets, for the immutability check."""
    return {k: v for k, v in statement.items()
            if k not in ("authority", "stored", "version", "timestamp", "id")}


def same_statement(received: dict[str, Any], stored: dict[str, Any]) -> bool:
    """Whether a re-sent statement matches the stored one (Part Three §2.1.2, PUT)."""
    if _comparable(received) != _comparable(stored):
        return False
    if "timestamp" in received:
        try:
            a = parse_timestamp(received["timestamp"], "timestamp")
            b = parse_timestamp(stored["timestamp"], "timestamp")
        except ValidationError:
            return False
        return a == b
    return True


def check_resent(session: Any, statements: list[dict[str, Any]], dated: set[str]) -> None:
    """Statements whose id is stored already must be the same statement (Part Three
    §2.1.1/§2.1.2): then nothing changes; otherwise :class:`Conflict` (409)."""
    stored = dict(session.execute(
        by_statement_id(sa.select(Statement.statement_id, Statement.data),
                        [st["id"] for st in statements])).all())
    for statement in statements:
        previous = stored.get(statement["id"])
        received = statement if statement["id"] in dated else \
            {k: v for k, v in statement.items() if k != "timestamp"}
        if previous is None or not same_statement(received, previous):
            raise Conflict(f"statement {statement['id']} is stored already with different "
                           "content; statements cannot be changed (send a new statement, "
                           "and void the old one if it was wrong)", field="id")
