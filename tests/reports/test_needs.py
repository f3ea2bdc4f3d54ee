"""Training needs analysis (AKPK): gaps by competency and unit, job-person match,
target positions, routes and the XLSX for the budget plan."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from lms.reports import needs, service
from lms.reports.scope import scope_for


def test_needs_count_employees_below_current_and_target_standards(org, db):
    needs.set_target_position(org["a1"], org["staff_b"])  # M.03 level 3
    db.commit()
    items = {n.competency.code: n for n in needs.needs(scope_for(org["hr_all"]),
                                                      service.Filters())}
    assert items["M.03"].employees == 4
    assert items["M.03"].target_employees == 1
    assert items["M.05"].employees == 2
    assert items["M.03"].average_gap == (2 + 2 + 3 + 3) / 4


def test_job_person_match_categories(org):
    scope = scope_for(org["hr_all"])
    counts = needs.category_counts(scope, service.Filters())
    assert counts == {"optimal": 0, "cukup": 0, "kurang": 4}
    rows = [needs.to_match(r) for r in db_rows(needs.match_query(scope, service.Filters()))]
    assert all(r.jpm == 0 and r.category == "kurang" for r in rows)


def db_rows(query):
    from lms.db import get_session

    return get_session().execute(query).all()


def test_routes_and_costs_reach_the_budget_xlsx(client, as_user, org, db):
    as_user(org["hr_all"])
    response = client.post("/reports/routes", data={
        "competency": "M.03", "level": 3, "kind": "coaching", "title": "Coaching Komunikasi",
        "provider": "Widyaiswara BPSDM", "jp": "10", "schedule": "Maret 2027",
        "cost_per_jp": ""})
    assert response.status_code == 302
    page = client.get("/reports/needs?cost=50000").get_data(as_text=True)
    # Chosen for the level-3 need of the two employees of Dinas B: 2 x 10 JP x 50.000.
    assert "Coaching Komunikasi" in page and "Rp1.000.000" in page
    book = load_workbook(io.BytesIO(client.get("/reports/needs.xlsx?cost=50000").data))
    plan = list(book.worksheets[0].iter_rows(values_only=True))
    line = next(r for r in plan if r[6] == "Coaching Komunikasi" and r[2] == 3)
    assert line[0] == "M.03" and line[3] == 2 and line[9] == 10
    assert line[13] == 1_000_000
    assert len(book.worksheets) == 5
    matches = list(book.worksheets[4].iter_rows(min_row=2, values_only=True))
    assert len(matches) == 4


def test_hr_sets_a_target_position_on_the_employee_page(client, as_user, org, db):
    as_user(org["hr_all"])
    response = client.post(f"/reports/employees/{org['a1'].nip}/target",
                           data={"position": org["staff_b"].id})
    assert response.status_code == 302
    page = client.get(f"/reports/employees/{org['a1'].nip}").get_data(as_text=True)
    assert "Analis B" in page


def _plan_fixture(org, db):
    from lms.competency import service as competency

    competency.apply_course_publication({
        "iri": "http://lentera.test/courses/komunikasi-efektif", "slug": "komunikasi-efektif",
        "title": "Komunikasi Efektif", "jp": 6, "version": 1,
        "targets": [{"competency": "M.03", "level": 2}]})
    for spec in (
        needs.RouteSpec(competency_code="M.03", kind="coaching", title="Coaching Komunikasi",
                        provider="BPSDM", jp=10, level=3, cost_per_jp=100_000),
        needs.RouteSpec(competency_code="M.03", kind="classroom", title="Diklat Komunikasi",
                        provider="LAN", jp=20, level=2, cost_per_jp=200_000),
        needs.RouteSpec(competency_code="M.05", kind="classroom", title="Pelatihan Pelayanan",
                        provider="BPSDM", jp=8, level=1, cost_per_jp=None),
    ):
        needs.add_route(spec)
    db.commit()


def test_one_costed_route_per_need_free_courses_and_totals(client, as_user, org, db):
    _plan_fixture(org, db)
    lines, totals = needs.budget_plan(scope_for(org["hr_all"]), service.Filters(), 50_000)
    by_need = {(n.competency.code, n.required): n for n in lines}
    assert set(by_need) == {("M.03", 2), ("M.03", 3), ("M.05", 1)}
    free = by_need[("M.03", 2)]
    assert free.route.kind == "course" and free.employees == 2 and free.cost == 0
    coaching = by_need[("M.03", 3)]
    assert coaching.route.title == "Coaching Komunikasi" and coaching.cost == 2 * 10 * 100_000
    default = by_need[("M.05", 1)]
    assert default.route.title == "Pelatihan Pelayanan" and default.cost == 2 * 8 * 50_000
    assert totals.employees == 4 and totals.participations == 6 and totals.needs == 3
    assert totals.cost == 2_000_000 + 800_000 and totals.jp == 2 * 6 + 2 * 10 + 2 * 8
    # Without a default cost, a route with no cost of its own is unknown, not zero.
    _lines, unpriced = needs.budget_plan(scope_for(org["hr_all"]), service.Filters(), None)
    assert unpriced.unpriced == 1 and unpriced.cost == 2_000_000


def test_the_xlsx_budget_and_per_employee_akpk_add_up(client, as_user, org, db):
    _plan_fixture(org, db)
    needs.set_target_position(org["a1"], org["staff_b"])  # a1 now needs M.03 at level 3
    db.commit()
    as_user(org["hr_all"])
    book = load_workbook(io.BytesIO(client.get("/reports/needs.xlsx?cost=50.000").data))
    names = book.sheetnames
    assert names[0] == "Rencana anggaran" and names[1] == "AKPK per pegawai"
    plan = list(book.worksheets[0].iter_rows(min_row=2, values_only=True))
    total = next(r for r in plan if r[0] == "Jumlah")
    lines = [r for r in plan if r[0] in ("M.03", "M.05")]
    assert sum(r[3] for r in lines) == total[3] == 6
    assert sum(r[13] or 0 for r in lines) == total[13] == 3 * 10 * 100_000 + 2 * 8 * 50_000
    course = next(r for r in lines if r[6] == "Komunikasi Efektif")
    assert course[3] == 1 and course[13] == 0 and course[4] == "Nonklasikal"
    people = list(book.worksheets[1].iter_rows(min_row=2, values_only=True))
    assert len(people) == 6  # each employee once per need
    assert sum(r[15] or 0 for r in people) == total[13]
    ani = [r for r in people if r[1] == "Ani Dinas A"]
    assert {(r[4], r[7]) for r in ani} == {("M.03", 3), ("M.05", 1)}
    m03 = next(r for r in ani if r[4] == "M.03")
    assert m03[8] == "Jabatan target" and m03[11] == "Coaching Komunikasi"
    assert m03[14] == 10 and m03[15] == 1_000_000 and m03[9] == "Nonklasikal"


@pytest.mark.parametrize("cost", ["1e999", "nan", "-5", "1\x00", "9" * 40, "abc"])
def test_hostile_costs_are_refused(client, as_user, org, cost):
    as_user(org["hr_all"])
    assert client.get("/reports/needs", query_string={"cost": cost}).status_code == 400
    assert client.get("/reports/needs.xlsx", query_string={"cost": cost}).status_code == 400


def test_the_organisation_plan_does_not_price_lentera_courses(app, org, db):
    from lms.plans.models import PlanItem
    from lms.plans.service import OrgRow

    item = PlanItem(kind="course", title="Komunikasi Efektif", jp=6, cost_per_jp=None)
    assert OrgRow(plan=None, item=item, unit="", cost_per_jp=0.0).cost == 0
