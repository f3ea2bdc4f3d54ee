"""Background jobs: kinds, submitting, running, claiming, purging (see :mod:`lms.jobs`)."""

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

import sqlalchemy as sa
from flask import Flask, jsonify, url_for

from lms.config import broker_url
from lms.db import after_commit, dispatch, get_engine, get_session, on_commit, utcnow
from lms.jobs.models import (
    JOB_DONE,
    JOB_FAILED,
    JOB_QUEUED,
    JOB_RUNNING,
    JOBS_KIND,
    Job,
)
from lms.plugins import registry

log = logging.getLogger(__name__)

#: The after-commit handler that starts committed jobs (lms.db.on_commit).
START = "jobs.start"


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
#: (The ``jobs`` registry of lms.plugins.registry.)
_JOB_KINDS: dict[str, JobFunc] = registry.JOBS


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
    try:
        registry.JOBS.add(kind, func)
    except registry.DuplicateName as exc:
        raise ValueError(f"job kind {kind!r} is registered twice") from exc


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
    after_commit(JOBS_KIND, job.id, session=session)
    if commit:
        session.commit()
    return job


def _start_in_process(app: Flask, job_ids: list[int]) -> None:
    """After a commit that queued jobs, without a broker: run them in this request
    (``JOBS_INLINE``, the tests' default) or on the process's job threads."""
    for job_id in job_ids:
        try:
            if job_mode(app) == "inline":
                run_job(app, job_id)
            else:
                runner = app.extensions.get("lms.tasks.jobs")
                if runner is None:
                    runner = app.extensions["lms.tasks.jobs"] = _JobThreads(
                        app, int(app.config.get("JOBS_THREADS", 2)))
                runner.submit(job_id)
        except Exception:  # the row stays queued; the periodic run or a retry picks it up
            log.exception("starting job %s failed", job_id)


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
    """Hand a committed, queued job to whoever runs jobs for ``app`` (lms.db.dispatch
    decides: a worker when a broker is configured, else this process)."""
    dispatch(app, {JOBS_KIND: [job_id]})


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


def mark_interrupted(app: Flask, job: Job) -> None:
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


def init_after_commit() -> None:
    """A committed job starts in this process (with a broker, :mod:`lms.tasks` gives the
    handler its worker side: a Celery task per job)."""
    on_commit(START, JOBS_KIND, inline=_start_in_process)
