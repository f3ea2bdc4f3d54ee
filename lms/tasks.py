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
import json
import logging
import os
import queue
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import click
import sqlalchemy as sa
from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_process_init
from flask import Blueprint, Flask, abort, current_app, jsonify, request, send_file, url_for
from flask.cli import with_appcontext
from flask_login import current_user, login_required
from sqlalchemy import event, orm
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Model, UTCDateTime, get_engine, get_session, utcnow

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

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    result = {"pulled": pull_all(), "consumed": run_consumers(app), "forwarded": deliver_all()}
    try:
        requeue_lost_jobs(app)
        purge_jobs(app)
    except Exception:  # the jobs wait for the next period
        log.exception("checking background jobs failed")
    return result


@celery.task(name="lms.jobs.run", acks_late=True, base=_AppTask)
def run_job_task(job_id: int) -> str:
    """Run one background job (see :func:`submit_job`); a second delivery is a no-op."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return run_job(app, job_id)


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


# --- background jobs ----------------------------------------------------------------------
#
# A job is a row (``job``) and, when it is done, a file under ``<instance>/jobs/<id>/``.
# Modules register job kinds (``register_job``); views submit jobs for the signed-in user
# (``submit_job``); the page follows the job through ``GET /jobs/<id>`` (static/js/jobs.js)
# and downloads the file from ``/jobs/<id>/download``. Who runs a job:
#
# - a broker is configured: a Celery worker (task ``lms.jobs.run``, acknowledged late; the
#   periodic task re-sends jobs whose message was lost or whose worker died);
# - no broker: a background thread of the app process (``JOBS_THREADS``, default 2), so
#   the request that submitted the job returns at once and a long export is not cut by
#   the app server's request timeout. A process that dies mid-job leaves a row whose
#   heartbeat goes stale: it is then shown as failed ("interrupted") instead of running
#   for ever. ``JOBS_INLINE = True`` (the default under ``TESTING``) runs the job inside
#   ``submit_job`` instead, after the commit, in its own app context: deterministic tests.
#
# A job claims its row with one conditional UPDATE (queued, or running with a stale
# heartbeat -> running), so a job delivered twice runs once.

JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED = "queued", "running", "done", "failed"
JOB_STATUSES = (JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED)
#: session.info key: (app, [job ids]) to start after the commit.
_JOBS_PENDING = "lms.tasks.jobs-pending"


class Job(Model):
    """A background job: what to run (``kind``, ``params``), for whom, and how far it is."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(100))
    #: Who submitted it: only they (and admins) see its status and download its file.
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(sa.String(10), default=JOB_QUEUED)
    progress: Mapped[int] = mapped_column(default=0)
    #: The last progress message, or why the job failed (in the submitter's language).
    message: Mapped[str | None] = mapped_column(sa.Text)
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: The submitter's UI language: the job runs under it (file contents, messages).
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    #: The file the job wrote, relative to the instance folder.
    result_path: Mapped[str | None] = mapped_column(sa.String(500))
    result_name: Mapped[str | None] = mapped_column(sa.String(255))
    attempts: Mapped[int] = mapped_column(default=0)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: The heartbeat: set when the job is claimed and at every progress report.
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def folder(self, app: Flask | None = None) -> Path:
        """``<instance>/jobs/<id>/``: where this job's files go."""
        app = app or current_app._get_current_object()  # type: ignore[attr-defined]
        return Path(app.instance_path) / "jobs" / str(self.id)

    def output(self, filename: str) -> Path:
        """The path to write the result file ``filename`` to (its folder is created)."""
        name = Path(filename).name
        if not name or name in (".", ".."):
            raise ValueError(f"bad result file name {filename!r}")
        folder = self.folder()
        folder.mkdir(parents=True, exist_ok=True)
        return folder / name


class JobError(Exception):
    """Raised by a job function: the job fails with this message, shown to the submitter
    (translate it; the job runs under the submitter's language)."""

    def __init__(self, message: Any):
        super().__init__(str(message))
        self.message = str(message)


class ProgressFn(Protocol):
    def __call__(self, percent: float, message: Any = None) -> None: ...


JobFunc = Callable[[Job, dict[str, Any], ProgressFn], "str | os.PathLike[str] | None"]

#: kind -> function. Process-wide: a Celery worker's app registers the same kinds.
_JOB_KINDS: dict[str, JobFunc] = {}


