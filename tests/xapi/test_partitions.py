"""Monthly partitions of the statement tables (PostgreSQL): the default partition, the
``lms xapi partitions`` command, and since/until queries reading only their months.

SQLite keeps plain tables; there the command says so and the same code paths run.
"""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

import pytest
import sqlalchemy as sa

from lms.db import get_engine
from lms.errors import Conflict
from lms.xapi import service
from lms.xapi.models import Statement, StatementActivity, StatementAgent, StatementId
from lms.xapi.partitions import add_months, ensure_months, is_partitioned, list_partitions
from lms.xapi.service import StatementQuery
from tests.xapi.helpers import ACTIVITY, make_statement, new_id, voiding


def _postgresql(app: Any) -> None:
    with get_engine(app).connect() as conn:
        if not is_partitioned(conn):
            pytest.skip("the statement tables are partitioned on PostgreSQL only")


@pytest.fixture(autouse=True)
def _drop_far_months(app: Any, db: Any) -> Any:
    """Emptying the tables keeps partitions: drop the far-future months a test made, so
    the next test finds 2091 without partitions again."""
    yield
    db.rollback()  # (its locks would hold the DROP up)
    with get_engine(app).begin() as conn:
        if not is_partitioned(conn):
            return
        for name in conn.scalars(sa.text(
                "SELECT relname FROM pg_class WHERE relkind = 'r' "
                "AND relname ~ '^xapi_statement(_activity|_agent)?_y209'")):
            conn.execute(sa.text(f'DROP TABLE "{name}"'))


def _store_at(monkeypatch: pytest.MonkeyPatch, when: dt.datetime,
              statements: list[dict[str, Any]]) -> list[str]:
    """Store statements as if the LRS clock said ``when`` (``stored`` is the LRS's now)."""
    # (lms.xapi.store exports a function of the module's name: go by the module itself.)
    monkeypatch.setattr(importlib.import_module("lms.xapi.store.identify"), "now_ms",
                        lambda: when)
    return service.store_statements(statements)


def _where(db: Any, seq: int) -> set[str]:
    """The partitions holding the rows of statement ``seq`` (statement and index rows)."""
    found = set()
    for table in ("xapi_statement", "xapi_statement_activity", "xapi_statement_agent"):
        found.update(db.scalars(sa.text(f"SELECT tableoid::regclass::text FROM {table} "
                                        "WHERE seq = :s"), {"s": seq}))
    return found


FAR = dt.datetime(2091, 5, 17, 8, 30, tzinfo=dt.UTC)


def test_a_month_without_partition_lands_in_the_default_partition(app, db, monkeypatch):
    _postgresql(app)
    (sid,) = _store_at(monkeypatch, FAR, [make_statement(id=new_id())])
    db.commit()
    seq = db.scalar(sa.select(StatementId.seq).where(StatementId.statement_id == sid))
    assert _where(db, seq) == {"xapi_statement_default", "xapi_statement_activity_default",
                               "xapi_statement_agent_default"}
    assert service.get_statement(sid)["stored"].startswith("2091-05-17T08:30")


