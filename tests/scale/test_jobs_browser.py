"""static/js/jobs.js follows a job on a page: progress, then the download link."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from lms.db import get_session
from lms.tasks import Job, register_job, submit_job
from tests import factories

pytestmark = pytest.mark.browser


def _export(job: Any, params: dict[str, Any], progress: Any) -> Any:
    out = job.output("rekap.csv")
    out.write_text("nip;jp\n199001012015011001;12\n", encoding="utf-8")
    return out


register_job("test.browser_export", _export)


def test_a_page_follows_a_job_and_offers_its_file(page: Any, users: dict[str, Any]) -> None:
    job = submit_job("test.browser_export", {}, user=users["learner"])
    # Shown as still running first: the page must poll until it is done.
    get_session().execute(sa.update(Job).where(Job.id == job.id)
                          .values(status="running", progress=40, message="400/1000"))
    get_session().commit()

    page.goto("/login")
    page.get_by_label("NIP atau surel").fill(users["learner"].email)
    page.get_by_label("Kata sandi").fill(factories.PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url("**/")
    page.evaluate("""(url) => {
        const box = document.createElement('div');
        box.id = 'box';
        box.setAttribute('data-job-url', url);
        box.setAttribute('data-job-label-running', 'Sedang dibuat');
        box.setAttribute('data-job-label-done', 'Selesai');
        document.querySelector('main, body').prepend(box);
    }""", f"/jobs/{job.id}")
    page.add_script_tag(url="/static/js/jobs.js")
    text = page.locator("#box [data-job-text]")
    text.filter(has_text="Sedang dibuat: 400/1000").wait_for()
    assert page.locator("#box [data-job-bar]").inner_text() == "40%"
    assert page.locator("#box [data-job-download]").is_hidden()

    get_session().execute(sa.update(Job).where(Job.id == job.id)
                          .values(status="done", progress=100, message=None))
    get_session().commit()
    text.filter(has_text="Selesai").wait_for()
    link = page.locator("#box [data-job-download]")
    assert link.is_visible()
    with page.expect_download() as download:
        link.click()
    path = download.value.path()
    assert Path(path).read_text(encoding="utf-8").startswith("nip;jp")
    assert download.value.suggested_filename == "rekap.csv"
