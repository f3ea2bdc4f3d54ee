"""What a consumers run costs: one read of each batch for every consumer at the same
cursor, and no query per statement to ask whether a statement is about a SCO, an AU or an
LTI link (``StatementConsumer.relevant``)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from flask import current_app

from lms.db import get_engine, get_session
from lms.xapi import service
from lms.xapi.consumers import (
    StatementConsumer,
    StoredStatement,
    register_consumer,
    registered_consumers,
    run_consumers,
)
from lms.xapi.models import ConsumerCursor, Statement
from tests.helpers import sql_log
from tests.xapi.helpers import make_statement


@pytest.fixture
def app(app: Any) -> Any:
    app = current_app._get_current_object()
    app.config["XAPI_CONSUMERS_INLINE"] = False  # the test runs them itself
    return app


def completed(activity: str) -> dict[str, Any]:
    """A completion with a registration: what the SCORM, cmi5 and LTI consumers look at."""
    return make_statement(id=str(uuid.uuid4()),
                          object={"objectType": "Activity", "id": activity},
                          context={"registration": str(uuid.uuid4())})


def _store(count: int) -> None:
    for start in range(0, count, 50):
        service.store_statements([completed(f"http://example.org/course/{i}")
                                  for i in range(start, min(count, start + 50))])
        get_session().commit()


def _reads_of_statements(log: list[str]) -> int:
    return sum(1 for s in log if "FROM xapi_statement " in s and "xapi_statement.seq >" in s)


def test_consumers_at_the_same_cursor_share_one_read_of_a_batch(app: Any) -> None:
    _store(30)
    with sql_log(get_engine(app)) as log:
        handled = run_consumers(app)
    consumers = len(registered_consumers(app))
    assert consumers > 2
    assert handled == 30 * consumers  # every consumer took the 30 statements
    assert _reads_of_statements(log) == 1
    cursors = set(get_session().scalars(sa.select(ConsumerCursor.last_seq)))
    assert cursors == {get_session().scalar(sa.select(sa.func.max(Statement.seq)))}


def test_the_queries_of_a_run_do_not_grow_with_its_statements(app: Any) -> None:
    _store(3)
    run_consumers(app)  # the first run loads what consumers cache (evidence rules...)
    _store(10)
    with sql_log(get_engine(app)) as few:
        run_consumers(app)
    _store(200)
    with sql_log(get_engine(app)) as many:
        run_consumers(app)
    # The same consumers, one batch each time: per statement nothing more is asked.
    assert len(many) == len(few), (len(few), len(many))


class Picky(StatementConsumer):
    name = "picky"
    suffix = "/mine"  # the statements it acts on: about an activity ending so

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.asked: list[int] = []

    def relevant(self, statements: list[StoredStatement]) -> list[StoredStatement]:
        self.asked.append(len(statements))
        return [s for s in statements if (s.activity_id or "").endswith(self.suffix)]

    def handle(self, statement: StoredStatement) -> None:
        self.seen.append(statement.id)


def test_a_consumer_is_handed_only_what_it_finds_relevant_and_passes_over_the_rest(
        app: Any) -> None:
    picky = Picky()
    register_consumer(app, picky)
    mine = completed("http://example.org/mine")
    service.store_statements([completed("http://example.org/other"), mine,
                              completed("http://example.org/other")])
    get_session().commit()
    run_consumers(app)
    assert picky.seen == [mine["id"]]
    assert picky.asked == [3]  # once for the batch
    top = get_session().scalar(sa.select(sa.func.max(Statement.seq)))
    assert get_session().get(ConsumerCursor, "picky").last_seq == top


class Mutator(StatementConsumer):
    """A plugin-like consumer that changes what it is handed (it does not share)."""

    name = "a-mutator"

    def handle(self, statement: StoredStatement) -> None:
        statement.data["verb"]["id"] = "http://example.org/changed"


class Reader(StatementConsumer):
    name = "b-reader"
    shares_statements = True

    def __init__(self) -> None:
        self.verbs: list[str] = []
        self.objects: list[int] = []

    def handle(self, statement: StoredStatement) -> None:
        self.verbs.append(statement.data["verb"]["id"])
        self.objects.append(id(statement.data))


def test_consumers_that_share_statements_parse_each_statement_once(
        app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from lms.xapi import consumers as module

    reader = Reader()
    register_consumer(app, reader)
    _store(40)
    parsed: list[Any] = []
    real = module.json_loads
    monkeypatch.setattr(module, "json_loads", lambda raw: parsed.append(raw) or real(raw))
    run_consumers(app)
    sharing = [c for c in registered_consumers(app).values() if c.shares_statements]
    assert len(sharing) == len(registered_consumers(app)) > 5  # every built-in one shares
    # Whatever the consumers looked into, each statement's JSON was parsed once at most,
    # and the reader was handed the very objects the built-in consumers parsed.
    assert len(reader.verbs) == 40
    assert len(parsed) == 40
    assert len(set(parsed)) == 40


def test_a_consumer_that_does_not_share_gets_its_own_copies(app: Any) -> None:
    mutator, reader = Mutator(), Reader()
    register_consumer(app, mutator)  # runs before the reader
    register_consumer(app, reader)
    _store(5)
    run_consumers(app)
    assert len(reader.verbs) == 5
    assert "http://example.org/changed" not in reader.verbs


@pytest.fixture
def demo(runner: Any, db: Any) -> None:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output


def test_built_in_consumers_leave_the_shared_statements_as_stored(
        app: Any, demo: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every built-in consumer declares that it only reads statements: run them all again
    over the demo's statements (courses, quizzes, SCORM, cmi5, H5P, plans, credited
    learning, voiding) and hold what they were handed equal to what is stored."""
    import json

    from lms.xapi import consumers as module

    session = get_session()
    for consumer in registered_consumers(app).values():
        consumer.reset()
    session.execute(sa.update(ConsumerCursor).values(last_seq=0))
    session.commit()
    handed: list[tuple[StoredStatement, str]] = []
    real = module.SharedReads.statements

    def spy(self: Any, rows: list[Any]) -> list[StoredStatement]:
        statements = real(self, rows)
        handed.extend(zip(statements, [row[2] for row in rows], strict=True))
        return statements

    monkeypatch.setattr(module.SharedReads, "statements", spy)
    run_consumers(app)
    verbs = {s.verb_id for s, _raw in handed}
    assert len(handed) > 50 and len(verbs) > 4
    looked_into = [(s, raw) for s, raw in handed if s._data is not None]
    assert len(looked_into) > 50
    for statement, raw in looked_into:
        assert statement.data == json.loads(raw), statement.id


