"""The courses ledger looks a batch's learners and progress rows up once for the batch:
the same few queries for two learners or a dozen, and the same records as one statement
at a time."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from lms.courses import statements as st
from lms.courses.ledger import LearningLedger
from lms.courses.models import CourseProgress, ModuleProgress
from lms.db import get_engine, get_session
from lms.xapi.actors import actor_for
from lms.xapi.consumers import StoredStatement
from tests import factories
from tests.helpers import sql_log

ADL = "http://adlnet.gov/expapi/verbs/"


def _statements(learners: list[Any], verb: str, module: str) -> list[StoredStatement]:
    iri = st.module_iri("mini-kursus", {"id": module, "kind": "lesson"})
    return [StoredStatement(seq=n, id=str(uuid.uuid4()), data={
        "actor": actor_for(learner), "verb": {"id": ADL + verb},
        "object": {"objectType": "Activity", "id": iri},
        "timestamp": "2026-12-01T08:00:00+07:00"}) for n, learner in enumerate(learners)]


def _batch(statements: list[StoredStatement]) -> int:
    """Hand ``statements`` to a fresh ledger in one transaction (the test's session, as a
    consumers run would); the look-ups it sent (its writes are one INSERT or UPDATE per
    table on PostgreSQL, one per row on SQLite, whatever looks them up)."""
    session = get_session()
    session.expunge_all()  # nothing remembered from the set-up
    with sql_log(get_engine()) as sent:
        LearningLedger().handle_batch(statements)
        session.commit()
    return len([s for s in sent if s.lstrip().upper().startswith("SELECT")])


def test_a_batch_costs_the_same_queries_for_two_learners_or_a_dozen(
        app: Any, course: Any) -> None:
    few = [factories.make_user() for _ in range(2)]
    many = [factories.make_user() for _ in range(12)]
    get_session().commit()
    # New rows: experienced by every learner.
    new_few = _batch(_statements(few, "experienced", "satu"))
    new_many = _batch(_statements(many, "experienced", "satu"))
    # Existing rows: the same learners complete the lesson (their rows are updated).
    done_few = _batch(_statements(few, "completed", "satu"))
    done_many = _batch(_statements(many, "completed", "satu"))
    assert new_many == new_few and done_many == done_few, (new_few, new_many, done_few,
                                                           done_many)
    assert new_few <= 4 and done_few <= 4  # the course, the learners, two progress tables

    rows = get_session().scalars(sa.select(ModuleProgress)).all()
    assert len(rows) == 14  # one per learner: rows found in the batch were not added again
    assert all(r.module_id == "satu" and r.completed_at and r.experienced_at for r in rows)
    progress = get_session().scalars(sa.select(CourseProgress)).all()
    assert len(progress) == 14 and {p.last_module_id for p in progress} == {"satu"}


def test_statements_the_batch_did_not_look_up_are_still_recorded(
        app: Any, course: Any) -> None:
    """A learner named by e-mail (an actor from another platform), a second module of a
    learner looked up: what the look-up before the batch misses, handle() finds itself."""
    learner, other = factories.make_user(), factories.make_user()
    get_session().commit()
    by_mail = _statements([other], "experienced", "dua")[0]
    by_mail.data["actor"] = {"mbox": f"mailto:{other.email}"}
    _batch([*_statements([learner], "experienced", "satu"), by_mail,
                 *_statements([learner], "completed", "dua")])
    rows = {(r.user_id, r.module_id): r for r in get_session().scalars(sa.select(ModuleProgress))}
    assert set(rows) == {(learner.id, "satu"), (learner.id, "dua"), (other.id, "dua")}
    assert rows[(learner.id, "dua")].completed_at is not None
    assert rows[(other.id, "dua")].experienced_at is not None


def test_an_account_no_user_can_have_is_no_one_and_stops_nothing(app: Any, course: Any) -> None:
    """An actor naming ``user:<a number past any id column>`` (a hostile or broken client
    can send one) is nobody: the batch's other statements are recorded."""
    learner = factories.make_user()
    get_session().commit()
    stranger = _statements([learner], "experienced", "dua")[0]
    stranger.data["actor"] = {"account": {"homePage": st.base_url(),
                                          "name": "user:" + "9" * 40}}
    _batch([stranger, *_statements([learner], "completed", "satu")])
    rows = get_session().scalars(sa.select(ModuleProgress)).all()
    assert [(r.user_id, r.module_id) for r in rows] == [(learner.id, "satu")]


def _derived() -> dict[str, Any]:
    session = get_session()
    session.expire_all()
    return {
        "modules": sorted((r.user_id, r.module_id, r.experienced_at, r.completed_at, r.passed)
                          for r in session.scalars(sa.select(ModuleProgress))),
        "courses": sorted((r.user_id, r.course_id, r.progress, r.last_module_id)
                          for r in session.scalars(sa.select(CourseProgress))),
    }


def test_one_batch_records_what_one_statement_at_a_time_records(
        app: Any, course: Any) -> None:
    """The rebuild's path (a batch of many learners and modules, looked up at once) and the
    incremental one (each statement in its own transaction) leave the same records, with
    actors by account, by e-mail and by a ``user:`` name that is nobody's among them."""
    learners = [factories.make_user() for _ in range(4)]
    get_session().commit()
    statements = [*_statements(learners, "experienced", "satu"),
                  *_statements(learners[:3], "completed", "satu"),
                  *_statements(learners[1:], "experienced", "dua"),
                  *_statements(learners[2:], "completed", "dua")]
    statements[1].data["actor"] = {"mbox": f"mailto:{learners[1].email}"}
    statements[-1].data["actor"] = {"account": {"homePage": st.base_url(),
                                                "name": "user:" + "9" * 12}}
    for n, statement in enumerate(statements):
        statement.seq = n + 1
    for statement in statements:
        _batch([statement])
    one_at_a_time = _derived()
    assert len(one_at_a_time["modules"]) == 7 and len(one_at_a_time["courses"]) == 4

    session = get_session()
    session.execute(sa.delete(ModuleProgress))
    session.execute(sa.delete(CourseProgress))
    session.commit()
    _batch(statements)
    assert _derived() == one_at_a_time
