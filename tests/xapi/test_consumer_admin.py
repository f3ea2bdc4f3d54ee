"""Administrators see each consumer's lag and the statements it could not handle, retry
and skip them; monitoring reads the same as JSON with a monitor-only key."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import current_app

from lms.xapi import service
from lms.xapi.consumers import StatementConsumer, StoredStatement, register_consumer
from lms.xapi.models import ConsumerFailure
from tests.xapi.conftest import basic, make_key
from tests.xapi.helpers import make_statement

POISON = "http://lentera.test/activities/poison"


class Fussy(StatementConsumer):
    name = "fussy"

    def __init__(self) -> None:
        self.broken = True
        self.handled: list[str] = []

    def handle(self, statement: StoredStatement) -> None:
        if self.broken and statement.activity_id == POISON:
            raise ValueError("year 10000 is out of range")
        self.handled.append(statement.id)


@pytest.fixture
def fussy(app):
    consumer = Fussy()
    # Registered on the app serving the client, and on the test's twin (it stores here).
    register_consumer(app, consumer)
    register_consumer(current_app._get_current_object(), consumer)
    return consumer


def _poison(db):
    (bad,) = service.store_statements([make_statement(
        object={"objectType": "Activity", "id": POISON})])
    db.commit()
    return bad


def test_admin_sees_lag_and_failures_and_retries_and_skips(client, db, login_as, fussy):
    bad = _poison(db)
    login_as("admin")
    page = client.get("/admin/lrs/consumers")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-consumer="fussy"' in html and bad in html
    assert "ValueError: year 10000 is out of range" in html
    failure = db.scalar(sa.select(ConsumerFailure))
    response = client.post(f"/admin/lrs/consumers/failures/{failure.id}/retry")
    assert response.status_code == 302
    assert "gagal lagi" in client.get("/admin/lrs/consumers").get_data(as_text=True)
    db.expire_all()
    assert db.get(ConsumerFailure, failure.id).attempts == 2
    client.post(f"/admin/lrs/consumers/failures/{failure.id}/skip")
    db.expire_all()
    assert db.get(ConsumerFailure, failure.id).status == "skipped"
    fussy.broken = False
    client.post(f"/admin/lrs/consumers/failures/{failure.id}/retry")
    db.expunge_all()
    assert db.scalar(sa.select(sa.func.count(ConsumerFailure.id))) == 0
    assert bad in fussy.handled


def test_the_consumer_page_is_for_administrators_only(client, login_as, users):
    login_as("hr")
    assert client.get("/admin/lrs/consumers").status_code == 403
    assert client.post("/admin/lrs/consumers/failures/1/skip").status_code == 403


def test_monitoring_reads_lag_and_failures_with_a_monitor_key(client, db, app, fussy):
    monitor = basic(*make_key("monitor", "Zabbix"))
    healthy = client.get("/api/v1/lrs/consumers", headers={"Authorization": monitor})
    assert healthy.status_code == 200 and healthy.json["status"] == "ok"
    _poison(db)
    data = client.get("/api/v1/lrs/consumers", headers={"Authorization": monitor}).json
    assert data["status"] == "failing"
    (row,) = [c for c in data["consumers"] if c["name"] == "fussy"]
    assert row["failures"] == 1 and row["pending"] == 0
    # Lag: statements stored while consumers do not run.
    app.config["XAPI_CONSUMERS_INLINE"] = False
    current_app.config["XAPI_CONSUMERS_INLINE"] = False
    service.store_statements([make_statement() for _ in range(3)])
    db.commit()
    app.config["XAPI_LAG_WARNING_SECONDS"] = -1
    data = client.get("/api/v1/lrs/consumers", headers={"Authorization": monitor}).json
    (row,) = [c for c in data["consumers"] if c["name"] == "fussy"]
    assert row["pending"] == 3 and row["oldest_pending"] is not None
    # A key without the scope, or an LRS key, reads nothing.
    for scopes in ("api:read", "all", "statements/read"):
        other = basic(*make_key(scopes))
        assert client.get("/api/v1/lrs/consumers",
                          headers={"Authorization": other}).status_code == 403
    assert client.get("/api/v1/lrs/consumers").status_code == 401


def test_a_monitor_key_reads_nothing_of_the_lrs(client, db):
    monitor = basic(*make_key("monitor"))
    response = client.get("/xapi/statements", headers={
        "Authorization": monitor, "X-Experience-API-Version": "1.0.3"})
    assert response.status_code == 403
    response = client.get("/xapi/activities?activityId=http://x.test/a", headers={
        "Authorization": monitor, "X-Experience-API-Version": "1.0.3"})
    assert response.status_code == 403
