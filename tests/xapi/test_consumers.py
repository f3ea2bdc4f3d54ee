"""Statement consumers: exactly once, in stored order, resumable, replayable."""

from __future__ import annotations

import pytest
from flask import current_app

from lms.xapi import service
from lms.xapi.consumers import (
    StatementConsumer,
    StoredStatement,
    register_consumer,
    replay,
    run_consumers,
)
from tests.xapi.helpers import make_statement, voiding


@pytest.fixture
def app(app):
    """The app whose context the test body runs in (statements stored here run its
    consumers)."""
    return current_app._get_current_object()


class Recorder(StatementConsumer):
    def __init__(self, name: str = "recorder", fail_on: int | None = None):
        self.name = name
        self.seen: list[str] = []
        self.voided: list[str] = []
        self.fail_on = fail_on
        self.resets = 0

    def handle(self, statement: StoredStatement) -> None:
        if self.fail_on is not None and len(self.seen) == self.fail_on:
            self.fail_on = None
            raise RuntimeError("boom")
        self.seen.append(statement.id)

    def handle_voiding(self, voided_id: str, voiding: StoredStatement) -> None:
        self.voided.append(voided_id)

    def reset(self) -> None:
        self.resets += 1
        self.seen.clear()
        self.voided.clear()


def test_consumer_runs_after_commit_in_stored_order(app, db):
    recorder = Recorder()
    register_consumer(app, recorder)
    ids = service.store_statements([make_statement(), make_statement()])
    assert recorder.seen == []  # not before the commit
    db.commit()
    assert recorder.seen == ids
    more = service.store_statements([make_statement()])
    db.commit()
    assert recorder.seen == ids + more


def test_rolled_back_statements_are_never_seen(app, db):
    recorder = Recorder()
    register_consumer(app, recorder)
    service.store_statements([make_statement()])
    db.rollback()
    assert run_consumers(app) == 0
    assert recorder.seen == []


def test_voiding_calls_handle_voiding(app, db):
    recorder = Recorder()
    register_consumer(app, recorder)
    (target,) = service.store_statements([make_statement()])
    db.commit()
    service.store_statements([voiding(target)])
    db.commit()
    assert recorder.seen == [target]
    assert recorder.voided == [target]


def test_a_batch_that_fails_once_is_handled_again_one_by_one(app, db):
    """A consumer that raises once (not for a statement it cannot handle) loses nothing and
    records nothing: the batch is rolled back and its statements are handled again, each in
    its own transaction; the others carry on."""
    from lms.xapi.models import ConsumerFailure

    flaky = Recorder("flaky", fail_on=1)
    steady = Recorder("steady")
    register_consumer(app, flaky)
    register_consumer(app, steady)
    ids = service.store_statements([make_statement() for _ in range(3)])
    db.commit()
    assert steady.seen == ids
    assert flaky.seen[-3:] == ids  # after the rolled-back attempt: each once more, in order
    assert db.query(ConsumerFailure).count() == 0
    assert run_consumers(app) == 0  # nothing left: nothing twice


def test_replay_resets_and_runs_from_zero(app, db):
    recorder = Recorder()
    register_consumer(app, recorder)
    ids = service.store_statements([make_statement(), make_statement()])
    db.commit()
    assert replay("recorder") == 2
    assert recorder.resets == 1
    assert recorder.seen == ids


def test_duplicate_consumer_name_is_an_error(app):
    register_consumer(app, Recorder())
    with pytest.raises(ValueError, match="registered already"):
        register_consumer(app, Recorder())


def _three_with_a_gap(app, db):
    """A recorder registered, and three statements stored with the middle one's rows gone
    (a gap in seq, as a rollback or a still-committing writer leaves); their ids."""
    import sqlalchemy as sa

    from lms.xapi.models import Statement, StatementActivity, StatementAgent

    recorder = Recorder()
    register_consumer(app, recorder)
    ids = service.store_statements([make_statement() for _ in range(3)])
    db.commit()
    middle = db.scalar(sa.select(Statement.seq).where(Statement.statement_id == ids[1]))
    for table in (StatementActivity, StatementAgent, Statement):
        db.execute(sa.delete(table).where(table.seq == middle))
    db.commit()
    return recorder, ids


