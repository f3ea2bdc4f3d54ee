"""The JSON API: the catalog with activity IRIs and an employee's transcript."""

from __future__ import annotations

from lms.db import get_session
from lms.xapi.service import store_statements


def test_catalog_needs_hr_or_a_client_key(client, login_as, course):
    assert client.get("/api/v1/courses").status_code == 401
    login_as("learner")
    assert client.get("/api/v1/courses").status_code == 403


def test_catalog_lists_courses_with_their_iris(client, login_as, course):
    login_as("hr")
    [item] = client.get("/api/v1/courses").get_json()["courses"]
    base = "http://lentera.test/courses/mini-kursus"
    assert item["iri"] == base and item["jp"] == 2
    assert item["modules"][0]["iri"] == f"{base}/modules/satu"
    assert item["quizzes"][0]["iri"] == f"{base}/quizzes/kuis"
    assert item["quizzes"][0]["questions"][0] == f"{base}/quizzes/kuis/questions/pilih-satu"
    assert {"code": "M.05", "level": 2} in item["competencies"]
    assert "correct" not in str(item)


def test_transcript_gives_completions_and_jp_per_year(client, login_as, users, course):
    learner = users["learner"]
    store_statements(
        [
            {
                "actor": {
                    "objectType": "Agent",
                    "account": {"homePage": "http://lentera.test", "name": learner.nip},
                },
                "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                "object": {"id": "http://lentera.test/courses/mini-kursus"},
                "timestamp": "2026-02-02T02:00:00Z",
            }
        ]
    )
    get_session().commit()
    login_as("admin")  # HR users see only employees in their scope (lms.reports)
    data = client.get(f"/api/v1/employees/{learner.nip}/transcript").get_json()
    assert data["nip"] == learner.nip
    assert data["jp_by_year"] == [{"year": 2026, "jp": 2.0}]
    [done] = data["completions"]
    assert done["course"] == "mini-kursus" and done["verify_url"].endswith(
        done["certificate_number"]
    )
    assert client.get("/api/v1/employees/000000000000000000/transcript").status_code == 404


def test_operations_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/courses"] and "get" in paths["/employees/{nip}/transcript"]
