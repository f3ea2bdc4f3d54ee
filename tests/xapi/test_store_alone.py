"""A request that only inserts statements is committed on its own (lms.xapi.store): on
PostgreSQL one SQL statement in autocommit, all of the request or nothing. Whatever
cannot go that way (a re-sent id, voiding, attachments, a definition to merge, a session
with a transaction open) is stored in a transaction as before."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa

from lms.db import get_autocommit_engine, get_engine, get_session
from lms.xapi import store
from lms.xapi.models import Statement, StatementActivity, StatementAgent, StatementId
from lms.xapi.service import store_statements
from lms.xapi.store.identify import identify
from lms.xapi.store.write import write_alone
from lms.xapi.validation import Context
from tests.xapi.helpers import make_statement, new_id, voiding


@pytest.fixture
def postgresql(app: Any) -> None:
    if get_session().get_bind().dialect.name != "postgresql":
        pytest.skip("statements are committed on their own on PostgreSQL only")


@pytest.fixture
def alone(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What each call of ``write_alone`` answered (a dict of seqs, or None)."""
    answers: list[Any] = []

    def spy(engine: Any, batch: Any) -> Any:
        answers.append(write_alone(engine, batch))
        return answers[-1]

    monkeypatch.setattr(store, "write_alone", spy)
    return answers


def _count(model: Any, **where: Any) -> int:
    get_session().expire_all()
    query = sa.select(sa.func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return int(get_session().scalar(query) or 0)


def _define(xapi: Any) -> None:
    """The activity's definition merged, then seen merged (only then is it known without
    a query): both take a transaction."""
    for _ in range(2):
        assert xapi.post("statements", make_statement()).status_code == 200


def _batch(statements: list[dict[str, Any]]) -> Any:
    authority = {"objectType": "Agent", "account": {"homePage": "https://x.test", "name": "c"}}
    return identify(statements, authority, Context())


def test_new_statements_are_one_statement_committed_on_their_own(
        postgresql: None, xapi: Any, alone: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    _define(xapi)
    assert alone == []
    dispatched: list[Any] = []
    real_dispatch = store.dispatch
    monkeypatch.setattr(store, "dispatch",
                        lambda app, queued: (dispatched.append(queued),
                                             real_dispatch(app, queued)))
    ids = [new_id() for _ in range(3)]
    response = xapi.post("statements", [make_statement(id=i) for i in ids])
    assert response.status_code == 200 and response.json == ids
    assert len(alone) == 1 and sorted(alone[0]) == sorted(ids)
    assert dispatched == [{"statements": []}]  # the consumers follow, as after a commit
    for statement_id in ids:
        assert _count(Statement, statement_id=statement_id) == 1
        assert _count(StatementId, statement_id=statement_id) == 1
        seq = alone[0][statement_id]
        assert _count(StatementActivity, seq=seq) == 1
        assert _count(StatementAgent, seq=seq) >= 1
    stored = xapi.get("statements", query_string={"statementId": ids[1]})
    assert stored.status_code == 200 and stored.json["id"] == ids[1]


def test_a_resent_id_is_compared_in_a_transaction_and_a_conflict_stores_nothing(
        postgresql: None, xapi: Any, alone: list[Any]) -> None:
    _define(xapi)
    first = make_statement(id=new_id())
    assert xapi.post("statements", first).status_code == 200
    again, fresh = new_id(), new_id()
    # The same statement again with a new one: refused on its own, stored in a transaction.
    response = xapi.post("statements", [first, make_statement(id=again)])
    assert response.status_code == 200, response.json
    assert alone[-1] is None
    assert _count(Statement, statement_id=first["id"]) == 1
    assert _count(Statement, statement_id=again) == 1
    # A different statement under a stored id: 409, and the new one beside it is not stored.
    changed = make_statement(id=first["id"], result={"completion": True})
    response = xapi.post("statements", [make_statement(id=fresh), changed])
    assert response.status_code == 409
    assert _count(Statement, statement_id=fresh) == 0
    assert _count(StatementId, statement_id=fresh) == 0


def test_the_refused_statement_leaves_no_row(postgresql: None, app: Any) -> None:
    stored = make_statement(id=new_id())
    store_statements([stored])
    get_session().commit()
    fresh = make_statement(id=new_id())
    batch = _batch([fresh, make_statement(id=stored["id"])])
    assert write_alone(get_autocommit_engine(app), batch) is None
    assert _count(StatementId, statement_id=fresh["id"]) == 0
    assert _count(Statement, statement_id=fresh["id"]) == 0
    # The pooled connection went back usable; the app's engine still has transactions.
    with get_autocommit_engine(app).connect() as connection:
        assert connection.scalar(sa.text("SELECT 1")) == 1
    with get_engine(app).connect() as connection:
        assert not connection.connection.driver_connection.autocommit


def test_the_autocommit_engine_goes_with_the_apps_engine(postgresql: None, app: Any) -> None:
    from flask import Flask

    from lms.db import init_app

    other = Flask("other")
    other.config.update(DATABASE_URL=get_engine(app).url.render_as_string(
        hide_password=False))
    init_app(other)
    engine = get_autocommit_engine(other)
    assert get_autocommit_engine(other) is engine
    with engine.connect() as connection:
        assert connection.connection.driver_connection.autocommit
    assert engine.pool.checkedin() == 1
    get_engine(other).dispose()
    assert engine.pool.checkedin() == 0
    assert get_autocommit_engine(other) is not engine
    get_engine(other).dispose()


def test_voiding_and_a_session_with_a_transaction_open_take_the_transaction(
        postgresql: None, app: Any, xapi: Any, alone: list[Any]) -> None:
    _define(xapi)
    target = make_statement(id=new_id())
    assert xapi.post("statements", target).status_code == 200
    assert alone[-1] is not None
    calls = len(alone)
    assert xapi.post("statements", voiding(target["id"])).status_code == 200
    assert len(alone) == calls  # voiding updates its target in the same transaction
    assert xapi.get("statements", query_string={
        "voidedStatementId": target["id"]}).status_code == 200

    # Work of the caller's session must commit or roll back with the statements.
    session = get_session()
    session.execute(sa.text("SELECT 1"))
    kept_back = make_statement(id=new_id())
    store_statements([kept_back], alone=True)
    assert len(alone) == calls
    session.rollback()
    assert _count(Statement, statement_id=kept_back["id"]) == 0


def test_two_clients_sending_the_same_statements_at_once_store_each_once(
        postgresql: None, app: Any, xapi: Any) -> None:
    _define(xapi)
    batches = [[make_statement(id=new_id()) for _ in range(20)] for _ in range(4)]
    answers: list[int] = []
    start = threading.Barrier(2)

    def send() -> None:
        client = app.test_client()
        start.wait()
        for batch in batches:
            response = client.post("/xapi/statements", json=batch, headers=xapi.headers())
            answers.append(response.status_code)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert answers == [200] * 8
    for batch in batches:
        for statement in batch:
            assert _count(Statement, statement_id=statement["id"]) == 1


def test_elsewhere_than_postgresql_the_statements_take_the_transaction(
        app: Any, alone: list[Any]) -> None:
    if get_session().get_bind().dialect.name == "postgresql":
        pytest.skip("PostgreSQL writes on its own")
    statement = make_statement(id=new_id())
    store_statements([statement], alone=True)
    assert alone == []
    get_session().rollback()
    assert _count(StatementId, statement_id=statement["id"]) == 0
