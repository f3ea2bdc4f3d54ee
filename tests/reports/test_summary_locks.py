"""The jp-credits consumer takes the summary locks of a batch's employees in id order, as
a bulk enrolment does, so the two never deadlock (PostgreSQL advisory locks).

Taken one by one in statement order, a batch crediting employee B then A held B's lock
while it waited for A's; a bulk enrolment of A and B, holding A's and asking for B's, then
deadlocked with it and PostgreSQL aborted one of the two."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa

from lms.db import get_engine, get_session
from lms.reports.models import JpCredit
from lms.reports.summary import LOCK_NAMESPACE
from lms.xapi.consumers import run_consumers
from lms.xapi.service import store_statements
from tests.reports.conftest import completed_with_jp


@pytest.fixture
def postgresql(app: Any) -> None:
    if get_session().get_bind().dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (LMS_TEST_DATABASE_URL): advisory locks")


def _waiting_for_advisory_lock(conn: Any, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = conn.execute(sa.text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND classid = :ns"), {"ns": LOCK_NAMESPACE}).scalar()
        if waiting:
            return True
        time.sleep(0.05)
    return False


def test_a_batch_and_a_bulk_enrolment_take_the_locks_in_one_order(
        postgresql: None, org: dict[str, Any], make_app: Any) -> None:
    first, second = sorted((org["a1"], org["b1"]), key=lambda u: u.id)
    worker = make_app(XAPI_CONSUMERS_INLINE=False)
    with worker.app_context():
        # Statement order: the higher id first.
        store_statements([completed_with_jp(second, "https://moodle.example/k/2", 2),
                          completed_with_jp(first, "https://moodle.example/k/1", 3)])
        get_session().commit()
    engine = get_engine(worker)
    errors: list[BaseException] = []

    def consume() -> None:
        try:
            run_consumers(worker)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    with engine.connect() as bulk, engine.connect() as watch:
        bulk.execute(sa.text("SET lock_timeout = '10s'"))
        # A bulk enrolment holding the lower id's lock, as enrolments_added takes them.
        bulk.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_NAMESPACE, first.id)))
        thread = threading.Thread(target=consume)
        thread.start()
        try:
            assert _waiting_for_advisory_lock(watch), "the consumer never asked for a lock"
            # The consumer waits for the lower id and holds nothing: the bulk side gets
            # the higher id at once (before: the consumer held it, and one side aborted).
            started = time.monotonic()
            bulk.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_NAMESPACE,
                                                                 second.id)))
            assert time.monotonic() - started < 0.9  # under PostgreSQL's deadlock_timeout
            bulk.commit()
        finally:
            thread.join(60)
    assert not thread.is_alive() and not errors
    get_session().expire_all()
    credited = dict(get_session().execute(sa.select(JpCredit.user_id, JpCredit.jp)).all())
    assert credited == {first.id: 3.0, second.id: 2.0}
