"""The job pages: ``/jobs/`` (mine), ``/jobs/<id>`` (status JSON), the download."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, jsonify, request, send_file
from flask_login import current_user, login_required

from lms.db import get_session
from lms.jobs.models import JOB_DONE, Job
from lms.jobs.service import job_status, mark_interrupted

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
        mark_interrupted(app, job)
    return jsonify(jobs=[job_status(job) for job in jobs])


@jobs_bp.get("/<int:job_id>")
@login_required
def status(job_id: int) -> Any:
    job = _visible_job(job_id)
    mark_interrupted(current_app._get_current_object(), job)  # type: ignore[attr-defined]
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
