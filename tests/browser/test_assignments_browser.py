"""In a real browser: HR assigns the integrity course to one OPD due in 30 days, sees the
compliance page; a learner of that OPD finds it first on the home page."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from lms.people import service as people
from lms.people.models import PositionKind
from tests import factories

pytestmark = pytest.mark.browser


@pytest.fixture
def opd(app, db):
    pemda = factories.make_org_unit("Pemkab Peramban")
    dinas = factories.make_org_unit("Dinas Peramban", pemda)
    other = factories.make_org_unit("Dinas Lain", pemda)
    staff = factories.make_position(dinas, name="Analis", kind=PositionKind.PELAKSANA)
    elsewhere = factories.make_position(other, name="Analis Lain", kind=PositionKind.PELAKSANA)
    learner = factories.make_user(name="Sari Peramban", email="sari@browser.lentera.local",
                                  password=factories.PASSWORD)
    outsider = factories.make_user(name="Joko Lain", email="joko@browser.lentera.local",
                                   password=factories.PASSWORD)
    factories.make_user(name="Akun HR", roles=["hr"], email="hr@browser.lentera.local",
                        password=factories.PASSWORD)
    people.assign_position(learner, staff, dt.date(2024, 1, 1))
    people.assign_position(outsider, elsewhere, dt.date(2024, 1, 1))
    db.commit()
    course = factories.import_sample_course("integritas-antikorupsi")
    return {"dinas": dinas, "course": course}


def sign_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("NIP atau surel").fill(email)
    page.get_by_label("Kata sandi").fill(factories.PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url("**/")


def test_hr_assigns_and_the_learner_sees_it_first(page, opd) -> None:
    sign_in(page, "hr@browser.lentera.local")
    page.get_by_role("button", name="Kepegawaian").click()
    page.get_by_role("link", name="Penugasan").click()
    page.get_by_role("link", name="Penugasan baru").click()
    page.get_by_label("Yang ditugaskan").select_option(
        f"course:{opd['course'].id}")
    page.get_by_label("Unit kerja (beserta sub-unitnya)").select_option(str(opd["dinas"].id))
    # Days left count in the Pemda's calendar (WIB): after 17:00 UTC it is tomorrow there.
    from lms.i18n import local_date

    due = local_date(dt.datetime.now(dt.UTC)) + dt.timedelta(days=30)
    page.locator("#due_date").fill(due.isoformat())
    page.get_by_role("button", name="Pratinjau").click()
    assert page.get_by_text(
        "1 pegawai dalam lingkup Anda akan mendapat penugasan ini.").is_visible()
    page.get_by_role("button", name="Tugaskan").click()
    expect(page.get_by_text("Penugasan disimpan: 1 pegawai ditugaskan.")).to_be_visible()
    assert page.get_by_role("link", name="Dinas Peramban").is_visible()
    assert page.get_by_role("link", name="Ekspor XLSX").is_visible()
    page.context.clear_cookies()
    sign_in(page, "sari@browser.lentera.local")
    panel = page.locator("#home-assigned")
    assert panel.is_visible()
    assert panel.get_by_role("link", name="Integritas dan Antikorupsi").is_visible()
    assert "(30 hari lagi)" in panel.inner_text()
    # First on the page: above the learner's own details.
    details = page.get_by_role("heading", name="Data saya")
    assert panel.bounding_box()["y"] < details.bounding_box()["y"]
    page.context.clear_cookies()
    sign_in(page, "joko@browser.lentera.local")
    assert page.locator("#home-assigned").count() == 0
