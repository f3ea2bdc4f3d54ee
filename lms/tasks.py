"""Background work on Celery (Redis broker) when one is configured; in process otherwise.

``LMS_CELERY_BROKER_URL`` (default: ``LMS_REDIS_URL``) turns it on. Then a commit that
stored statements no longer runs the statement consumers in the request: it queues one
``lms.run_consumers`` task (at most one waits in the queue at a time), and ``lms worker``
processes run them. Every worker also runs the consumers, forwarding and due pulls on a
short period (Celery beat, embedded with ``lms worker --beat``), so a message lost with a
restarted Redis or a killed worker only delays work: the consumers' cursors in the
database, not the queue, say what is done.

Exactly once: the tasks only call :func:`lms.xapi.consumers.run_consumers`, whose cursor
lock serialises concurrent runs of a consumer (a row lock on PostgreSQL), and whose writes
commit with the cursor advance. Tasks are acknowledged late, so a killed worker's task is
delivered again; running it twice is harmless.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import click
from celery import Celery
from celery.signals import worker_process_init
from flask import Flask, current_app
from flask.cli import with_appcontext

log = logging.getLogger(__name__)

celery = Celery("lms", set_as_current=False)
#: The Flask app tasks run in (set by init_app; created on demand in a bare celery worker).
_flask_app: Flask | None = None

#: Redis key that marks a queued consumers run (so a burst of commits queues one task).
QUEUED_KEY = "lms:tasks:consumers-queued"
FORWARD_QUEUED_KEY = "lms:tasks:forwarding-queued"


def broker_url(app: Flask) -> str:
    """The broker URL of ``app`` ('' when background work runs in process)."""
    return str(app.config.get("CELERY_BROKER_URL") or app.config.get("REDIS_URL") or "")


def _app() -> Flask:
    global _flask_app
    if _flask_app is None:  # a worker started as ``celery -A lms.tasks worker``
        from lms import create_app

        _flask_app = create_app()
    return _flask_app


class _AppTask(celery.Task):  # type: ignore[name-defined,misc]
    """Runs the task body inside an app context of the Lentera app."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with _app().app_context():
            return self.run(*args, **kwargs)


@worker_process_init.connect
def _after_fork(**_kw: Any) -> None:
    # Connections inherited from the parent process must not be shared after fork.
    if _flask_app is not None:
        from lms.db import get_engine

        get_engine(_flask_app).dispose(close=False)


def _redis(app: Flask) -> Any:
    client = app.extensions.get("lms.tasks.redis")
    if client is None:
        import redis

        client = redis.Redis.from_url(broker_url(app), socket_timeout=2,
                                      socket_connect_timeout=2)
        app.extensions["lms.tasks.redis"] = client
    return client


#: After the broker failed, requests stop trying for this long (the periodic run catches up).
BROKER_PAUSE_SECONDS = 5.0


def _queue_once(app: Flask, key: str, task: Any) -> None:
    """Queue ``task`` unless one is queued already (the key expires as a safety net).

    While the broker is away, only one attempt per :data:`BROKER_PAUSE_SECONDS` is made,
    so requests do not each wait for a connection timeout.
    """
    import time

    if time.monotonic() < app.extensions.get("lms.tasks.paused_until", 0.0):
        return
    try:
        if _redis(app).set(key, "1", nx=True, ex=30):
            try:
                task.apply_async(retry=False)
            except Exception:
                _redis(app).delete(key)
                raise
    except Exception:
        app.extensions["lms.tasks.paused_until"] = time.monotonic() + BROKER_PAUSE_SECONDS
        raise


@celery.task(name="lms.run_consumers", acks_late=True, base=_AppTask)
def run_consumers_task() -> int:
    """Feed every statement consumer what it has not handled (see lms.xapi.consumers)."""
    from lms.xapi.consumers import run_consumers

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # Cleared before reading: a statement stored from now on queues another run.
    try:
        _redis(app).delete(QUEUED_KEY)
    except Exception:  # Redis away: the run below is still right
        log.warning("could not clear the queued-run marker", exc_info=True)
    return run_consumers(app)


