"""The HR scope on every route an HR user can reach that shows one employee: found by
walking the application's URL map, so a new per-employee route that forgets the scope
fails here. HR of Dinas A (``login_as("hr")``) asks for employees of Dinas B."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from lms.courses.models import Completion, Course
from lms.reports.scope import may_view_employee
from tests.reports.conftest import BASE, actor, send

#: Routes that show an employee's data to anyone who holds the number on purpose: the
#: QR code on a printed certificate leads there (see lms/reports/guard.py).
PUBLIC_BY_NUMBER = {"verify.verify", "credentials.badge"}
#: Arguments other than the employee's NIP or certificate number, by name.
OTHER_ARGS = {"code": "M.03"}


def _routes(app: Any, argument: str) -> list[tuple[str, str]]:
    """(endpoint, rule) of every GET route with ``argument`` in its path."""
    found = []
    for rule in app.url_map.iter_rules():
        if argument in rule.arguments and "GET" in rule.methods:
            found.append((rule.endpoint, rule.rule))
    return sorted(found)


def _url(app: Any, endpoint: str, rule: str, argument: str, value: str) -> str:
    with app.test_request_context():
        from flask import url_for

        values = {name: OTHER_ARGS.get(name, "1") for name in
                  next(r for r in app.url_map.iter_rules()
                       if r.endpoint == endpoint and r.rule == rule).arguments}
        values[argument] = value
        return str(url_for(endpoint, **values))


def _complete(db: Any, *users: Any) -> list[str]:
    """A course completion (with its certificate) for each user."""
    course = db.scalar(sa.select(Course).where(Course.slug == "etika"))
    if course is None:
        course = Course(slug="etika", title="Etika", jp=4)
        db.add(course)
        db.commit()
    send(*[{"id": str(uuid.uuid4()), "actor": actor(u),
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed",
                     "display": {"en-US": "completed"}},
            "object": {"objectType": "Activity", "id": f"{BASE}/courses/etika"}}
           for u in users])
    return [db.scalar(sa.select(Completion.certificate_number).where(
        Completion.user_id == u.id)) for u in users]


def test_every_route_with_an_employees_nip_refuses_another_opd(app, client, login_as, org):
    routes = _routes(app, "nip")
    # The ones this test was written against must be among them.
    endpoints = {endpoint for endpoint, _rule in routes}
    assert {"reports.employee", "reports.employee_transcript_pdf", "courses.transcript",
            "courses.transcript_pdf", "competency.employee_profile",
            "competency.evidence_detail", "api.api_transcript", "api.employee_competencies",
            "api.api_report_employee"} <= endpoints
    login_as("hr")
    refused, allowed = [], []
    for endpoint, rule in routes:
        other = client.get(_url(app, endpoint, rule, "nip", org["b1"].nip))
        mine = client.get(_url(app, endpoint, rule, "nip", org["a1"].nip))
        refused.append((endpoint, other.status_code))
        allowed.append((endpoint, mine.status_code))
        other.close()
        mine.close()
    assert [r for r in refused if r[1] != 403] == []
    assert [r for r in allowed if r[1] == 403] == []


def test_certificates_by_number_refuse_another_opd(app, client, login_as, org, db):
    mine, other = _complete(db, org["a1"], org["b1"])
    # Program certificates have numbers of their own: tests/assignments/test_programs.py
    # checks who may fetch them.
    routes = [(e, r) for e, r in _routes(app, "number")
              if e not in PUBLIC_BY_NUMBER and not e.startswith("assignments.program_")]
    assert "courses.certificate" in {e for e, _r in routes}
    login_as("hr")
    for endpoint, rule in routes:
        refused = client.get(_url(app, endpoint, rule, "number", other))
        allowed = client.get(_url(app, endpoint, rule, "number", mine))
        assert (endpoint, refused.status_code) == (endpoint, 403)
        assert (endpoint, allowed.status_code) == (endpoint, 200)
        refused.close()
        allowed.close()
    # The public verification page still answers anyone holding the number.
    client.post("/logout")
    assert client.get(f"/verify/{other}").status_code == 200


def test_hr_of_the_whole_pemda_and_admins_get_any_certificate(client, as_user, login_as, org,
                                                              db):
    [other] = _complete(db, org["b1"])
    as_user(org["hr_all"])
    with client.get(f"/courses/certificates/{other}.pdf") as response:
        assert response.status_code == 200
    login_as("admin")
    with client.get(f"/courses/certificates/{other}.pdf") as response:
        assert response.status_code == 200


def test_an_authorization_header_does_not_lift_the_check_outside_the_api(client, login_as,
                                                                         org, db):
    [other] = _complete(db, org["b1"])
    login_as("hr")
    header = {"Authorization": "Basic bm9ib2R5Om5vdGhpbmc="}
    assert client.get(f"/courses/transcript/{org['b1'].nip}", headers=header
                      ).status_code == 403
    assert client.get(f"/courses/certificates/{other}.pdf", headers=header).status_code == 403
    # On the API the header is a client key: a bad one is refused outright.
    assert client.get(f"/api/v1/employees/{org['b1'].nip}/transcript", headers=header
                      ).status_code == 401


@pytest.mark.parametrize("url", [
    "/reports/employees?q={nip}",
    "/reports/completions?q={nip}",
    "/reports/completions.csv?q={nip}",
    "/reports/completions.xlsx?q={nip}",
    "/api/v1/reports/completions?q={nip}",
    "/api/v1/employees?q={nip}",
])
def test_searches_and_exports_never_list_another_opds_employee(client, login_as, org, url,
                                                               db):
    _complete(db, org["a1"], org["b1"])
    login_as("hr")
    with client.get(url.format(nip=org["b1"].nip)) as response:
        assert response.status_code == 200
        # (the page repeats the search itself, so look for the name)
        assert org["b1"].name.encode() not in response.data
    with client.get(url.format(nip=org["a1"].nip)) as response:
        body = response.data
    if "xlsx" in url:
        import io

        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(body), read_only=True)
        body = str([row for row in book.active.iter_rows(values_only=True)]).encode()
    assert org["a1"].name.encode() in body


def test_may_view_employee_follows_get_employee(org, users):
    assert may_view_employee(users["hr"], org["a1"])
    assert not may_view_employee(users["hr"], org["b1"])
    assert may_view_employee(org["hr_all"], org["b1"])
    assert may_view_employee(None, org["b1"])  # a client key
    assert may_view_employee(org["b1"], org["b1"])
    assert not may_view_employee(org["a1"], org["a2"])
