"""In a real browser: the learner completes a course and answers the reaction survey;
weeks later (an injected "now") the supervisor gets the follow-up and its e-mail, answers
it, and HR finds the answers in the course report."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from lms.courses import service as courses
from lms.courses.format import load_course_folder
from lms.db import get_session
from lms.evaluation import service
from lms.evaluation.models import Evaluation
from lms.mail.models import OutboxMessage
from tests import factories

pytestmark = pytest.mark.browser

FIXTURE = Path(__file__).parent / "fixtures" / "kursus-evaluasi"


@pytest.fixture
def small_course(app: Any) -> Any:
    loaded = load_course_folder(FIXTURE, ["youtube.com"], label="kursus-evaluasi")
    outcome = courses.import_course(loaded, source="test")
    get_session().commit()
    return outcome.course


def _login(page: Any, email: str) -> None:
    page.goto("/login")
    page.get_by_label("NIP atau surel").fill(email)
    page.get_by_label("Kata sandi").fill(factories.PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url("**/")


def _rate(page: Any, answers: dict[str, int], comment: str) -> None:
    for qid, value in answers.items():
        page.locator(f"#q_{qid}_{value}").check()
    page.get_by_label("Komentar (opsional)").fill(comment)
    page.get_by_role("button", name="Kirim jawaban saya").click()
    page.wait_for_url("**/")
    assert "jawaban Anda tercatat" in page.content()


def _rows(level: int) -> list[Evaluation]:
    get_session().expire_all()
    return list(get_session().scalars(sa.select(Evaluation).where(Evaluation.level == level)))


def test_reaction_then_supervisor_follow_up_reach_the_course_report(
        page: Any, browser: Any, live_server: Any, team: Any, small_course: Any,
        users: Any) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    # The learner completes the course in the player...
    _login(page, users["learner"].email)
    page.goto(f"/courses/{small_course.slug}")
    page.get_by_role("button", name="Daftar gratis").click()
    page.wait_for_url("**/modules/pelajaran")
    page.get_by_role("button", name=re.compile("Tandai selesai dan lanjutkan")).click()
    page.wait_for_url("**/quizzes/kuis")
    page.get_by_role("button", name="Mulai kuis").click()
    page.wait_for_url("**/attempts/*")
    page.locator('[name="q-bs"][value="true"]').check()
    page.get_by_role("button", name="Kirim jawaban").click()
    page.wait_for_selector("#quiz-outcome")
    assert page.locator("#quiz-outcome").inner_text() == "Lulus"

    # ...and finds the reaction survey on the home page.
    page.goto("/")
    panel = page.locator("#evaluation-panel")
    assert "Kursus Evaluasi Uji" in panel.inner_text()
    panel.get_by_role("link", name="Isi kuesioner").click()
    page.wait_for_url("**/evaluation/*")
    _rate(page, {"relevance": 5, "objectives": 4, "materials": 4, "delivery": 5,
                 "intent": 5, "overall": 5}, "Materinya langsung terpakai")
    assert page.locator("#evaluation-panel").count() == 0
    reaction = _rows(1)[0]
    assert reaction.status == "done" and reaction.answers["overall"] == 5

    # Six weeks and a day later (an injected "now"), the daily reminder job runs.
    follow = _rows(3)[0]
    assert follow.status == "scheduled"
    counts = service.remind(follow.completed_at + dt.timedelta(weeks=6, days=1))
    get_session().commit()
    assert counts["opened"] == 1 and counts["reminded"] == 1
    # The certificate mail of her completion comes first; this is the follow-up.
    mail = get_session().scalar(sa.select(OutboxMessage)
                                .where(OutboxMessage.category == "evaluation"))
    assert mail.to_address == "kasi@contoh.go.id" and mail.category == "evaluation"
    path = re.search(r"https?://[^/\s]+(/evaluation/\d+)", mail.text).group(1)

    # The supervisor sees it on the home page and answers through the e-mail's link.
    boss = browser.new_context(base_url=live_server.url, locale="id-ID")
    boss_page = boss.new_page()
    boss_page.set_default_timeout(15000)
    _login(boss_page, "kasi@contoh.go.id")
    panel = boss_page.locator("#evaluation-panel")
    assert "Tindak lanjut atasan" in panel.inner_text()
    assert users["learner"].name in panel.inner_text()
    boss_page.goto(path)
    assert users["learner"].name in boss_page.locator("h1").inner_text()
    _rate(boss_page, {"applies": 4, "performance": 4, "opportunity": 3, "support": 5},
          "Sudah menerapkan standar pelayanan di loket")
    boss.close()
    assert _rows(3)[0].status == "done"

    # HR opens the evaluation results and the course report.
    hr = browser.new_context(base_url=live_server.url, locale="id-ID")
    hr_page = hr.new_page()
    hr_page.set_default_timeout(15000)
    hr_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _login(hr_page, users["hr"].email)
    hr_page.goto("/evaluation/reports")
    hr_page.get_by_role("link", name="Kursus Evaluasi Uji").click()
    hr_page.wait_for_url("**/evaluation/reports/course/*")
    answers = hr_page.locator("#behaviour-answers").inner_text()
    assert "Sudah menerapkan standar pelayanan di loket" in answers
    assert "Bu Kepala Seksi" in answers and users["learner"].name in answers
    assert "Materinya langsung terpakai" in hr_page.locator("#reaction-comments").inner_text()
    assert hr_page.locator("#learning-table").is_visible()
    # The charts drew (Chart.js sets the canvas size; nothing was blocked by the CSP).
    hr_page.wait_for_function(
        "() => document.getElementById('chart-behaviour').getAttribute('style') !== null")
    hr.close()
    assert not errors, errors
