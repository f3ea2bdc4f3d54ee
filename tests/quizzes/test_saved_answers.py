"""Answers saved as they are given: restored on reload, graded when the time runs out
(also when the learner never comes back), never a statement before submission, and safe
against hostile input and concurrent saves."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import pytest
import sqlalchemy as sa

from lms.courses import service as courses
from lms.courses.models import Completion, Enrollment
from lms.db import get_session, utcnow
from lms.quizzes import expiry
from lms.quizzes.models import QuizAttempt, QuizSavedAnswer
from lms.xapi.models import Statement
from tests.courses.conftest import answers_for

ADL = "http://adlnet.gov/expapi/verbs/"
QUIZ = "/courses/mini-kursus/quizzes/kuis"


def _quiz(course: Any) -> dict[str, Any]:
    definition = courses.definition_of(courses.current_version(course))
    return courses.find_module(definition, "kuis")["quiz"]


def _start(client: Any, lessons: tuple[str, ...] = ()) -> QuizAttempt:
    assert client.post("/courses/mini-kursus/enrol").status_code == 302
    for lesson in lessons:
        assert client.post(f"/courses/mini-kursus/modules/{lesson}/complete").status_code == 302
    assert client.post(f"{QUIZ}/start").status_code == 302
    get_session().expire_all()
    return get_session().scalar(sa.select(QuizAttempt).order_by(QuizAttempt.id.desc()))


def _per_question(attempt: QuizAttempt, quiz: dict[str, Any], right: bool = True
                  ) -> dict[str, dict[str, list[str]]]:
    """The form answers of ``answers_for`` grouped by question, as the page saves them."""
    flat = answers_for(attempt, quiz, right=right)
    grouped: dict[str, dict[str, list[str]]] = {}
    for q in quiz["questions"]:
        prefix = f"q-{q['id']}"
        grouped[q["id"]] = {
            name: value if isinstance(value, list) else [value]
            for name, value in flat.items() if name == prefix or name.startswith(prefix + "-")}
    return grouped


def _save(client: Any, attempt: QuizAttempt, answers: Any, rev: Any = 1, **kw: Any) -> Any:
    body = kw.pop("body", None)
    uuid = attempt if isinstance(attempt, str) else attempt.uuid
    return client.post(f"{QUIZ}/attempts/{uuid}/answers",
                       data=body if body is not None else json.dumps(
                           {"rev": rev, "answers": answers}),
                       content_type=kw.pop("content_type", "application/json"),
                       headers={"Accept": "application/json"}, **kw)


def _statements() -> list[dict[str, Any]]:
    return list(get_session().scalars(sa.select(Statement.data).order_by(Statement.seq)))


def _verbs() -> list[str]:
    return [s["verb"]["id"].removeprefix(ADL) for s in _statements()]


def _expire(attempt: QuizAttempt, minutes: int = 5) -> dt.datetime:
    deadline = utcnow() - dt.timedelta(minutes=minutes)
    get_session().execute(sa.update(QuizAttempt).where(QuizAttempt.id == attempt.id)
                          .values(deadline=deadline))
    get_session().commit()
    return deadline


def test_saved_answers_come_back_on_reload_and_are_not_statements(client, login_as, course):
    login_as("learner")
    attempt = _start(client)
    quiz = _quiz(course)
    before = len(_statements())
    answers = _per_question(attempt, quiz)
    response = _save(client, attempt, {"pilih-satu": answers["pilih-satu"],
                                       "isian": {"q-isian": ["Jakarta"]},
                                       "jodoh": answers["jodoh"]})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["saved"] is True and response.json["saved_at_text"]
    assert len(_statements()) == before  # saving is not a result
    page = client.get(f"{QUIZ}/attempts/{attempt.uuid}").get_data(as_text=True)
    token = answers["pilih-satu"]["q-pilih-satu"][0]
    assert f'value="{token}" checked' in page
    assert 'value="Jakarta"' in page
    for name, values in answers["jodoh"].items():
        assert f'value="{values[0]}" selected' in page.split(f'name="{name}"', 1)[1].split(
            "</select>", 1)[0]
    assert "Answers saved at" in page or "Jawaban disimpan" in page


def test_clearing_an_answer_is_saved_too(client, login_as, course):
    login_as("learner")
    attempt = _start(client)
    assert _save(client, attempt, {"isian": {"q-isian": ["Bandung"]}}, rev=1).status_code == 200
    assert _save(client, attempt, {"isian": {"q-isian": []}}, rev=2).status_code == 200
    page = client.get(f"{QUIZ}/attempts/{attempt.uuid}").get_data(as_text=True)
    assert 'value="Bandung"' not in page


def test_an_older_save_does_not_undo_a_newer_one(client, login_as, course):
    login_as("learner")
    attempt = _start(client)
    assert _save(client, attempt, {"isian": {"q-isian": ["baru"]}}, rev=20).status_code == 200
    assert _save(client, attempt, {"isian": {"q-isian": ["lama"]}}, rev=10).status_code == 200
    row = get_session().get(QuizSavedAnswer, (attempt.id, "isian"))
    get_session().refresh(row)
    assert row.values == {"q-isian": ["baru"]} and row.rev == 20


def test_time_up_with_the_page_closed_grades_what_was_saved(client, login_as, course):
    login_as("learner")
    attempt = _start(client)
    quiz = _quiz(course)
    everything = _per_question(attempt, quiz, right=True)
    assert _save(client, attempt, everything).status_code == 200
    deadline = _expire(attempt)
    page = client.get(f"{QUIZ}/attempts/{attempt.uuid}").get_data(as_text=True)
    assert 'id="quiz-form"' not in page and 'id="quiz-timed-out"' in page
    get_session().expire_all()
    attempt = get_session().get(QuizAttempt, attempt.id)
    assert attempt.timed_out is True and attempt.passed is True and attempt.scaled == 1.0
    assert abs((attempt.submitted_at - deadline).total_seconds()) < 1
    statements = _statements()
    answered = [s for s in statements if s["verb"]["id"] == ADL + "answered"]
    assert len(answered) == len(quiz["questions"])
    assert all(s["result"]["success"] for s in answered)
    assert any(s["result"]["response"] == "opsi-tepat" for s in answered)
    passed = [s for s in statements if s["verb"]["id"] == ADL + "passed"][-1]
    assert passed["timestamp"].startswith(deadline.strftime("%Y-%m-%dT%H:%M"))


def test_a_late_submission_grades_the_saved_answers_not_the_late_ones(client, login_as, course):
    login_as("learner")
    attempt = _start(client)
    quiz = _quiz(course)
    saved = _per_question(attempt, quiz, right=True)
    assert _save(client, attempt, {"pilih-satu": saved["pilih-satu"]}).status_code == 200
    late = answers_for(attempt, quiz, right=True)
    _expire(attempt)
    client.post(f"{QUIZ}/attempts/{attempt.uuid}", data=late)
    get_session().expire_all()
    attempt = get_session().get(QuizAttempt, attempt.id)
    assert attempt.timed_out is True
    assert attempt.results["pilih-satu"] == 1.0
    assert attempt.results["isian"] == 0.0  # sent only after the deadline
    assert attempt.passed is False
    assert _verbs()[-2:] == ["failed", "progressed"] or _verbs()[-1] == "failed"


def test_the_server_closes_an_attempt_the_learner_never_comes_back_to(
        client, login_as, course, runner):
    login_as("learner")
    attempt = _start(client, lessons=("satu", "pelajaran-dua"))
    quiz = _quiz(course)
    assert _save(client, attempt, _per_question(attempt, quiz, right=True)).status_code == 200
    assert expiry.due_ids() == []  # not yet
    _expire(attempt)
    assert expiry.due_ids() == [attempt.id]
    result = runner.invoke(args=["quizzes", "close-expired"])
    assert result.exit_code == 0 and "closed 1" in result.output
    get_session().expire_all()
    attempt = get_session().get(QuizAttempt, attempt.id)
    assert attempt.passed is True and attempt.timed_out is True
    verbs = _verbs()
    assert "passed" in verbs and verbs[-2:] == ["completed", "terminated"]
    # The ledger derived the completion from those statements, as for a submission.
    assert get_session().scalar(sa.select(Completion.certificate_number)) is not None
    again = runner.invoke(args=["quizzes", "close-expired"])
    assert "closed 0" in again.output
    assert _verbs() == verbs


def test_an_expired_attempt_with_nothing_saved_fails(client, login_as, course, app):
    login_as("learner")
    attempt = _start(client)
    _expire(attempt)
    assert expiry.close_due() == 1
    get_session().expire_all()
    attempt = get_session().get(QuizAttempt, attempt.id)
    assert attempt.passed is False and attempt.scaled == 0
    assert _verbs()[-2:] == ["failed", "progressed"] or "failed" in _verbs()


def test_saving_is_refused_after_submission_and_after_the_deadline(client, login_as, course):
    login_as("learner")
    attempt = _start(client)
    quiz = _quiz(course)
    client.post(f"{QUIZ}/attempts/{attempt.uuid}", data=answers_for(attempt, quiz))
    response = _save(client, attempt, {"isian": {"q-isian": ["x"]}})
    assert response.status_code == 409 and response.json["message"]
    # A second attempt whose time is up.
    client.post(f"{QUIZ}/start")
    get_session().expire_all()
    second = get_session().scalar(sa.select(QuizAttempt).order_by(QuizAttempt.id.desc()))
    if second.id != attempt.id:
        _expire(second)
        assert _save(client, second, {"isian": {"q-isian": ["x"]}}).status_code == 409


def test_another_learners_attempt_cannot_be_saved(client, login_as, course, users):
    login_as("learner")
    attempt = _start(client)
    login_as("hr")
    client.post("/courses/mini-kursus/enrol")
    assert _save(client, attempt, {"isian": {"q-isian": ["x"]}}).status_code == 404


@pytest.mark.parametrize("answers, rev", [
    ({"isian": {"q-isian": ["a\x00b"]}}, 1),                 # NUL byte
    ({"isian": {"q-isian": ["x" * 501]}}, 1),                # longer than any answer
    ({"isian": {"q-isian": ["x"] * 51}}, 1),                 # too many values
    ({"isian": {"q-isian": [{"deep": 1}]}}, 1),              # not text
    ({"isian": {"q-bs": ["true"]}}, 1),                      # another question's field
    ({"isian": {"q-isian-extra": ["x"]}}, 1),                # not a field of the question
    ({"nope": {"q-nope": ["x"]}}, 1),                        # not a question of the quiz
    ({"isian": "Jakarta"}, 1),                               # not a dict of fields
    (["isian"], 1),                                          # not a dict at all
    ({"isian": {"q-isian": ["x"]}}, -1),                     # bad change counter
    ({"isian": {"q-isian": ["x"]}}, 2**60),                  # huge change counter
    ({"isian": {"q-isian": ["x"]}}, "1"),                    # not a number
    ({"isian": {"q-isian": ["x"]}}, True),
    ({f"q{i}": {} for i in range(300)}, 1),                  # too many questions
])
def test_hostile_saves_are_refused_with_400_and_nothing_is_stored(
        client, login_as, course, answers, rev):
    login_as("learner")
    attempt = _start(client)
    response = _save(client, attempt, answers, rev=rev)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.json["message"]
    assert get_session().scalar(sa.select(sa.func.count()).select_from(QuizSavedAnswer)) == 0


@pytest.mark.parametrize("body, content_type, status", [
    ("{" * 100_000 + "}" * 100_000, "application/json", 400),   # deep JSON
    ("[" * 50_000 + "]" * 50_000, "application/json", 400),
    ("not json", "application/json", 400),
    ("rev=1&answers=x", "application/x-www-form-urlencoded", 400),
    ('{"rev": 1, "answers": {"isian": {"q-isian": ["' + "x" * 300_000 + '"]}}}',
     "application/json", 413),                                  # more than a save needs
    ('{"rev": 1e999, "answers": {}}', "application/json", 400),
])
def test_unreadable_bodies_are_refused_not_crashes(client, login_as, course, body,
                                                   content_type, status):
    login_as("learner")
    attempt = _start(client)
    response = _save(client, attempt, None, body=body, content_type=content_type)
    assert response.status_code == status


def test_saving_needs_the_csrf_token(make_app, users, course):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = users["learner"].get_id()
        session["_fresh"] = True
    # Without the token even the enrolment is refused; with a session-bound token it works.
    assert client.post("/courses/mini-kursus/enrol").status_code == 400


def _client_for(app: Any, user_key: str) -> Any:
    """A test client of its own (one per thread), signed in as ``user_key`` (get_id(),
    read in the test's thread: the test's session must not be used from others)."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user_key
        session["_fresh"] = True
    return client


