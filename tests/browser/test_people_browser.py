"""In a real browser: sign-in per role with its own navigation, and the employee import."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import factories

pytestmark = pytest.mark.browser


@pytest.fixture
def accounts(app, db):
    made = {
        role: factories.make_user(
            roles=[role],
            email=f"{role}@browser.lentera.local",
            name=f"Akun {role}",
            password=factories.PASSWORD,
        )
        for role in ("learner", "trainer", "hr", "admin")
    }
    db.commit()
    return made


def sign_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("NIP atau surel").fill(email)
    page.get_by_label("Kata sandi").fill(factories.PASSWORD)
    page.get_by_role("button", name="Masuk").click()


@pytest.mark.parametrize("role", ["learner", "trainer", "hr", "admin"])
def test_each_role_signs_in_and_sees_its_navigation(page, accounts, role: str) -> None:
    sign_in(page, f"{role}@browser.lentera.local")
    page.wait_for_url("**/")
    assert page.get_by_role("heading", name=f"Halo, Akun {role}").is_visible()
    admin_menu = page.get_by_role("button", name="Administrasi").or_(
        page.get_by_role("link", name="Administrasi")
    )
    assert admin_menu.count() == (1 if role == "admin" else 0)
    # Sign out through the user menu.
    page.get_by_role("button", name=f"Akun {role}").click()
    page.get_by_role("button", name="Keluar").click()
    page.wait_for_url("**/login")
    assert page.get_by_text("Anda telah keluar.").is_visible()


def test_wrong_password_shows_a_message(page, accounts) -> None:
    page.goto("/login")
    page.get_by_label("NIP atau surel").fill("learner@browser.lentera.local")
    page.get_by_label("Kata sandi").fill("salah-sekali-1")
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_text("NIP/surel atau kata sandi tidak benar.")).to_be_visible()


def test_csv_import_with_a_bad_row_then_a_corrected_file(page, accounts, tmp_path, db) -> None:
    import sqlalchemy as sa

    from lms.people.models import User

    header = "nip,name,email,org_unit,position\n"
    good = "198501012010011001,Budi Santoso,budi@example.go.id,Pemkab Uji / Dinas A,Analis\n"
    bad = "198501012010013002,Ani,ani@example.go.id,Pemkab Uji / Dinas A,Analis\n"
    bad_file = tmp_path / "pegawai.csv"
    bad_file.write_text(header + good + bad)
    sign_in(page, "admin@browser.lentera.local")
    page.goto("/admin/import")
    page.get_by_label("Berkas CSV").set_input_files(str(bad_file))
    page.get_by_role("button", name="Periksa berkas").click()
    expect(page.get_by_text("1 baris bermasalah. Belum ada data yang diimpor.")).to_be_visible()
    row = page.locator("tr.table-danger")
    assert row.locator("td").first.inner_text() == "3"
    assert "harus 1 atau 2, bukan 3" in row.inner_text()
    assert db.scalar(sa.select(sa.func.count(User.id)).where(User.nip.like("19850101%"))) == 0

    good_file = tmp_path / "pegawai-benar.csv"
    good_file.write_text(header + good)
    page.get_by_role("link", name="Unggah berkas yang telah diperbaiki").click()
    page.get_by_label("Berkas CSV").set_input_files(str(good_file))
    page.get_by_role("button", name="Periksa berkas").click()
    page.get_by_role("button", name="Impor 1 pegawai").click()
    expect(page.get_by_text("Impor selesai: 1 ditambahkan")).to_be_visible()
    assert db.scalar(sa.select(User.name).where(User.nip == "198501012010011001")) == "Budi Santoso"
