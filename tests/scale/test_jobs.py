"""Background jobs (lms.tasks): submit, run (inline, thread, Celery), follow, download."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask_babel import gettext

from lms import tasks
from lms.db import discard, get_session, utcnow
from lms.tasks import Job, JobError, register_job, submit_job

REDIS = "redis://127.0.0.1:6379/7"
SEEN: list[dict[str, Any]] = []


def _report(job: Job, params: dict[str, Any], progress: Any) -> Path:
    rows = int(params.get("rows", 3))
    out = job.output("report.csv")
    with out.open("w", encoding="utf-8") as f:
        f.write("n\n")
        for i in range(rows):
            f.write(f"{i}\n")
            progress(100 * (i + 1) / rows, f"{i + 1}/{rows}")
    SEEN.append({"job": job.id, "params": params, "locale": gettext("Sign in first.")})
    return out


def _refuses(job: Job, params: dict[str, Any], progress: Any) -> None:
    job.output("half.csv").write_text("half")
    raise JobError("Nothing to export for this filter.")


def _crashes(job: Job, params: dict[str, Any], progress: Any) -> None:
    raise RuntimeError("internal detail that must not reach the page")


def _escapes(job: Job, params: dict[str, Any], progress: Any) -> str:
    outside = Path(job.folder()).parent / "elsewhere.txt"
    outside.parent.mkdir(parents=True, exist_ok=True)
    outside.write_text("x")
    return str(outside)


register_job("test.report", _report)
register_job("test.refuses", _refuses)
register_job("test.crashes", _crashes)
register_job("test.escapes", _escapes)


def _job(job_id: int) -> Job:
    session = get_session()
    session.expire_all()
    job = session.get(Job, job_id)
    assert job is not None
    return job


def test_a_job_runs_after_the_commit_and_its_owner_downloads_the_file(
        app: Any, client: Any, users: dict[str, Any], login_as: Any) -> None:
    job = submit_job("test.report", {"rows": 4}, user=users["learner"])
    job = _job(job.id)
    assert (job.status, job.progress, job.result_name) == ("done", 100, "report.csv")
    assert job.owner_id == users["learner"].id and job.attempts == 1

    login_as("learner")
    status = client.get(f"/jobs/{job.id}").get_json()
    assert status["done"] and not status["failed"]
    assert status["download_url"] == f"/jobs/{job.id}/download"
    assert status["message"] == "4/4"
    with client.get(status["download_url"]) as response:
        assert response.status_code == 200
        assert response.data.decode() == "n\n0\n1\n2\n3\n"
        assert "attachment" in response.headers["Content-Disposition"]
    assert [j["id"] for j in client.get("/jobs/").get_json()["jobs"]] == [job.id]


def test_only_the_owner_and_admins_see_a_job(app: Any, client: Any, users: dict[str, Any],
                                             login_as: Any) -> None:
    job = submit_job("test.report", {}, user=users["learner"])
    assert client.get(f"/jobs/{job.id}/download").status_code in (302, 401)
    for role in ("trainer", "hr"):
        login_as(role)
        assert client.get(f"/jobs/{job.id}").status_code == 403
        assert client.get(f"/jobs/{job.id}/download").status_code == 403
        assert client.get("/jobs/").get_json() == {"jobs": []}
    login_as("admin")
    with client.get(f"/jobs/{job.id}/download") as response:
        assert response.status_code == 200
    assert client.get("/jobs/999999").status_code == 404


def test_a_refused_job_fails_with_its_message_and_leaves_no_file(
        app: Any, client: Any, users: dict[str, Any], login_as: Any) -> None:
    job = submit_job("test.refuses", {}, user=users["learner"])
    job = _job(job.id)
    assert (job.status, job.message, job.result_path) == (
        "failed", "Nothing to export for this filter.", None)
    assert not job.folder().exists()
    login_as("learner")
    status = client.get(f"/jobs/{job.id}").get_json()
    assert status["failed"] and status["download_url"] is None
    assert client.get(f"/jobs/{job.id}/download").status_code == 404


def test_a_crashed_job_fails_without_showing_the_error(app: Any, users: dict[str, Any],
                                                       caplog: Any) -> None:
    job = submit_job("test.crashes", {}, user=users["learner"])
    job = _job(job.id)
    assert job.status == "failed" and job.message is None
    assert "internal detail" in caplog.text


def test_a_job_may_only_return_a_file_of_its_own(app: Any, users: dict[str, Any]) -> None:
    job = _job(submit_job("test.escapes", {}, user=users["admin"]).id)
    assert job.status == "failed" and job.result_path is None


def test_a_job_runs_under_the_submitters_language(app: Any, users: dict[str, Any]) -> None:
    SEEN.clear()
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        from flask_babel import force_locale

        with force_locale("en"):
            job = submit_job("test.report", {"rows": 1}, user=users["learner"])
    job_id = job.id
    job = _job(job_id)
    assert job.locale == "en" and SEEN[-1]["locale"] == "Sign in first."
    job = _job(submit_job("test.report", {"rows": 1}, user=users["learner"]).id)
    assert job.locale in (None, "id") and SEEN[-1]["locale"] != "Sign in first."


def test_a_rolled_back_submission_never_runs(app: Any, users: dict[str, Any]) -> None:
    SEEN.clear()
    job = submit_job("test.report", {}, user=users["learner"], commit=False)
    job_id = job.id
    get_session().rollback()
    assert SEEN == []
    assert get_session().get(Job, job_id) is None


def test_bad_submissions_are_refused_at_once(app: Any, users: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="unknown job kind"):
        submit_job("test.nope", {}, user=users["learner"])
    with pytest.raises(TypeError):
        submit_job("test.report", {"when": dt.date.today()}, user=users["learner"])
    with pytest.raises(ValueError, match="registered twice"):
        register_job("test.report", _crashes)


def test_a_job_delivered_twice_runs_once(app: Any, users: dict[str, Any]) -> None:
    job = submit_job("test.report", {}, user=users["learner"])
    assert tasks.run_job(app, job.id) == "skipped"
    assert _job(job.id).attempts == 1


def test_in_a_background_thread_without_a_broker(make_app: Any, users: dict[str, Any]) -> None:
    other = make_app(JOBS_INLINE=False)
    assert tasks.job_mode(other) == "thread"
    with other.app_context():
        ids = [submit_job("test.report", {"rows": 50}, user=users["hr"]).id
               for _ in range(3)]
    tasks.wait_for_jobs(other)
    assert [_job(i).status for i in ids] == ["done"] * 3
    assert all(Path(other.instance_path, _job(i).result_path or "").is_file() for i in ids)


def test_a_job_whose_process_died_is_shown_as_interrupted_and_can_run_again(
        app: Any, client: Any, users: dict[str, Any], login_as: Any) -> None:
    job = submit_job("test.report", {}, user=users["learner"], commit=False)
    job.status, job.updated = "running", utcnow() - dt.timedelta(hours=1)
    discard("jobs")
    get_session().commit()
    job_id = job.id
    login_as("learner")
    assert client.get(f"/jobs/{job_id}").get_json()["message"] == "interrupted"

    again = _job(job_id)
    again.status, again.updated = "running", utcnow() - dt.timedelta(hours=1)
    get_session().commit()
    assert tasks.run_job(app, job_id) == "done"  # a redelivered task takes it over


def test_with_a_broker_jobs_go_to_the_workers(make_app: Any, users: dict[str, Any]) -> None:
    import redis

    client = redis.Redis.from_url(REDIS, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS}")
    queue = f"lentera-test-{uuid.uuid4().hex[:8]}"
    other = make_app(CELERY_BROKER_URL=REDIS, CELERY_QUEUE=queue)
    try:
        with other.app_context():
            job = submit_job("test.report", {"rows": 2}, user=users["learner"])
        assert _job(job.id).status == "queued"
        assert client.llen(queue) == 1
        # What a worker does with the message (run here, in this process):
        assert tasks.run_job_task.apply(args=[job.id]).get() == "done"
        assert tasks.run_job_task.apply(args=[job.id]).get() == "skipped"
        assert _job(job.id).status == "done"

        lost = _job(submit_job("test.report", {}, user=users["learner"], commit=False).id)
        discard("jobs")
        lost.updated = utcnow() - dt.timedelta(minutes=5)
        get_session().commit()
        client.delete(queue)
        assert tasks.requeue_lost_jobs(other) == 1
        assert client.llen(queue) == 1
    finally:
        client.delete(queue)
        client.close()


def test_old_jobs_are_purged_with_their_files(app: Any, runner: Any,
                                              users: dict[str, Any]) -> None:
    old = _job(submit_job("test.report", {}, user=users["learner"]).id)
    folder = old.folder()
    old.created = utcnow() - dt.timedelta(days=30)
    new = submit_job("test.report", {}, user=users["learner"])
    get_session().commit()
    assert folder.is_dir()
    result = runner.invoke(args=["jobs", "purge"])
    assert result.exit_code == 0 and "1 job(s) deleted" in result.output
    assert not folder.exists()
    assert get_session().scalars(sa.select(Job.id)).all() == [new.id]
    get_session().expire_all()
    listed = runner.invoke(args=["jobs", "list"])
    assert "test.report" in listed.output and "done" in listed.output
