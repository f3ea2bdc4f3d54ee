"""Background jobs (exports, certificate PDFs...) that a page starts and follows.

A job is a row (``job``) and, when it is done, a file under ``<instance>/jobs/<id>/``.
Modules register job kinds (``register_job``); views submit jobs for the signed-in user
(``submit_job``); the page follows the job through ``GET /jobs/<id>`` (static/js/jobs.js)
and downloads the file from ``/jobs/<id>/download``. Who runs a job:

- a broker is configured: a Celery worker (task ``lms.jobs.run``, acknowledged late; the
  periodic task re-sends jobs whose message was lost or whose worker died);
- no broker: a background thread of the app process (``JOBS_THREADS``, default 2), so
  the request that submitted the job returns at once and a long export is not cut by
  the app server's request timeout. A process that dies mid-job leaves a row whose
  heartbeat goes stale: it is then shown as failed ("interrupted") instead of running
  for ever. ``JOBS_INLINE = True`` (the default under ``TESTING``) runs the job inside
  ``submit_job`` instead, after the commit, in its own app context: deterministic tests.

A job claims its row with one conditional UPDATE (queued, or running with a stale
heartbeat -> running), so a job delivered twice runs once.

- :mod:`lms.jobs.models`: the ``job`` table;
- :mod:`lms.jobs.service`: job kinds (the ``jobs`` registry), submitting, running;
- :mod:`lms.jobs.views`: ``/jobs/...``; :mod:`lms.jobs.cli`: ``lms jobs ...``.

The Celery side (the ``lms.jobs.run`` task) lives with the Celery app in :mod:`lms.tasks`.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from lms.jobs.cli import jobs_group
    from lms.jobs.service import init_after_commit
    from lms.jobs.views import jobs_bp

    app.cli.add_command(jobs_group)
    app.register_blueprint(jobs_bp)
    init_after_commit()
