"""Item analysis names only wrong answers: for multiple-answer and matching questions the
wrong parts of a response, never a correct option; a question the time limit kept a
learner from reaching does not count against it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lms.authoring.results import item_analysis
from lms.courses import service as courses
from lms.db import get_session, utcnow
from lms.quizzes import service
from tests.factories import make_user


def _quiz(course: Any) -> tuple[Any, dict[str, Any]]:
    version = courses.current_version(course)
    return version, courses.find_module(courses.definition_of(version), "kuis")["quiz"]


def _attempt(course: Any, form: dict[str, list[str]] | None = None,
             choose: dict[str, list[str]] | None = None, expire: bool = False) -> Any:
    """One learner's attempt; ``choose``: question id -> choice ids to tick."""
    user = make_user()
    enrollment, _created = courses.enrol(user, course)
    version, quiz = _quiz(course)
    attempt, _new = service.start_attempt(user.id, enrollment, version, quiz)
    data = dict(form or {})
    for qid, ids in (choose or {}).items():
        tokens = {cid: tok for tok, cid in attempt.layout["questions"][qid]["tokens"]}
        data[f"q-{qid}"] = [tokens[c] for c in ids]
    if expire:
        service.save_answers(attempt, quiz, {qid: {f"q-{qid}": vals}
                                             for qid, vals in
                                             ((k.removeprefix("q-"), v) for k, v in data.items())},
                             1)
        attempt.deadline = utcnow() - dt.timedelta(minutes=5)
        service.close_expired(attempt, quiz)
    else:
        service.submit_attempt(attempt, quiz, lambda name: list(data.get(name, [])))
    get_session().commit()
    return attempt


def _stats(course: Any, qid: str) -> Any:
    return next(s for s in item_analysis(course) if s.question_id == qid)


def test_multiple_answer_items_never_list_a_correct_option_as_wrong(app, course):
    _attempt(course, choose={"pilih-banyak": ["a", "b", "c"]})   # a wrong option too
    _attempt(course, choose={"pilih-banyak": ["a", "c"]})        # one right, one wrong
    _attempt(course, choose={"pilih-banyak": ["a"]})             # incomplete
    _attempt(course, choose={"pilih-banyak": ["a", "b"]})        # right
    stats = _stats(course, "pilih-banyak")
    assert stats.answered == 4 and stats.correct == 1
    wrong = dict(stats.wrong_answers)
    assert wrong.get("Cabai") == 2
    assert "Apel" not in wrong and "Bayam" not in wrong
    assert not any("Apel" in text or "Bayam" in text for text in wrong)
    assert sum(1 for text in wrong if text not in ("Cabai",)) == 1  # "not every correct..."


def test_matching_items_list_only_the_wrong_pairs(app, course):
    user = make_user()
    enrollment, _c = courses.enrol(user, course)
    version, quiz = _quiz(course)
    attempt, _n = service.start_attempt(user.id, enrollment, version, quiz)
    layout = attempt.layout["questions"]["jodoh"]
    targets = {tid: tok for tok, tid in layout["targets"]}
    sources = {sid: tok for tok, sid in layout["sources"]}
    data = {f"q-jodoh-{sources['p1']}": [targets["p1"]],   # right
            f"q-jodoh-{sources['p2']}": [targets["p1"]]}   # wrong: Dua -> Uno
    service.submit_attempt(attempt, quiz, lambda name: list(data.get(name, [])))
    get_session().commit()
    wrong = dict(_stats(course, "jodoh").wrong_answers)
    assert wrong == {"Dua → Uno": 1}


def test_questions_not_reached_before_the_time_limit_are_left_out(app, course):
    _attempt(course, choose={"pilih-banyak": ["a", "b"]}, expire=True)
    _attempt(course, choose={"pilih-banyak": ["a", "b"]})
    stats = _stats(course, "pilih-banyak")
    assert stats.answered == 2 and stats.correct == 2
    # The timed-out attempt never reached the true/false question: one answer counted.
    assert _stats(course, "bs").answered == 1




def test_answers_are_described_in_words_and_local_numbers(app):
    from flask_babel import force_locale

    from lms.quizzes.grading import question_type

    numeric = {"id": "n", "type": "numeric", "prompt": "?", "points": 1, "answer": 7.5,
               "tolerance": 0, "unit": "poin"}
    with app.test_request_context(), force_locale("id"):
        assert question_type("true_false").describe({}, True) == "Benar"
        assert question_type("true_false").describe({}, False) == "Salah"
        assert question_type("numeric").describe(numeric, 1234.5) == "1.234,5 poin"
    with app.test_request_context(), force_locale("en"):
        assert question_type("true_false").describe({}, False) == "False"
        assert question_type("numeric").describe(numeric, 7.25) == "7.25 poin"
