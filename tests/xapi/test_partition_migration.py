"""Migration 0060 (partitioned statement tables on PostgreSQL; the id table and ``stored``
index columns on SQLite) on a database holding statements of the schema before it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from flask import Flask

from lms import create_app
from lms.db import alembic_config, create_db_engine, get_engine, get_session
from lms.errors import Conflict
from lms.xapi import service
from lms.xapi.models import Statement, StatementId
from lms.xapi.service import StatementQuery
from tests.conftest import _test_config
from tests.xapi.helpers import ACTIVITY, agent, voiding

BEFORE = "0020_xapi_consumer_failures"
AUTHORITY = {"objectType": "Agent", "name": "Lentera",
             "account": {"homePage": "http://lentera.test", "name": "lentera"}}
#: (statement id, stored) of the statements the old schema holds, in seq order.
OLD = [("6a0a37a4-53a1-4bd4-9d25-000000000001", dt.datetime(2024, 7, 3, 1, 2, 3, tzinfo=dt.UTC)),
       ("6a0a37a4-53a1-4bd4-9d25-000000000002", dt.datetime(2026, 1, 9, 4, 5, 6, tzinfo=dt.UTC)),
       ("6a0a37a4-53a1-4bd4-9d25-000000000003", dt.datetime(2026, 3, 30, 23, 59, 59,
                                                             tzinfo=dt.UTC))]


def _body(n: int) -> dict[str, Any]:
    return {"actor": agent(n), "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"objectType": "Activity", "id": f"{ACTIVITY}/module/{n}"},
            "context": {"contextActivities": {"parent": [{"id": ACTIVITY}]}}}


def _stored_text(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


@pytest.fixture
def old_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database of its own, migrated up to the revision before 0060."""
    if database_url.startswith("postgresql"):
        base, _sep, name = database_url.rpartition("/")
        url = f"{base}/{name.partition('?')[0]}_mig"
        engine = create_db_engine(database_url)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" '
                                 "WITH (FORCE)"))
            conn.execute(sa.text(f'CREATE DATABASE "{url.rpartition("/")[2]}"'))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path / 'old.db'}"
    yield url


def _app(url: str, instance: Path) -> Flask:
    return create_app(_test_config(url, instance))