def register_job(kind: str, func: JobFunc) -> None:
    """Make ``kind`` runnable by :func:`submit_job`. Call it from a module's ``init_app``.

    ``func(job, params, progress)`` runs in its own app context and database session
    (commit what it writes), under the submitter's language. It writes its result to
    ``job.output("name.ext")`` and returns that path (or ``None`` for a job without a
    file); ``progress(percent, message=None)`` reports how far it is (0-100). Raise
    :class:`JobError` with a message for the submitter; any other exception fails the job
    with a generic message and is logged.
    """
    if not kind or len(kind) > 100:
        raise ValueError(f"bad job kind {kind!r}")
    previous = _JOB_KINDS.get(kind)
    if previous is not None and previous is not func and (
            getattr(previous, "__qualname__", None) != getattr(func, "__qualname__", None)
            or getattr(previous, "__module__", None) != getattr(func, "__module__", None)):
        raise ValueError(f"job kind {kind!r} is registered twice")
    _JOB_KINDS[kind] = func


def job_kinds() -> dict[str, JobFunc]:
    return dict(_JOB_KINDS)


def submit_job(kind: str, params: dict[str, Any] | None = None, *, user: Any,
               commit: bool = True) -> Job:
    """Queue a job of ``kind`` for ``user`` (a User, or None for a job only admins see).

    The row is added to the current session; with ``commit=True`` (the default) the
    session is committed here, otherwise the caller commits. The job starts after the
    commit (never before: a worker must see the row), and never if the caller rolls back.
    ``params`` must be JSON-serialisable.
    """
    if kind not in _JOB_KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    params = dict(params or {})
    json.dumps(params)  # fail here, not in a worker
    locale = None
    try:
        from flask_babel import get_locale

        found = get_locale()
        locale = str(found) if found is not None else None
    except Exception:  # no request (CLI): the default language
        locale = None
    session = get_session()
    job = Job(kind=kind, params=params, owner_id=getattr(user, "id", None), locale=locale,
              status=JOB_QUEUED, progress=0)
    session.add(job)
    session.flush()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    pending = session.info.setdefault(_JOBS_PENDING, [])
    pending.append((app, job.id))
    if commit:
        session.commit()
    return job


def _jobs_after_commit(session: orm.Session) -> None:
    for app, job_id in session.info.pop(_JOBS_PENDING, []):
        try:
            start_job(app, job_id)
        except Exception:  # the row stays queued; the periodic run or a retry picks it up
            log.exception("starting job %s failed", job_id)


def _jobs_after_rollback(session: orm.Session) -> None:
    session.info.pop(_JOBS_PENDING, None)


event.listen(orm.Session, "after_commit", _jobs_after_commit)
event.listen(orm.Session, "after_rollback", _jobs_after_rollback)


def job_mode(app: Flask) -> str:
    """How ``app`` runs jobs: ``celery``, ``inline`` or ``thread``."""
    if broker_url(app):
        return "celery"
    inline = app.config.get("JOBS_INLINE")
    if inline is None:
        inline = app.testing
    return "inline" if inline else "thread"


class _JobThreads:
    """The in-process runner (no broker): a queue and up to ``size`` daemon threads."""

    def __init__(self, app: Flask, size: int):
        self.app = app
        self.size = max(1, size)
        self.queue: queue.Queue[int] = queue.Queue()
        self.threads: list[threading.Thread] = []
        self.lock = threading.Lock()

    def submit(self, job_id: int) -> None:
        self.queue.put(job_id)
        with self.lock:
            self.threads = [t for t in self.threads if t.is_alive()]
            if len(self.threads) < self.size:
                thread = threading.Thread(target=self._loop, daemon=True,
                                          name=f"lms-jobs-{len(self.threads) + 1}")
                self.threads.append(thread)
                thread.start()

    def _loop(self) -> None:
        while True:
            try:
                job_id = self.queue.get(timeout=30)
            except queue.Empty:
                return  # idle: the next submit starts a thread again
            try:
                run_job(self.app, job_id)
            except Exception:
                log.exception("job %s crashed its runner", job_id)
            finally:
                self.queue.task_done()

    def join(self) -> None:
        self.queue.join()


def start_job(app: Flask, job_id: int) -> None:
    """Hand a committed, queued job to whoever runs jobs for ``app``."""
    mode = job_mode(app)
    if mode == "celery":
        run_job_task.apply_async(args=[job_id], retry=False)
    elif mode == "inline":
        run_job(app, job_id)
    else:
        runner = app.extensions.get("lms.tasks.jobs")
        if runner is None:
            runner = app.extensions["lms.tasks.jobs"] = _JobThreads(
                app, int(app.config.get("JOBS_THREADS", 2)))
        runner.submit(job_id)


