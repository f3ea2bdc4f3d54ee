"""In a real browser as an HR user of the whole Pemda: the dashboard with its charts, a
drill-down to one employee, a recorded workshop that raises the participants' JP and
profile, and an XLSX export that matches the table."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests import factories

pytestmark = pytest.mark.browser


def sign_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("NIP atau surel").fill(email)
    page.get_by_label("Kata sandi").fill(factories.PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url("**/")


def test_hr_dashboard_drill_down_workshop_and_export(page, org):
    sign_in(page, "hrall@test.lentera.local")
    page.goto("/reports/")
    expect(page.get_by_role("heading", name="Dasbor kepegawaian")).to_be_visible()
    assert page.evaluate("() => !!window.Chart && !!Chart.getChart('chart-bands')")
    # The gap heatmap arrives after the page.
    expect(page.locator("#heatmap table.heatmap")).to_be_visible()
    # Every figure drills down: the employees below 20 JP, then one of them.
    page.get_by_role("link", name="Di bawah 20 JP").click()
    page.wait_for_url("**/reports/employees?**drill=below**")
    page.get_by_role("link", name="Ani Dinas A").click()
    expect(page.get_by_role("heading", name="Ani Dinas A")).to_be_visible()
    expect(page.locator("#jp-this-year")).to_have_text("0")
    expect(page.locator("#profile-table").get_by_text("Komunikasi").first).to_be_visible()

    # Record a workshop for Ani and Citra (another OPD: the Pemda HR sees both).
    page.goto("/reports/trainings/new")
    page.get_by_label("Judul").fill("Workshop Pelayanan Publik")
    page.get_by_label("Jenis pembelajaran").select_option("workshop")
    page.get_by_label("Penyelenggara").fill("BPSDM Provinsi")
    today = page.evaluate("() => new Date().toISOString().slice(0, 10)")
    page.get_by_label("Tanggal mulai").fill(today)
    page.get_by_label("Tanggal selesai").fill(today)
    page.get_by_label("JP (jam pelajaran 45 menit)").fill("24")
    page.get_by_label("Kompetensi yang dikembangkan").fill("M.05:2")
    page.get_by_role("button", name="Simpan pelatihan").click()
    page.get_by_label("Atau ketik NIP, satu per baris").fill(
        f"{org['a1'].nip}\n{org['b1'].nip}\n123")
    page.get_by_role("button", name="Periksa peserta").click()
    expect(page.locator("#bad-rows").get_by_text("123")).to_be_visible()
    page.get_by_role("button", name="Catat 2 peserta").click()
    expect(page.get_by_text("2 peserta dicatat")).to_be_visible()

    page.goto(f"/reports/employees/{org['a1'].nip}")
    expect(page.locator("#jp-this-year")).to_have_text("24")
    expect(page.get_by_text("Workshop Pelayanan Publik")).to_be_visible()
    m05 = page.locator("#profile-table tr", has_text="M.05")
    expect(m05.locator("td").nth(1)).to_have_text("2")

    # Correct the workshop: 16 JP, not 24. The participants' records follow.
    page.goto("/reports/trainings")
    page.get_by_role("link", name="Workshop Pelayanan Publik").click()
    page.get_by_role("link", name="Ubah").click()
    page.get_by_label("JP (jam pelajaran 45 menit)").fill("16")
    page.get_by_role("button", name="Simpan perubahan").click()
    expect(page.get_by_text("catatan 2 peserta telah dikoreksi")).to_be_visible()
    expect(page.locator("#training-history")).to_contain_text("24")
    page.goto(f"/reports/employees/{org['a1'].nip}")
    expect(page.locator("#jp-this-year")).to_have_text("16")

    # The XLSX export opens with openpyxl and matches the table.
    page.goto("/reports/completions")
    expect(page.locator("#record-total")).to_contain_text("2")
    table = [[cell.strip() for cell in row.locator("td").all_inner_texts()]
             for row in page.locator("#completion-table tbody tr").all()]
    with page.expect_download() as info:
        page.locator("#export-xlsx").click()
    with open(info.value.path(), "rb") as handle:
        book = load_workbook(io.BytesIO(handle.read()))
    rows = list(book.active.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(table) == 2
    # The page writes dates and numbers the Indonesian way; the workbook holds real ones.
    from babel.dates import format_date

    assert [(format_date(r[0].date(), "medium", locale="id"), r[1], r[2], r[5], r[8])
            for r in rows] == [
        (t[0], t[1], t[2], t[5], float(t[8].replace(".", "").replace(",", "."))) for t in table]
