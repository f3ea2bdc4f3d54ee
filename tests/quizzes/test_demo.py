"""The demo's quiz attempts: a realistic spread, made through the learner's path, so the
statements, the ledger and the trainer's item analysis all derive from them."""

from __future__ import annotations

import sqlalchemy as sa

from lms.courses.models import Completion, Course
from lms.db import get_session
from lms.people.models import User
from lms.quizzes import demo
from lms.quizzes.models import QuizAttempt, QuizSavedAnswer
from lms.xapi.models import Statement

ADL = "http://adlnet.gov/expapi/verbs/"


def test_demo_attempts_feed_results_and_item_analysis(runner, client, db) -> None:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "Quizzes:" in result.output
    attempts = list(db.scalars(sa.select(QuizAttempt)))
    assert len(attempts) >= 40
    finished = [a for a in attempts if a.submitted_at is not None]
    assert len(finished) == len(attempts)
    passed = [a for a in finished if a.passed]
    # A realistic spread: many pass, a fair share fails first, scores spread out.
    assert 0.25 < len(passed) / len(finished) < 0.85
    scores = sorted(a.scaled for a in finished)
    assert scores[0] < 0.5 < scores[-1] and len(set(scores)) > 10
    assert any(a.number > 1 for a in attempts)  # some tried again
    # Answers were saved as they were given, as on the page.
    assert db.scalar(sa.select(sa.func.count()).select_from(QuizSavedAnswer)) > len(attempts)
    # Each attempt reported its result through the LRS ...
    results = db.scalar(sa.select(sa.func.count()).select_from(Statement).where(
        Statement.verb_id.in_([ADL + "passed", ADL + "failed"]),
        Statement.activity_id.like("%/quizzes/%")))
    assert results == len(finished)
    # ... and the ledger derived completions (with certificates) from those statements.
    slugs = set(demo.DEMO_COURSES)
    completed = set(db.execute(sa.select(Completion.user_id, Course.slug).join(Course)
                               .where(Course.slug.in_(slugs))).all())
    for attempt in passed:
        slug = db.get(Course, attempt.course_id).slug
        assert (attempt.user_id, slug) in completed
    # The demo's own role accounts take no quiz here.
    role_ids = set(db.scalars(sa.select(User.id).where(User.email.in_(demo.ROLE_ACCOUNTS))))
    assert not role_ids & {a.user_id for a in attempts}

    # The trainer sees results and an item analysis with data.
    trainer = db.scalar(sa.select(User).where(User.email == "trainer@demo.lentera.local"))
    with client.session_transaction() as session:
        session["_user_id"] = trainer.get_id()
    page = client.get("/authoring/komunikasi-efektif/results").get_data(as_text=True)
    enrolled = page.split('id="enrolled">', 1)[1].split("<", 1)[0]
    assert int(enrolled) >= 10
    from lms.authoring.results import item_analysis

    course = db.scalar(sa.select(Course).where(Course.slug == "pelayanan-publik-prima"))
    stats = item_analysis(course)
    assert sum(s.answered for s in stats) > 100
    assert any(s.wrong_answers for s in stats)
    assert any(s.discrimination is not None for s in stats)
    from lms.courses import service as courses

    definition = courses.definition_of(courses.current_version(course))
    quiz = next(m for m in definition["modules"] if m["kind"] == "quiz")["quiz"]
    for s in stats:
        q = next(q for q in quiz["questions"] if q["id"] == s.question_id)
        if q["type"] == "multiple":
            right = {c["text"] for c in q["choices"] if c["correct"]}
            assert not right & {text for text, _n in s.wrong_answers}

    # Loading again adds nothing.
    count = len(attempts)
    assert "present already" in demo.load_demo()
    get_session().commit()
    assert db.scalar(sa.select(sa.func.count()).select_from(QuizAttempt)) == count
