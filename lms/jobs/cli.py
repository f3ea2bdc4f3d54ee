"""``lms jobs list|run|purge``."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from lms.db import get_session
from lms.jobs.models import Job
from lms.jobs.service import purge_jobs, run_job


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
