"""Background work: in process without a broker, queued on Celery (Redis) with one."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from lms.db import get_session
from lms.xapi.models import ConsumerCursor, Statement
from tests.scale.conftest import completed

REDIS = "redis://127.0.0.1:6379/7"


@pytest.fixture
def redis_client() -> Any:
    import redis

    client = redis.Redis.from_url(REDIS, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS}")
    yield client
    client.close()


def _cursors() -> dict[str, int]:
    get_session().expire_all()
    rows = {row[0]: row[1] for row in get_session().execute(
        sa.select(ConsumerCursor.name, ConsumerCursor.last_seq))}
    get_session().commit()
    return rows


def test_worker_command_needs_a_broker(runner: Any) -> None:
    result = runner.invoke(args=["worker"])
    assert result.exit_code == 1
    assert "LMS_CELERY_BROKER_URL" in result.output


def test_without_a_broker_consumers_run_after_the_commit(app: Any, history: Any) -> None:
    from lms.xapi.service import store_statements

    store_statements([completed(history["nips"][0], 1)])
    get_session().commit()
    top = get_session().scalar(sa.select(sa.func.max(Statement.seq)))
    assert set(_cursors().values()) == {top}


def test_with_a_broker_a_commit_queues_one_consumers_run(
        history: Any, make_app: Any, redis_client: Any) -> None:
    from lms import tasks
    from lms.xapi.service import store_statements

    queue = f"lentera-test-{uuid.uuid4().hex[:8]}"
    redis_client.delete(tasks.QUEUED_KEY)
    app = make_app(CELERY_BROKER_URL=REDIS, CELERY_QUEUE=queue)
    try:
        before = _cursors()
        with app.app_context():
            for i in range(3):  # a burst of commits: one queued run
                store_statements([completed(history["nips"][i], i)])
                get_session().commit()
        assert _cursors() == before  # nothing ran in the request
        assert redis_client.llen(queue) == 1
        # The run waits XAPI_CONSUMERS_GATHER_SECONDS, so it takes what arrives meanwhile.
        import json

        message = json.loads(redis_client.lindex(queue, 0))
        assert message["headers"]["eta"] is not None
        # What a worker does with the message (run here, in this process):
        handled = tasks.run_consumers_task.apply().get()
        assert handled > 0
        top = get_session().scalar(sa.select(sa.func.max(Statement.seq)))
        assert set(_cursors().values()) == {top}
        assert not redis_client.exists(tasks.QUEUED_KEY)
        assert tasks.periodic_task.apply().get() == {"pulled": 0, "consumed": 0,
                                                     "forwarded": 0}
    finally:
        redis_client.delete(queue, tasks.QUEUED_KEY)


def test_with_the_broker_away_statements_are_still_stored(history: Any,
                                                          make_app: Any) -> None:
    from lms.xapi.service import store_statements

    app = make_app(CELERY_BROKER_URL="redis://127.0.0.1:1/7")  # nothing listens there
    with app.app_context():
        ids = store_statements([completed(history["nips"][0], 1)])
        get_session().commit()
    assert get_session().scalar(sa.select(Statement.statement_id)) == ids[0]


def test_commits_before_the_queued_run_starts_do_not_ask_redis_again(
        history: Any, make_app: Any, redis_client: Any, monkeypatch: Any) -> None:
    from lms import tasks
    from lms.xapi.service import store_statements

    queue = f"lentera-test-{uuid.uuid4().hex[:8]}"
    redis_client.delete(tasks.QUEUED_KEY)
    app = make_app(CELERY_BROKER_URL=REDIS, CELERY_QUEUE=queue,
                   XAPI_CONSUMERS_GATHER_SECONDS=30)
    asked: list[int] = []
    client = tasks._redis(app)
    real = client.pipeline
    monkeypatch.setattr(client, "pipeline", lambda **kw: asked.append(1) or real(**kw))
    try:
        with app.app_context():
            for i in range(4):
                store_statements([completed(history["nips"][i], i)])
                get_session().commit()
        # The first commit queued the run and learnt when it starts; the others knew.
        assert len(asked) == 1
        assert redis_client.llen(queue) == 1
    finally:
        redis_client.delete(queue, tasks.QUEUED_KEY)
