"""On PostgreSQL the ingest statement runs on the driver's own cursor (lms.xapi.store.write):
its failures still come out as SQLAlchemy's errors, so the views answer as before and the
consumers still tell a busy database (retry later) from a bad statement, and a connection
the server dropped is still thrown away."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from lms.db import get_engine, get_session
from lms.xapi.consumers import _transient
from lms.xapi.models import StatementId
from lms.xapi.service import store_statements
from tests.xapi.helpers import make_statement


@pytest.fixture
def postgresql(app: Any) -> None:
    if get_session().get_bind().dialect.name != "postgresql":
        pytest.skip("the driver's cursor path is PostgreSQL's")


def test_a_lock_timeout_in_the_ingest_is_a_transient_operational_error(
        postgresql: None, app: Any) -> None:
    statement_id = str(uuid.uuid4())
    with get_engine(app).connect() as other:
        # Another request is storing the same id and has not committed yet.
        other.execute(sa.insert(StatementId), {"statement_id": statement_id, "seq": 0,
                                                "stored": dt.datetime.now(dt.UTC)})
        session = get_session()
        session.execute(sa.text("SET LOCAL lock_timeout = '100ms'"))
        with pytest.raises(sa.exc.OperationalError) as raised:
            store_statements([make_statement(id=statement_id)])
        assert _transient(raised.value)
        assert "lock timeout" in str(raised.value).lower()
        session.rollback()
        other.rollback()
    # Nothing was stored, and the same statement goes in once the other gave up.
    assert store_statements([make_statement(id=statement_id)]) == [statement_id]
    get_session().commit()


def test_a_connection_the_server_dropped_is_invalidated(postgresql: None, app: Any) -> None:
    session = get_session()
    pid = session.scalar(sa.text("SELECT pg_backend_pid()"))
    with get_engine(app).connect() as admin:
        admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.commit()
    with pytest.raises(sa.exc.DBAPIError) as raised:
        store_statements([make_statement(id=str(uuid.uuid4()))])
    assert raised.value.connection_invalidated and _transient(raised.value)
    session.rollback()
    # The pool gives the next transaction a working connection.
    assert session.scalar(sa.text("SELECT pg_backend_pid()")) != pid
    statement_id = str(uuid.uuid4())
    assert store_statements([make_statement(id=statement_id)]) == [statement_id]
    session.commit()
