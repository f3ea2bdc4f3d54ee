"""The learner's journey through the test client: pages, statements and derived records."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from lms.courses import service
from lms.courses.models import Completion, CourseProgress, Enrollment, ModuleProgress
from lms.courses.statements import PROGRESS_EXTENSION
from lms.db import get_session
from lms.quizzes.models import QuizAttempt
from lms.xapi.models import Statement
from tests.courses.conftest import answers_for

BASE = "http://lentera.test"
COURSE = f"{BASE}/courses/mini-kursus"
ADL = "http://adlnet.gov/expapi/verbs/"


def _statements(registration: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(Statement.data).order_by(Statement.seq)
    if registration:
        query = query.where(Statement.registration == registration)
    return list(get_session().scalars(query))


def _verbs(statements: list[dict[str, Any]]) -> list[str]:
    return [s["verb"]["id"].removeprefix(ADL) for s in statements]


def _enrol(client: Any) -> Enrollment:
    response = client.post("/courses/mini-kursus/enrol")
    assert response.status_code == 302
    get_session().expire_all()
    return get_session().scalar(sa.select(Enrollment))


def _quiz(course: Any) -> dict[str, Any]:
    definition = service.definition_of(service.current_version(course))
    return service.find_module(definition, "kuis")["quiz"]


def _start_attempt(client: Any) -> QuizAttempt:
    response = client.post("/courses/mini-kursus/quizzes/kuis/start")
    assert response.status_code == 302
    get_session().expire_all()
    return get_session().scalar(sa.select(QuizAttempt).order_by(QuizAttempt.id.desc()))


def test_catalog_lists_and_filters_published_courses(client, login_as, course):
    login_as("learner")
    page = client.get("/courses/").get_data(as_text=True)
    assert "Mini Kursus Uji" in page
    assert "Mini Kursus Uji" in client.get("/courses/?competency=T.KEU").get_data(as_text=True)
    assert "Mini Kursus Uji" not in client.get("/courses/?competency=M.01").get_data(as_text=True)
    assert "Mini Kursus Uji" not in client.get("/courses/?q=anggaran").get_data(as_text=True)
    assert "Mini Kursus Uji" not in client.get("/courses/?jp_max=1").get_data(as_text=True)
    assert "Mini Kursus Uji" in client.get("/courses/?topic=Pengujian&jp_max=2").get_data(
        as_text=True
    )


def test_enrolment_is_the_registration_of_every_statement(client, login_as, course):
    user = login_as("learner")
    enrollment = _enrol(client)
    client.get("/courses/mini-kursus/modules/satu")
    statements = _statements()
    assert _verbs(statements) == ["registered", "launched", "initialized", "experienced"]
    for s in statements:
        assert s["context"]["registration"] == enrollment.registration
        assert s["context"]["platform"] == "Lentera"
        assert s["context"]["language"] == "id-ID"
        assert s["context"]["contextActivities"]["grouping"][0]["id"] == COURSE
        assert s["context"]["contextActivities"]["category"]
        assert s["actor"]["account"] == {"homePage": BASE, "name": user.nip}
    lesson = statements[-1]
    assert lesson["object"]["id"] == f"{COURSE}/modules/satu"
    assert lesson["context"]["contextActivities"]["parent"][0]["id"] == COURSE


def test_lesson_renders_markdown_safely_with_course_images(client, login_as, course):
    login_as("learner")
    _enrol(client)
    response = client.get("/courses/mini-kursus/modules/satu")
    page = response.get_data(as_text=True)
    assert "<table" in page and "<script>alert" not in page
    src = re.search(r'<img src="([^"]+titik.gif)"', page).group(1)
    with client.get(src) as image:
        assert image.status_code == 200
        assert "sandbox" in image.headers["Content-Security-Policy"]
    assert 'src="https://h5p.org/h5p/embed/617"' in page
    assert "frame-src 'self' https://youtube.com" in response.headers["Content-Security-Policy"]
    video = client.get("/courses/mini-kursus/modules/pelajaran-dua").get_data(as_text=True)
    assert "https://www.youtube-nocookie.com/embed/abc123XYZ" in video
    assert client.get("/courses/mini-kursus/files/1/course.yaml").status_code == 404


def test_pages_need_enrolment(client, login_as, course):
    login_as("learner")
    response = client.get("/courses/mini-kursus/modules/satu")
    assert response.status_code == 302 and response.location.endswith("/courses/mini-kursus")


def test_completing_lessons_reports_progress(client, login_as, course):
    user = login_as("learner")
    _enrol(client)
    client.post("/courses/mini-kursus/modules/satu/complete")
    progressed = [s for s in _statements() if s["verb"]["id"] == ADL + "progressed"]
    assert progressed[-1]["result"]["extensions"][PROGRESS_EXTENSION] == 33
    get_session().expire_all()
    row = get_session().scalar(sa.select(ModuleProgress).where(ModuleProgress.user_id == user.id))
    assert row.module_id == "satu" and row.completed_at is not None
    progress = get_session().scalar(sa.select(CourseProgress))
    assert progress.progress == 33 and progress.last_module_id == "pelajaran-dua"  # opened next


def test_quiz_page_never_contains_the_answer_key(client, login_as, course):
    login_as("learner")
    _enrol(client)
    attempt = _start_attempt(client)
    page = client.get(f"/courses/mini-kursus/quizzes/kuis/attempts/{attempt.uuid}").get_data(
        as_text=True
    )
    # The CSRF token is random text: "u1" or "p1" turns up in it now and then.
    page = re.sub(r'(name="csrf_token" value=")[^"]*"', r'\1"', page)
    for secret in (
        "opsi-tepat",
        "correct",
        "u1",
        "u2",
        "p1",
        "Jakarta",
        'value="4"',
        "pilih-satu-opsi-tepat",
    ):
        assert secret not in page, secret
    assert "Jawaban Sahih" in page  # the options are shown, by random token


def test_fail_then_pass_completes_the_course_with_certificate(client, login_as, course):
    user = login_as("learner")
    enrollment = _enrol(client)
    for lesson in ("satu", "pelajaran-dua"):
        client.post(f"/courses/mini-kursus/modules/{lesson}/complete")
    quiz = _quiz(course)

    attempt = _start_attempt(client)
    response = client.post(
        f"/courses/mini-kursus/quizzes/kuis/attempts/{attempt.uuid}",
        data=answers_for(attempt, quiz, right=False),
    )
    assert response.status_code == 302
    get_session().expire_all()
    assert get_session().get(QuizAttempt, attempt.id).passed is False
    assert get_session().scalar(sa.select(Completion)) is None
    review = client.get(f"/courses/mini-kursus/quizzes/kuis/attempts/{attempt.uuid}").get_data(
        as_text=True
    )
    assert "Bukan yang ini." in review  # choice feedback for the wrong choice taken

    attempt = _start_attempt(client)
    assert attempt.number == 2
    client.post(
        f"/courses/mini-kursus/quizzes/kuis/attempts/{attempt.uuid}",
        data=answers_for(attempt, quiz, right=True),
    )
    get_session().expire_all()
    attempt = get_session().get(QuizAttempt, attempt.id)
    assert attempt.passed is True and attempt.scaled == 1.0

    completion = get_session().scalar(sa.select(Completion))
    assert completion.user_id == user.id and completion.jp == 2
    assert completion.registration == enrollment.registration
    from lms.jp import service as jp

    assert jp.jp_total(user, jp.this_year()) == 2

    verbs = _verbs(_statements(enrollment.registration))
    assert verbs.count("answered") == 16 and verbs.count("failed") == 1
    assert verbs[-4:] == ["passed", "progressed", "completed", "terminated"]

    pdf = client.get(f"/courses/certificates/{completion.certificate_number}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    client.post("/logout")
    verify = client.get(f"/verify/{completion.certificate_number}")
    assert verify.status_code == 200 and "Mini Kursus Uji" in verify.get_data(as_text=True)
    assert user.nip not in verify.get_data(as_text=True)  # the NIP is masked in public
    assert client.get("/verify/LTR-2000-XXXX-XXXX-XXXX").status_code == 404


def test_quiz_statements_carry_interactions_and_scores(client, login_as, course):
    login_as("learner")
    _enrol(client)
    quiz = _quiz(course)
    attempt = _start_attempt(client)
    client.post(
        f"/courses/mini-kursus/quizzes/kuis/attempts/{attempt.uuid}",
        data=answers_for(attempt, quiz, right=True),
    )
    statements = _statements()
    answered = {
        s["object"]["id"].rsplit("/", 1)[-1]: s
        for s in statements
        if s["verb"]["id"] == ADL + "answered"
    }
    quiz_iri = f"{COURSE}/quizzes/kuis"
    assert answered["pilih-satu"]["object"]["id"] == f"{quiz_iri}/questions/pilih-satu"
    assert answered["pilih-satu"]["context"]["contextActivities"]["parent"][0]["id"] == quiz_iri
    definitions = {k: s["object"]["definition"] for k, s in answered.items()}
    assert definitions["pilih-satu"]["interactionType"] == "choice"
    assert definitions["pilih-satu"]["correctResponsesPattern"] == ["opsi-tepat"]
    assert definitions["pilih-banyak"]["correctResponsesPattern"] == ["a[,]b"]
    assert definitions["bs"]["interactionType"] == "true-false"
    assert definitions["isian"]["correctResponsesPattern"][0] == "{case_matters=false}Jakarta"
    assert definitions["jodoh"]["correctResponsesPattern"] == ["p1[.]t-p1[,]p2[.]t-p2"]
    assert definitions["urut"]["interactionType"] == "sequencing"
    assert definitions["urut"]["correctResponsesPattern"] == ["u1[,]u2[,]u3"]
    assert definitions["rentang"]["correctResponsesPattern"] == ["10[:]20"]
    assert answered["urut"]["result"]["response"] == "u1[,]u2[,]u3"
    assert answered["angka"]["result"] == {
        "success": True,
        "response": "4",
        "score": {"scaled": 1.0, "raw": 1.0, "min": 0, "max": 1.0},
    }
    passed = next(s for s in statements if s["verb"]["id"] == ADL + "passed")
    assert passed["object"]["id"] == quiz_iri
    assert passed["result"]["score"] == {"scaled": 1.0, "raw": 8.0, "min": 0, "max": 8.0}
    assert passed["result"]["success"] is True and passed["result"]["duration"].startswith("PT")


def test_attempt_limit_is_enforced(client, login_as, course):
    login_as("learner")
    _enrol(client)
    quiz = _quiz(course)
    for _ in range(3):
        attempt = _start_attempt(client)
        client.post(
            f"/courses/mini-kursus/quizzes/kuis/attempts/{attempt.uuid}",
            data=answers_for(attempt, quiz, right=False),
        )
    assert client.post("/courses/mini-kursus/quizzes/kuis/start").status_code == 403


def test_completion_from_another_system_counts_the_same(client, login_as, course, app):
    from lms.xapi.service import store_statements

    user = login_as("learner")
    store_statements(
        [
            {
                "actor": {"objectType": "Agent", "account": {"homePage": BASE, "name": user.nip}},
                "verb": {"id": ADL + "completed"},
                "object": {"id": COURSE},
                "timestamp": "2026-03-01T08:00:00Z",
            }
        ]
    )
    get_session().commit()
    completion = get_session().scalar(sa.select(Completion))
    assert completion is not None and completion.user_id == user.id
    assert completion.completed_at.year == 2026 and completion.jp == 2
    page = client.get("/courses/transcript").get_data(as_text=True)
    assert completion.certificate_number in page


def test_voiding_withdraws_the_completion_and_replay_rebuilds_it(client, login_as, course, app):
    from lms.xapi.consumers import replay
    from lms.xapi.service import store_statements

    user = login_as("learner")
    actor = {"objectType": "Agent", "account": {"homePage": BASE, "name": user.nip}}
    [kept] = store_statements(
        [{"actor": actor, "verb": {"id": ADL + "completed"}, "object": {"id": COURSE}}]
    )
    get_session().commit()
    number = get_session().scalar(sa.select(Completion.certificate_number))
    replay("courses")
    get_session().expire_all()
    assert get_session().scalar(sa.select(Completion.certificate_number)) == number
    store_statements(
        [
            {
                "actor": actor,
                "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
                "object": {"objectType": "StatementRef", "id": kept},
            }
        ]
    )
    get_session().commit()
    get_session().expire_all()
    assert get_session().scalar(sa.select(Completion)) is None


def test_dashboard_panel_shows_jp_and_courses(client, login_as, course):
    login_as("learner")
    _enrol(client)
    page = client.get("/").get_data(as_text=True)
    assert 'id="jp-this-year"' in page and "Mini Kursus Uji" in page
    assert "Berikutnya: Pelajaran Satu" in page


def test_transcript_pdf_and_access_to_others(client, login_as, course, users):
    login_as("learner")
    response = client.get("/courses/transcript.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert client.get(f"/courses/transcript/{users['hr'].nip}").status_code == 403
    # Admins see everyone; HR users see the employees in their scope (lms.reports).
    login_as("admin")
    assert client.get(f"/courses/transcript/{users['learner'].nip}").status_code == 200
    pdf = client.get(f"/courses/transcript/{users['learner'].nip}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_time_limit_is_enforced_on_the_server(client, login_as, course):
    import datetime as dt

    login_as("learner")
    _enrol(client)
    quiz = _quiz(course)
    attempt = _start_attempt(client)
    answers = answers_for(attempt, quiz, right=True)
    attempt.deadline = attempt.started_at - dt.timedelta(minutes=5)
    get_session().commit()
    client.post(f"/courses/mini-kursus/quizzes/kuis/attempts/{attempt.uuid}", data=answers)
    get_session().expire_all()
    attempt = get_session().get(QuizAttempt, attempt.id)
    assert attempt.timed_out is True and attempt.passed is False and attempt.scaled == 0
    failed = [s for s in _statements() if s["verb"]["id"] == ADL + "failed"]
    assert failed and failed[-1]["result"]["success"] is False


def test_an_attempt_left_to_expire_ends_with_a_failed_statement(client, login_as, course):
    import datetime as dt

    login_as("learner")
    _enrol(client)
    attempt = _start_attempt(client)
    attempt.deadline = attempt.started_at - dt.timedelta(minutes=5)
    get_session().commit()
    page = client.get(f"/courses/mini-kursus/quizzes/kuis/attempts/{attempt.uuid}")
    assert 'id="quiz-form"' not in page.get_data(as_text=True)
    get_session().expire_all()
    assert get_session().get(QuizAttempt, attempt.id).timed_out is True
    assert _verbs(_statements())[-1] == "failed"


def test_modules_of_other_kinds_go_to_their_registered_player(client, login_as, course):
    from lms.courses import views

    def player(slug: str, module: dict[str, Any]) -> Any:
        return f"player for {slug}/{module['id']}"

    definition = service.definition_of(service.current_version(course))
    module = service.find_module(definition, "satu")
    login_as("learner")
    _enrol(client)
    views.register_module_player("test-kind", player)
    module["kind"] = "test-kind"  # the cached definition, as another module's import would
    try:
        page = client.get("/courses/mini-kursus/modules/satu")
        assert page.get_data(as_text=True) == "player for mini-kursus/satu"
        assert client.post("/courses/mini-kursus/modules/satu/complete").status_code == 400
    finally:
        module["kind"] = "lesson"
        views.MODULE_PLAYERS.pop("test-kind")