def wait_for_jobs(app: Flask) -> None:
    """Block until the in-process runner of ``app`` has nothing left (tests, CLI)."""
    runner = app.extensions.get("lms.tasks.jobs")
    if runner is not None:
        runner.join()


def _stale_before(app: Flask) -> dt.datetime:
    return utcnow() - dt.timedelta(seconds=float(app.config.get("JOBS_STALE_SECONDS", 900)))


def _claim(app: Flask, job_id: int) -> bool:
    """Mark the job running if it is queued (or running with a dead heartbeat)."""
    now = utcnow()
    with get_engine(app).begin() as conn:
        result = conn.execute(
            sa.update(Job)
            .where(Job.id == job_id)
            .where(sa.or_(Job.status == JOB_QUEUED,
                          sa.and_(Job.status == JOB_RUNNING,
                                  Job.updated < _stale_before(app))))
            .values(status=JOB_RUNNING, progress=0, started=now, updated=now,
                    attempts=Job.attempts + 1, message=None))
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _set(app: Flask, job_id: int, **values: Any) -> None:
    values.setdefault("updated", utcnow())
    with get_engine(app).begin() as conn:
        conn.execute(sa.update(Job).where(Job.id == job_id).values(**values))


class _Progress:
    """``progress(percent, message=None)`` for a job function: writes at most about once a
    second (and on every message change), on its own connection."""

    def __init__(self, app: Flask, job_id: int):
        self.app = app
        self.job_id = job_id
        self.last: tuple[int, str | None] = (0, None)
        self.written = 0.0

    def __call__(self, percent: float, message: Any = None) -> None:
        import time

        value = max(0, min(99, int(percent)))  # 100 means done, set when it is
        text = None if message is None else str(message)
        now = time.monotonic()
        if (value, text) == self.last or (text == self.last[1] and now - self.written < 1.0):
            return
        self.last, self.written = (value, text), now
        _set(self.app, self.job_id, progress=value, message=text)


def run_job(app: Flask, job_id: int) -> str:
    """Run job ``job_id`` if nobody else does; returns its final status (or ``skipped``)."""
    from flask_babel import force_locale

    with app.app_context():
        if not _claim(app, job_id):
            return "skipped"
        session = get_session()
        job = session.get(Job, job_id)
        assert job is not None
        kind = job.kind
        folder = job.folder(app)
        func = _JOB_KINDS.get(kind)
        try:
            if func is None:
                raise JobError(f"unknown job kind {kind!r}")
            with force_locale(job.locale or app.config.get("BABEL_DEFAULT_LOCALE", "id")):
                result = func(job, dict(job.params or {}), _Progress(app, job_id))
            session.commit()
            values: dict[str, Any] = {"status": JOB_DONE, "progress": 100,
                                      "finished": utcnow()}
            if result is not None:
                path = Path(result).resolve()
                if folder.resolve() not in path.parents or not path.is_file():
                    raise RuntimeError(f"job {job_id} returned {path}, which is not a file "
                                       f"in {folder}")
                values["result_path"] = str(path.relative_to(Path(app.instance_path)
                                                              .resolve()))
                values["result_name"] = path.name
            _set(app, job_id, **values)
            return JOB_DONE
        except JobError as exc:
            session.rollback()
            _set(app, job_id, status=JOB_FAILED, message=exc.message, finished=utcnow())
        except Exception:
            session.rollback()
            log.exception("job %s (%s) failed", job_id, kind)
            _set(app, job_id, status=JOB_FAILED, message=None, finished=utcnow())
        shutil.rmtree(folder, ignore_errors=True)
        return JOB_FAILED


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


def _mark_interrupted(app: Flask, job: Job) -> None:
    """Without a broker a job whose heartbeat is stale has lost its process."""
    if job.status in (JOB_QUEUED, JOB_RUNNING) and job_mode(app) != "celery" \
            and job.updated < _stale_before(app):
        _set(app, job.id, status=JOB_FAILED, message="interrupted", finished=utcnow())
        get_session().refresh(job)


