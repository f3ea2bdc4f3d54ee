"""The dashboard's figures and their drill-downs, completion records and exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

from openpyxl import load_workbook

from lms.reports import service
from lms.reports.scope import scope_for
from tests.reports.conftest import completed_with_jp, send

EXTERNAL = "https://elearning.example.go.id/course/"


def _year_start() -> dt.datetime:
    return dt.datetime(service.today().year, 1, 10, 3, tzinfo=dt.UTC)


def test_figures_count_jp_from_every_kind_of_learning(org, as_user, client):
    when = _year_start()
    send(completed_with_jp(org["a1"], EXTERNAL + "1", 12, when),
         completed_with_jp(org["a1"], EXTERNAL + "2", 9, when),
         completed_with_jp(org["b1"], EXTERNAL + "1", 4, when))
    data = service.dashboard(scope_for(org["hr_all"]), service.Filters())
    assert data.employees == 5
    assert data.completions == 3
    assert data.at_target == 1  # a1 with 21 JP
    assert round(data.average_jp, 2) == round(25 / 5, 2)
    assert dict(data.bands)["0"] == 3
    as_user(org["hr_all"])
    page = client.get("/reports/").get_data(as_text=True)
    assert "chart.umd.js" in page and "js/reports/dashboard.js" in page
    chart = json.loads(re.search(r'data-chart="([^"]*)"', page).group(1).replace("&#34;", '"')
                       .replace("&quot;", '"'))
    assert sum(chart["months"]["counts"]) == 3
    drill = client.get("/reports/employees?drill=at_target").get_data(as_text=True)
    assert "Ani Dinas A" in drill and "Citra Dinas B" not in drill
    below = client.get("/reports/employees?drill=below").get_data(as_text=True)
    assert "Citra Dinas B" in below and "Ani Dinas A" not in below


def test_filters_by_unit_subtree_kind_and_period(org):
    send(completed_with_jp(org["a1"], EXTERNAL + "1", 3, _year_start()),
         completed_with_jp(org["b1"], EXTERNAL + "1", 3, _year_start()))
    scope = scope_for(org["hr_all"])
    unit = service.Filters(unit=org["dinas_a"])
    assert service.dashboard(scope, unit).employees == 3
    kind = service.Filters(kind=org["staff_b"].kind)
    assert service.dashboard(scope, kind).completions == 1
    last_year = service.today().year - 1
    old = service.Filters(date_from=dt.date(last_year, 1, 1), date_to=dt.date(last_year, 12, 31))
    assert service.dashboard(scope, old).completions == 0


def test_gap_heatmap_counts_employees_below_the_standard(org, as_user, client):
    scope = scope_for(org["hr_all"])
    heat = service.gap_heatmap(scope, service.Filters())
    m03 = org["codes"]["M.03"].id
    assert heat.cells[(org["dinas_a"].id, m03)] == 2
    assert heat.cells[(org["dinas_b"].id, m03)] == 2
    as_user(org["hr_all"])
    page = client.get(f"/reports/employees?drill=gap&competency={m03}&unit={org['dinas_b'].id}"
                      ).get_data(as_text=True)
    assert "Citra Dinas B" in page and "Ani Dinas A" not in page


def test_completion_records_sort_search_page_and_export_alike(org, as_user, client):
    for i in range(30):
        send(completed_with_jp(org["a2"], f"{EXTERNAL}{i}", i + 1, _year_start()))
    send(completed_with_jp(org["b1"], EXTERNAL + "x", 2, _year_start()))
    as_user(org["hr_all"])
    page = client.get("/reports/completions?sort=jp&dir=desc").get_data(as_text=True)
    assert "31 catatan" in page or "31 records" in page
    first = re.search(r'<td class="text-end">(\d+)</td>', page).group(1)
    assert first == "30"
    searched = client.get(f"/reports/completions?q={org['b1'].nip}").get_data(as_text=True)
    assert "Citra Dinas B" in searched and "Budi Dinas A" not in searched
    text = client.get("/reports/completions.csv?sort=jp&dir=asc").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 32 and float(rows[1][8]) == 1.0
    book = load_workbook(io.BytesIO(client.get("/reports/completions.xlsx?sort=jp&dir=asc").data))
    sheet = book.active
    values = [row for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(values) == 31
    assert [v[1] for v in values] == [r[1] for r in rows[1:]]
    assert [v[8] for v in values] == [float(r[8]) for r in rows[1:]]


def test_csv_export_neutralises_formulas(org, as_user, client):
    send(completed_with_jp(org["a1"], EXTERNAL + "f", 2, _year_start(),
                           object={"objectType": "Activity", "id": EXTERNAL + "f",
                                   "definition": {"name": {"en-US": "=HYPERLINK(1)"}}}))
    as_user(org["hr_all"])
    text = client.get("/reports/completions.csv").get_data(as_text=True)
    assert "'=HYPERLINK(1)" in text


def test_employee_page_shows_transcript_profile_and_pdf(org, as_user, client):
    send(completed_with_jp(org["a1"], EXTERNAL + "1", 6, _year_start()))
    as_user(org["hr_all"])
    page = client.get(f"/reports/employees/{org['a1'].nip}").get_data(as_text=True)
    assert "External course" in page and 'id="jp-this-year">6<' in page
    assert "M.03" in page
    pdf = client.get(f"/reports/employees/{org['a1'].nip}/transcript.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_bad_filters_get_a_message_not_a_500(org, as_user, client):
    as_user(org["hr_all"])
    assert client.get("/reports/?from=kemarin").status_code == 400
    assert client.get("/reports/?kind=raja").status_code == 400
    assert client.get("/reports/?from=2026-12-01&to=2026-01-01").status_code == 400


def test_dashboard_loads_the_heatmap_after_the_page(org, as_user, login_as, client):
    as_user(org["hr_all"])
    page = client.get("/reports/").get_data(as_text=True)
    url = re.search(r'data-heatmap-url="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert "fragment=1" in url and "<table" not in page.split('id="heatmap"')[1][:400]
    fragment = client.get(url)
    assert fragment.status_code == 200
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and "heatmap" in html and "Dinas B" in html
    full = client.get("/reports/heatmap").get_data(as_text=True)
    assert "<html" in full and "Dinas B" in full
    # The unit links lead back to the dashboard, narrowed.
    assert "/reports/?" in html and f"unit={org['dinas_b'].id}" in html
    login_as("hr")  # Dinas A only
    assert client.get(f"/reports/heatmap?fragment=1&unit={org['dinas_b'].id}").status_code \
        == 403
    assert "Dinas B" not in client.get("/reports/heatmap?fragment=1").get_data(as_text=True)