def test_batch_size_is_a_setting_and_an_inline_run_keeps_to_its_limit(app: Any) -> None:
    """``LMS_XAPI_CONSUMERS_BATCH_SIZE``: a run reads that many statements per batch (one
    transaction per consumer and batch); a request's inline run still takes no more than
    ``XAPI_CONSUMERS_INLINE_LIMIT`` whatever the batch size."""
    from lms.xapi.consumers import BATCH_SIZE, run_batch_size

    assert run_batch_size(app) == BATCH_SIZE
    _store(7)
    app.config["XAPI_CONSUMERS_BATCH_SIZE"] = 3
    try:
        assert run_batch_size(app) == 3
        with sql_log(get_engine(app)) as log:
            handled = run_consumers(app)
        assert handled == 7 * len(registered_consumers(app))
        assert _reads_of_statements(log) == 3  # 3 + 3 + 1, each read once for everyone

        _store(5)
        app.config["XAPI_CONSUMERS_BATCH_SIZE"] = 1000
        with sql_log(get_engine(app)) as log:
            handled = run_consumers(app, limit=2)
        assert handled == 2 * len(registered_consumers(app))  # the limit, not the batch
        assert _reads_of_statements(log) == 1
    finally:
        app.config.pop("XAPI_CONSUMERS_BATCH_SIZE", None)
    assert run_consumers(app) == 3 * len(registered_consumers(app))  # the rest


def _locked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The consumers that took their cursor's lock (a transaction of their own)."""
    from lms.xapi import consumers as module

    names: list[str] = []
    real = module._lock_cursor
    monkeypatch.setattr(module, "_lock_cursor",
                        lambda session, name: names.append(name) or real(session, name))
    return names


class Other(Picky):
    name = "picky-too"
    suffix = "/theirs"


def _registered(app: Any, *consumers: Picky) -> tuple[Any, ...]:
    """``consumers`` registered, with their cursors made by a first run over a statement
    (a consumer's first run makes its cursor), and what they were asked then forgotten."""
    for consumer in consumers:
        register_consumer(app, consumer)
    _store(1)
    run_consumers(app)
    for consumer in consumers:
        consumer.asked.clear()
    return consumers