def _fill_old_schema(app: Flask) -> None:
    """Statements as the schema before 0060 held them: a unique statement id on the
    statement table, index rows keyed by (key, seq) with a foreign key to it."""
    with get_engine(app).begin() as conn:
        for n, (sid, stored) in enumerate(OLD, start=1):
            data = {"id": sid, **_body(n), "stored": _stored_text(stored),
                    "timestamp": _stored_text(stored), "authority": AUTHORITY,
                    "version": "1.0.0"}
            seq = conn.execute(sa.text(
                "INSERT INTO xapi_statement (statement_id, actor_key, verb_id, activity_id, "
                "authority_key, timestamp, stored, voided, data) VALUES (:sid, :actor, :verb, "
                ":activity, :authority, :stored, :stored, :voided, :data) RETURNING seq"),
                {"sid": sid, "actor": f"mbox:mailto:pegawai{n}@x.go.id",
                 "verb": data["verb"]["id"], "activity": data["object"]["id"],
                 "authority": "account:http://lentera.test|lentera",
                 "stored": stored if conn.dialect.name == "postgresql"
                 else stored.strftime("%Y-%m-%d %H:%M:%S.%f"),
                 "voided": False, "data": json.dumps(data)}).scalar_one()
            assert seq == n
            for activity in (data["object"]["id"], ACTIVITY):
                conn.execute(sa.text("INSERT INTO xapi_statement_activity (activity_id, seq) "
                                     "VALUES (:a, :s)"), {"a": activity, "s": seq})
            for key in (f"mbox:mailto:pegawai{n}@x.go.id",
                        "account:http://lentera.test|lentera"):
                conn.execute(sa.text("INSERT INTO xapi_statement_agent (agent_key, seq) "
                                     "VALUES (:a, :s)"), {"a": key, "s": seq})
        conn.execute(sa.text("INSERT INTO xapi_consumer_cursor (name, last_seq, updated) "
                             "VALUES ('ledger', 2, :now)"),
                     {"now": dt.datetime.now(dt.UTC) if conn.dialect.name == "postgresql"
                      else dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")})


def _check_statements_readable(app: Flask) -> None:
    with app.app_context():
        for n, (sid, stored) in enumerate(OLD, start=1):
            data = service.get_statement(sid)
            assert data is not None and data["id"] == sid
            assert data["stored"] == _stored_text(stored)
            assert data["actor"] == agent(n)
        rows, _more, _upto = service.query_statements(
            StatementQuery(activity=ACTIVITY, related_activities=True))
        assert [row["id"] for row in rows] == [sid for sid, _ in reversed(OLD)]
        rows, _more, _upto = service.query_statements(
            StatementQuery(agent="mbox:mailto:pegawai2@x.go.id", related_agents=True,
                           since=dt.datetime(2025, 12, 1, tzinfo=dt.UTC),
                           until=dt.datetime(2026, 2, 1, tzinfo=dt.UTC)))
        assert [row["id"] for row in rows] == [OLD[1][0]]
        get_session().rollback()


def test_upgrade_keeps_statements_ids_and_cursors(old_database: str, tmp_path: Path) -> None:
    app = _app(old_database, tmp_path)
    command.upgrade(alembic_config(app), BEFORE)
    _fill_old_schema(app)
    command.upgrade(alembic_config(app), "heads")

    _check_statements_readable(app)
    with app.app_context():
        session = get_session()
        assert session.scalars(sa.select(StatementId.statement_id)
                               .order_by(StatementId.seq)).all() == [sid for sid, _ in OLD]
        assert session.scalar(sa.text(
            "SELECT last_seq FROM xapi_consumer_cursor WHERE name = 'ledger'")) == 2
        # New statements go on from the old seq, an identical re-send is taken as stored,
        # a different statement under a stored id is refused, voiding an old one works.
        (new,) = service.store_statements([_body(4)])
        assert service.store_statements([{"id": OLD[0][0], **_body(1)}]) == [OLD[0][0]]
        session.commit()
        with pytest.raises(Conflict):
            service.store_statements([{"id": OLD[0][0], **_body(5)}])
        session.rollback()
        service.store_statements([voiding(OLD[1][0])])
        session.commit()
        seqs = dict(session.execute(sa.select(Statement.statement_id, Statement.seq)).all())
        assert seqs[new] == 4 and len(seqs) == 5
        assert session.scalar(sa.select(Statement.voided)
                              .where(Statement.statement_id == OLD[1][0])) is True
        assert session.scalar(sa.select(sa.func.count()).select_from(StatementId)) == 5
        if session.get_bind().dialect.name == "postgresql":
            where = dict(session.execute(sa.text(
                "SELECT statement_id, tableoid::regclass::text FROM xapi_statement")).all())
            assert where[OLD[0][0]] == "xapi_statement_y2024m07"
            assert where[OLD[2][0]] == "xapi_statement_y2026m03"
            # Months without rows between them were not made.
            assert session.scalar(sa.text(
                "SELECT to_regclass('xapi_statement_y2025m01') IS NULL")) is True
        session.commit()
    get_engine(app).dispose()


def test_downgrade_gives_the_plain_tables_back(old_database: str, tmp_path: Path) -> None:
    app = _app(old_database, tmp_path)
    command.upgrade(alembic_config(app), BEFORE)
    _fill_old_schema(app)
    command.upgrade(alembic_config(app), "heads")
    command.downgrade(alembic_config(app), BEFORE)
    with get_engine(app).begin() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM xapi_statement")) == 3
        assert conn.scalar(sa.text("SELECT count(*) FROM xapi_statement_activity")) == 6
        # The statement id is unique on the statement table again.
        with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():
            conn.execute(sa.text("UPDATE xapi_statement SET statement_id = :a WHERE seq = 2"),
                         {"a": OLD[0][0]})
    command.upgrade(alembic_config(app), "heads")
    _check_statements_readable(app)
    get_engine(app).dispose()