def test_concurrent_saves_of_one_attempt_keep_every_answer(app, client, login_as, course,
                                                           users):
    login_as("learner")
    key = users["learner"].get_id()
    attempt = _start(client)
    quiz = _quiz(course)
    answers = _per_question(attempt, quiz)
    uuid = attempt.uuid
    errors: list[Any] = []
    barrier = threading.Barrier(len(answers))

    def save(qid: str, fields: dict[str, list[str]], rev: int) -> None:
        try:
            own = _client_for(app, key)
            barrier.wait(timeout=30)
            response = _save(own, uuid, {qid: fields}, rev=rev)
            if response.status_code != 200:
                errors.append((qid, response.status_code, response.get_data(as_text=True)))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append((qid, repr(exc)))

    threads = [threading.Thread(target=save, args=(qid, fields, i + 1))
               for i, (qid, fields) in enumerate(answers.items())]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    get_session().expire_all()
    rows = {r.question_id: r.values for r in get_session().scalars(
        sa.select(QuizSavedAnswer).where(QuizSavedAnswer.attempt_id == attempt.id))}
    assert rows == answers  # nothing lost: one row per question


def test_concurrent_saves_of_one_question_keep_the_newest(app, client, login_as, course, users):
    login_as("learner")
    key = users["learner"].get_id()
    attempt = _start(client)
    uuid = attempt.uuid
    barrier = threading.Barrier(8)
    codes: list[int] = []

    def save(rev: int) -> None:
        own = _client_for(app, key)
        barrier.wait(timeout=30)
        codes.append(_save(own, uuid, {"isian": {"q-isian": [f"jawaban {rev}"]}},
                           rev=rev).status_code)

    threads = [threading.Thread(target=save, args=(rev,)) for rev in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert codes == [200] * 8
    get_session().expire_all()
    row = get_session().get(QuizSavedAnswer, (attempt.id, "isian"))
    assert row.values == {"q-isian": ["jawaban 8"]} and row.rev == 8


def test_two_submissions_at_once_grade_and_report_once(app, client, login_as, course, users):
    login_as("learner")
    key = users["learner"].get_id()
    attempt = _start(client)
    quiz = _quiz(course)
    data = answers_for(attempt, quiz)
    uuid = attempt.uuid
    barrier = threading.Barrier(4)
    codes: list[int] = []

    def submit() -> None:
        own = _client_for(app, key)
        barrier.wait(timeout=30)
        codes.append(own.post(f"{QUIZ}/attempts/{uuid}", data=data).status_code)

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert codes == [302] * 4
    assert _verbs().count("passed") == 1
    assert _verbs().count("answered") == len(quiz["questions"])


def test_the_closing_job_and_the_learner_racing_close_once(app, client, login_as, course,
                                                           users):
    login_as("learner")
    key = users["learner"].get_id()
    attempt = _start(client)
    quiz = _quiz(course)
    assert _save(client, attempt, _per_question(attempt, quiz)).status_code == 200
    _expire(attempt)
    uuid = attempt.uuid
    barrier = threading.Barrier(3)
    errors: list[Any] = []

    def job() -> None:
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                expiry.close_due()
            except Exception as exc:  # pragma: no cover
                errors.append(exc)

    def learner() -> None:
        own = _client_for(app, key)
        barrier.wait(timeout=30)
        own.get(f"{QUIZ}/attempts/{uuid}")

    threads = [threading.Thread(target=job), threading.Thread(target=learner),
               threading.Thread(target=learner)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert _verbs().count("passed") == 1


def test_enrolment_of_saved_attempt_is_deleted_with_it(client, login_as, course):
    login_as("learner")
    attempt = _start(client)
    assert _save(client, attempt, {"isian": {"q-isian": ["x"]}}).status_code == 200
    get_session().execute(sa.delete(Enrollment))
    get_session().commit()
    assert get_session().scalar(sa.select(sa.func.count()).select_from(QuizSavedAnswer)) == 0
