"""A second Lentera instance on its own database, served over HTTP: the "external" LRS."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, current_app

from lms import create_app
from lms.db import get_engine, get_session, upgrade_database
from tests.conftest import LiveServer, _test_config

ADL = "http://adlnet.gov/expapi/verbs/"


class Remote:
    """The other LRS: its app, URL and a client key that may write and read statements."""

    def __init__(self, app: Flask, server: LiveServer, key: str, secret: str):
        self.app, self.server, self.key, self.secret = app, server, key, secret
        self.endpoint = server.url + "/xapi/"

    def store(self, statements: list[dict[str, Any]]) -> list[str]:
        from lms.xapi.service import store_statements

        with self.app.app_context():
            ids = store_statements(statements)
            get_session().commit()
            return ids

    def ids(self) -> list[str]:
        from lms.xapi.models import Statement

        with self.app.app_context():
            return list(get_session().scalars(sa.select(Statement.statement_id)))

    def statement(self, statement_id: str) -> dict[str, Any] | None:
        from lms.xapi.service import get_statement

        with self.app.app_context():
            return get_statement(statement_id)


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[Remote]:
    """A second Lentera on its own SQLite database, on a free port of 127.0.0.1."""
    from lms.xapi import auth

    app = create_app(_test_config(f"sqlite:///{tmp_path / 'remote.db'}", tmp_path / "inst",
                                  BASE_URL="http://remote.lentera.test",
                                  FORWARDING_BACKGROUND=False))
    with app.app_context():
        upgrade_database(app)
        credential, secret = auth.create_credential("Lentera pusat",
                                                    "statements/write,statements/read")
        get_session().commit()
        key = credential.key
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = LiveServer(app, port)
    yield Remote(app, server, key, secret)
    server.stop()
    get_engine(app).dispose()


@pytest.fixture(autouse=True)
def _no_background_delivery(app: Flask) -> None:
    # Tests deliver explicitly; no thread racing them.
    app.config["FORWARDING_BACKGROUND"] = False
    current_app.config["FORWARDING_BACKGROUND"] = False


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def statement(verb: str = "completed", activity: str = "http://lentera.test/courses/a",
              name: str = "199001012015011001", **extra: Any) -> dict[str, Any]:
    data = {"id": str(uuid.uuid4()),
            "actor": {"objectType": "Agent", "account": {"homePage": "http://lentera.test",
                                                         "name": name}},
            "verb": {"id": ADL + verb, "display": {"en-US": verb}},
            "object": {"objectType": "Activity", "id": activity}}
    data.update(extra)
    return data


def store_local(*statements: dict[str, Any]) -> list[str]:
    from lms.xapi.service import store_statements

    ids = store_statements(list(statements))
    get_session().commit()
    return ids
