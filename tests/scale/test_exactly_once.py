"""Consumers stay exactly-once when several workers run them at once, and when a worker
is killed in the middle of a batch (PostgreSQL: row locks on the cursors)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from lms.db import get_session
from lms.xapi.consumers import consumer_status, run_consumers
from lms.xapi.models import Statement
from tests.scale.conftest import derived, rebuild_everything, workload

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def postgresql(app: Any) -> None:
    if get_session().get_bind().dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (LMS_TEST_DATABASE_URL): SQLite has one writer, so "
                    "concurrent workers cannot race there")


def _store(app: Any, batches: list[list[dict[str, Any]]]) -> None:
    from lms.xapi.service import store_statements

    with app.app_context():
        for batch in batches:
            store_statements(batch)
            get_session().commit()


def test_three_workers_on_one_stream_count_everything_once(
        postgresql: None, history: dict[str, Any], make_app: Any) -> None:
    feeder = make_app(XAPI_CONSUMERS_INLINE=False)
    workers = [make_app(XAPI_CONSUMERS_INLINE=False) for _ in range(3)]
    batches = workload(history["nips"], 150)
    done = threading.Event()
    errors: list[BaseException] = []
    handled = [0, 0, 0]

    def work(i: int) -> None:
        try:
            while True:
                finished = done.is_set()
                n = run_consumers(workers[i])
                handled[i] += n
                if finished and n == 0:
                    return
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    try:
        _store(feeder, batches)
    finally:
        done.set()
        for t in threads:
            t.join(120)
    assert not errors
    assert all(not t.is_alive() for t in threads)
    with workers[0].app_context():
        status = {row["name"]: row for row in consumer_status()}
    assert all(row["pending"] == 0 and row["last_error"] is None for row in status.values())
    # Every worker took part, and statements x consumers were handled once in total.
    assert sum(1 for n in handled if n) >= 2
    total = get_session().scalar(sa.select(sa.func.count()).select_from(Statement))
    assert sum(handled) == total * len(status)
    incremental = derived()
    assert incremental["jp"]  # there is something to compare
    rebuild_everything()
    assert derived() == incremental


KILLED_WORKER = """
import os, sys
from lms import create_app
from lms.xapi import consumers
app = create_app({"TESTING": True, "DATABASE_URL": os.environ["DB"], "BASE_URL": "http://lentera.test",
                  "SECRET_KEY": "test-secret-key", "INSTANCE_PATH": os.environ["INSTANCE"],
                  "XAPI_CONSUMERS_INLINE": False})
consumers.BATCH_SIZE = 20
seen = [0]
def count(handed):
    # Statements handed to consumers (each consumer is handed only those it finds
    # relevant): once 50 went by, stop in the middle of a batch, after committed ones.
    seen[0] += handed
    if seen[0] >= 50:
        print("mid-batch", flush=True)
        sys.stdin.readline()  # wait here until killed
for consumer in consumers.registered_consumers(app).values():
    if hasattr(consumer, "handle_batch"):  # it gets each batch whole (handle may be its own)
        def batch(statements, real=consumer.handle_batch):
            real(statements)
            count(len(statements))
        consumer.handle_batch = batch
    else:
        def one(statement, real=consumer.handle):
            real(statement)
            count(1)
        consumer.handle = one
consumers.run_consumers(app)
print("finished", flush=True)
"""


def test_a_worker_killed_mid_batch_loses_nothing(postgresql: None, history: dict[str, Any],
                                                 make_app: Any, database_url: str,
                                                 tmp_path: Path) -> None:
    feeder = make_app(XAPI_CONSUMERS_INLINE=False)
    _store(feeder, workload(history["nips"], 40, seed=11))
    env = dict(os.environ, DB=database_url, INSTANCE=str(tmp_path), PYTHONPATH=str(ROOT))
    worker = subprocess.Popen([sys.executable, "-c", KILLED_WORKER], env=env, cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "mid-batch"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
        worker.stdin.close()  # type: ignore[union-attr]
        worker.stdout.close()  # type: ignore[union-attr]
    with feeder.app_context():
        status = {row["name"]: row for row in consumer_status()}
    assert any(row["pending"] for row in status.values())  # it died with work left
    assert run_consumers(make_app(XAPI_CONSUMERS_INLINE=False)) > 0
    incremental = derived()
    rebuild_everything()
    assert derived() == incremental