def test_creating_the_month_moves_its_rows_out_of_the_default_partition(app, db, monkeypatch):
    _postgresql(app)
    (sid,) = _store_at(monkeypatch, FAR, [make_statement(id=new_id())])
    (other,) = _store_at(monkeypatch, FAR.replace(month=6), [make_statement(id=new_id())])
    db.commit()
    with get_engine(app).begin() as conn:
        created = ensure_months(conn, [dt.datetime(2091, 5, 1, tzinfo=dt.UTC)])
    assert created == ["xapi_statement_y2091m05", "xapi_statement_activity_y2091m05",
                       "xapi_statement_agent_y2091m05"]
    seq = db.scalar(sa.select(StatementId.seq).where(StatementId.statement_id == sid))
    assert _where(db, seq) == {"xapi_statement_y2091m05", "xapi_statement_activity_y2091m05",
                               "xapi_statement_agent_y2091m05"}
    # June has no partition yet: its statement stays in the default partition.
    seq = db.scalar(sa.select(StatementId.seq).where(StatementId.statement_id == other))
    assert _where(db, seq) == {"xapi_statement_default", "xapi_statement_activity_default",
                               "xapi_statement_agent_default"}
    # Still found by id and by related activity, and the new month has the indexes.
    assert service.get_statement(sid)["id"] == sid
    rows, _more, _upto = service.query_statements(StatementQuery(
        activity=ACTIVITY, related_activities=True,
        since=FAR - dt.timedelta(days=1), until=FAR + dt.timedelta(days=1)))
    assert [row["id"] for row in rows] == [sid]
    indexes = set(db.scalars(sa.text("SELECT indexname FROM pg_indexes "
                                     "WHERE tablename = 'xapi_statement_y2091m05'")))
    assert len(indexes) == 9  # the primary key and the eight of the model
    # Again: nothing to do.
    with get_engine(app).begin() as conn:
        assert ensure_months(conn, [dt.datetime(2091, 5, 1, tzinfo=dt.UTC)]) == []


def test_ids_stay_unique_across_months(app, db, monkeypatch):
    """The same id in another month: the id table refuses a different statement (409)
    and takes an identical one as already stored, whatever the partition."""
    _postgresql(app)
    sid = new_id()
    first = make_statement(id=sid)
    _store_at(monkeypatch, FAR, [dict(first)])
    db.commit()
    later = FAR + dt.timedelta(days=62)
    assert _store_at(monkeypatch, later, [dict(first)]) == [sid]
    with pytest.raises(Conflict):
        _store_at(monkeypatch, later, [make_statement(id=sid, verb={
            "id": "http://adlnet.gov/expapi/verbs/attempted"})])
    db.rollback()
    assert db.scalar(sa.select(sa.func.count()).select_from(Statement)
                     .where(Statement.statement_id == sid)) == 1


def test_voiding_reaches_a_statement_of_another_month(app, db, monkeypatch):
    _postgresql(app)
    (target,) = _store_at(monkeypatch, FAR, [make_statement(id=new_id())])
    db.commit()
    _store_at(monkeypatch, FAR + dt.timedelta(days=40), [voiding(target)])
    db.commit()
    assert db.scalar(sa.select(Statement.voided).where(Statement.statement_id == target))


