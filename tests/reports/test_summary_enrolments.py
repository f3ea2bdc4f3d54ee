"""The JP summary's enrolment columns: enrolments made per employee, year and month and how
many of them were completed (whenever), kept by the enrolment hook and the jp-credits
consumer, equal to a recomputation and to the enrolment table joined to the completions,
rebuilt by replay and filled by the migration."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from lms.courses import service as courses
from lms.courses.models import Enrollment
from lms.reports import service, summary
from lms.reports.models import jp_summary_table
from lms.reports.scope import scope_for
from lms.xapi.consumers import replay
from tests.reports.conftest import send
from tests.reports.test_summary import _course, _course_statement, _local, _row, _void


def _enrol(db, user, course, when: dt.datetime) -> Enrollment:
    """Enrol through the courses module, then move the enrolment to ``when`` (an update
    the summary must follow too)."""
    enrollment, _created = courses.enrol(user, course)
    enrollment.enrolled_at = when
    db.commit()
    return enrollment


def _learning(db, org) -> dict:
    """Enrolments across months and a year boundary; completions in the enrolment's year,
    in the next year, never, and a completion without an enrolment."""
    year = service.today().year
    etika, spbe, sakip = _course(db, "etika", 4), _course(db, "spbe", 6), _course(db, "sakip", 2)
    _enrol(db, org["a1"], etika, _local(year, 2, 3))
    _enrol(db, org["a1"], spbe, _local(year - 1, 12, 20))  # completed in January
    _enrol(db, org["a2"], etika, _local(year, 2, 28))
    _enrol(db, org["a2"], spbe, _local(year, 3, 1, 1))  # 1 March 01:00 local: Feb in UTC
    _enrol(db, org["b1"], sakip, _local(year - 1, 11, 5))  # never completed
    ids = send(
        _course_statement(org["a1"], "etika", _local(year, 2, 10)),
        _course_statement(org["a1"], "spbe", _local(year, 1, 8)),
        _course_statement(org["a2"], "etika", _local(year, 4, 1)),
        _course_statement(org["b2"], "sakip", _local(year, 5, 1)),  # not enrolled
    )
    db.expire_all()
    return {"year": year, "etika": etika, "spbe": spbe, "sakip": sakip,
            "spbe_a1": ids[1], "etika_a2": ids[2]}


def _enrolled_direct(scope, filters) -> tuple[int, int]:
    return service._enrolled_from_records(service.employee_ids(scope, filters), filters)


def test_enrolments_are_counted_in_the_year_and_month_they_were_made(org, db):
    data = _learning(db, org)
    year = data["year"]
    a1 = _row(db, org["a1"], year)
    assert (a1["enrolled"], a1["enrolled_completed"]) == (1, 1)
    assert (a1["en_02"], a1["enc_02"]) == (1, 1)
    # Enrolled in December, completed in January: the December enrolment counts as
    # completed in last year's row; the completion's JP counts in this year's row.
    a1_before = _row(db, org["a1"], year - 1)
    assert (a1_before["enrolled"], a1_before["enrolled_completed"]) == (1, 1)
    assert (a1_before["en_12"], a1_before["enc_12"]) == (1, 1)
    assert a1_before["jp"] == 0 and a1_before["completions"] == 0
    assert a1["jp"] == 10 and a1["n_01"] == 1
    a2 = _row(db, org["a2"], year)
    assert (a2["enrolled"], a2["enrolled_completed"]) == (2, 1)
    assert (a2["en_02"], a2["en_03"], a2["enc_02"]) == (1, 1, 1)  # local months
    b1 = _row(db, org["b1"], year - 1)  # a row for enrolments alone
    assert (b1["enrolled"], b1["enrolled_completed"], b1["en_11"]) == (1, 0, 1)
    assert _row(db, org["b1"], year) is None
    b2 = _row(db, org["b2"], year)  # a completion without an enrolment
    assert (b2["enrolled"], b2["completions"]) == (0, 1)
    assert summary.differences() == []


def test_voiding_a_completion_in_another_year_updates_the_enrolment_s_row(org, db):
    data = _learning(db, org)
    year = data["year"]
    send(_void(data["spbe_a1"]), _void(data["etika_a2"]))
    db.expire_all()
    a1_before = _row(db, org["a1"], year - 1)
    assert (a1_before["enrolled"], a1_before["enrolled_completed"]) == (1, 0)
    assert _row(db, org["a1"], year)["jp"] == 4
    assert _row(db, org["a2"], year)["enrolled_completed"] == 0
    assert summary.differences() == []
    # Completed again later: counted again, in the enrolment's row.
    send(_course_statement(org["a1"], "spbe", _local(year, 6, 2)))
    db.expire_all()
    assert _row(db, org["a1"], year - 1)["enc_12"] == 1
    assert summary.differences() == []


def test_enrolments_moved_or_deleted_update_their_rows(org, db):
    data = _learning(db, org)
    year = data["year"]
    enrolment = db.scalar(sa.select(Enrollment).where(
        Enrollment.user_id == org["b1"].id, Enrollment.course_id == data["sakip"].id))
    enrolment.enrolled_at = _local(year, 7, 1)
    db.commit()
    assert _row(db, org["b1"], year - 1) is None  # nothing left in that year
    assert _row(db, org["b1"], year)["en_07"] == 1
    db.delete(enrolment)
    db.commit()
    assert _row(db, org["b1"], year) is None
    assert summary.differences() == []


def test_a_replay_rebuilds_the_enrolment_columns(org, db):
    _learning(db, org)
    before = summary.stored()
    replay("jp-credits")
    db.expire_all()
    assert summary.stored() == before
    assert summary.differences() == []


def test_dashboard_enrolment_figures_equal_the_enrolment_table(org, db, users):
    data = _learning(db, org)
    year = data["year"]
    scope = scope_for(org["hr_all"])
    cases = [
        (service.Filters(), (3, 2)),
        (service.Filters(date_from=dt.date(year - 1, 1, 1),
                         date_to=dt.date(year - 1, 12, 31)), (2, 1)),
        # Across the year boundary, whole months: the December enrolment completed in
        # January, and this year's February enrolments.
        (service.Filters(date_from=dt.date(year - 1, 12, 1), date_to=dt.date(year, 2, 28)),
         (3, 3)),
        (service.Filters(date_from=dt.date(year, 2, 1), date_to=dt.date(year, 2, 28)), (2, 2)),
        # Two whole years: this year's totals and last year's months.
        (service.Filters(date_from=dt.date(year - 1, 1, 1), date_to=dt.date(year, 12, 31)),
         (5, 3)),
        # Not whole months: counted from the enrolments themselves.
        (service.Filters(date_from=dt.date(year, 2, 5), date_to=dt.date(year, 3, 31)), (2, 1)),
        (service.Filters(unit=org["dinas_a"]), (3, 2)),
        (service.Filters(unit=org["dinas_b"]), (0, 0)),
        (service.Filters(kind=org["staff_a"].kind), (3, 2)),
    ]
    for filters, expected in cases:
        figures = service.dashboard(scope, filters)
        direct = _enrolled_direct(scope, filters)
        assert (figures.enrolled, figures.enrolled_completed) == direct, filters
        assert direct == expected, filters
    # HR of one OPD sees only its employees.
    mine = service.dashboard(scope_for(org["hr_all"]), service.Filters(
        unit=org["dinas_b"], date_from=dt.date(year - 1, 1, 1),
        date_to=dt.date(year - 1, 12, 31)))
    assert (mine.enrolled, mine.enrolled_completed) == (1, 0)
    own = scope_for(users["hr"])  # Dinas A
    figures = service.dashboard(own, service.Filters())
    assert (figures.enrolled, figures.enrolled_completed) == _enrolled_direct(
        own, service.Filters()) == (3, 2)


def test_the_migration_fills_the_enrolment_columns(org, db):
    import importlib

    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    _learning(db, org)
    before = summary.stored()
    migration = importlib.import_module(
        "lms.migrations.versions.0018_reports_summary_enrolments")
    table = jp_summary_table
    # As before the migration: no enrolment rows or counts.
    db.execute(sa.delete(table).where(table.c.completions == 0))
    db.execute(sa.update(table).values({name: 0 for name in migration.COLUMNS}))
    db.commit()
    assert summary.stored() != before
    with Operations.context(MigrationContext.configure(db.connection())):
        migration._fill()
    db.commit()
    assert summary.stored() == before