def test_consumer_waits_at_a_gap_in_seq_until_it_is_old(app, db, monkeypatch):
    """A missing seq may be a transaction still committing (PostgreSQL): wait for it,
    unless it is older than GAP_TIMEOUT (then it was a rollback)."""
    from lms.xapi import consumers

    monkeypatch.setitem(app.config, "XAPI_CONSUMERS_INLINE", False)
    recorder, ids = _three_with_a_gap(app, db)
    run_consumers(app)
    assert recorder.seen == ids[:1]
    monkeypatch.setattr(consumers, "GAP_TIMEOUT", consumers.dt.timedelta(0))
    run_consumers(app)
    assert recorder.seen == [ids[0], ids[2]]


def test_without_a_broker_statements_after_a_gap_are_drained_once_it_is_old(
        app, db, monkeypatch):
    """Two writers sending the same statement id, or a rollback, leave a gap in seq for
    good. A request's inline run stops there; the statements after it are drained once
    the gap is GAP_TIMEOUT old, not left until the next statement is stored."""
    import datetime as dt
    import time

    from lms.xapi import consumers

    monkeypatch.setitem(app.config, "XAPI_CONSUMERS_INLINE", False)
    monkeypatch.setattr(consumers, "GAP_TIMEOUT", dt.timedelta(seconds=1))
    recorder, ids = _three_with_a_gap(app, db)
    started = time.monotonic()
    consumers.run_inline(app)  # what the request that stored them runs after its commit
    assert recorder.seen == ids[:1]
    timer = consumers._gap_timers.get(id(app))
    assert timer is not None
    assert consumers.drain_after_gap(app, dt.datetime.now(dt.UTC)) is None  # one waits
    timer.join(timeout=30)
    deadline = time.monotonic() + 60
    while recorder.seen != [ids[0], ids[2]] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert recorder.seen == [ids[0], ids[2]]
    assert time.monotonic() - started >= 0.5  # not before the gap was old


def test_replay_reports_progress_after_every_batch(app, db, monkeypatch):
    """``lms xapi replay`` / ``lms profiles rebuild`` move their progress bar per batch."""
    from lms.xapi import consumers

    monkeypatch.setitem(app.config, "XAPI_CONSUMERS_INLINE", False)
    monkeypatch.setattr(consumers, "REPLAY_BATCH_SIZE", 2)
    recorder = Recorder()
    register_consumer(app, recorder)
    ids = service.store_statements([make_statement() for _ in range(5)])
    db.commit()
    steps: list[int] = []
    assert replay("recorder", progress=steps.append) == 5
    assert steps == [2, 2, 1]
    assert recorder.seen == ids


def test_only_consumers_behind_are_run(app, db, monkeypatch):
    """One look for all consumers: one that is up to date is not even locked."""
    from lms.xapi import consumers

    monkeypatch.setitem(app.config, "XAPI_CONSUMERS_INLINE", False)
    first = Recorder("first")
    register_consumer(app, first)
    ids = service.store_statements([make_statement()])
    db.commit()
    run_consumers(app)
    second = Recorder("second")
    register_consumer(app, second)
    ran: list[str] = []
    original = consumers._run_one

    def spy(app, consumer, *args, **kwargs):
        ran.append(consumer.name)
        return original(app, consumer, *args, **kwargs)

    monkeypatch.setattr(consumers, "_run_one", spy)
    assert run_consumers(app) == 1
    assert ran == ["second"]
    assert first.seen == ids and second.seen == ids


def test_registration_activities_are_what_the_learner_did(app, db):
    registration = "7f2d1c1e-3a4b-4c5d-8e9f-0a1b2c3d4e5f"
    context = {"registration": registration}
    passed = {"id": "http://adlnet.gov/expapi/verbs/passed", "display": {"en-US": "passed"}}
    done, other, undone = service.store_statements([
        make_statement(context=context),
        make_statement(context=context, verb=passed,
                       object={"objectType": "Activity", "id": "http://x.test/quiz"}),
        make_statement(context=context,
                       object={"objectType": "Activity", "id": "http://x.test/voided"}),
    ])
    service.store_statements([make_statement(context={
        "registration": "00000000-0000-4000-8000-000000000000"},
        object={"objectType": "Activity", "id": "http://x.test/elsewhere"})])
    db.commit()
    service.store_statements([voiding(undone)])
    db.commit()
    completed = make_statement()["verb"]["id"]
    found = service.registration_activities(registration.upper(), [completed, passed["id"]])
    assert found == {(completed, make_statement()["object"]["id"]),
                     (passed["id"], "http://x.test/quiz")}
    assert service.registration_activities(registration, []) == set()
