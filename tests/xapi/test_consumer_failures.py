"""One statement never stops a consumer: it is recorded with its error, passed over, shown
to administrators, who retry or skip it; a rebuild treats it as the incremental path did."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import current_app

from lms.xapi import consumers, service
from lms.xapi.consumers import (
    StatementConsumer,
    StoredStatement,
    consumer_status,
    list_failures,
    register_consumer,
    replay,
    retry_failure,
    run_consumers,
    skip_failure,
)
from lms.xapi.models import ConsumerCursor, ConsumerFailure
from tests.xapi.helpers import make_statement

POISON = "http://lentera.test/activities/poison"


@pytest.fixture
def app(app):
    return current_app._get_current_object()


class Picky(StatementConsumer):
    """Handles every statement but those about POISON (while ``broken``)."""

    def __init__(self, name: str = "picky", batch: bool = False):
        self.name = name
        self.seen: list[str] = []
        self.broken = True
        if batch:
            self.handle_batch = self._handle_batch

    def handle(self, statement: StoredStatement) -> None:
        if self.broken and statement.activity_id == POISON:
            raise OverflowError("date value out of range")
        self.seen.append(statement.id)

    def _handle_batch(self, statements: list[StoredStatement]) -> None:
        for statement in statements:
            self.handle(statement)

    def reset(self) -> None:
        self.seen.clear()

    @property
    def handled(self) -> list[str]:
        """What it handled, in order: ``seen`` less the repeats of a rolled-back batch (a
        test double keeps no transaction)."""
        return list(dict.fromkeys(self.seen))


def poison(**kw):
    return make_statement(object={"objectType": "Activity", "id": POISON}, **kw)


@pytest.mark.parametrize("batch", [False, True])
def test_a_poison_statement_is_recorded_and_passed_over(app, db, batch):
    picky = Picky(batch=batch)
    steady = Picky("steady")
    steady.broken = False
    register_consumer(app, picky)
    register_consumer(app, steady)
    before = service.store_statements([make_statement(), make_statement()])
    (bad,) = service.store_statements([poison()])
    after = service.store_statements([make_statement() for _ in range(3)])
    db.commit()
    # Everything but the poison statement is handled, in order, once; the others are whole.
    assert picky.handled == before + after
    assert steady.seen == before + [bad] + after
    (failure,) = list_failures()
    assert failure.consumer == "picky" and failure.statement_id == bad
    assert failure.error == "OverflowError: date value out of range"
    assert "OverflowError" in failure.detail and failure.attempts == 1
    # The cursor is past it: later statements go on being handled, nothing is retried.
    more = service.store_statements([make_statement()])
    db.commit()
    assert picky.seen[-1:] == more
    assert run_consumers(app) == 0
    (status,) = [s for s in consumer_status(app) if s["name"] == "picky"]
    assert status["pending"] == 0 and status["failures"] == 1 and status["last_error"] is None


def test_the_same_statement_failing_again_counts_attempts(app, db):
    picky = Picky()
    register_consumer(app, picky)
    (bad,) = service.store_statements([poison()])
    db.commit()
    (failure,) = list_failures()
    assert retry_failure(failure.id, app) == "OverflowError: date value out of range"
    db.expire_all()
    assert db.get(ConsumerFailure, failure.id).attempts == 2
    picky.broken = False  # the consumer is fixed
    failure_id = failure.id
    assert retry_failure(failure_id, app) is None
    db.expunge_all()
    assert db.get(ConsumerFailure, failure_id) is None
    assert picky.seen == [bad]


def test_a_skipped_statement_stays_skipped_in_a_rebuild(app, db):
    """Rebuild equals the incremental path: the incremental run never handled the skipped
    statement, so neither does the replay (even though the consumer could by now)."""
    picky = Picky()
    register_consumer(app, picky)
    ids = service.store_statements([make_statement(), poison(), make_statement()])
    db.commit()
    (failure,) = list_failures()
    skip_failure(failure.id, "admin@test")
    db.commit()
    incremental = picky.handled
    picky.broken = False
    assert replay("picky") == 3
    assert picky.handled == incremental == [ids[0], ids[2]]
    (kept,) = list_failures(status=None)
    assert kept.status == "skipped" and kept.skipped_by == "admin@test"


def test_a_rebuild_meets_an_open_failure_again(app, db):
    picky = Picky()
    register_consumer(app, picky)
    ids = service.store_statements([make_statement(), poison()])
    db.commit()
    assert [f.statement_id for f in list_failures()] == [ids[1]]
    assert replay("picky") == 2
    assert picky.handled == [ids[0]]
    assert [f.statement_id for f in list_failures()] == [ids[1]]  # once, not twice
    picky.broken = False
    replay("picky")
    assert picky.handled == ids and list_failures() == []


def test_a_database_failure_skips_nothing(app, db):
    """When the database fails (connection lost, lock timeout) no statement is blamed: the
    consumer stops and resumes from its cursor later."""

    class Unlucky(Picky):
        def handle(self, statement: StoredStatement) -> None:
            if self.broken:
                raise sa.exc.OperationalError("SELECT 1", {}, Exception("server closed"))
            super().handle(statement)

    unlucky = Unlucky("unlucky")
    register_consumer(app, unlucky)
    ids = service.store_statements([make_statement(), make_statement()])
    db.commit()
    assert list_failures() == []
    cursor = db.get(ConsumerCursor, "unlucky")
    assert cursor.last_seq == 0 and "server closed" in cursor.last_error
    unlucky.broken = False
    run_consumers(app)
    assert unlucky.seen == ids


def test_a_request_runs_a_bounded_part_of_a_backlog(app, db, monkeypatch):
    """A statement stored after a backlog is acknowledged at once: the request runs at most
    XAPI_CONSUMERS_INLINE_LIMIT statements per consumer; a background thread drains the
    rest."""
    picky = Picky()
    picky.broken = False
    register_consumer(app, picky)
    monkeypatch.setitem(app.config, "XAPI_CONSUMERS_INLINE", False)
    backlog = service.store_statements([make_statement() for _ in range(7)])
    db.commit()
    monkeypatch.setitem(app.config, "XAPI_CONSUMERS_INLINE", True)
    monkeypatch.setitem(app.config, "XAPI_CONSUMERS_INLINE_LIMIT", 3)
    monkeypatch.setattr(consumers, "BATCH_SIZE", 2)
    started = []
    monkeypatch.setattr(consumers, "drain_in_background", started.append)
    new = service.store_statements([make_statement()])
    db.commit()
    assert len(picky.seen) <= 4  # bounded: at most the limit (rounded up to a batch)
    assert started == [app]
    run_consumers(app)  # what the background thread does
    assert picky.seen == backlog + new


def test_the_background_drain_empties_the_backlog(app, db, monkeypatch):
    picky = Picky()
    picky.broken = False
    register_consumer(app, picky)
    monkeypatch.setitem(app.config, "XAPI_CONSUMERS_INLINE", False)
    ids = service.store_statements([make_statement() for _ in range(5)])
    db.commit()
    thread = consumers.drain_in_background(app)
    assert thread is not None
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert picky.seen == ids
