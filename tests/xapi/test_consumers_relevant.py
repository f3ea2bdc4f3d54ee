"""The statements the courses, assignments, H5P, evaluation and plans consumers are
handed: those about their own activities, picked from the indexed verb and activity
columns without parsing a statement's JSON (the plans consumer asks the database once
per batch which activities open plan items name). Statements about another platform's
activities (most of what an LRS shared with other systems stores) are passed over
unread, in the runner's pass-over transaction, instead of being parsed and dropped one
by one."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from flask import current_app

from lms.courses import statements as st
from lms.db import get_session
from lms.xapi import service
from lms.xapi.consumers import StoredStatement, run_consumers
from lms.xapi.models import ConsumerCursor, Statement
from tests.xapi.helpers import make_statement

ADL = "http://adlnet.gov/expapi/verbs/"
VOIDED = ADL + "voided"


NAMES = ["courses", "assignments", "h5p", "evaluation", "plans"]


def the_five() -> list[Any]:
    """The consumers (imported once the app has loaded every model), in NAMES' order."""
    from lms.assignments.ledger import AssignmentsLedger
    from lms.courses.ledger import LearningLedger
    from lms.evaluation.consumer import EvaluationConsumer
    from lms.h5p.consumer import H5PConsumer
    from lms.plans.tracking import PlanTracker

    found = [LearningLedger(), AssignmentsLedger(), H5PConsumer(), EvaluationConsumer(),
             PlanTracker()]
    assert [c.name for c in found] == NAMES
    return found


def unreadable(verb: str, activity: str | None) -> StoredStatement:
    """A statement whose JSON cannot be parsed: a consumer that reads it fails the test."""
    return StoredStatement(seq=1, id=str(uuid.uuid4()), raw="{not json", verb_id=verb,
                           activity_id=activity)


FOREIGN = [
    unreadable(ADL + "completed", "https://lms.example.org/course/7"),
    unreadable(ADL + "passed", "https://lms.example.org/courses/7"),
    unreadable(ADL + "experienced", "http://example.org/courses/a/modules/b"),
    unreadable(ADL + "answered", "urn:other:h5p:x"),
    unreadable(ADL + "completed", None),  # an Agent or a StatementRef as object
]


@pytest.mark.parametrize("index", range(len(NAMES)), ids=NAMES)
def test_other_platforms_statements_are_not_handed_nor_parsed(app: Any, index: int) -> None:
    assert the_five()[index].relevant(list(FOREIGN)) == []


def test_voiding_statements_are_always_handed(app: Any) -> None:
    voiding = unreadable(VOIDED, None)
    for consumer in the_five():
        assert consumer.relevant([*FOREIGN, voiding]) == [voiding]


def test_the_courses_ledger_is_handed_its_course_and_module_statements(app: Any) -> None:
    course = unreadable(ADL + "completed", st.course_iri("etika"))
    module = unreadable(ADL + "experienced", f"{st.course_iri('etika')}/modules/m1")
    quiz = unreadable(ADL + "passed", f"{st.course_iri('etika')}/quizzes/q1")
    unknown_verb = unreadable("http://example.org/verbs/liked", st.course_iri("etika"))
    question = unreadable(ADL + "answered",
                          st.question_iri("etika", "q1", "p1"))  # not a module of its own
    courses = the_five()[0]
    assert courses.relevant([course, module, quiz, unknown_verb, question]) == [
        course, module, quiz]


def test_the_assignments_ledger_is_handed_course_and_training_completions(app: Any) -> None:
    from lms.reports.training import training_iri

    course = unreadable(ADL + "completed", st.course_iri("etika"))
    passed = unreadable(ADL + "passed", st.course_iri("etika"))
    module = unreadable(ADL + "completed", f"{st.course_iri('etika')}/modules/m1")
    training = unreadable(ADL + "completed", training_iri(12))
    training_passed = unreadable(ADL + "passed", training_iri(12))  # fact_of: never a fact
    assert the_five()[1].relevant([course, passed, module, training,
                                         training_passed]) == [course, passed, training]


def test_the_h5p_consumer_is_handed_statements_about_h5p_modules(app: Any) -> None:
    from lms.h5p.views import activity_iri as h5p_iri

    own = unreadable(ADL + "answered", h5p_iri("etika", "h1"))
    lesson = unreadable(ADL + "completed", f"{st.course_iri('etika')}/modules/m1")
    assert the_five()[2].relevant([own, lesson]) == [own]


def test_a_batch_from_another_platform_moves_those_cursors_without_their_own_runs(
        app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from lms.xapi import consumers

    app = current_app._get_current_object()
    app.config["XAPI_CONSUMERS_INLINE"] = False

    def store_foreign(count: int) -> None:
        service.store_statements([
            make_statement(id=str(uuid.uuid4()), verb={"id": ADL + verb},
                           object={"objectType": "Activity",
                                   "id": f"https://lms.example.org/course/{i}"})
            for i, verb in zip(range(count), ["completed", "passed", "experienced"] * count,
                               strict=False)])
        get_session().commit()

    store_foreign(1)
    run_consumers(app)  # every consumer's cursor made (a first run takes the usual path)
    store_foreign(12)
    locked: list[str] = []
    real = consumers._lock_cursor
    monkeypatch.setattr(consumers, "_lock_cursor",
                        lambda session, name: locked.append(name) or real(session, name))
    run_consumers(app)
    top = get_session().scalar(sa.select(sa.func.max(Statement.seq)))
    for name in NAMES:
        assert get_session().get(ConsumerCursor, name).last_seq == top
    # Passed over with the others: none of them locked its cursor for a run of its own.
    assert locked, "no consumer ran on its own: the check below would prove nothing"
    assert not set(NAMES) & set(locked), locked


def test_the_evaluation_consumer_is_handed_course_and_training_completions(app: Any) -> None:
    from lms.reports.training import training_iri

    course = unreadable(ADL + "completed", st.course_iri("etika"))
    passed = unreadable(ADL + "passed", st.course_iri("etika"))
    module = unreadable(ADL + "completed", f"{st.course_iri('etika')}/modules/m1")
    training = unreadable(ADL + "passed", training_iri(12))
    experienced = unreadable(ADL + "experienced", st.course_iri("etika"))
    assert the_five()[3].relevant([course, passed, module, training, experienced]) == [
        course, passed, training]
