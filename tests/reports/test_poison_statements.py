"""Statements at the ends of the calendar stop no ledger, and a rebuild equals the
incremental path; crediting an employee costs the same with 1 or 300 earlier credits."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from lms.courses import service as courses
from lms.courses.models import Completion
from lms.errors import ValidationError
from lms.reports import summary
from lms.reports.models import JpCourseCredit, JpCredit
from lms.xapi.consumers import list_failures, replay
from lms.xapi.service import store_statements
from tests import factories
from tests.helpers import sql_log
from tests.reports.conftest import BASE, actor, completed_with_jp, send

ADL = "http://adlnet.gov/expapi/verbs/"
#: Valid xAPI timestamps whose local (WIB, UTC+7) time, or arithmetic of a few days on
#: them, leaves the calendar.
EDGES = ["9999-12-31T23:59:59Z", "9999-12-31T23:59:59.999+00:00", "9999-12-31T17:00:00Z",
         "0001-01-01T00:00:00Z", "0001-01-01T06:59:59.999Z", "9999-12-31T23:59:59+14:00"]


def _derived(db: Any) -> dict[str, Any]:
    """What the ledgers derived, comparable across a replay."""
    from lms.competency.models import Evidence, UserCompetency
    from lms.evaluation.models import Evaluation

    return {
        "credits": sorted(db.execute(sa.select(JpCredit.statement_id, JpCredit.jp,
                                               JpCredit.completed_at)).all()),
        "course_credits": sorted(db.execute(sa.select(
            JpCourseCredit.statement_id, JpCourseCredit.jp, JpCourseCredit.completed_at)).all()),
        "completions": sorted(db.execute(sa.select(
            Completion.statement_id, Completion.completed_at,
            Completion.certificate_number)).all()),
        "summary": summary.stored(),
        "evidence": sorted(db.execute(sa.select(Evidence.statement_id, Evidence.level,
                                                Evidence.occurred)).all()),
        "levels": sorted(db.execute(sa.select(UserCompetency.user_id,
                                              UserCompetency.competency_id,
                                              UserCompetency.level)).all()),
        "evaluations": sorted(db.execute(sa.select(Evaluation.completion_statement_id,
                                                   Evaluation.level, Evaluation.due_at)).all()),
    }


@pytest.mark.parametrize("timestamp", EDGES)
def test_a_completion_at_the_end_of_the_calendar_stops_no_consumer(
        app: Any, db: Any, org: dict[str, Any], timestamp: str) -> None:
    course = factories.import_sample_course()
    courses.enrol(org["a1"], course)
    db.commit()
    statements = [
        completed_with_jp(org["a1"], "https://moodle.example/edge", 3, timestamp=timestamp),
        {"id": str(uuid.uuid4()), "actor": actor(org["a1"]),
         "verb": {"id": ADL + "completed", "display": {"en-US": "completed"}},
         "object": {"objectType": "Activity", "id": f"{BASE}/courses/{course.slug}"},
         "result": {"completion": True}, "timestamp": timestamp},
    ]
    ids = send(*statements)
    # Later learning is credited as ever: nothing stalls behind the edge.
    (later,) = send(completed_with_jp(org["a2"], "https://moodle.example/later", 2))
    assert list_failures() == []
    db.expire_all()
    credited = {sid: when for sid, when in db.execute(
        sa.select(JpCredit.statement_id, JpCredit.completed_at))}
    assert set(credited) == {ids[0], later}
    # A completion is never dated after the LRS stored it.
    assert credited[ids[0]] <= dt.datetime.now(dt.UTC)
    assert db.scalar(sa.select(sa.func.count(Completion.id))) == 1
    assert summary.differences() == []
    incremental = _derived(db)
    replay()
    db.expire_all()
    assert list_failures() == []
    assert _derived(db) == incremental


@pytest.mark.parametrize("timestamp", ["0001-01-01T00:00:00+07:00",
                                       "9999-12-31T23:00:00-05:00"])
def test_a_timestamp_outside_the_utc_calendar_is_refused(app: Any, org: dict[str, Any],
                                                          timestamp: str) -> None:
    with pytest.raises(ValidationError, match="outside the dates this LRS can store"):
        store_statements([completed_with_jp(org["a1"], "https://x.example/1", 1,
                                            timestamp=timestamp)])


def test_crediting_costs_the_same_whatever_the_employee_has_learned(
        app: Any, db: Any, org: dict[str, Any], monkeypatch: Any) -> None:
    """The summary row is adjusted by the new credit alone: no statement reads the
    employee's other credits, however many there are."""
    from lms.db import get_engine

    def refused(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("crediting recomputed the employee's year")

    monkeypatch.setattr(summary, "_records_of", refused)
    def credit_one(user: Any) -> int:
        with sql_log(get_engine(app)) as statements:
            send(completed_with_jp(user, f"https://moodle.example/{uuid.uuid4()}", 1))
        return len(statements)

    send(*[completed_with_jp(org["a1"], f"https://moodle.example/many/{i}", 1)
           for i in range(300)])
    with_many = credit_one(org["a1"])
    with_none = credit_one(org["b1"])
    assert with_many == with_none
    db.expire_all()
    assert summary.differences() == []


@pytest.mark.parametrize("tail", ["99999999999", "2147483648", "²", "١٢", "0", "1" * 2000])
def test_a_training_iri_no_training_can_have_stops_no_consumer(
        app: Any, db: Any, org: dict[str, Any], tail: str) -> None:
    """A completion with JP about ``<base>/training/<tail>`` where the tail is no id the
    training table can hold (too large for its integer column, digits of another script)
    is another platform's activity: credited as such, never a lookup that fails."""
    from lms.reports.training import parse_training_iri

    iri = f"{BASE}/training/{tail}"
    assert parse_training_iri(iri) is None
    (sent,) = send(completed_with_jp(org["a1"], iri, 2))
    (later,) = send(completed_with_jp(org["a2"], "https://moodle.example/after", 1))
    assert list_failures() == []
    db.expire_all()
    credits = dict(db.execute(sa.select(JpCredit.statement_id, JpCredit.training_id)).all())
    assert credits == {sent: None, later: None}
    assert summary.differences() == []
    incremental = _derived(db)
    replay()
    db.expire_all()
    assert list_failures() == []
    assert _derived(db) == incremental


def test_a_training_iri_reads_the_id_of_a_training(app: Any) -> None:
    from lms.reports.training import parse_training_iri, training_iri

    assert parse_training_iri(training_iri(7)) == 7
    assert parse_training_iri(training_iri(2**31 - 1)) == 2**31 - 1
    assert parse_training_iri(f"{training_iri(7)}/x") is None
    assert parse_training_iri("https://elsewhere.example/training/7") is None
