"""One truth about the demo learner's JP: every page, PDF, XLSX export and API answer that
shows her JP of this year shows the number lms.jp.service gives (#14 item 3)."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from lms.db import get_session
from lms.people.models import User


def _number(text: str) -> float:
    return float(text.replace(".", "").replace(",", ".")) if "," in text else float(text)


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def _sign_in(client, user: User) -> None:
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


@pytest.fixture
def demo(runner, db):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    session = get_session()
    learner = session.scalar(sa.select(User).where(User.email == "learner@demo.lentera.local"))
    hr = session.scalar(sa.select(User).where(User.email == "hr@demo.lentera.local"))
    return learner, hr


def test_the_demo_learner_has_one_jp_everywhere(client, demo):
    from lms.jp import service as jp

    learner, hr = demo
    year = jp.this_year()
    expected = jp.jp_total(learner, year)
    # The answer is built from records: the summary total equals the sum of the sources,
    # and the demo learner has learning from more than Lentera's courses.
    items = jp.items(learner, year)
    assert expected > 0
    assert round(sum(i.jp for i in items), 6) == expected
    assert {i.source for i in items} - {"course"}, "the demo learner has other learning too"
    seen: dict[str, float] = {}

    _sign_in(client, learner)
    home = client.get("/").get_data(as_text=True)
    seen["home (courses panel)"] = _number(
        re.search(r'id="jp-this-year">([\d.,]+)<', home).group(1))
    offline = re.search(r'id="home-offline-heading".*?<strong[^>]*>([\d.,]+)</strong>', home,
                        re.S)
    if offline:
        seen["home (offline panel)"] = _number(offline.group(1))
    page = client.get("/courses/transcript").get_data(as_text=True)
    seen["Riwayat Belajar page"] = _number(re.search(
        rf'class="jp-year-value" data-year="{year}">([\d.,]+)<', page).group(1))
    text = _pdf_text(client.get("/courses/transcript.pdf").data)
    seen["Riwayat Belajar PDF"] = _number(re.search(rf"{year}\s+([\d,]+)\s+20", text).group(1))
    page = client.get("/jp/statement").get_data(as_text=True)
    seen["JP statement page"] = _number(re.search(r'id="jp-total">([\d.,]+)<', page).group(1))
    text = _pdf_text(client.get("/jp/statement.pdf").data)
    seen["JP statement PDF"] = _number(re.search(r"Jumlah\s+([\d,]+)", text).group(1))
    page = client.get("/jp/submissions").get_data(as_text=True)
    seen["submissions page"] = _number(re.search(r'id="jp-this-year">([\d.,]+)<', page).group(1))

    _sign_in(client, hr)
    nip = learner.nip
    page = client.get(f"/reports/employees/{nip}").get_data(as_text=True)
    seen["HR employee record"] = _number(
        re.search(r'id="jp-this-year">([\d.,]+)<', page).group(1))
    text = _pdf_text(client.get(f"/reports/employees/{nip}/transcript.pdf").data)
    seen["HR transcript PDF"] = _number(re.search(rf"{year}\s+([\d,]+)\s+20", text).group(1))
    page = client.get(f"/reports/employees?q={nip}&from={year}-01-01&to={year}-12-31"
                      ).get_data(as_text=True)
    seen["HR drill-down"] = _number(re.search(
        rf'font-monospace small">{nip}</td>.*?<td class="text-end[^"]*">([\d.,]+)</td>', page,
        re.S).group(1))
    page = client.get(f"/jp/statement/{nip}?year={year}").get_data(as_text=True)
    seen["HR view of the JP statement"] = _number(
        re.search(r'id="jp-total">([\d.,]+)<', page).group(1))
    page = client.get(f"/jp/hr/mix?year={year}&page=1").get_data(as_text=True)
    row = re.search(rf'nip={nip}[^"]*">[^<]*</a>.*?fw-semibold">([\d.,]+)<', page, re.S)
    if row:  # the learner's row is on the first page of the mix table
        seen["HR 10:20:70 table"] = _number(row.group(1))
    from openpyxl import load_workbook

    data = client.get(f"/reports/completions.xlsx?q={nip}&from={year}-01-01"
                      f"&to={year}-12-31").data
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    column = list(rows[0]).index("JP")
    seen["HR completions XLSX (sum)"] = round(sum(float(r[column]) for r in rows[1:]
                                                  if r[1] == nip), 6)
    answer = client.get(f"/api/v1/employees/{nip}/jp?year={year}").get_json()
    seen["API /employees/<nip>/jp"] = answer["jp"]
    seen["API /employees/<nip>/jp (sum of items)"] = round(
        sum(i["jp"] for i in answer["items"]), 6)
    answer = client.get(f"/api/v1/employees/{nip}/transcript").get_json()
    seen["API transcript (this year)"] = answer["jp_this_year"]
    seen["API transcript (per year)"] = {r["year"]: r["jp"] for r in answer["jp_by_year"]}[year]
    answer = client.get(f"/api/v1/reports/employees/{nip}").get_json()
    seen["API reports employee"] = answer["jp_this_year"]
    assert seen == dict.fromkeys(seen, expected), seen
    assert len(seen) >= 15
