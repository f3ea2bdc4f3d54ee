"""In a real browser: an employee submits a seminar certificate, her supervisor confirms,
HR verifies; her JP changes on her home page, Riwayat Belajar, JP statement and HR's record
of her; HR voids it and every one of them changes back."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.jp.conftest import PDF

pytestmark = pytest.mark.browser


def sign_in(page, email: str) -> None:
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_label("NIP atau surel").fill(email)
    page.get_by_label("Kata sandi").fill(factories.PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url("**/")


def jp_everywhere(page, nip: str) -> dict[str, str]:
    year = dt.date.today().year
    seen = {}
    page.goto("/")
    seen["home"] = page.locator("#jp-this-year").inner_text()
    page.goto("/courses/transcript")
    seen["Riwayat Belajar"] = page.locator(f'.jp-year-value[data-year="{year}"]').inner_text() \
        if page.locator(f'.jp-year-value[data-year="{year}"]').count() else "0"
    page.goto("/jp/statement")
    seen["statement"] = page.locator("#jp-total").inner_text()
    return seen


def test_submit_confirm_verify_then_void(page, org, tmp_path):
    certificate = tmp_path / "sertifikat-seminar.pdf"
    certificate.write_bytes(PDF)
    today = dt.date.today().isoformat()
    nip = org["a1"].nip

    sign_in(page, "ani@test.lentera.local")
    page.get_by_role("button", name="Pengembangan").click()
    page.get_by_role("link", name="Pembelajaran di luar Lentera").click()
    page.get_by_role("link", name="Ajukan pembelajaran").click()
    page.get_by_label("Judul").fill("Seminar Nasional SPBE")
    page.get_by_label("Jenis pengembangan").select_option(label="Seminar")
    page.get_by_label("Penyelenggara").fill("Kementerian PANRB")
    page.get_by_label("Mulai").fill(today)
    page.get_by_label("Selesai").fill(today)
    page.get_by_label("Jam atau JP").fill("6")
    page.get_by_label("Nomor sertifikat").fill("SEM-SPBE-01")
    page.get_by_label("Sertifikat (PDF, PNG atau JPEG, paling besar 5 MB)").set_input_files(
        str(certificate))
    page.get_by_role("button", name="Ajukan", exact=True).click()
    expect(page.locator("#status")).to_have_text("Menunggu atasan")
    expect(page.locator("#submission-jp")).to_have_text("8")
    detail = page.url
    assert jp_everywhere(page, nip) == {"home": "0", "Riwayat Belajar": "0", "statement": "0"}
    expect(page.get_by_text("Seminar Nasional SPBE")).to_be_visible()  # pending, listed

    sign_in(page, "head@test.lentera.local")
    page.goto("/jp/team")
    page.get_by_role("link", name="Seminar Nasional SPBE").click()
    page.get_by_role("button", name="Konfirmasi").click()
    expect(page.locator("#status")).to_have_text("Menunggu BKPSDM")

    sign_in(page, "hr@test.lentera.local")
    page.goto("/jp/hr")
    expect(page.locator("#pending").get_by_text("Seminar Nasional SPBE")).to_be_visible()
    page.locator("#pending").get_by_role("link", name="Seminar Nasional SPBE").click()
    page.get_by_role("button", name="Verifikasi: hitung 8 JP").click()
    expect(page.locator("#status")).to_have_text("Terverifikasi")
    page.goto(f"/reports/employees/{nip}")
    expect(page.locator("#jp-this-year")).to_have_text("8")

    sign_in(page, "ani@test.lentera.local")
    assert jp_everywhere(page, nip) == {"home": "8", "Riwayat Belajar": "8", "statement": "8"}

    sign_in(page, "hr@test.lentera.local")
    page.goto(detail)
    page.get_by_label("Alasan").fill("Sertifikat tidak sah")
    page.get_by_role("button", name="Batalkan: tarik kembali JP").click()
    expect(page.locator("#status")).to_have_text("Dibatalkan")
    page.goto(f"/reports/employees/{nip}")
    expect(page.locator("#jp-this-year")).to_have_text("0")
    sign_in(page, "ani@test.lentera.local")
    assert jp_everywhere(page, nip) == {"home": "0", "Riwayat Belajar": "0", "statement": "0"}
