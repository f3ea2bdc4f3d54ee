"""/api/v1/employees and /api/v1/employees/<nip>/competencies."""

from __future__ import annotations

import base64
import datetime as dt

from lms.competency import service
from lms.db import get_session
from lms.people import service as people
from lms.xapi.auth import create_credential
from tests.competency.conftest import completed, publish, send
from tests.factories import make_position, make_user


def _basic(key: str, secret: str) -> dict[str, str]:
    token = base64.b64encode(f"{key}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_hr_session_searches_and_reads_a_profile(client, login_as, frameworks):
    login_as("hr")
    user = make_user(name="Dewi Lestari")
    position = make_position()
    people.assign_position(user, position, dt.date(2024, 1, 1))
    service.set_requirements(position, {frameworks["M.05"].id: 3})
    get_session().commit()
    publish()
    ids = send(completed(user))
    found = client.get("/api/v1/employees?q=dewi").get_json()
    assert found["count"] == 1 and found["items"][0]["nip"] == user.nip
    data = client.get(f"/api/v1/employees/{user.nip}/competencies").get_json()
    row = next(c for c in data["competencies"] if c["code"] == "M.05")
    assert (row["level"], row["required"], row["gap"]) == (2, 3, 1)
    assert row["evidence"][0]["statement_id"] == ids[0]
    assert row["evidence"][0]["rule"]["version"] == 1
    assert row["iri"] == frameworks["M.05"].iri
    assert data["job_person_match"] == {"percent": 66, "category": "kurang"}


def test_client_key_with_api_read_is_admitted(client, frameworks):
    user = make_user()
    _credential, secret = create_credential("HR dashboard", "api:read")
    get_session().commit()
    headers = _basic(_credential.key, secret)
    assert client.get(f"/api/v1/employees/{user.nip}/competencies",
                      headers=headers).status_code == 200
    assert client.get("/api/v1/employees?q=" + user.nip[:6], headers=headers).get_json()[
        "count"] >= 1


def test_anonymous_learners_and_keys_without_the_scope_are_refused(client, login_as,
                                                                   frameworks):
    user = make_user()
    writer, secret = create_credential("LMS lain", "statements/write")
    get_session().commit()
    assert client.get("/api/v1/employees").status_code == 401
    assert client.get(f"/api/v1/employees/{user.nip}/competencies",
                      headers=_basic(writer.key, secret)).status_code == 403
    login_as("learner")
    assert client.get(f"/api/v1/employees/{user.nip}/competencies").status_code == 403


def test_unknown_employee_is_a_json_404(client, login_as, frameworks):
    login_as("hr")
    response = client.get("/api/v1/employees/199001012015031999/competencies")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_operations_are_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert "get" in document["paths"]["/employees"]
    assert "get" in document["paths"]["/employees/{nip}/competencies"]
    assert "CompetencyProfile" in document["components"]["schemas"]