def purge_jobs(app: Flask, older_than_days: float | None = None) -> int:
    """Delete finished jobs (rows and files) older than ``JOBS_KEEP_DAYS`` (default 7)."""
    days = float(app.config.get("JOBS_KEEP_DAYS", 7) if older_than_days is None
                 else older_than_days)
    before = utcnow() - dt.timedelta(days=days)
    with get_engine(app).begin() as conn:
        ids = conn.scalars(sa.select(Job.id).where(
            Job.status.in_((JOB_DONE, JOB_FAILED)), Job.created < before)).all()
        if ids:
            conn.execute(sa.delete(Job).where(Job.id.in_(ids)))
    for job_id in ids:
        shutil.rmtree(Path(app.instance_path) / "jobs" / str(job_id), ignore_errors=True)
    return len(ids)


def job_status(job: Job) -> dict[str, Any]:
    """The JSON a page polls (``GET /jobs/<id>``)."""
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress,
        "message": job.message,
        "done": job.status == JOB_DONE,
        "failed": job.status == JOB_FAILED,
        "status_url": url_for("jobs.status", job_id=job.id),
        "download_url": (url_for("jobs.download", job_id=job.id)
                         if job.status == JOB_DONE and job.result_path else None),
        "filename": job.result_name,
        "created": job.created.isoformat() if job.created else None,
        "finished": job.finished.isoformat() if job.finished else None,
    }


def job_response(job: Job) -> Any:
    """What a view returns after :func:`submit_job`: 202 with the job's status JSON."""
    return jsonify(job_status(job)), 202


jobs_bp = Blueprint("jobs", __name__, url_prefix="/jobs")


def _visible_job(job_id: int) -> Job:
    job = get_session().get(Job, job_id)
    if job is None:
        abort(404)
    if job.owner_id != current_user.id and not current_user.has_role("admin"):
        abort(403)
    return job


@jobs_bp.get("/")
@login_required
def mine() -> Any:
    """The signed-in user's 20 latest jobs (optionally of one ``kind``)."""
    query = sa.select(Job).where(Job.owner_id == current_user.id)
    kind = request.args.get("kind")
    if kind:
        query = query.where(Job.kind == kind)
    jobs = get_session().scalars(query.order_by(Job.id.desc()).limit(20)).all()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for job in jobs:
        _mark_interrupted(app, job)
    return jsonify(jobs=[job_status(job) for job in jobs])


@jobs_bp.get("/<int:job_id>")
@login_required
def status(job_id: int) -> Any:
    job = _visible_job(job_id)
    _mark_interrupted(current_app._get_current_object(), job)  # type: ignore[attr-defined]
    response = jsonify(job_status(job))
    response.headers["Cache-Control"] = "no-store"
    return response


@jobs_bp.get("/<int:job_id>/download")
@login_required
def download(job_id: int) -> Any:
    job = _visible_job(job_id)
    if job.status != JOB_DONE or not job.result_path:
        abort(404)
    path = Path(current_app.instance_path) / job.result_path
    if not path.is_file():  # purged under the row's feet
        abort(404)
    response = send_file(path, as_attachment=True, download_name=job.result_name or path.name,
                         max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@click.group("jobs")
def jobs_group() -> None:
    """Background jobs (exports, PDFs): list, run, purge."""


@jobs_group.command("list")
@click.option("--limit", default=20, show_default=True)
@with_appcontext
def jobs_list(limit: int) -> None:
    """The latest jobs."""
    for job in get_session().scalars(sa.select(Job).order_by(Job.id.desc()).limit(limit)):
        click.echo(f"{job.id}\t{job.kind}\t{job.status}\t{job.progress}%\t"
                   f"{job.owner_id or '-'}\t{job.created:%Y-%m-%d %H:%M}\t{job.message or ''}")


@jobs_group.command("run")
@click.argument("job_id", type=int)
@with_appcontext
def jobs_run(job_id: int) -> None:
    """Run a queued (or stuck) job here, now."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(run_job(app, job_id))


@jobs_group.command("purge")
@click.option("--days", default=None, type=float,
              help="Keep finished jobs this many days (default: LMS_JOBS_KEEP_DAYS, 7).")
@with_appcontext
def jobs_purge(days: float | None) -> None:
    """Delete finished jobs and their files."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"{purge_jobs(app, days)} job(s) deleted")


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
    app.cli.add_command(jobs_group)
    app.register_blueprint(jobs_bp)
    if not broker_url(app):
        return
    configure(app)
    app.extensions["lms.xapi.dispatch"] = dispatch_consumers
