"""A course completed through Lentera's own pages raises the levels it targets; voiding
the completion takes back what it alone proved."""

from __future__ import annotations

import shutil
import uuid

import pytest
import sqlalchemy as sa

from lms.competency.models import Evidence, EvidenceRule
from lms.courses import service as courses
from lms.courses.format import load_course_folder
from lms.db import get_session
from lms.quizzes.models import QuizAttempt
from lms.xapi.models import Statement
from lms.xapi.service import store_statements
from tests.competency.conftest import level_of
from tests.courses.conftest import FIXTURES, HOSTS, answers_for

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


@pytest.fixture
def course(app, frameworks, tmp_path):
    target = tmp_path / "mini-kursus"
    shutil.copytree(FIXTURES / "mini-kursus", target)
    outcome = courses.import_course(load_course_folder(target, HOSTS, label="mini-kursus"),
                                    source="test")
    get_session().commit()
    return outcome.course


def test_publishing_the_course_creates_its_rules(course):
    keys = {r.rule_key for r in get_session().scalars(sa.select(EvidenceRule))}
    iri = "http://lentera.test/courses/mini-kursus"
    assert keys == {f"course:{iri}:completed:M.05", f"course:{iri}:completed:T.KEU",
                    f"quiz:{iri}/quizzes/kuis:items:M.05"}


def test_completing_the_course_raises_its_targets_and_voiding_takes_it_back(
        client, login_as, course):
    user = login_as("learner")
    client.post("/courses/mini-kursus/enrol")
    for lesson in ("satu", "pelajaran-dua"):
        client.post(f"/courses/mini-kursus/modules/{lesson}/complete")
    client.post("/courses/mini-kursus/quizzes/kuis/start")
    get_session().expire_all()
    attempt = get_session().scalar(sa.select(QuizAttempt))
    quiz = courses.find_module(courses.definition_of(courses.current_version(course)),
                               "kuis")["quiz"]
    client.post(f"/courses/mini-kursus/quizzes/kuis/attempts/{attempt.uuid}",
                data=answers_for(attempt, quiz, right=True))
    get_session().expire_all()
    assert level_of(user, "T.KEU") == 1
    assert level_of(user, "M.05") == 2
    page = client.get("/competency/").get_data(as_text=True)
    assert "Pengelolaan Keuangan Daerah" in page and "Mini Kursus Uji" in page

    completion = get_session().scalar(sa.select(Statement.statement_id).where(
        Statement.verb_id == COMPLETED,
        Statement.activity_id == "http://lentera.test/courses/mini-kursus"))
    store_statements([{"id": str(uuid.uuid4()),
                       "actor": {"objectType": "Agent", "mbox": "mailto:hr@lentera.test"},
                       "verb": {"id": "http://adlnet.gov/expapi/verbs/voided",
                                "display": {"en-US": "voided"}},
                       "object": {"objectType": "StatementRef", "id": completion}}])
    get_session().commit()
    get_session().expire_all()
    assert level_of(user, "T.KEU") == 0
    # M.05 is still proven by the quiz's tagged item, a statement of its own.
    assert level_of(user, "M.05") == 2
    rules = get_session().scalars(sa.select(EvidenceRule.criterion).join(Evidence).where(
        Evidence.withdrawn.is_(False), Evidence.user_id == user.id)).all()
    assert [str(r) for r in rules] == ["items"]
    detail = client.get(f"/competency/employees/{user.nip}/T.KEU").get_data(as_text=True)
    assert "ditarik" in detail and completion in detail
