"""Background work on Celery (Redis broker) when one is configured; in process otherwise.

``LMS_CELERY_BROKER_URL`` (default: ``LMS_REDIS_URL``) turns it on. Then a commit that
stored statements no longer runs the statement consumers in the request: it queues one
``lms.run_consumers`` task (at most one waits in the queue at a time), and ``lms worker``
processes run them. Every worker also runs the consumers, forwarding and due pulls on a
short period (Celery beat, embedded with ``lms worker --beat``), so a message lost with a
restarted Redis or a killed worker only delays work: the consumers' cursors in the
database, not the queue, say what is done.

Background jobs (:func:`submit_job`, :func:`register_job`): a module registers a job
kind, a view submits a job for the signed-in user, and the page follows it through
``GET /jobs/<id>`` (JSON) and downloads the file it wrote from ``/jobs/<id>/download``;
see docs/plugins.md ("Background jobs").

Exactly once: the tasks only call :func:`lms.xapi.consumers.run_consumers`, whose cursor
lock serialises concurrent runs of a consumer (a row lock on PostgreSQL), and whose writes
commit with the cursor advance. Tasks are acknowledged late, so a killed worker's task is
delivered again; running it twice is harmless.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from typing import Any

import click
import sqlalchemy as sa
from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_process_init
from flask import Flask, current_app
from flask.cli import with_appcontext

from lms.config import broker_url as config_broker_url
from lms.db import get_engine, on_commit_worker, utcnow
from lms.forwarding import DELIVER

# Job names other modules import from here (from before lms.jobs existed) stay importable
# from lms.tasks until every caller uses lms.jobs: hence the F401 exemptions.
from lms.jobs.models import (  # noqa: F401
    JOB_DONE,
    JOB_FAILED,
    JOB_QUEUED,
    JOB_RUNNING,
    JOB_STATUSES,
    Job,
)
from lms.jobs.service import (  # noqa: F401
    _JOB_KINDS,
    START,
    JobError,
    JobFunc,
    ProgressFn,
    _set,
    _stale_before,
    job_kinds,
    job_mode,
    job_response,
    job_status,
    purge_jobs,
    register_job,
    run_job,
    start_job,
    submit_job,
    wait_for_jobs,
)
from lms.mail import SEND
from lms.xapi.consumers import CONSUME

log = logging.getLogger(__name__)

celery = Celery("lms", set_as_current=False)
#: The Flask app tasks run in (set by init_app; created on demand in a bare celery worker).
_flask_app: Flask | None = None

#: Redis key that marks a queued consumers run (so a burst of commits queues one task).
QUEUED_KEY = "lms:tasks:consumers-queued"
FORWARD_QUEUED_KEY = "lms:tasks:forwarding-queued"


def broker_url(app: Flask) -> str:
    """The broker URL of ``app`` (an alias of :func:`lms.config.broker_url`)."""
    return config_broker_url(app)


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
        from lms.db import dispose_autocommit_engine, get_engine

        dispose_autocommit_engine(_flask_app, close=False)
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


def _queue_once(app: Flask, key: str, task: Any, countdown: float = 0.0) -> None:
    """Queue ``task`` unless one is queued already (the key expires as a safety net).

    ``countdown``: the task starts that many seconds later, and commits meanwhile find the
    key set and queue nothing, so the run takes all they stored at once.
    While the broker is away, only one attempt per :data:`BROKER_PAUSE_SECONDS` is made,
    so requests do not each wait for a connection timeout.
    """
    import time

    if time.monotonic() < app.extensions.get("lms.tasks.paused_until", 0.0):
        return
    starts = f"lms.tasks.starts:{key}"
    if countdown and time.time() < app.extensions.get(starts, 0.0):
        return  # a run starts later than this commit: it takes its statements; no need to ask
    try:
        if not countdown:
            if _redis(app).set(key, "1", nx=True, ex=30):
                try:
                    task.apply_async(retry=False)
                except Exception:
                    _redis(app).delete(key)
                    raise
            return
        # The key holds when the queued run starts; one round trip sets it or reads it.
        eta = time.time() + countdown
        pipe = _redis(app).pipeline(transaction=False)
        pipe.set(key, repr(eta), nx=True, ex=30 + int(countdown))
        pipe.get(key)
        queued, value = pipe.execute()
        if queued:
            try:
                task.apply_async(retry=False, countdown=countdown)
            except Exception:
                _redis(app).delete(key)
                raise
        try:
            # (A margin for the clocks of other machines.)
            app.extensions[starts] = float(value) - 0.1
        except (TypeError, ValueError):  # gone meanwhile, or set by an older release
            app.extensions.pop(starts, None)
    except Exception:
        app.extensions["lms.tasks.paused_until"] = time.monotonic() + BROKER_PAUSE_SECONDS
        raise


#: The base class for other modules' Celery tasks (an app context and a DB session).
AppTask = _AppTask


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


@celery.task(name="lms.mail.send", acks_late=True, base=_AppTask)
def send_mail_task() -> dict[str, int]:
    """Send every due outbox message; a second delivery of the task is harmless."""
    from lms.mail.service import send_pending

    return send_pending()


#: After the broker refused a mail task: don't ask it again before this (monotonic) time.
_mail_paused_until = 0.0


def _queue_mail(app: Flask, _items: list[Any]) -> None:
    """After a commit that queued mail, with a broker: queue the sending task."""
    global _mail_paused_until
    if not app.config.get("MAIL_BACKGROUND", not app.testing):
        return
    if time.monotonic() < _mail_paused_until:
        return
    try:
        send_mail_task.apply_async(retry=False)
    except Exception:  # the outbox keeps it; `lms mail send` or the next commit sends
        _mail_paused_until = time.monotonic() + 5
        log.warning("could not queue the e-mail task", exc_info=True)


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
    """The safety net and the schedule: consumers, forwarding, due pulls, lost jobs."""
    from lms.forwarding.service import deliver_all, pull_all
    from lms.xapi.consumers import run_consumers
    from lms.xapi.partitions import keep_months_ahead

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    result = {"pulled": pull_all(), "consumed": run_consumers(app), "forwarded": deliver_all()}
    try:
        requeue_lost_jobs(app)
        purge_jobs(app)
    except Exception:  # the jobs wait for the next period
        log.exception("checking background jobs failed")
    try:  # this month's and next month's statement partitions (PostgreSQL)
        keep_months_ahead(get_engine(app))
    except Exception:  # the default partitions take the rows meanwhile
        log.exception("creating the statement partitions failed")
    return result


@celery.task(name="lms.jobs.run", acks_late=True, base=_AppTask)
def run_job_task(job_id: int) -> str:
    """Run one background job (see :func:`submit_job`); a second delivery is a no-op."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return run_job(app, job_id)


