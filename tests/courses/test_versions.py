"""Learners finish the version they started; archived courses stay open to their learners."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from lms.courses import service
from lms.courses.format import load_course_folder
from lms.courses.models import Completion, Course, Enrollment
from lms.courses.statements import PROGRESS_EXTENSION, version_extension
from lms.db import get_session
from lms.quizzes.models import QuizAttempt
from lms.xapi.models import Statement
from tests.courses.conftest import HOSTS, answers_for

ADL = "http://adlnet.gov/expapi/verbs/"


def _publish_v2(course_dir: Path) -> Any:
    """Version 2: a third lesson before the quiz, JP 3, a changed first lesson."""
    (course_dir / "tiga.md").write_text("---\ntitle: Pelajaran Tiga\n---\nBaru di versi dua.\n")
    (course_dir / "satu.md").write_text((course_dir / "satu.md").read_text() + "\nTambahan.\n")
    text = (course_dir / "course.yaml").read_text().replace("jp: 2", "jp: 3")
    text = text.replace("  - kuis.yaml", "  - tiga.md\n  - kuis.yaml")
    (course_dir / "course.yaml").write_text(text)
    outcome = service.import_course(load_course_folder(course_dir, HOSTS))
    get_session().commit()
    assert outcome.version.number == 2
    return outcome


def _enrollment() -> Enrollment:
    get_session().expire_all()
    return get_session().scalar(sa.select(Enrollment))


def _pass_quiz(client: Any, course: Any, version_number: int) -> QuizAttempt:
    client.post("/courses/mini-kursus/quizzes/kuis/start")
    get_session().expire_all()
    attempt = get_session().scalar(sa.select(QuizAttempt).order_by(QuizAttempt.id.desc()))
    quiz = service.find_module(
        service.definition_of(service.version_number(course, version_number)), "kuis"
    )["quiz"]
    client.post(
        f"/courses/mini-kursus/quizzes/kuis/attempts/{attempt.uuid}",
        data=answers_for(attempt, quiz, right=True),
    )
    get_session().expire_all()
    return get_session().get(QuizAttempt, attempt.id)


def test_learner_finishes_the_version_they_started(client, login_as, course, course_dir):
    user = login_as("learner")
    client.post("/courses/mini-kursus/enrol")
    assert _enrollment().course_version == 1
    client.post("/courses/mini-kursus/modules/satu/complete")
    _publish_v2(course_dir)

    page = client.get("/courses/mini-kursus").get_data(as_text=True)
    assert "version-notice" in page and "/courses/mini-kursus/move" in page
    assert "Tambahan." not in client.get("/courses/mini-kursus/modules/satu").get_data(
        as_text=True
    )
    assert client.get("/courses/mini-kursus/modules/tiga").status_code == 404

    client.post("/courses/mini-kursus/modules/pelajaran-dua/complete")
    attempt = _pass_quiz(client, course, 1)
    assert attempt.passed and attempt.course_version_id == service.version_number(course, 1).id

    completion = get_session().scalar(sa.select(Completion))
    assert completion is not None and completion.user_id == user.id
    assert completion.course_version == 1 and completion.jp == 2  # v1's rule and JP
    statements = list(get_session().scalars(sa.select(Statement.data)))
    assert {s["context"]["extensions"][version_extension()] for s in statements
            if s["verb"]["id"].startswith(ADL)} == {1}


def test_moving_to_the_newest_version_keeps_records(client, login_as, course, course_dir):
    user = login_as("learner")
    client.post("/courses/mini-kursus/enrol")
    for lesson in ("satu", "pelajaran-dua"):
        client.post(f"/courses/mini-kursus/modules/{lesson}/complete")
    _publish_v2(course_dir)

    response = client.post("/courses/mini-kursus/move")
    assert response.status_code == 302
    enrollment = _enrollment()
    assert enrollment.course_version == 2 and enrollment.version_changed_at is not None
    page = client.get("/courses/mini-kursus").get_data(as_text=True)
    assert "version-notice" not in page and "Pelajaran Tiga" in page
    assert "Tambahan." in client.get("/courses/mini-kursus/modules/satu").get_data(as_text=True)

    # Progress by the new version's rule: 2 of 4 required modules done, records kept.
    statements = get_session().scalars(sa.select(Statement.data).order_by(Statement.seq.desc()))
    last = next(s for s in statements if s["verb"]["id"] == ADL + "progressed")
    assert last["result"]["extensions"][PROGRESS_EXTENSION] == 50
    assert last["context"]["extensions"][version_extension()] == 2
    rows = service.module_progress(user, course)
    assert rows["satu"].completed_at is not None and rows["pelajaran-dua"].completed_at

    client.post("/courses/mini-kursus/modules/tiga/complete")
    _pass_quiz(client, course, 2)
    completion = get_session().scalar(sa.select(Completion))
    assert completion.course_version == 2 and completion.jp == 3

    # Moving again is refused politely: nothing newer.
    assert client.post("/courses/mini-kursus/move").status_code == 302
    assert _enrollment().course_version == 2


def test_moving_completes_when_the_new_rule_is_met_already(client, login_as, course, course_dir):
    login_as("learner")
    client.post("/courses/mini-kursus/enrol")
    client.post("/courses/mini-kursus/modules/satu/complete")
    # Version 2 requires only the first lesson.
    text = (course_dir / "course.yaml").read_text()
    (course_dir / "course.yaml").write_text(text + "completion: {modules: [satu], quizzes: none}\n")
    service.import_course(load_course_folder(course_dir, HOSTS))
    get_session().commit()
    assert get_session().scalar(sa.select(Completion)) is None
    client.post("/courses/mini-kursus/move")
    get_session().expire_all()
    completion = get_session().scalar(sa.select(Completion))
    assert completion is not None and completion.course_version == 2


def test_new_enrolments_get_the_newest_version(client, login_as, course, course_dir):
    _publish_v2(course_dir)
    login_as("learner")
    client.post("/courses/mini-kursus/enrol")
    assert _enrollment().course_version == 2
    page = client.get("/courses/mini-kursus").get_data(as_text=True)
    assert "version-notice" not in page
    assert client.get("/courses/mini-kursus/modules/tiga").status_code == 200


def test_archived_course_stays_open_to_its_learners(client, login_as, course, users):
    user = login_as("learner")
    client.post("/courses/mini-kursus/enrol")
    client.post("/courses/mini-kursus/modules/satu/complete")
    get_session().expire_all()
    row = get_session().scalar(sa.select(Course))
    row.published = False  # what archiving in authoring does
    get_session().commit()

    assert "Mini Kursus Uji" not in client.get("/courses/").get_data(as_text=True)
    page = client.get("/courses/mini-kursus")
    assert page.status_code == 200 and "archive-notice" in page.get_data(as_text=True)
    assert client.get("/courses/mini-kursus/modules/pelajaran-dua").status_code == 200
    image = client.get("/courses/mini-kursus/files/1/titik.gif")
    assert image.status_code == 200
    image.close()
    assert "Mini Kursus Uji" in client.get("/courses/mine").get_data(as_text=True)
    assert client.post("/courses/mini-kursus/modules/pelajaran-dua/complete").status_code == 302
    _pass_quiz(client, get_session().scalar(sa.select(Course)), 1)
    assert get_session().scalar(sa.select(Completion)).user_id == user.id

    # Nobody else finds or joins it.
    client.post("/logout")
    login_as("hr")
    assert client.get("/courses/mini-kursus").status_code == 404
    assert client.post("/courses/mini-kursus/enrol").status_code == 404
    assert client.get("/courses/mini-kursus/files/1/titik.gif").status_code == 404
    assert get_session().scalar(sa.select(sa.func.count(Enrollment.id))) == 1


def test_migration_pins_existing_enrolments(app, course, course_dir, users):
    spec = importlib.util.spec_from_file_location(
        "pinning",
        Path(__file__).parents[2] / "lms/migrations/versions/0014_courses_pinning.py",
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    session = get_session()
    done, busy = users["learner"], users["hr"]
    for user in (done, busy):
        session.add(Enrollment(user_id=user.id, course_id=course.id, registration=str(user.id)))
    session.add(Completion(user_id=done.id, course_id=course.id, course_version=1,
                           course_title="x", jp=2, competencies=[], completed_at=service.utcnow(),
                           statement_id="s1", certificate_number="LTR-X"))
    session.commit()
    _publish_v2(course_dir)
    session.execute(sa.text(module.PIN_EXISTING))
    session.commit()
    session.expire_all()
    pinned = {e.user_id: e.course_version for e in session.scalars(sa.select(Enrollment))}
    assert pinned == {done.id: 1, busy.id: 2}
