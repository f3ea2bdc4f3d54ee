"""Big exports run as background jobs (lms.tasks): the page offers them above a row
count, shows the job's status and links its file; the file equals the direct export and
holds only what its owner may see."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from lms.tasks import Job
from tests.reports.conftest import completed_with_jp, send

EXTERNAL = "https://elearning.example.go.id/course/"
JSON = {"Accept": "application/json"}


@pytest.fixture
def records(org):
    send(completed_with_jp(org["a1"], EXTERNAL + "1", 12),
         completed_with_jp(org["a2"], EXTERNAL + "2", 9),
         completed_with_jp(org["b1"], EXTERNAL + "1", 4))


@pytest.fixture
def small_limit(app):
    app.config["REPORTS_BACKGROUND_EXPORT_ROWS"] = 1
    yield
    app.config.pop("REPORTS_BACKGROUND_EXPORT_ROWS", None)


def _download(client, status):
    assert status["done"], status
    with client.get(status["download_url"]) as response:
        assert response.status_code == 200
        return response.data


def _rows_xlsx(data):
    book = load_workbook(io.BytesIO(data), read_only=True)
    return {sheet.title: [list(r) for r in sheet.iter_rows(values_only=True)]
            for sheet in book.worksheets}


def test_small_exports_stay_direct_downloads(client, as_user, org, records):
    as_user(org["hr_all"])
    page = client.get("/reports/completions").get_data(as_text=True)
    assert 'id="export-csv"' in page and "data-job-form" not in page
    assert "js/jobs.js" not in page


def test_big_completion_exports_run_as_jobs_and_match_the_direct_files(
        client, as_user, org, records, small_limit):
    as_user(org["hr_all"])
    page = client.get("/reports/completions?sort=name&dir=asc").get_data(as_text=True)
    assert 'id="export-csv"' not in page and 'data-job-form="#export-job"' in page
    assert "js/jobs.js" in page
    action = re.search(r'<form method="post" action="([^"]+)" data-job-form', page).group(1)
    action = action.replace("&amp;", "&")
    assert "sort=name" in action
    for fmt in ("csv", "xlsx"):
        response = client.post(action, data={"format": fmt}, headers=JSON)
        assert response.status_code == 202
        status = client.get(response.get_json()["status_url"]).get_json()
        data = _download(client, status)
        direct = client.get(f"/reports/completions.{fmt}?sort=name&dir=asc")
        if fmt == "csv":
            assert data.decode("utf-8") == direct.get_data(as_text=True)
            assert data.decode("utf-8").count("\r\n") == 4  # header and 3 records
        else:
            assert _rows_xlsx(data) == _rows_xlsx(direct.data)
        direct.close()


def test_a_job_holds_only_its_owners_scope_and_only_they_download_it(
        client, as_user, login_as, org, records, small_limit, db):
    login_as("hr")  # Dinas A
    response = client.post("/reports/completions/export", data={"format": "csv"},
                           headers=JSON)
    status = client.get(response.get_json()["status_url"]).get_json()
    text = _download(client, status).decode("utf-8")
    assert org["a1"].nip in text and org["b1"].nip not in text
    as_user(org["hr_all"])
    assert client.get(status["status_url"]).status_code == 403
    assert client.get(status["download_url"]).status_code == 403
    as_user(org["a1"])  # a learner may not export at all
    assert client.post("/reports/completions/export", data={"format": "csv"}).status_code \
        == 403
    assert db.scalar(sa.select(sa.func.count(Job.id))) == 1


def test_bad_exports_are_refused_before_a_job_is_queued(client, login_as, org, small_limit,
                                                        db):
    login_as("hr")
    assert client.post("/reports/completions/export", data={"format": "pdf"}).status_code \
        == 400
    assert client.post(f"/reports/completions/export?unit={org['dinas_b'].id}",
                       data={"format": "csv"}).status_code == 403
    assert client.post("/reports/completions/export?from=kemarin",
                       data={"format": "csv"}).status_code == 400
    assert client.post("/reports/needs/export?cost=banyak").status_code == 400
    assert db.scalar(sa.select(sa.func.count(Job.id))) == 0


def test_the_akpk_workbook_as_a_job_matches_the_direct_one(client, as_user, org, records,
                                                           small_limit):
    as_user(org["hr_all"])
    page = client.get("/reports/needs?cost=150000").get_data(as_text=True)
    assert 'data-job-form="#needs-job"' in page and 'id="export-needs"' not in page
    response = client.post("/reports/needs/export?cost=150000", headers=JSON)
    assert response.status_code == 202
    status = client.get(response.get_json()["status_url"]).get_json()
    sheets = _rows_xlsx(_download(client, status))
    with client.get("/reports/needs.xlsx?cost=150000") as direct:
        assert sheets == _rows_xlsx(direct.data)
    assert len(sheets) == 5  # budget, AKPK per employee, needs, gaps by unit, match


def test_without_scripts_the_form_leads_to_a_page_following_the_job(
        client, as_user, org, records, small_limit):
    as_user(org["hr_all"])
    response = client.post("/reports/completions/export?q=Ani", data={"format": "csv"})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "job=" in location and "q=Ani" in location
    page = client.get(location).get_data(as_text=True)
    job_id = re.search(r"job=(\d+)", location).group(1)
    assert f'data-job-url="/jobs/{job_id}"' in page