def dispatch_consumers(app: Flask) -> None:
    """After a commit that stored statements: queue a consumers run (one at a time).

    The run starts ``XAPI_CONSUMERS_GATHER_SECONDS`` (0.5) later: a run's cost is mostly
    fixed (a transaction, a cursor lock and a read per consumer), so under a stream of
    single-statement POSTs a run per handful of statements cost the worker as much CPU as
    storing them; gathered, a run takes hundreds at once. The consumers' lag grows by
    that much at most (``/admin/lrs/consumers`` shows it)."""
    gather = float(app.config.get("XAPI_CONSUMERS_GATHER_SECONDS", 0.5))
    _queue_once(app, QUEUED_KEY, run_consumers_task, countdown=max(gather, 0.0))


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
        beat_schedule={
            "lms-periodic": {
                "task": "lms.periodic",
                "schedule": float(app.config.get("TASKS_PERIOD_SECONDS", 10)),
            },
            # The outbox's safety net (app processes also send right after each commit)
            # and the level-3 follow-ups; both are idempotent, so a missed beat is harmless.
            "lms-mail-send": {"task": "lms.mail.send", "schedule": 60.0},
            "lms-evaluation-remind": {"task": "lms.evaluation.remind", "schedule": 3600.0},
            # Grades for LTI platforms: the safety net of the send after each commit.
            "lms-lti-scores": {"task": "lms.lti.send_scores", "schedule": 60.0},
            # Mandatory learning: audiences, yearly cycles and reminders, once a night
            # (01:30 WIB); idempotent, a stage is never mailed twice.
            "lms-assignments-nightly": {"task": "lms.assignments.nightly",
                                        "schedule": crontab(hour=18, minute=30)},
            # Timed quiz attempts left by their learner end at the deadline (idempotent).
            "lms-quizzes-close-expired": {"task": "lms.quizzes.close_expired",
                                          "schedule": 60.0},
        },
    )


def _start_on_worker(app: Flask, job_ids: list[int]) -> None:
    """After a commit that queued jobs, with a broker: one Celery task per job."""
    for job_id in job_ids:
        try:
            run_job_task.apply_async(args=[job_id], retry=False)
        except Exception:  # the row stays queued; the periodic run picks it up
            log.exception("queueing job %s failed", job_id)



def requeue_lost_jobs(app: Flask) -> int:
    """With a broker: send again jobs whose message was lost (queued for a minute) or
    whose worker died (running with a stale heartbeat)."""
    if job_mode(app) != "celery":
        return 0
    minute_ago = utcnow() - dt.timedelta(seconds=60)
    with get_engine(app).connect() as conn:
        ids = conn.scalars(sa.select(Job.id).where(sa.or_(
            sa.and_(Job.status == JOB_QUEUED, Job.updated < minute_ago),
            sa.and_(Job.status == JOB_RUNNING, Job.updated < _stale_before(app))))).all()
    for job_id in ids:
        _set(app, job_id)  # one re-send per minute at most
        run_job_task.apply_async(args=[job_id], retry=False)
    return len(ids)



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
    """Run a Celery worker for statement consumers, forwarding, pulling and background jobs."""
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
    """With a broker: run consumers, forwarding and jobs on workers. Always: ``lms worker``,
    ``lms jobs`` and the job status pages."""
    app.cli.add_command(worker_command)
    on_commit_worker(START, _start_on_worker)
    # With a broker, the consumers and forwarding run on workers (lms.db.dispatch asks).
    on_commit_worker(CONSUME, _queue_consumers)
    on_commit_worker(DELIVER, _queue_delivery)
    on_commit_worker(SEND, _queue_mail)
    if not broker_url(app):
        return
    configure(app)


def _queue_consumers(app: Flask, _items: list[Any]) -> None:
    dispatch_consumers(app)


def _queue_delivery(app: Flask, _items: list[Any]) -> None:
    from lms.forwarding import wants_delivery

    if wants_delivery(app):
        dispatch_forwarding(app)
