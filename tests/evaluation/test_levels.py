"""Training evaluation: surveys from completions, answers as statements, supervisor
follow-ups with reminders, reports with scope and roles, level 2 and level 4."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa

from lms.courses.models import Enrollment
from lms.courses.statements import course_iri
from lms.evaluation import service
from lms.evaluation.models import Evaluation, EvaluationResult
from lms.mail.models import OutboxMessage
from lms.quizzes.models import QuizAttempt
from lms.xapi.actors import actor_for
from lms.xapi.models import Statement
from lms.xapi.service import store_statements
from tests import factories
from tests.evaluation.conftest import complete

GOOD = {"q_relevance": "5", "q_objectives": "4", "q_materials": "4", "q_delivery": "5",
        "q_intent": "5", "q_overall": "4"}
FOLLOW = {"q_applies": "4", "q_performance": "4", "q_opportunity": "3", "q_support": "5"}


def _rows(db: Any, level: int | None = None) -> list[Evaluation]:
    query = sa.select(Evaluation).order_by(Evaluation.level, Evaluation.id)
    if level:
        query = query.where(Evaluation.level == level)
    db.expire_all()
    return list(db.scalars(query))


def test_completion_offers_the_survey_and_schedules_the_follow_up(db: Any,
                                                                  completed: Any) -> None:
    reaction, follow = _rows(db)
    assert (reaction.level, reaction.status, reaction.respondent_id) == (
        1, "open", completed["learner"].id)
    assert reaction.provider == "Lentera" and reaction.course_id == completed["course"].id
    assert follow.level == 3 and follow.status == "scheduled" and follow.respondent_id is None
    assert follow.due_at == completed["when"] + dt.timedelta(weeks=6)
    # A second completion statement (a re-import, another platform) adds nothing.
    complete(completed["learner"], course_iri(completed["course"].slug), completed["when"])
    assert len(_rows(db)) == 2


def test_voiding_the_completion_cancels_unanswered_evaluations(db: Any, completed: Any) -> None:
    store_statements([{"actor": actor_for(completed["learner"]),
                       "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
                       "object": {"objectType": "StatementRef",
                                  "id": completed["statement_id"]}}])
    db.commit()
    assert {r.status for r in _rows(db)} == {"cancelled"}


def test_other_statements_create_nothing(db: Any, course: Any, team: Any) -> None:
    when = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    complete(team["learner"], course_iri(course.slug) + "/modules/x", when)  # a module
    complete(team["learner"], "https://elsewhere.example/course/1", when)  # unknown
    assert _rows(db) == []


def test_learner_answers_the_reaction_survey(db: Any, client: Any, login_as: Any,
                                             completed: Any) -> None:
    login_as("learner")
    home = client.get("/").get_data(as_text=True)
    assert 'id="evaluation-panel"' in home and completed["course"].title in home
    reaction = _rows(db, 1)[0]
    page = client.get(f"/evaluation/{reaction.id}")
    assert page.status_code == 200 and "q_overall" in page.get_data(as_text=True)
    # Missing answers: 400 with a message, nothing written.
    partial = dict(GOOD)
    partial.pop("q_intent")
    bad = client.post(f"/evaluation/{reaction.id}", data=partial)
    assert bad.status_code == 400 and 'id="evaluation-error"' in bad.get_data(as_text=True)
    assert _rows(db, 1)[0].status == "open"
    assert client.post(f"/evaluation/{reaction.id}",
                       data={**GOOD, "q_overall": "9"}).status_code == 400
    ok = client.post(f"/evaluation/{reaction.id}", data={**GOOD, "comment": "Sangat berguna"})
    assert ok.status_code == 302
    row = _rows(db, 1)[0]
    assert row.status == "done" and row.answers["overall"] == 4
    assert row.comment == "Sangat berguna"
    stored = db.scalar(sa.select(Statement).where(Statement.statement_id == row.statement_id))
    assert stored.data["verb"]["id"] == service.RESPONDED
    assert stored.data["context"]["contextActivities"]["parent"][0]["id"] == row.activity_iri
    assert stored.data["result"]["extensions"][
        "http://lentera.test/xapi/extensions/evaluation-answers"]["relevance"] == 5
    assert 'id="evaluation-panel"' not in client.get("/").get_data(as_text=True)
    again = client.post(f"/evaluation/{reaction.id}", data=GOOD)
    assert again.status_code == 400


def test_only_the_respondent_may_answer(db: Any, client: Any, login_as: Any,
                                        completed: Any) -> None:
    reaction = _rows(db, 1)[0]
    login_as("hr")
    assert client.get(f"/evaluation/{reaction.id}").status_code == 403
    assert client.post(f"/evaluation/{reaction.id}", data=GOOD).status_code == 403
    assert client.get("/evaluation/999999").status_code == 404
    client.get("/logout")


def test_remind_opens_the_follow_up_for_the_supervisor_and_mails_once(
        db: Any, completed: Any, runner: Any) -> None:
    due = completed["when"] + dt.timedelta(weeks=6)
    assert service.remind(due - dt.timedelta(days=1)) == {
        "opened": 0, "no_supervisor": 0, "reminded": 0}
    assert service.remind(due) == {"opened": 1, "no_supervisor": 0, "reminded": 1}
    db.commit()
    follow = _rows(db, 3)[0]
    assert follow.status == "open" and follow.respondent_id == completed["boss"].id
    mail = db.scalars(sa.select(OutboxMessage)).all()
    assert len(mail) == 1 and mail[0].to_address == "kasi@contoh.go.id"
    assert mail[0].category == "evaluation" and f"/evaluation/{follow.id}" in mail[0].text
    assert completed["learner"].name in mail[0].subject
    # Idempotent: the same run again sends nothing; a week later one reminder.
    assert service.remind(due)["reminded"] == 0
    later = due + dt.timedelta(days=7)
    result = runner.invoke(args=["evaluation", "remind", "--now", later.isoformat()])
    assert result.exit_code == 0 and "reminders queued 1" in result.output
    subjects = sorted(db.scalars(sa.select(OutboxMessage.subject)).all())
    assert len(subjects) == 2 and any(s.startswith("Pengingat") for s in subjects)
    for week in (2, 3, 4):
        service.remind(due + dt.timedelta(weeks=week))
    db.commit()
    assert db.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 3  # at most 3
    assert runner.invoke(args=["evaluation", "remind", "--now", "kemarin"]).exit_code == 1


def test_follow_up_without_supervisor_waits_for_one(db: Any, course: Any, users: Any) -> None:
    loner = factories.make_user(email="sendiri@contoh.go.id")
    db.commit()
    when = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    complete(loner, course_iri(course.slug), when)
    assert service.remind(when + dt.timedelta(weeks=7))["no_supervisor"] == 1
    assert service.remind(when + dt.timedelta(weeks=7))["no_supervisor"] == 0
    db.commit()
    assert _rows(db, 3)[0].status == "no_supervisor"


def _answer_follow_up(db: Any, client: Any, completed: Any) -> Evaluation:
    service.remind(completed["when"] + dt.timedelta(weeks=6))
    db.commit()
    follow = _rows(db, 3)[0]
    with client.session_transaction() as session:
        session["_user_id"] = completed["boss"].get_id()
        session["_fresh"] = True
    home = client.get("/").get_data(as_text=True)
    assert f"/evaluation/{follow.id}" in home and completed["learner"].name in home
    assert client.post(f"/evaluation/{follow.id}",
                       data={**FOLLOW, "comment": "Sudah menerapkan SOP baru"}).status_code == 302
    return _rows(db, 3)[0]


def test_supervisor_answer_appears_in_the_course_report(db: Any, client: Any, login_as: Any,
                                                        completed: Any) -> None:
    follow = _answer_follow_up(db, client, completed)
    assert follow.status == "done" and follow.answers["applies"] == 4
    stored = db.scalar(sa.select(Statement).where(Statement.statement_id == follow.statement_id))
    assert stored.data["context"]["extensions"][
        "http://lentera.test/xapi/extensions/evaluated-person"]["account"]["name"] == (
        completed["learner"].nip)
    login_as("hr")
    course = completed["course"]
    page = client.get(f"/evaluation/reports/course/{course.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Sudah menerapkan SOP baru" in html and "Bu Kepala Seksi" in html
    assert 'data-question="applies"' in html
    summary = client.get("/evaluation/reports").get_data(as_text=True)
    assert course.title in summary and "Lentera" in summary
    csv_text = client.get(f"/evaluation/reports/course/{course.id}.csv").get_data(as_text=True)
    assert "Sudah menerapkan SOP baru" in csv_text and completed["learner"].nip in csv_text
    assert course.title in client.get("/evaluation/reports.csv").get_data(as_text=True)


def test_report_roles_and_scope(db: Any, client: Any, login_as: Any, completed: Any,
                                users: Any) -> None:
    _answer_follow_up(db, client, completed)
    course = completed["course"]
    url = f"/evaluation/reports/course/{course.id}"
    login_as("learner")
    assert client.get(url).status_code == 403
    assert client.get("/evaluation/reports").status_code == 403
    # A trainer of another course: 403; of this course: the figures, without names.
    login_as("trainer")
    assert client.get(url).status_code == 403
    from lms.authoring.models import AuthoredCourse, CourseTrainer

    authored = AuthoredCourse(slug=course.slug, title=course.title)
    db.add(authored)
    db.flush()
    db.add(CourseTrainer(course_id=authored.id, user_id=users["trainer"].id))
    db.commit()
    page = client.get(url).get_data(as_text=True)
    assert "Sudah menerapkan SOP baru" in page and "Bu Kepala Seksi" not in page
    assert client.get("/evaluation/reports/training/1").status_code in (403, 404)
    assert client.get("/evaluation/reports/bogus/1").status_code == 404
    # HR of another OPD sees the course but none of these employees' answers.
    other_opd = factories.make_org_unit("Dinas Lain", parent=completed["pemda"])
    from lms.people import service as people

    people.assign_position(users["hr"], factories.make_position(other_opd),
                           dt.date(2025, 1, 1))
    db.commit()
    login_as("hr")
    page = client.get(url).get_data(as_text=True)
    assert "Sudah menerapkan SOP baru" not in page


def test_level_two_from_quiz_attempts(db: Any, client: Any, login_as: Any,
                                      completed: Any) -> None:
    course = completed["course"]
    learner = completed["learner"]
    enrol = Enrollment(user_id=learner.id, course_id=course.id, registration=str(uuid.uuid4()))
    db.add(enrol)
    db.flush()
    version_id = course.versions[-1].id
    now = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    for n, (quiz, scaled, passed) in enumerate([("pretest", 0.4, False),
                                                ("kuis-akhir", 0.6, False),
                                                ("kuis-akhir", 0.9, True)]):
        db.add(QuizAttempt(uuid=str(uuid.uuid4()), user_id=learner.id, course_id=course.id,
                           course_version_id=version_id, enrollment_id=enrol.id,
                           quiz_id=quiz, number=n + 1, layout={}, submitted_at=now,
                           scaled=scaled, passed=passed))
    db.commit()
    viewer = service.viewer_for(db.merge(login_as("admin")))
    data = service.learning(viewer, service.subject("course", course.id))
    final = next(q for q in data["quizzes"] if q["quiz"] == "kuis-akhir")
    assert (final["first"], final["best"], final["pass_rate"]) == (60.0, 90.0, 100.0)
    assert data["gain"] == {"learners": 1, "pre": 40.0, "post": 90.0, "gain": 50.0}
    html = client.get(f"/evaluation/reports/course/{course.id}").get_data(as_text=True)
    assert 'id="learning-table"' in html


def test_level_four_results(db: Any, client: Any, login_as: Any, completed: Any) -> None:
    course = completed["course"]
    url = f"/evaluation/reports/course/{course.id}/results"
    login_as("hr")
    form = {"indicator": "Indeks Kepuasan Masyarakat", "unit": "poin", "baseline": "76.5",
            "value": "81.2", "measured_on": "2026-06-30", "note": "Survei semester I"}
    assert client.post(url, data={**form, "value": ""}).status_code == 400
    assert client.post(url, data={**form, "measured_on": "kemarin"}).status_code == 400
    assert client.post(url, data={**form, "value": "nan"}).status_code == 400
    assert client.post(url, data={**form, "baseline": "inf"}).status_code == 400
    assert db.scalar(sa.select(sa.func.count()).select_from(EvaluationResult)) == 0
    assert client.post(url, data=form).status_code == 302
    row = db.scalar(sa.select(EvaluationResult))
    assert row.change is not None and round(row.change, 1) == 4.7
    html = client.get(f"/evaluation/reports/course/{course.id}").get_data(as_text=True)
    assert "Indeks Kepuasan Masyarakat" in html and "+4.7" in html
    login_as("trainer")
    assert client.post(url, data=form).status_code == 403
    assert client.post(f"/evaluation/results/{row.id}/delete").status_code == 403
    login_as("hr")
    assert client.post(f"/evaluation/results/{row.id}/delete").status_code == 302
    assert client.post(f"/evaluation/results/{row.id}/delete").status_code == 404
    assert db.scalar(sa.select(sa.func.count()).select_from(EvaluationResult)) == 0


def test_recorded_training_is_evaluated_too(db: Any, client: Any, login_as: Any,
                                            team: Any) -> None:
    from lms.reports.models import Training, TrainingKind
    from lms.reports.training import training_iri

    training = Training(title="Bimtek Pengaduan", kind=TrainingKind.WORKSHOP,
                        provider="BPSDM Provinsi", start_date=dt.date(2026, 2, 1),
                        end_date=dt.date(2026, 2, 2), jp=8)
    db.add(training)
    db.commit()
    complete(team["learner"], training_iri(training.id), dt.datetime(2026, 2, 2, tzinfo=dt.UTC))
    reaction = _rows(db, 1)[0]
    assert reaction.training_id == training.id and reaction.provider == "BPSDM Provinsi"
    login_as("hr")
    page = client.get("/evaluation/reports").get_data(as_text=True)
    assert "Bimtek Pengaduan" in page and "BPSDM Provinsi" in page
    assert client.get(f"/evaluation/reports/training/{training.id}").status_code == 200
    login_as("trainer")
    assert client.get(f"/evaluation/reports/training/{training.id}").status_code == 403


def test_forms_need_csrf(make_app: Any, db: Any, completed: Any) -> None:
    other = make_app(WTF_CSRF_ENABLED=True)
    client = other.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = completed["learner"].get_id()
        session["_fresh"] = True
    reaction = _rows(db, 1)[0]
    assert client.post(f"/evaluation/{reaction.id}", data=GOOD).status_code == 400
    assert _rows(db, 1)[0].status == "open"


def test_course_page_hint_template(app: Any, db: Any, client: Any, login_as: Any,
                                   completed: Any) -> None:
    """The include offered to the course page renders the open survey for its learner."""
    from flask import render_template_string

    reaction = _rows(db, 1)[0]
    with app.test_request_context("/"):
        from flask_login import login_user

        login_user(db.merge(completed["learner"]))
        html = render_template_string('{% include "evaluation/_course.html" %}',
                                      course=completed["course"])
    assert f"/evaluation/{reaction.id}" in html and "evaluation-course-hint" in html


def test_mail_after_commit_goes_to_the_broker_when_one_is_configured(
        make_app: Any, db: Any, monkeypatch: Any) -> None:
    from lms import tasks
    from lms.mail.service import queue_mail

    calls: list[Any] = []
    monkeypatch.setattr(tasks.send_mail_task, "apply_async", lambda **kw: calls.append(kw))
    other = make_app(MAIL_BACKGROUND=True, CELERY_BROKER_URL="redis://127.0.0.1:6399/0")
    with other.app_context():
        from lms.db import get_session

        queue_mail("a@contoh.go.id", "s", "t")
        get_session().commit()
        get_session().commit()  # nothing new queued: no second task
    assert calls == [{"retry": False}]
    assert "lms.mail.sender" not in other.extensions


def test_a_follow_up_moves_to_the_new_supervisor(db: Any, completed: Any) -> None:
    from lms.people import service as people
    from lms.people.models import PositionKind

    due = completed["when"] + dt.timedelta(weeks=6)
    service.remind(due)
    db.commit()
    # The head of section moves to another OPD; a new one takes over the section.
    elsewhere = factories.make_org_unit("Dinas Lain", parent=completed["pemda"])
    people.assign_position(completed["boss"], factories.make_position(elsewhere),
                           dt.date(2026, 2, 1))
    successor = factories.make_user(name="Pak Kasi Baru", email="kasibaru@contoh.go.id")
    people.assign_position(successor, factories.make_position(
        completed["section"], kind=PositionKind.PENGAWAS), dt.date(2026, 2, 1))
    db.commit()
    assert service.remind(due + dt.timedelta(days=7))["reminded"] == 1
    db.commit()
    follow = _rows(db, 3)[0]
    assert follow.respondent_id == successor.id and follow.reminders_sent == 1
    last = db.scalar(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()))
    assert last.to_address == "kasibaru@contoh.go.id"


def test_hr_deletes_only_results_of_their_scope(db: Any, client: Any, login_as: Any,
                                                completed: Any, users: Any) -> None:
    from lms.people.models import User

    course = completed["course"]
    other_hr = factories.make_user(roles=["hr"], email="hr2@contoh.go.id")
    from lms.people import service as people

    people.assign_position(other_hr, factories.make_position(
        factories.make_org_unit("Dinas Lain", parent=completed["pemda"])), dt.date(2025, 1, 1))
    db.commit()
    viewer = service.viewer_for(db.get(User, other_hr.id))
    row = service.add_result(viewer, service.subject("course", course.id), indicator="IKM",
                             value=80, measured_on=dt.date(2026, 6, 30))
    db.commit()
    login_as("hr")
    assert client.post(f"/evaluation/results/{row.id}/delete").status_code == 403
    login_as("admin")
    assert client.post(f"/evaluation/results/{row.id}/delete").status_code == 302


def test_remind_task_runs_in_the_app(db: Any, completed: Any) -> None:
    from lms.evaluation.tasks import remind_task

    assert remind_task.name == "lms.evaluation.remind"
    assert remind_task.run() == {"opened": 1, "no_supervisor": 0, "reminded": 1}
    assert remind_task.run()["reminded"] == 0  # committed: a second run sends nothing
