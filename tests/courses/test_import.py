"""Importing courses: idempotence, new versions that keep learners' records, the signal,
and the ``lms import-courses`` command."""

from __future__ import annotations

import sqlalchemy as sa

from lms.courses import service
from lms.courses.format import load_course_folder
from lms.courses.models import Completion, CourseVersion, Enrollment
from lms.db import get_session
from lms.signals import course_version_published
from tests.courses.conftest import HOSTS


def test_reimport_without_changes_creates_no_version(app, course_dir, course):
    outcome = service.import_course(load_course_folder(course_dir, HOSTS))
    assert outcome.status == "unchanged" and outcome.version.number == 1
    assert get_session().scalar(sa.select(sa.func.count(CourseVersion.id))) == 1


def test_reimport_with_changes_keeps_learners_records(app, client, login_as, course_dir, course):
    user = login_as("learner")
    client.post("/courses/mini-kursus/enrol")
    client.post("/courses/mini-kursus/modules/satu/complete")
    from lms.xapi.service import store_statements

    store_statements(
        [
            {
                "actor": {
                    "objectType": "Agent",
                    "account": {"homePage": "http://lentera.test", "name": user.nip},
                },
                "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                "object": {"id": "http://lentera.test/courses/mini-kursus"},
            }
        ]
    )
    get_session().commit()

    (course_dir / "satu.md").write_text((course_dir / "satu.md").read_text() + "\nTambahan.\n")
    text = (course_dir / "course.yaml").read_text().replace("jp: 2", "jp: 3")
    (course_dir / "course.yaml").write_text(text)
    outcome = service.import_course(load_course_folder(course_dir, HOSTS))
    get_session().commit()
    assert outcome.status == "updated" and outcome.version.number == 2
    assert outcome.course.jp == 3

    get_session().expire_all()
    assert get_session().scalar(sa.select(Enrollment)).user_id == user.id
    completion = get_session().scalar(sa.select(Completion))
    assert completion.jp == 2 and completion.course_version == 1  # earned under version 1
    # The learner keeps the version they started until they choose to move.
    page = client.get("/courses/mini-kursus/modules/satu").get_data(as_text=True)
    assert "Tambahan." not in page
    client.post("/courses/mini-kursus/move")
    page = client.get("/courses/mini-kursus/modules/satu").get_data(as_text=True)
    assert "Tambahan." in page
    rows = service.module_progress(user, outcome.course)
    assert rows["satu"].completed_at is not None


def test_import_sends_the_documented_signal(app, course_dir):
    received = []

    def receiver(sender, course):
        received.append(course)

    course_version_published.connect(receiver)
    try:
        service.import_course(load_course_folder(course_dir, HOSTS))
    finally:
        course_version_published.disconnect(receiver)
    [payload] = received
    base = "http://lentera.test/courses/mini-kursus"
    assert payload["iri"] == base and payload["version"] == 1 and payload["jp"] == 2
    assert payload["targets"] == [
        {"competency": "M.05", "level": 2},
        {"competency": "T.KEU", "level": 1},
    ]
    assert payload["modules"][0] == {
        "iri": f"{base}/modules/satu",
        "title": "Pelajaran Satu",
        "kind": "lesson",
    }
    [quiz] = payload["quizzes"]
    assert quiz["iri"] == f"{base}/quizzes/kuis"
    assert quiz["questions"][0] == {
        "iri": f"{base}/quizzes/kuis/questions/pilih-satu",
        "competency": "M.05",
    }


def test_cli_reports_errors_with_file_and_line_and_imports_nothing(runner, course_dir):
    text = (course_dir / "kuis.yaml").read_text().replace("pass_mark: 75", "pass_mark: 175")
    (course_dir / "kuis.yaml").write_text(text)
    result = runner.invoke(args=["import-courses", str(course_dir)])
    assert result.exit_code == 1
    assert f"{course_dir}/kuis.yaml:2: pass_mark:" in result.output
    assert "nothing was imported" in result.output
    assert get_session().scalar(sa.select(sa.func.count(CourseVersion.id))) == 0


def test_cli_imports_a_folder_of_courses_idempotently(runner, course_dir):
    result = runner.invoke(args=["import-courses", str(course_dir.parent)])
    assert result.exit_code == 0, result.output
    assert "mini-kursus: created (version 1)" in result.output
    result = runner.invoke(args=["import-courses", str(course_dir.parent)])
    assert "mini-kursus: unchanged (version 1)" in result.output


def test_demo_loads_the_sample_courses_once(app):
    from lms.courses.demo import load_demo

    assert "6 new" in load_demo()
    get_session().commit()
    assert "0 new, 0 updated, 6 unchanged" in load_demo()
