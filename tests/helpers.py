"""Helpers the test folders share: who a user is in xAPI, statements, storing them the way
a request does, and signing a test client in. (Before, five conftests had their copies.)"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

#: The ``BASE_URL`` of the test apps (tests/conftest.py).
BASE = "http://lentera.test"
ADL = "http://adlnet.gov/expapi/verbs/"


def actor(user: Any) -> dict[str, Any]:
    """The xAPI Agent of an employee: their NIP under Lentera's home page."""
    return {"objectType": "Agent", "name": user.name,
            "account": {"homePage": BASE, "name": user.nip}}


def statement(user_or_actor: Any, verb: str, activity: str, **extra: Any) -> dict[str, Any]:
    """A statement with a fresh id: ``verb`` an ADL verb name, ``extra`` more fields."""
    who = user_or_actor if isinstance(user_or_actor, dict) else actor(user_or_actor)
    data: dict[str, Any] = {"id": str(uuid.uuid4()), "actor": who,
                            "verb": {"id": ADL + verb, "display": {"en-US": verb}},
                            "object": {"objectType": "Activity", "id": activity}}
    data.update(extra)
    return data


def void(statement_id: str, user_or_actor: Any | None = None) -> dict[str, Any]:
    """A voiding statement of ``statement_id`` (by an administrator unless a user given)."""
    who = (user_or_actor if isinstance(user_or_actor, dict) or user_or_actor is None
           else actor(user_or_actor))
    return {"id": str(uuid.uuid4()),
            "actor": who or {"objectType": "Agent", "mbox": "mailto:hr@lentera.test"},
            "verb": {"id": ADL + "voided", "display": {"en-US": "voided"}},
            "object": {"objectType": "StatementRef", "id": statement_id}}


def send(*statements: dict[str, Any]) -> list[str]:
    """Store statements and commit, as a request does: the consumers run right after the
    commit; the test's session then reads fresh rows."""
    from lms.db import get_session
    from lms.xapi.service import store_statements

    ids = store_statements(list(statements))
    get_session().commit()
    get_session().expire_all()
    return ids


def login(client: Any, user: Any) -> None:
    """Sign ``client`` in as ``user`` without the sign-in form."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


@contextmanager
def sql_log(engine: Any) -> Iterator[list[str]]:
    """Every SQL statement ``engine`` sends meanwhile (for query counts)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
