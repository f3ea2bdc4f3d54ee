"""In Chromium: complete a course, see the level rise on the Profil Kompetensi page with
its chart and evidence; void the completion and see it fall again."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from lms.competency import service
from lms.courses import service as courses
from lms.courses.format import load_course_folder
from lms.courses.models import Course
from lms.db import get_session
from lms.people import service as people
from lms.quizzes.models import QuizAttempt
from lms.xapi.models import Statement
from lms.xapi.service import store_statements
from tests import factories
from tests.courses.conftest import FIXTURES, HOSTS, answers_for
from tests.courses.test_journey_browser import _fill

pytestmark = pytest.mark.browser


@pytest.fixture
def setup(app, live_server, tmp_path):
    """Frameworks, a learner with a position standard, and the mini course published by
    the live server's app (its IRIs use the live server's base URL)."""
    with live_server.app.app_context():
        frameworks = {c.code: c.id for c in service.load_shipped_frameworks()[1].competencies}
        target = tmp_path / "mini-kursus"
        shutil.copytree(FIXTURES / "mini-kursus", target)
        courses.import_course(load_course_folder(target, HOSTS, label="mini-kursus"),
                              source="test")
        user = factories.make_user(email="rina@browser.lentera.local", name="Rina Pembelajar",
                                   password=factories.PASSWORD)
        position = factories.make_position()
        people.assign_position(user, position, dt.date(2024, 1, 1))
        service.set_requirements(position, {frameworks["T.KEU"]: 2})
        get_session().commit()
        get_session().close()
    return live_server


def _level_cell(page: Any, code: str) -> str:
    return page.locator(f'#competency-table tr[data-code="{code}"] .level-current .badge'
                        ).inner_text()


def test_course_completion_in_the_browser_shows_on_the_profile_and_voiding_undoes_it(
        page, setup):
    page.goto("/login")
    page.get_by_label("NIP atau surel").fill("rina@browser.lentera.local")
    page.get_by_label("Kata sandi").fill(factories.PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url("**/")

    page.goto("/competency/")
    assert _level_cell(page, "T.KEU") == "–"
    assert "Mini Kursus Uji" in page.locator(".gap-courses").inner_text()

    page.goto("/courses/mini-kursus")
    page.get_by_role("button", name="Daftar gratis").click()
    page.wait_for_url("**/modules/satu")
    page.get_by_role("button", name=re.compile("Tandai selesai dan lanjutkan")).click()
    page.wait_for_url("**/modules/pelajaran-dua")
    page.get_by_role("button", name=re.compile("Tandai selesai dan lanjutkan")).click()
    page.wait_for_url("**/quizzes/kuis")
    page.get_by_role("button", name="Mulai kuis").click()
    page.wait_for_url("**/attempts/*")
    get_session().expire_all()
    attempt = get_session().scalar(sa.select(QuizAttempt).order_by(QuizAttempt.id.desc()))
    course = get_session().scalar(sa.select(Course))
    quiz = courses.find_module(courses.definition_of(courses.current_version(course)),
                               "kuis")["quiz"]
    _fill(page, answers_for(attempt, quiz, right=True))
    page.get_by_role("button", name="Kirim jawaban").click()
    page.wait_for_selector("#quiz-outcome")

    page.goto("/competency/")
    assert _level_cell(page, "T.KEU") == "1"
    assert _level_cell(page, "M.05") == "2"
    # The chart drew from the data attribute (no inline script).
    assert page.evaluate(
        "() => !!window.Chart.getChart(document.getElementById('competency-chart'))")
    page.get_by_role("link", name="Pengelolaan Keuangan Daerah").first.click()
    assert page.locator("#current-level").inner_text() == "1"
    assert "Mini Kursus Uji" in page.locator("#evidence-table").inner_text()

    get_session().expire_all()
    completion = get_session().scalar(sa.select(Statement.statement_id).where(
        Statement.verb_id == "http://adlnet.gov/expapi/verbs/completed",
        Statement.activity_id == setup.url + "/courses/mini-kursus"))
    with setup.app.app_context():
        store_statements([{
            "id": str(uuid.uuid4()),
            "actor": {"objectType": "Agent", "mbox": "mailto:hr@lentera.test"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/voided",
                     "display": {"en-US": "voided"}},
            "object": {"objectType": "StatementRef", "id": completion}}])
        get_session().commit()
    page.reload()
    assert page.locator("#current-level").inner_text() == "0"
    assert "ditarik" in page.locator("#evidence-table").inner_text()