def test_consumers_with_nothing_to_act_on_pass_over_a_batch_together(
        app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    picky, other = _registered(app, Picky(), Other())
    service.store_statements([completed("http://example.org/other") for _ in range(3)])
    get_session().commit()
    locked = _locked(monkeypatch)
    handled = run_consumers(app)
    assert handled == 3 * len(registered_consumers(app))
    top = get_session().scalar(sa.select(sa.func.max(Statement.seq)))
    get_session().expire_all()
    for name in registered_consumers(app):
        assert get_session().get(ConsumerCursor, name).last_seq == top, name
    # Neither picky consumer ran a transaction of its own; both were asked once.
    assert "picky" not in locked and "picky-too" not in locked
    assert picky.asked == [3] and other.asked == [3] and picky.seen == other.seen == []
    # A consumer the statements concern still runs on its own (the courses ledger reads
    # every statement).
    assert "courses.ledger" in locked or any(n not in ("picky", "picky-too") for n in locked)

    # Then one of "mine": picky handles it in its own transaction.
    mine = completed("http://example.org/mine")
    service.store_statements([mine])
    get_session().commit()
    locked.clear()
    run_consumers(app)
    assert picky.seen == [mine["id"]] and "picky" in locked and "picky-too" not in locked


def test_a_cursor_another_run_moved_is_not_passed_over_again(
        app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch was read at the cursor; if another run moves the cursor before this one
    passes it over, the cursor stays where that run left it (never moved back, so nothing
    is handled twice)."""
    from lms.xapi import consumers as module

    picky, other = _registered(app, Picky(), Other())
    mine = completed("http://example.org/mine")
    service.store_statements([completed("http://example.org/other"),
                              completed("http://example.org/other"), mine])
    get_session().commit()
    top = get_session().scalar(sa.select(sa.func.max(Statement.seq)))
    real = module.SharedReads.pending
    moved: list[int] = []

    def pending(self: Any, session: Any, after: int, size: int) -> list[Any]:
        rows = real(self, session, after, size)
        if not moved:  # meanwhile, another run handles all three for picky
            with get_engine(app).begin() as connection:
                connection.execute(sa.update(ConsumerCursor).where(ConsumerCursor.name == "picky")
                                   .values(last_seq=top))
            moved.append(top)
        return rows

    monkeypatch.setattr(module.SharedReads, "pending", pending)
    app.config["XAPI_CONSUMERS_BATCH_SIZE"] = 2
    try:
        run_consumers(app)
    finally:
        app.config.pop("XAPI_CONSUMERS_BATCH_SIZE", None)
    get_session().expire_all()
    assert get_session().get(ConsumerCursor, "picky").last_seq == top
    assert picky.seen == []  # the other run had it
    assert other.seen == []
    assert get_session().get(ConsumerCursor, "picky-too").last_seq == top


class Flaky(Picky):
    """Its first look at a batch fails (a query of ``relevant`` that errs)."""

    name = "picky-flaky"

    def relevant(self, statements: list[StoredStatement]) -> list[StoredStatement]:
        if not self.asked:
            self.asked.append(-1)
            raise RuntimeError("the look failed")
        return super().relevant(statements)


def test_when_passing_over_fails_each_consumer_runs_on_its_own(
        app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    picky, flaky = _registered(app, Picky(), Flaky())
    mine = completed("http://example.org/mine")
    service.store_statements([completed("http://example.org/other"), mine])
    get_session().commit()
    locked = _locked(monkeypatch)
    handled = run_consumers(app)
    assert handled == 2 * len(registered_consumers(app))
    assert picky.seen == [mine["id"]] and flaky.seen == [mine["id"]]
    assert "picky" in locked and "picky-flaky" in locked
    top = get_session().scalar(sa.select(sa.func.max(Statement.seq)))
    get_session().expire_all()
    assert {c.last_seq for c in get_session().scalars(sa.select(ConsumerCursor))} == {top}


class Setting(StatementConsumer):
    """Reads, while it handles a batch, whether its transaction commits asynchronously."""

    name = "setting"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def handle(self, statement: StoredStatement) -> None:
        self.seen.append(get_session().scalar(sa.text("SHOW synchronous_commit")))


@pytest.mark.parametrize("asynchronous", [True, False])
def test_a_consumer_transaction_commits_asynchronously_on_postgresql_alone(
        app: Any, asynchronous: bool) -> None:
    """The cursor's lock also sets ``synchronous_commit`` off for that transaction only
    (``LMS_XAPI_CONSUMERS_ASYNC_COMMIT``, on by default): the connection, back in the pool,
    commits the next request's writes durably again."""
    if get_engine(app).dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (LMS_TEST_DATABASE_URL): SQLite has no such setting")
    setting = Setting()
    register_consumer(app, setting)
    app.config["XAPI_CONSUMERS_ASYNC_COMMIT"] = asynchronous
    try:
        _store(2)
        run_consumers(app)
    finally:
        app.config.pop("XAPI_CONSUMERS_ASYNC_COMMIT", None)
    assert setting.seen == ["off" if asynchronous else "on"] * 2
    with get_engine(app).connect() as connection:
        assert connection.scalar(sa.text("SHOW synchronous_commit")) == "on"
