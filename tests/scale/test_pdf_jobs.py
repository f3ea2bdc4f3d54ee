"""Certificate and transcript PDFs as background jobs (lms.plugins.jobs)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from lms.db import get_session
from lms.tasks import Job, submit_job
from tests import factories
from tests.courses.conftest import course, course_dir  # noqa: F401  (fixtures)

BASE = "http://lentera.test"
COURSE = f"{BASE}/courses/mini-kursus"


def _complete(*users: Any) -> list[str]:
    from lms.courses.models import Completion
    from lms.xapi.service import store_statements

    store_statements([{
        "actor": {"objectType": "Agent", "account": {"homePage": BASE, "name": u.nip}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": COURSE}} for u in users])
    get_session().commit()
    return [get_session().scalar(sa.select(Completion.certificate_number)
                                 .where(Completion.user_id == u.id)) for u in users]


def _job(job_id: int) -> Job:
    get_session().expire_all()
    job = get_session().get(Job, job_id)
    assert job is not None
    return job


def test_a_learner_gets_their_certificate_as_a_job(app: Any, client: Any, course: Any,  # noqa: F811
                                                   users: dict[str, Any],
                                                   login_as: Any) -> None:
    [number] = _complete(users["learner"])
    job = _job(submit_job("courses.certificates", {"numbers": [number]},
                          user=users["learner"]).id)
    assert job.status == "done" and job.result_name == f"sertifikat-{number}.pdf"
    login_as("learner")
    with client.get(f"/jobs/{job.id}/download") as response:
        assert response.status_code == 200 and response.data.startswith(b"%PDF")


def test_hr_gets_several_certificates_in_a_zip(app: Any, course: Any,  # noqa: F811
                                               users: dict[str, Any]) -> None:
    others = [factories.make_user(roles=["learner"]) for _ in range(3)]
    get_session().commit()
    numbers = _complete(*others)
    job = _job(submit_job("courses.certificates", {"numbers": numbers}, user=users["hr"]).id)
    assert job.status == "done" and job.result_name == "sertifikat.zip"
    with zipfile.ZipFile(io.BytesIO(Path(app.instance_path, job.result_path).read_bytes())) as z:
        assert sorted(z.namelist()) == sorted(f"sertifikat-{n}.pdf" for n in numbers)


def test_someone_elses_certificate_is_refused(app: Any, course: Any,  # noqa: F811
                                              users: dict[str, Any]) -> None:
    [number] = _complete(users["learner"])
    job = _job(submit_job("courses.certificates", {"numbers": [number]},
                          user=users["trainer"]).id)
    assert job.status == "failed"
    assert job.message == f"Anda tidak berhak mengunduh sertifikat {number}."
    job = _job(submit_job("courses.certificates", {"numbers": ["LTR-NOPE"]},
                          user=users["admin"]).id)
    assert job.status == "failed" and "LTR-NOPE" in (job.message or "")


def test_transcript_pdf_as_a_job(app: Any, course: Any, users: dict[str, Any]) -> None:  # noqa: F811
    _complete(users["learner"])
    mine = _job(submit_job("courses.transcript", {}, user=users["learner"]).id)
    assert mine.status == "done" and mine.result_name.endswith(".pdf")
    by_hr = _job(submit_job("courses.transcript", {"user_id": users["learner"].id},
                            user=users["hr"]).id)
    assert by_hr.status == "done"
    refused = _job(submit_job("courses.transcript", {"user_id": users["learner"].id},
                              user=users["trainer"]).id)
    assert refused.status == "failed"