@celery.task(name="lms.forwarding.deliver", acks_late=True, base=_AppTask)
def deliver_task() -> int:
    """Send every forwarding target its pending statements."""
    from lms.forwarding.service import deliver_all

    try:
        _redis(current_app).delete(FORWARD_QUEUED_KEY)
    except Exception:
        log.warning("could not clear the queued-delivery marker", exc_info=True)
    return deliver_all()


@celery.task(name="lms.forwarding.pull", acks_late=True, base=_AppTask)
def pull_task() -> int:
    """Pull from every source that is due."""
    from lms.forwarding.service import pull_all

    return pull_all()


@celery.task(name="lms.periodic", acks_late=True, base=_AppTask)
def periodic_task() -> dict[str, int]:
    """The safety net and the schedule: consumers, forwarding, due pulls."""
    from lms.forwarding.service import deliver_all, pull_all
    from lms.xapi.consumers import run_consumers

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return {"pulled": pull_all(), "consumed": run_consumers(app), "forwarded": deliver_all()}


def dispatch_consumers(app: Flask) -> None:
    """After a commit that stored statements: queue a consumers run (one at a time)."""
    _queue_once(app, QUEUED_KEY, run_consumers_task)


def dispatch_forwarding(app: Flask) -> None:
    """After a commit that stored statements: queue a delivery run (one at a time)."""
    _queue_once(app, FORWARD_QUEUED_KEY, deliver_task)


def configure(app: Flask) -> None:
    """Point the Celery app at ``app``'s broker and make ``app`` the tasks' app."""
    global _flask_app
    _flask_app = app
    url = broker_url(app)
    celery.conf.update(
        broker_url=url,
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": 300},
        timezone="UTC",
        task_default_queue=str(app.config.get("CELERY_QUEUE") or "lentera"),
        beat_schedule={"lms-periodic": {
            "task": "lms.periodic",
            "schedule": float(app.config.get("TASKS_PERIOD_SECONDS", 10)),
        }},
    )


@click.command("worker")
@click.option("--concurrency", "-c", default=2, show_default=True, type=int,
              help="Worker processes.")
@click.option("--beat/--no-beat", default=True, show_default=True,
              help="Also run the periodic schedule (one worker per deployment needs it; "
                   "several running it is harmless).")
@click.option("--loglevel", default="info", show_default=True)
@click.option("--pool", default="prefork", show_default=True,
              type=click.Choice(["prefork", "threads", "solo"]))
@with_appcontext
def worker_command(concurrency: int, beat: bool, loglevel: str, pool: str) -> None:
    """Run a Celery worker for statement consumers, forwarding and pulling."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not broker_url(app):
        click.secho("No broker configured: set LMS_CELERY_BROKER_URL or LMS_REDIS_URL "
                    "(e.g. redis://127.0.0.1:6379/0). Without one, this work runs inside the "
                    "app servers and no worker is needed.", fg="red", err=True)
        raise SystemExit(1)
    configure(app)
    argv = ["worker", f"--concurrency={concurrency}", f"--loglevel={loglevel}",
            f"--pool={pool}", "--without-gossip", "--without-mingle",
            f"--hostname=lms-{os.getpid()}@%h"]
    if beat:
        schedule = os.path.join(app.instance_path, "celerybeat-schedule")
        argv += ["--beat", f"--schedule={schedule}"]
    celery.worker_main(argv)


def init_app(app: Flask) -> None:
    """With a broker: run consumers and forwarding on workers. Always: ``lms worker``."""
    app.cli.add_command(worker_command)
    if not broker_url(app):
        return
    configure(app)
    app.extensions["lms.xapi.dispatch"] = dispatch_consumers
