"""Training needs analysis (AKPK): gaps by competency and unit, job-person match,
target positions, routes and the XLSX for the budget plan."""

from __future__ import annotations

import io

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
    assert "Coaching Komunikasi" in page and "Rp2.000.000" in page  # 4 x 10 JP x 50,000
    book = load_workbook(io.BytesIO(client.get("/reports/needs.xlsx?cost=50000").data))
    plan = list(book.worksheets[0].iter_rows(values_only=True))
    line = next(r for r in plan if r[5] == "Coaching Komunikasi")
    assert line[0] == "M.03" and line[2] == 4 and line[7] == 10 and line[10] == 2_000_000
    assert len(book.worksheets) == 4
    matches = list(book.worksheets[3].iter_rows(min_row=2, values_only=True))
    assert len(matches) == 4


def test_hr_sets_a_target_position_on_the_employee_page(client, as_user, org, db):
    as_user(org["hr_all"])
    response = client.post(f"/reports/employees/{org['a1'].nip}/target",
                           data={"position": org["staff_b"].id})
    assert response.status_code == 302
    page = client.get(f"/reports/employees/{org['a1'].nip}").get_data(as_text=True)
    assert "Analis B" in page
