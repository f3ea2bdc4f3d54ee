"""Access: HR users see their scope only, by page, export and API; admins see all;
learners see nobody else; supervisors see their unit's employees."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from lms.people.models import PositionKind
from lms.reports.scope import EVERYONE, NOBODY, scope_for
from tests import factories
from tests.reports.conftest import completed_with_jp, send

EXTERNAL = "https://elearning.example.go.id/course/7"


def test_hr_default_scope_is_the_opd_of_their_position(org, users):
    scope = scope_for(users["hr"])
    assert scope.unit.id == org["dinas_a"].id
    assert scope_for(org["hr_all"]).unit.id == org["pemda"].id
    assert scope_for(users["admin"]) == EVERYONE
    assert scope_for(users["learner"]) == NOBODY


def test_hr_of_one_opd_sees_only_its_employees_on_pages(client, login_as, org):
    login_as("hr")
    page = client.get("/reports/employees").get_data(as_text=True)
    assert "Ani Dinas A" in page and "Budi Dinas A" in page
    assert "Citra Dinas B" not in page
    assert client.get(f"/reports/employees/{org['b1'].nip}").status_code == 403
    assert client.get(f"/reports/employees/{org['b1'].nip}/transcript.pdf").status_code == 403
    assert client.get(f"/reports/employees/{org['a1'].nip}").status_code == 200
    # Choosing another OPD in a filter is refused, not silently emptied.
    assert client.get(f"/reports/?unit={org['dinas_b'].id}").status_code == 403
    assert client.get(f"/reports/completions.csv?unit={org['dinas_b'].id}").status_code == 403


def test_hr_of_one_opd_cannot_export_or_query_another_opds_records(client, login_as, org):
    send(completed_with_jp(org["a1"], EXTERNAL, 5), completed_with_jp(org["b1"], EXTERNAL, 7))
    login_as("hr")
    text = client.get("/reports/completions.csv").get_data(as_text=True)
    assert org["a1"].nip in text and org["b1"].nip not in text
    book = load_workbook(io.BytesIO(client.get("/reports/completions.xlsx").data),
                         read_only=True)
    nips = [row[1] for row in book.active.iter_rows(min_row=2, values_only=True)]
    assert nips == [org["a1"].nip]
    api = client.get("/api/v1/reports/completions").get_json()
    assert [item["nip"] for item in api["items"]] == [org["a1"].nip]
    assert client.get(f"/api/v1/reports/employees/{org['b1'].nip}").status_code == 403
    assert client.get("/api/v1/reports/summary").get_json()["employees"] == 3  # a1, a2, hr


def test_hr_scoped_to_the_pemda_and_admins_see_everyone(client, as_user, login_as, org):
    as_user(org["hr_all"])
    page = client.get("/reports/employees").get_data(as_text=True)
    assert "Ani Dinas A" in page and "Citra Dinas B" in page
    login_as("admin")
    assert client.get(f"/reports/employees/{org['b2'].nip}").status_code == 200


def test_learners_never_see_others_records(client, as_user, org):
    as_user(org["a1"])
    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/completions.csv").status_code == 403
    assert client.get(f"/reports/employees/{org['a2'].nip}").status_code == 403
    assert client.get(f"/reports/employees/{org['a1'].nip}").status_code == 200
    assert client.get("/api/v1/reports/summary").status_code == 403


def test_supervisors_see_their_units_employees_profiles(client, as_user, org, db):
    from lms.people import service as people

    head = factories.make_position(org["bidang_a1"], name="Kepala Bidang A1",
                                   kind=PositionKind.ADMINISTRATOR)
    boss = factories.make_user(name="Kabid A1")
    people.assign_position(boss, head)
    db.commit()
    as_user(boss)
    assert client.get(f"/reports/employees/{org['a1'].nip}").status_code == 200
    assert client.get(f"/reports/employees/{org['b1'].nip}").status_code == 403
    assert client.get("/reports/").status_code == 403


def test_admin_stores_an_hr_scope_on_a_page(client, login_as, users, org, db):
    login_as("admin")
    response = client.post("/reports/scopes", data={"user": users["hr"].email,
                                                    "org_unit": org["pemda"].id})
    assert response.status_code == 302
    db.expire_all()
    assert scope_for(users["hr"]).unit.id == org["pemda"].id
    assert client.post("/reports/scopes", data={"user": org["a1"].email, "org_unit": 0}
                       ).status_code == 200  # not an HR user: the form says so


def test_scope_also_holds_on_other_modules_employee_pages_and_api(client, login_as, org):
    login_as("hr")  # scope: Dinas A
    other, mine = org["b1"].nip, org["a1"].nip
    assert client.get(f"/courses/transcript/{other}").status_code == 403
    assert client.get(f"/courses/transcript/{other}.pdf").status_code == 403
    assert client.get(f"/competency/employees/{other}").status_code == 403
    assert client.get(f"/api/v1/employees/{other}/transcript").status_code == 403
    assert client.get(f"/api/v1/employees/{other}/competencies").status_code == 403
    assert client.get(f"/courses/transcript/{mine}").status_code == 200
    assert client.get(f"/competency/employees/{mine}").status_code == 200
    found = client.get("/api/v1/employees?q=Dinas").get_json()
    assert {item["nip"] for item in found["items"]} == {org["a1"].nip, org["a2"].nip}
    team = client.get("/competency/team?q=Dinas")
    assert team.status_code == 302 and "/reports/employees" in team.headers["Location"]
