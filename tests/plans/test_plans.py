"""Plans from gaps, the approval workflow, tracking through the LRS, organisation plan."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import sqlalchemy as sa

from lms.db import get_session
from lms.plans.models import DevelopmentPlan, PlanStatus
from lms.plans.service import propose
from tests.plans.conftest import COURSE, completed, login, send

YEAR = dt.date.today().year


def _plan() -> DevelopmentPlan:
    get_session().expire_all()
    return get_session().scalar(sa.select(DevelopmentPlan))


def test_proposal_has_the_course_and_the_route_with_jp_and_dates(org, catalog):
    items = propose(org["employee"], YEAR, today=dt.date(YEAR, 3, 1))
    assert [(i["kind"], i["title"], i["jp"]) for i in items] == [
        ("course", "Integritas ASN", 8.0), ("coaching", "Coaching komunikasi", 6.0)]
    assert items[0]["activity_iri"] == COURSE
    assert items[0]["start_date"] == dt.date(YEAR, 3, 1)
    assert items[1]["start_date"] == dt.date(YEAR, 3, 31)
    assert items[1]["cost_per_jp"] == 150000


def test_plan_from_gaps_approved_and_completed_through_the_lrs(client, org, catalog):
    employee, supervisor = org["employee"], org["supervisor"]
    login(client, employee)
    response = client.post("/plans/new", data={"year": str(YEAR)})
    assert response.status_code == 302
    plan = _plan()
    assert plan.status == PlanStatus.DRAFT and len(plan.items) == 2
    assert client.post("/plans/new", data={"year": str(YEAR)}).status_code == 409
    page = client.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert "Integritas ASN" in page and "Coaching komunikasi" in page
    assert client.post(f"/plans/{plan.id}/submit").status_code == 302
    assert _plan().status == PlanStatus.SUBMITTED
    assert client.post(f"/plans/{plan.id}/approve").status_code == 403  # not a supervisor

    login(client, org["peer"])
    assert client.get(f"/plans/{plan.id}").status_code == 403
    login(client, supervisor)
    assert "home-plans" in client.get("/").get_data(as_text=True)
    assert client.post(f"/plans/{plan.id}/return", data={"comment": ""}).status_code == 400
    client.post(f"/plans/{plan.id}/return", data={"comment": "Tambahkan mentoring"})
    assert _plan().status == PlanStatus.RETURNED and _plan().comment == "Tambahkan mentoring"

    login(client, employee)
    assert "Tambahkan mentoring" in client.get(f"/plans/{plan.id}").get_data(as_text=True)
    response = client.post(f"/plans/{plan.id}/items", data={
        "kind": "mentoring", "title": "Mentoring oleh Kepala Bidang", "jp": "4",
        "start_date": f"{YEAR}-06-01", "end_date": f"{YEAR}-06-30"})
    assert response.status_code == 302
    bad = client.post(f"/plans/{plan.id}/items", data={
        "kind": "mentoring", "title": "x", "jp": "4",
        "start_date": f"{YEAR}-06-30", "end_date": f"{YEAR}-06-01"})
    assert bad.status_code == 400
    assert len(_plan().items) == 3
    client.post(f"/plans/{plan.id}/submit")
    login(client, supervisor)
    assert client.post(f"/plans/{plan.id}/approve").status_code == 302
    assert _plan().status == PlanStatus.APPROVED
    login(client, employee)
    assert client.post(f"/plans/{plan.id}/items", data={
        "kind": "mentoring", "title": "late", "jp": "1", "start_date": f"{YEAR}-06-01",
        "end_date": f"{YEAR}-06-02"}).status_code == 403

    # The course is completed through the LRS: the item is done, the plan in progress.
    ids = send(completed(employee, COURSE))
    plan = _plan()
    course_item = next(i for i in plan.items if i.kind == "course")
    assert course_item.done_statement_id == ids[0]
    assert plan.status == PlanStatus.IN_PROGRESS
    # Other routes: the employee reports them, which stores a statement.
    for item in [i for i in plan.items if i.kind != "course"]:
        assert client.post(f"/plans/{plan.id}/items/{item.id}/done").status_code == 302
    assert _plan().status == PlanStatus.DONE
    # A course item cannot be reported by hand.
    assert client.post(f"/plans/{plan.id}/items/{course_item.id}/done").status_code == 400
    # Voiding the completion opens the item again.
    send({"id": str(uuid.uuid4()),
          "actor": {"objectType": "Agent", "mbox": "mailto:hr@lentera.test"},
          "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
          "object": {"objectType": "StatementRef", "id": ids[0]}})
    plan = _plan()
    assert plan.status == PlanStatus.IN_PROGRESS
    assert not next(i for i in plan.items if i.kind == "course").done
    # The profile page shows the plan.
    assert "plans-panel" in client.get("/competency/").get_data(as_text=True)


def test_completion_before_approval_counts_at_approval(client, org, catalog):
    employee = org["employee"]
    login(client, employee)
    client.post("/plans/new", data={"year": str(YEAR)})
    send(completed(employee, COURSE))
    plan = _plan()
    assert not any(i.done for i in plan.items)  # a draft is not tracked yet
    client.post(f"/plans/{plan.id}/submit")
    login(client, org["supervisor"])
    client.post(f"/plans/{plan.id}/approve")
    plan = _plan()
    assert next(i for i in plan.items if i.kind == "course").done
    assert plan.status == PlanStatus.IN_PROGRESS


def test_organisation_plan_is_scoped_and_exported(client, org, catalog):
    employee = org["employee"]
    login(client, employee)
    client.post("/plans/new", data={"year": str(YEAR)})
    plan = _plan()
    assert client.get("/plans/organisation").status_code == 403
    client.post(f"/plans/{plan.id}/submit")
    login(client, org["hr"])
    html = client.get(f"/plans/organisation?year={YEAR}").get_data(as_text=True)
    assert "Integritas ASN" not in html  # not approved yet
    login(client, org["supervisor"])
    client.post(f"/plans/{plan.id}/approve")
    client.application.config["REPORTS_COST_PER_JP"] = 100000
    login(client, org["hr"])
    html = client.get(f"/plans/organisation?year={YEAR}").get_data(as_text=True)
    assert "Integritas ASN" in html and "Coaching komunikasi" in html
    # The Lentera course costs nothing (the setting prices only routes without their own
    # cost); 6 JP x 150,000 (the route's own cost).
    assert "900.000" in html and "1.700.000" not in html
    csv_text = client.get(f"/plans/organisation.csv?year={YEAR}").get_data(as_text=True)
    assert "Integritas ASN" in csv_text and "900000" in csv_text and "800000" not in csv_text
    response = client.get(f"/plans/organisation.xlsx?year={YEAR}")
    assert response.status_code == 200
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(response.data))
    response.close()  # the temporary file goes (the app closes it when the response is)
    assert book.worksheets[0].max_row == 3
    assert [c.value for c in book.worksheets[2][2]][1:] == [1, 1, 8, 0]  # courses: free
    assert 'id="org-by-unit"' in html
    assert client.get("/plans/organisation?year=abc").status_code == 400
    login(client, org["hr_other"])
    html = client.get(f"/plans/organisation?year={YEAR}").get_data(as_text=True)
    assert "Integritas ASN" not in html
    assert client.get(f"/plans/{plan.id}").status_code == 403
    login(client, org["admin"])
    assert "Integritas ASN" in client.get(f"/plans/organisation?year={YEAR}").get_data(
        as_text=True)


def test_refusals_write_nothing(client, org, catalog, make_app):
    login(client, org["employee"])
    assert client.post("/plans/new", data={"year": "1990"}).status_code == 400
    assert client.post("/plans/new", data={"year": "x"}).status_code == 400
    login(client, org["outsider"])
    assert client.post("/plans/new", data={"year": str(YEAR),
                                           "nip": org["employee"].nip}).status_code == 403
    assert get_session().scalar(sa.select(sa.func.count(DevelopmentPlan.id))) == 0
    strict = make_app(WTF_CSRF_ENABLED=True).test_client()
    login(strict, org["employee"])
    assert strict.post("/plans/new", data={"year": str(YEAR)}).status_code == 400
    assert get_session().scalar(sa.select(sa.func.count(DevelopmentPlan.id))) == 0
    # HR prepares a plan for an employee in scope; only the employee submits it.
    login(client, org["hr"])
    assert client.post("/plans/new", data={"year": str(YEAR),
                                           "nip": org["employee"].nip}).status_code == 302
    plan = _plan()
    assert plan.employee_id == org["employee"].id
    assert client.post(f"/plans/{plan.id}/submit").status_code == 403
    assert client.post(f"/plans/{plan.id}/items/999/delete").status_code == 404
    assert client.get("/plans/999").status_code == 404
