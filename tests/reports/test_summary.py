"""The per-employee, per-year JP summary: kept exactly once by the jp-credits consumer,
equal to a recomputation, rebuilt by replay, and read by the dashboard."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from lms.courses.models import Completion, Course, CourseVersion
from lms.reports import service, summary
from lms.reports.models import JpCourseCredit, JpCredit, jp_summary_table
from lms.reports.scope import scope_for
from lms.xapi.consumers import replay
from tests.reports.conftest import BASE, actor, completed_with_jp, send

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PASSED = "http://adlnet.gov/expapi/verbs/passed"


def _course(db, slug: str, jp: float, versions: dict[int, float] | None = None) -> Course:
    course = Course(slug=slug, title=f"Kursus {slug}", jp=jp, version=max(versions or {1: 0}))
    db.add(course)
    db.flush()
    for number, version_jp in (versions or {}).items():
        db.add(CourseVersion(course_id=course.id, number=number, content_hash=slug * 2,
                             definition={"jp": version_jp, "title": course.title,
                                         "competencies": []}))
    db.commit()
    return course


def _course_statement(user, slug: str, when: dt.datetime, *, verb: str = COMPLETED,
                      version: int | None = None, completion: bool = True) -> dict:
    data = {"id": str(uuid.uuid4()), "actor": actor(user),
            "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[1]}},
            "object": {"objectType": "Activity", "id": f"{BASE}/courses/{slug}"},
            "result": {"completion": completion}, "timestamp": when.isoformat()}
    if version is not None:
        data["context"] = {"extensions": {
            f"{BASE}/xapi/extensions/course-version": version}}
    return data


def _void(statement_id: str) -> dict:
    return {"actor": {"objectType": "Agent", "mbox": "mailto:admin@lentera.test"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/voided",
                     "display": {"en-US": "voided"}},
            "object": {"objectType": "StatementRef", "id": statement_id}}


def _local(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=summary.LOCAL_TZ)


def _mixed_learning(db, org) -> dict[str, str]:
    """Course completions (first wins, version JP, passed-with-completion), learning on
    other platforms, a voided record, across months and a year boundary in local time."""
    year = service.today().year
    _course(db, "etika", 4)
    _course(db, "spbe", 6, versions={1: 5, 2: 7.5})
    ids = send(
        _course_statement(org["a1"], "etika", _local(year, 1, 5)),
        _course_statement(org["a1"], "etika", _local(year, 2, 5)),  # second: not counted
        _course_statement(org["a1"], "spbe", _local(year, 3, 1), version=1),
        _course_statement(org["a2"], "spbe", _local(year, 3, 2), verb=PASSED),
        _course_statement(org["b1"], "spbe", _local(year, 3, 3), verb=PASSED,
                          completion=False),  # passed without completion: not counted
        _course_statement(org["b1"], "nope", _local(year, 3, 3)),  # unknown course
        completed_with_jp(org["a1"], "https://moodle.example/1", 2.5, _local(year, 3, 9)),
        completed_with_jp(org["a1"], "https://moodle.example/1", 9, _local(year, 4, 9)),
        completed_with_jp(org["b1"], "https://moodle.example/2", 1.3, _local(year, 4, 9)),
        completed_with_jp(org["b1"], "https://moodle.example/3", 1.1, _local(year, 4, 10)),
        # 1 January 01:00 in Jakarta is still the previous year in UTC
        completed_with_jp(org["b2"], "https://moodle.example/4", 3, _local(year, 1, 1, 1)),
        completed_with_jp(org["b2"], "https://moodle.example/5", 5,
                          _local(year - 1, 12, 31, 23)),
    )
    return {"etika_a1": ids[0], "etika_a1_again": ids[1], "spbe_a1": ids[2],
            "moodle_b1": ids[8]}


def _row(db, user, year):
    return db.execute(sa.select(jp_summary_table).where(
        jp_summary_table.c.user_id == user.id, jp_summary_table.c.year == year)).mappings().first()


def test_summary_counts_every_kind_of_learning_by_local_year_and_month(org, db):
    _mixed_learning(db, org)
    year = service.today().year
    a1 = _row(db, org["a1"], year)
    assert a1["jp"] == 4 + 5 + 2.5 and a1["completions"] == 3
    assert (a1["n_01"], a1["jp_01"]) == (1, 4.0)
    assert (a1["n_03"], a1["jp_03"]) == (2, 7.5)
    assert a1["n_02"] == 0 and a1["n_04"] == 0
    assert _row(db, org["a2"], year)["jp"] == 6  # passed with completion, course JP
    b1 = _row(db, org["b1"], year)
    assert b1["completions"] == 2 and b1["jp"] == round(1.3 + 1.1, 6)
    assert _row(db, org["b2"], year)["jp"] == 3 and _row(db, org["b2"], year)["n_01"] == 1
    assert _row(db, org["b2"], year - 1)["jp_12"] == 5
    assert summary.differences() == []


def test_course_credits_follow_the_courses_ledger(org, db):
    _mixed_learning(db, org)
    ledger = sorted(db.execute(sa.select(Completion.statement_id, Completion.jp)).all())
    mine = sorted(db.execute(sa.select(JpCourseCredit.statement_id, JpCourseCredit.jp)).all())
    assert mine == ledger and len(mine) == 3
    # The summary equals the records of both ledgers summed the documented way.
    for (user_id, year), row in summary.stored().items():
        start, end = summary.year_bounds(year)
        total = sum(jp for model in (Completion, JpCredit) for (jp,) in db.execute(
            sa.select(model.jp).where(model.user_id == user_id, model.completed_at >= start,
                                      model.completed_at < end)))
        assert row["jp"] == round(total, 6)


def test_voiding_withdraws_from_the_summary_and_a_replay_rebuilds_it(org, db):
    ids = _mixed_learning(db, org)
    year = service.today().year
    send(_void(ids["etika_a1"]), _void(ids["moodle_b1"]))
    db.expire_all()
    a1 = _row(db, org["a1"], year)
    # The course's credit is gone; the second completion was never counted, as in the
    # courses ledger (it credits the first completion only).
    assert a1["jp"] == 5 + 2.5 and a1["n_01"] == 0 and a1["n_02"] == 0
    assert _row(db, org["b1"], year)["jp"] == 1.1
    assert summary.differences() == []
    before = summary.stored()
    credits = sorted(db.execute(sa.select(JpCourseCredit.statement_id)).all())
    replay("jp-credits")
    db.expire_all()
    assert summary.stored() == before
    assert sorted(db.execute(sa.select(JpCourseCredit.statement_id)).all()) == credits
    assert summary.differences() == []


def test_each_statement_counts_once_when_sent_again(org, db):
    statement = completed_with_jp(org["a1"], "https://moodle.example/9", 4)
    send(statement)
    send(statement)  # the LRS stores a statement id once; the consumer never sees it again
    year = service.today().year
    assert _row(db, org["a1"], year)["jp"] == 4
    replay("jp-credits")
    replay("jp-credits")
    db.expire_all()
    assert _row(db, org["a1"], year)["jp"] == 4


def _raw_figures(scope, filters):
    """The dashboard's figures summed from the records themselves (the way before the
    summary), for comparison."""
    emp = service.employee_ids(scope, filters)
    months = service._months_from_records(emp, filters)
    start, end = filters.year_bounds()
    records = service.jp_amounts()  # the one source definition (lms.jp.sources)
    per_user = (sa.select(records.c.user_id, sa.func.sum(records.c.jp).label("jp"))
                .where(records.c.completed_at >= start, records.c.completed_at < end)
                .group_by(records.c.user_id).subquery())
    jps = [float(jp or 0) for (jp,) in service.get_session().execute(
        sa.select(per_user.c.jp).select_from(emp).outerjoin(
            per_user, per_user.c.user_id == emp.c.user_id))]
    return months, jps


def test_dashboard_figures_from_the_summary_equal_the_records(org, db):
    _mixed_learning(db, org)
    year = service.today().year
    scope = scope_for(org["hr_all"])
    for filters in (service.Filters(),
                    service.Filters(date_from=dt.date(year, 3, 1), date_to=dt.date(year, 4, 30)),
                    service.Filters(date_from=dt.date(year - 1, 12, 1),
                                    date_to=dt.date(year, 1, 31)),
                    service.Filters(date_from=dt.date(year, 3, 2), date_to=dt.date(year, 4, 9)),
                    service.Filters(unit=org["dinas_a"])):
        data = service.dashboard(scope, filters)
        months, jps = _raw_figures(scope, filters)
        if service.get_session().get_bind().dialect.name == "postgresql" or \
                not service.whole_months(filters):
            # Both in local months (SQLite's raw query groups by UTC month).
            assert [(m, n) for m, n, _jp in data.months] == [(m, n) for m, n, _jp in months]
        assert data.completions == sum(n for _m, n, _jp in months)
        assert round(data.jp_total, 6) == round(sum(jp for _m, _n, jp in months), 6)
        assert data.employees == len(jps)
        assert round(data.average_jp, 6) == round(sum(jps) / len(jps), 6)
        assert data.at_target == sum(1 for jp in jps if jp >= service.JP_TARGET)
    across = service.dashboard(scope, service.Filters(
        date_from=dt.date(year - 1, 12, 1), date_to=dt.date(year, 1, 31)))
    assert [(m, n) for m, n, _jp in across.months] == [
        (f"{year - 1}-12", 1), (f"{year}-01", 2)]


def test_drill_down_uses_the_year_of_the_summary(org, db):
    _mixed_learning(db, org)
    scope = scope_for(org["hr_all"])
    rows = service.get_session().execute(
        service.drill_query(scope, service.Filters(), "all")).all()
    jp = {row[1]: float(row[6]) for row in rows}
    assert jp[org["a1"].nip] == 11.5 and jp[org["b2"].nip] == 3
    below = service.get_session().execute(
        service.drill_query(scope, service.Filters(), "below")).all()
    assert {row[1] for row in below} == {nip for nip, value in jp.items() if value < 20}
    assert len(below) == 5


def test_the_migration_fills_the_summary_from_the_records_derived_before(org, db):
    import importlib

    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    _mixed_learning(db, org)
    before = summary.stored()
    credits = sorted(db.execute(sa.select(JpCourseCredit.statement_id)).all())
    summary.delete_all()
    db.commit()
    migration = importlib.import_module("lms.migrations.versions.0015_reports_summary")
    connection = db.connection()
    with Operations.context(MigrationContext.configure(connection)):
        migration._fill()
    db.commit()
    assert summary.stored() == before
    assert sorted(db.execute(sa.select(JpCourseCredit.statement_id)).all()) == credits
