"""In Chromium: answers are saved as they are given, survive a reload and a dropped
connection, and are graded when the time runs out with the page closed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from lms.db import get_session, utcnow
from lms.quizzes.models import QuizAttempt, QuizSavedAnswer
from tests import factories

pytestmark = pytest.mark.browser


@pytest.fixture
def learner(app, db):
    user = factories.make_user(roles=["learner"], email="rina@browser.lentera.local",
                               name="Rina Penjawab", password=factories.PASSWORD)
    db.commit()
    return user


def _sign_in(page: Any) -> None:
    page.goto("/login")
    page.get_by_label("NIP atau surel").fill("rina@browser.lentera.local")
    page.get_by_label("Kata sandi").fill(factories.PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url("**/")


def _saved(attempt_id: int) -> dict[str, Any]:
    get_session().expire_all()
    return {r.question_id: r.values for r in get_session().scalars(
        sa.select(QuizSavedAnswer).where(QuizSavedAnswer.attempt_id == attempt_id))}


def test_answers_survive_a_reload_and_a_dropped_connection(page, learner, course,
                                                           live_server) -> None:
    _sign_in(page)
    page.goto("/courses/mini-kursus")
    page.get_by_role("button", name="Daftar gratis").click()
    page.goto("/courses/mini-kursus/quizzes/kuis")
    page.get_by_role("button", name="Mulai kuis").click()
    page.wait_for_url("**/attempts/*")
    status = page.locator("#quiz-save-status")
    assert "disimpan saat Anda menjawab" in status.inner_text()
    attempt = get_session().scalar(sa.select(QuizAttempt).order_by(QuizAttempt.id.desc()))

    question = page.locator('fieldset[data-question="bs"]')
    with page.expect_response(lambda r: r.url.endswith("/answers") and r.ok):
        question.get_by_label("Benar").check()
    with page.expect_response(lambda r: r.url.endswith("/answers") and r.ok):
        page.locator("#q-isian").fill("Jakarta")  # saved after a short pause in typing
    page.wait_for_function("() => /Jawaban disimpan pukul/.test("
                           "document.getElementById('quiz-save-status').textContent)")
    saved = _saved(attempt.id)
    assert saved.get("bs") == {"q-bs": ["true"]} and saved["isian"] == {"q-isian": ["Jakarta"]}

    # Offline: the change waits on the page and is saved when the connection is back.
    page.context.set_offline(True)
    page.locator('fieldset[data-question="bs"]').get_by_label("Salah").check()
    page.wait_for_function("() => /Belum tersimpan/.test("
                           "document.getElementById('quiz-save-status').textContent)")
    assert status.evaluate("el => getComputedStyle(el).color") != ""
    page.context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    page.wait_for_function("() => /Jawaban disimpan pukul/.test("
                           "document.getElementById('quiz-save-status').textContent)")
    assert _saved(attempt.id)["bs"] == {"q-bs": ["false"]}

    # A reload brings every answer back.
    page.reload()
    assert page.locator('fieldset[data-question="bs"]').get_by_label("Salah").is_checked()
    assert page.locator("#q-isian").input_value() == "Jakarta"
    assert "Jawaban disimpan pukul" in page.locator("#quiz-save-status").inner_text()
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"]


def test_time_up_with_the_page_closed_shows_the_graded_saved_answers(page, learner, course,
                                                                     live_server) -> None:
    _sign_in(page)
    page.goto("/courses/mini-kursus")
    page.get_by_role("button", name="Daftar gratis").click()
    page.goto("/courses/mini-kursus/quizzes/kuis")
    page.get_by_role("button", name="Mulai kuis").click()
    page.wait_for_url("**/attempts/*")
    url = page.url
    page.locator('fieldset[data-question="bs"]').get_by_label("Benar").check()
    page.wait_for_function("() => /Jawaban disimpan pukul/.test("
                           "document.getElementById('quiz-save-status').textContent)")
    page.goto("/")  # the learner leaves; the time runs out meanwhile
    attempt = get_session().scalar(sa.select(QuizAttempt).order_by(QuizAttempt.id.desc()))
    get_session().execute(sa.update(QuizAttempt).where(QuizAttempt.id == attempt.id)
                          .values(deadline=utcnow() - dt.timedelta(minutes=10)))
    get_session().commit()
    page.goto(url)
    expect(page.locator("#quiz-timed-out")).to_be_visible()
    assert "batas waktu" in page.locator("#quiz-timed-out").inner_text()
    right = page.locator(".review-item").filter(has_text="Langit berwarna biru.")
    assert "Benar" in right.inner_text()