def _plan(app: Any, db: Any, query: StatementQuery) -> str:
    """The plan (EXPLAIN) of the statement query :func:`query_statements` sends."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
                _many: bool) -> None:
        if "FROM xapi_statement" in statement and "max(" not in statement:
            sent.append((statement, parameters))

    engine = db.get_bind()  # (the test's own app: the twin of the one serving requests)
    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        service.query_statements(query)
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    statement, parameters = sent[0]
    connection = db.connection()
    return "\n".join(row[0] for row in connection.exec_driver_sql(
        "EXPLAIN " + statement, parameters))


def _partitions_in(plan: str) -> set[str]:
    """The tables a plan reads ("... on <table> <alias>")."""
    return {line.split(" on ", 1)[1].split()[0] for line in plan.splitlines()
            if " on xapi_statement" in line}


def test_since_and_until_read_only_their_months(app, db, monkeypatch):
    """EXPLAIN of a since/until query names only the months of the window, on the
    statement table and, for related_activities, on the index table too."""
    _postgresql(app)
    months = [add_months(dt.datetime(2091, 1, 1, tzinfo=dt.UTC), n) for n in range(4)]
    with get_engine(app).begin() as conn:
        ensure_months(conn, months)
    for month in months:
        _store_at(monkeypatch, month + dt.timedelta(days=3), [make_statement()])
    db.commit()
    window = StatementQuery(since=dt.datetime(2091, 2, 2, tzinfo=dt.UTC),
                            until=dt.datetime(2091, 2, 20, tzinfo=dt.UTC))
    assert _partitions_in(_plan(app, db, window)) == {"xapi_statement_y2091m02"}

    related = StatementQuery(activity=ACTIVITY, related_activities=True,
                             since=dt.datetime(2091, 2, 2, tzinfo=dt.UTC),
                             until=dt.datetime(2091, 3, 20, tzinfo=dt.UTC))
    assert _partitions_in(_plan(app, db, related)) == {
        "xapi_statement_y2091m02", "xapi_statement_y2091m03",
        "xapi_statement_activity_y2091m02", "xapi_statement_activity_y2091m03"}
    rows, _more, _upto = service.query_statements(related)
    assert len(rows) == 2

    # Without bounds every month is read (the test would pass on a plan that never prunes
    # otherwise).
    assert len(_partitions_in(_plan(app, db, StatementQuery()))) > 4


def test_partitions_command_creates_months_ahead_and_lists_them(app, db, runner):
    result = runner.invoke(args=["xapi", "partitions", "--ahead", "2"])
    assert result.exit_code == 0, result.output
    with get_engine(app).connect() as conn:
        partitioned = is_partitioned(conn)
    if not partitioned:
        assert "not partitioned" in result.output
        return
    now = dt.datetime.now(dt.UTC)
    later = add_months(dt.datetime(now.year, now.month, 1, tzinfo=dt.UTC), 2)
    name = f"xapi_statement_y{later.year:04d}m{later.month:02d}"
    assert name in result.output
    assert "xapi_statement_default" in result.output
    with get_engine(app).connect() as conn:
        names = {row["partition"] for row in list_partitions(conn)}
    assert name in names and f"xapi_statement_agent_y{later:%Y}m{later:%m}" in names
    # Idempotent.
    again = runner.invoke(args=["xapi", "partitions", "--ahead", "2"])
    assert again.exit_code == 0 and "Created 0 partition(s)." in again.output


def test_rows_waiting_in_the_default_partition_are_reported(app, db, runner, monkeypatch):
    _postgresql(app)
    _store_at(monkeypatch, FAR, [make_statement()])
    db.commit()
    db.execute(sa.text("ANALYZE xapi_statement_default"))
    db.commit()
    result = runner.invoke(args=["xapi", "partitions", "--exact"])
    assert result.exit_code == 0, result.output
    assert "xapi_statement_default holds 1 rows" in result.output


def test_index_rows_carry_the_statements_stored(app, db):
    (sid,) = service.store_statements([make_statement()])
    db.commit()
    stored = db.scalar(sa.select(Statement.stored).where(Statement.statement_id == sid))
    assert set(db.scalars(sa.select(StatementActivity.stored))) == {stored}
    assert set(db.scalars(sa.select(StatementAgent.stored))) == {stored}
    assert db.execute(sa.select(StatementId.seq, StatementId.stored)).one() == \
        db.execute(sa.select(Statement.seq, Statement.stored)).one()


def test_the_periodic_upkeep_creates_the_next_month(app, db, monkeypatch):
    _postgresql(app)
    from lms.xapi import partitions

    db.rollback()  # (its locks would hold the DROP up)
    now = dt.datetime.now(dt.UTC)
    following = partitions.add_months(partitions.month_start(now), 1)
    names = [partitions.partition_name(table, following) for table in partitions.TABLES]
    engine = get_engine(app)
    with engine.begin() as conn:
        for name in names:
            conn.execute(sa.text(f'DROP TABLE "{name}"'))
    monkeypatch.setitem(partitions._last_upkeep, "at", None)
    assert partitions.keep_months_ahead(engine) == names
    # Looked at once an hour per process: the next call does nothing.
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP TABLE "{names[0]}"'))
    assert partitions.keep_months_ahead(engine) == []
    monkeypatch.setitem(partitions._last_upkeep, "at", None)
    assert partitions.keep_months_ahead(engine) == [names[0]]
