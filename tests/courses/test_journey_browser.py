"""The whole learner journey in a real browser: find, enrol, learn, fail, pass, certify."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from lms.courses import service
from lms.courses.models import Completion
from lms.db import get_session
from lms.quizzes.models import QuizAttempt
from tests import factories
from tests.browser.look import loaded_width
from tests.courses.conftest import answers_for

pytestmark = pytest.mark.browser


@pytest.fixture
def learner(app, db):
    user = factories.make_user(
        roles=["learner"],
        email="siti@browser.lentera.local",
        name="Siti Pembelajar",
        password=factories.PASSWORD,
    )
    db.commit()
    return user


def _latest_attempt() -> QuizAttempt:
    get_session().expire_all()
    return get_session().scalar(sa.select(QuizAttempt).order_by(QuizAttempt.id.desc()))


def _fill(page: Any, data: dict[str, Any]) -> None:
    for name, value in data.items():
        field = page.locator(f'[name="{name}"]')
        kind = field.first.evaluate("el => el.tagName + ':' + (el.type || '')")
        if kind.startswith("SELECT"):
            field.select_option(str(value))
        elif kind in ("INPUT:radio", "INPUT:checkbox"):
            for item in value if isinstance(value, list) else [value]:
                page.locator(f'[name="{name}"][value="{item}"]').check()
        else:
            field.fill(str(value))


def test_learner_journey_from_catalog_to_verified_certificate(
    page, learner, course, browser, live_server
):
    page.goto("/login")
    page.get_by_label("NIP atau surel").fill("siti@browser.lentera.local")
    page.get_by_label("Kata sandi").fill(factories.PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url("**/")

    page.get_by_role("button", name="Belajar", exact=True).click()
    page.get_by_role("link", name="Katalog", exact=True).click()
    page.get_by_label("Cari", exact=True).fill("mini")
    page.get_by_role("button", name="Cari", exact=True).click()
    page.get_by_role("link", name="Mini Kursus Uji").click()
    page.get_by_role("button", name="Daftar gratis").click()

    # Lessons: a table and the course image render; each is marked done in turn.
    page.wait_for_url("**/modules/satu")
    assert page.locator(".lesson-body table").is_visible()
    assert loaded_width(page.locator(".lesson-body img")) == 1
    page.get_by_role("button", name=re.compile("Tandai selesai dan lanjutkan")).click()
    page.wait_for_url("**/modules/pelajaran-dua")
    assert (
        page.get_by_role("progressbar", name="Kemajuan kursus").get_attribute("aria-valuenow")
        == "33"
    )
    page.get_by_role("button", name=re.compile("Tandai selesai dan lanjutkan")).click()

    # First attempt: sent empty (after the unanswered warning), so it fails.
    page.wait_for_url("**/quizzes/kuis")
    page.get_by_role("button", name="Mulai kuis").click()
    page.wait_for_url("**/attempts/*")
    assert "opsi-tepat" not in page.content()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Kirim jawaban").click()
    page.wait_for_selector("#quiz-outcome")
    assert page.locator("#quiz-outcome").inner_text() == "Belum lulus"

    # Second attempt: every answer right. The result page is an attempt's address too:
    # wait for the new attempt's, not the one already open.
    first_attempt = page.url
    page.get_by_role("button", name="Coba lagi").click()
    page.wait_for_url(lambda url: "/attempts/" in url and url != first_attempt)
    definition = service.definition_of(service.current_version(course))
    quiz = service.find_module(definition, "kuis")["quiz"]
    _fill(page, answers_for(_latest_attempt(), quiz, right=True))
    page.get_by_role("button", name="Kirim jawaban").click()
    page.wait_for_selector("#quiz-outcome")
    assert page.locator("#quiz-outcome").inner_text() == "Lulus"

    page.get_by_role("link", name="Ambil sertifikat Anda").click()
    link = page.get_by_role("link", name="Unduh sertifikat")
    pdf = page.request.get(link.get_attribute("href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    get_session().expire_all()
    number = get_session().scalar(sa.select(Completion.certificate_number))

    # Anyone can verify it at its public address.
    stranger = browser.new_context(base_url=live_server.url)
    public = stranger.new_page()
    public.goto(f"/verify/{number}")
    assert public.locator("#verify-result").inner_text().endswith("Sertifikat ini sah.")
    assert "Mini Kursus Uji" in public.content()
    stranger.close()

    # The dashboard shows the JP earned this year.
    page.goto("/")
    assert page.locator("#jp-this-year").inner_text() == "2"
