"""Assignments: HR assigns a course to an OPD, learners see it first, people who move in
get it, completions come from the LRS, reminders reach the outbox once, compliance in
pages, XLSX and the API, all inside the HR scope."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import sqlalchemy as sa

from lms.assignments import remind, service
from lms.assignments.models import Assignment, AssignmentMember
from lms.db import get_session
from lms.mail.models import OutboxMessage
from lms.people import service as people
from tests import factories
from tests.assignments.conftest import course_completed, send


def _assign(client: Any, course: Any, unit: Any, due: dt.date, **extra: Any) -> Any:
    data = {"target": f"course:{course.id}", "units": [str(unit.id)], "due_kind": "fixed",
            "due_date": due.isoformat(), "enrol_now": "y", "remind_before": "7,1",
            "remind_on_due": "y", "remind_after": "3", "escalate_after": "7", "confirm": "1"}
    data.update(extra)
    return client.post("/assignments/new", data=data, follow_redirects=True)


def _login(auth: Any, user: Any) -> None:
    people.set_password(user, factories.PASSWORD)
    get_session().commit()
    response = auth.login(user.email)
    assert response.status_code in (200, 302)


def _members(assignment_id: int) -> dict[int, Any]:
    return {m.user_id: m for m in get_session().scalars(sa.select(AssignmentMember).where(
        AssignmentMember.assignment_id == assignment_id))}


def test_preview_then_assign_to_one_opd(client, login_as, org, course):
    login_as("hr")  # scoped to Dinas A by their position
    due = service.today() + dt.timedelta(days=30)
    preview = client.post("/assignments/new", data={
        "target": f"course:{course.id}", "units": [str(org["dinas_a"].id)],
        "due_kind": "fixed", "due_date": due.isoformat(), "remind_before": "7",
        "remind_after": "3"})
    assert preview.status_code == 200
    assert "3 pegawai" in preview.get_data(as_text=True)  # a1, a2 and the HR user
    assert get_session().scalar(sa.select(sa.func.count(Assignment.id))) == 0
    page = _assign(client, course, org["dinas_a"], due)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Penugasan disimpan" in text
    assignment = get_session().scalars(sa.select(Assignment)).one()
    members = _members(assignment.id)
    assert set(members) == {org["a1"].id, org["a2"].id, org["hr"].id if "hr" in org else
                            next(iter(set(members) - {org["a1"].id, org["a2"].id}))}
    assert org["b1"].id not in members
    assert all(m.due_date == due for m in members.values())
    from lms.courses.models import Enrollment

    enrolled = set(get_session().scalars(sa.select(Enrollment.user_id).where(
        Enrollment.course_id == course.id)))
    assert {org["a1"].id, org["a2"].id} <= enrolled
    # The bulk enrolment kept the JP summary exactly as the enrolment hook would.
    from lms.reports import summary

    assert summary.differences() == []


def test_learner_sees_assignment_first_and_overdue(client, auth, org, course, users):
    scope = service.scope_of_unit(org["pemda"].id)
    created = service.create_assignment(service.AssignmentSpec(
        title="Integritas wajib", target_kind="course", target_id=course.id,
        rules={"units": [org["dinas_a"].id]}, due_date=service.today() - dt.timedelta(days=2)),
        by=org["hr_all"], scope=scope)
    get_session().commit()
    assert created.id
    _login(auth, org["a1"])
    home = client.get("/").get_data(as_text=True)
    assert "Ditugaskan kepada Anda" in home
    assert "Integritas wajib" in home and "terlambat sejak" in home
    # The panel opens the page, before the learner's details.
    assert home.index("Ditugaskan kepada Anda") < home.index("Data saya")


def test_dynamic_audience_moved_in_and_out(app, org, course):
    scope = service.scope_of_unit(org["pemda"].id)
    assignment = service.create_assignment(service.AssignmentSpec(
        title="", target_kind="course", target_id=course.id,
        rules={"units": [org["dinas_a"].id]}, due_days=30), by=org["hr_all"], scope=scope)
    get_session().commit()
    send(course_completed(org["a2"], course.slug))
    # Citra moves into Dinas A, Budi (who completed) moves to Dinas B.
    people.assign_position(org["b1"], org["staff_a"], dt.date.today())
    people.assign_position(org["a2"], org["staff_b"], dt.date.today())
    get_session().commit()
    members = _members(assignment.id)
    assert members[org["b1"].id].left_at is None
    assert members[org["b1"].id].due_date == service.today() + dt.timedelta(days=30)
    assert members[org["a2"].id].left_at is not None
    rows = {r.user_id: r.status for r in get_session().execute(
        service.members_with_status(assignment))}
    # Budi keeps his completion in the figures; Citra is newly assigned.
    assert rows[org["a2"].id] == service.ON_TIME
    assert rows[org["b1"].id] == service.ASSIGNED


def test_statuses_from_the_ledger(app, org, course):
    scope = service.scope_of_unit(org["pemda"].id)
    due = service.today() - dt.timedelta(days=1)
    assignment = service.create_assignment(service.AssignmentSpec(
        title="", target_kind="course", target_id=course.id,
        rules={"units": [org["pemda"].id], "kinds": ["pelaksana", "fungsional"]},
        due_date=due), by=org["hr_all"], scope=scope)
    get_session().commit()
    early = dt.datetime.now(dt.UTC) - dt.timedelta(days=5)
    late = dt.datetime.now(dt.UTC)
    send(course_completed(org["a1"], course.slug, early),
         course_completed(org["b1"], course.slug, late))
    counts = service.compliance(assignment, scope)
    assert counts[service.ON_TIME] == 1 and counts[service.LATE] == 1
    assert counts[service.OVERDUE] == counts["total"] - 2
    # A launch credential's statement about the course does not count (outside_launch).
    from lms.assignments.ledger import fact_of

    forged = course_completed(org["a2"], course.slug)
    forged["authority"] = {"objectType": "Agent", "account": {
        "homePage": app.config["BASE_URL"] + "/xapi/launch", "name": "s1"},
        "name": "http://other.example/au"}
    assert fact_of(forged) is None
    assert fact_of(course_completed(org["a2"], course.slug)) == ("course", course.id)


def test_reminders_once_and_escalation(app, org, course):
    scope = service.scope_of_unit(org["pemda"].id)
    on = service.today()
    boss_pos = factories.make_position(org["dinas_a"], name="Kepala Dinas A",
                                       kind=people_kind("jpt"))
    boss = factories.make_user(name="Kepala A")
    people.assign_position(boss, boss_pos, dt.date(2024, 1, 1))
    assignment = service.create_assignment(service.AssignmentSpec(
        title="Integritas", target_kind="course", target_id=course.id,
        rules={"units": [org["bidang_a1"].id]}, due_date=on + dt.timedelta(days=7),
        remind_before="7,1", remind_after="3", escalate_after=7), by=org["hr_all"],
        scope=scope)
    get_session().commit()
    first = remind.remind_all(on)
    get_session().commit()
    assert first["reminders"] == 2  # a1 and a2, seven days before
    again = remind.remind_all(on)
    get_session().commit()
    assert again["reminders"] == 0
    subjects = list(get_session().scalars(sa.select(OutboxMessage.subject).where(
        OutboxMessage.category == remind.REMINDER)))
    assert len(subjects) == 2 and all("Pengingat" in s for s in subjects)
    # A run that missed days sends only the latest stage: 14 days after the due date.
    late = remind.remind_all(on + dt.timedelta(days=14))
    get_session().commit()
    assert late["reminders"] == 2 and late["escalations"] == 1
    escalation = get_session().scalars(sa.select(OutboxMessage).where(
        OutboxMessage.category == remind.ESCALATION)).one()
    assert escalation.user_id == boss.id and org["a1"].name in escalation.text
    assert assignment.id


def people_kind(value: str) -> Any:
    from lms.people.models import PositionKind

    return PositionKind(value)


def test_scope_rules(client, login_as, org, course):
    login_as("hr")  # Dinas A
    due = (service.today() + dt.timedelta(days=30)).isoformat()
    refused = client.post("/assignments/new", data={
        "target": f"course:{course.id}", "units": [str(org["dinas_b"].id)],
        "due_kind": "fixed", "due_date": due, "confirm": "1"})
    assert refused.status_code in (200, 403)
    assert get_session().scalar(sa.select(sa.func.count(Assignment.id))) == 0
    other = service.create_assignment(service.AssignmentSpec(
        title="", target_kind="course", target_id=course.id,
        rules={"units": [org["dinas_b"].id]}, due_days=10),
        by=org["hr_all"], scope=service.scope_of_unit(org["dinas_b"].id))
    get_session().commit()
    assert client.get(f"/assignments/{other.id}").status_code == 404
    assert client.get(f"/api/v1/assignments/{other.id}").status_code == 404
    assert client.get("/assignments/999999/people?status=bogus").status_code in (400, 404)


def test_nip_list_preview_shows_bad_rows(client, login_as, org, course):
    login_as("hr")
    text = ("NIP\n" + org["a1"].nip + "\n" + org["b1"].nip + "\n12345\n"
            + org["a1"].nip + "\n" + factories.make_nip(987) + "\n")
    response = client.post("/assignments/new", data={
        "target": f"course:{course.id}", "due_kind": "relative", "due_days": "14",
        "nip_file": (io.BytesIO(text.encode()), "nip.csv")},
        content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "1 dapat dipakai, 4 baris tidak dapat dipakai" in page
    assert "Di luar lingkup" in page and "Tercantum dua kali" in page


def test_report_pages_export_and_api(client, login_as, org, course):
    from openpyxl import load_workbook

    scope = service.scope_of_unit(org["pemda"].id)
    assignment = service.create_assignment(service.AssignmentSpec(
        title="Integritas 2026", target_kind="course", target_id=course.id,
        rules={"units": [org["pemda"].id]}, due_date=service.today() - dt.timedelta(days=1)),
        by=org["hr_all"], scope=scope)
    get_session().commit()
    send(course_completed(org["a1"], course.slug,
                          dt.datetime.now(dt.UTC) - dt.timedelta(days=3)))
    login_as("admin")
    detail = client.get(f"/assignments/{assignment.id}").get_data(as_text=True)
    assert "Dinas A" in detail and "Dinas B" in detail and "Terlambat" in detail
    people_page = client.get(f"/assignments/{assignment.id}/people?status=on_time")
    assert org["a1"].name in people_page.get_data(as_text=True)
    assert org["b1"].name not in people_page.get_data(as_text=True)
    response = client.get(f"/assignments/{assignment.id}/export.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "NIP" and any(r[1] == org["a1"].name and r[5] == "Selesai tepat waktu"
                                       for r in rows[1:])
    data = client.get(f"/api/v1/assignments/{assignment.id}").get_json()
    assert data["compliance"]["on_time"] == 1
    assert {u["unit"] for u in data["units"]} == {"Dinas A", "Dinas B"}
    listed = client.get(f"/api/v1/assignments/{assignment.id}/people?status=overdue").get_json()
    assert org["b1"].nip in {p["nip"] for p in listed["items"]}
    assert client.get(f"/api/v1/assignments/{assignment.id}/people?per_page=0").status_code == 400
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/assignments/{assignment_id}/people" in spec["paths"]


def test_yearly_cycle(app, org, course):
    scope = service.scope_of_unit(org["pemda"].id)
    due = service.today() + dt.timedelta(days=10)
    assignment = service.create_assignment(service.AssignmentSpec(
        title="", target_kind="course", target_id=course.id,
        rules={"units": [org["bidang_a1"].id]}, due_date=due, yearly=True),
        by=org["hr_all"], scope=scope)
    get_session().commit()
    send(course_completed(org["a1"], course.slug))
    assert service.compliance(assignment, scope)[service.ON_TIME] == 1
    later = due + dt.timedelta(days=1)
    added = service.roll_cycles(assignment, later)
    get_session().commit()
    assert added == 2
    counts = service.compliance(assignment, scope, later)
    # The new cycle: last year's completion does not count for it.
    assert counts[service.ON_TIME] == 0 and counts[service.ASSIGNED] == 2


def test_bulk_enrolment_keeps_the_jp_summary(app, org, course):
    from lms.courses.models import Enrollment
    from lms.reports import summary

    # Budi completed the course before (a summary row with a credit exists); Ani was
    # enrolled already; the others have no row yet.
    send(course_completed(org["a2"], course.slug))
    from lms.courses import service as courses

    courses.enrol(org["a1"], course)
    get_session().commit()
    made = service.create_assignment(service.AssignmentSpec(
        title="", target_kind="course", target_id=course.id,
        rules={"units": [org["pemda"].id]}, due_days=30),
        by=org["hr_all"], scope=service.scope_of_unit(org["pemda"].id))
    get_session().commit()
    assert service.enrol_missing(made) >= 3
    assert service.enrol_missing(made) == 0
    enrolled = get_session().scalars(sa.select(Enrollment.user_id).where(
        Enrollment.course_id == course.id)).all()
    assert len(enrolled) == len(set(enrolled)) >= 4
    assert summary.differences() == []


def test_remind_command_is_idempotent(app, runner, org, course):
    scope = service.scope_of_unit(org["pemda"].id)
    due = service.today() + dt.timedelta(days=1)
    service.create_assignment(service.AssignmentSpec(
        title="Integritas", target_kind="course", target_id=course.id,
        rules={"units": [org["dinas_b"].id]}, due_date=due, remind_before="1"),
        by=org["hr_all"], scope=scope)
    get_session().commit()
    first = runner.invoke(args=["assignments", "remind"])
    assert first.exit_code == 0, first.output
    assert "reminders queued 2" in first.output
    again = runner.invoke(args=["assignments", "remind"])
    assert "reminders queued 0" in again.output
    bad = runner.invoke(args=["assignments", "remind", "--on", "30-06-2026"])
    assert bad.exit_code == 1 and "not an ISO date" in bad.output
    synced = runner.invoke(args=["assignments", "sync"])
    assert synced.exit_code == 0 and "assignments 1" in synced.output


def test_indonesian_labels_are_the_assignments_own(client, login_as, org, course):
    """Catalogs are merged, so a msgid another module translates differently would show
    that module's wording: the assignments pages use message contexts for those."""
    scope = service.scope_of_unit(org["pemda"].id)
    assignment = service.create_assignment(service.AssignmentSpec(
        title="Integritas 2026", target_kind="course", target_id=course.id,
        rules={"units": [org["pemda"].id]}, due_date=service.today() + dt.timedelta(days=9)),
        by=org["hr_all"], scope=scope)
    get_session().commit()
    login_as("admin")
    form = client.get("/assignments/new").get_data(as_text=True)
    assert ">Siapa<" in form and ">Kapan<" in form and ">Oleh<" not in form
    detail = client.get(f"/assignments/{assignment.id}").get_data(as_text=True)
    assert ">Siapa<" in detail and "Sedang berjalan" in detail
    assert "Sedang dikerjakan" not in detail
    # The other catalogs keep their own wording for the same msgids.
    from flask_babel import force_locale, gettext

    with force_locale("id"):
        assert gettext("In progress") == "Sedang dikerjakan"  # the quizzes' attempts
        assert gettext("Who") == "Oleh"  # the community's posts


def test_assignments_catalog_agrees_with_the_merged_catalogs():
    """Every message of the assignments catalog reads, once the catalogs are merged, as
    the assignments catalog translates it."""
    from babel.messages.pofile import read_po

    from lms.i18n import translation_directories

    merged: dict[Any, str] = {}
    own: dict[Any, str] = {}
    for folder in translation_directories():
        with open(f"{folder}/id/LC_MESSAGES/messages.po", "rb") as fh:
            for m in read_po(fh):
                if m.id and not m.fuzzy:
                    key = (m.id if isinstance(m.id, str) else m.id[0], m.context)
                    merged[key] = m.string
                    if folder.endswith("assignments/translations"):
                        own[key] = m.string
    assert own and {k: v for k, v in own.items() if merged[k] != v} == {}


def test_hr_edits_due_rule_reminders_and_title_then_closes(app, client, login_as, org, course):
    scope = service.scope_of_unit(org["dinas_a"].id)
    on = service.today()
    assignment = service.create_assignment(service.AssignmentSpec(
        title="Integritas", target_kind="course", target_id=course.id,
        rules={"units": [org["bidang_a1"].id]}, due_date=on + dt.timedelta(days=7),
        remind_before="7", remind_after="3"), by=org["hr_all"], scope=scope)
    get_session().commit()
    assert remind.remind_all(on)["reminders"] == 2  # the 7-days-before stage
    get_session().commit()
    login_as("hr")  # Dinas A
    form = client.get(f"/assignments/{assignment.id}/edit").get_data(as_text=True)
    assert "Ubah penugasan" in form and 'value="Integritas"' in form
    bad = client.post(f"/assignments/{assignment.id}/edit", data={
        "title": "Integritas", "due_kind": "fixed", "due_date": "", "remind_before": "7"})
    assert bad.status_code == 200 and "Isi tanggal tenggat." in bad.get_data(as_text=True)
    wrong = client.post(f"/assignments/{assignment.id}/edit", data={
        "title": "Integritas", "due_kind": "relative", "due_days": "30",
        "remind_before": "7,x"})
    assert wrong.status_code == 200 and "1 sampai 365" in wrong.get_data(as_text=True)
    # Without the CSRF token nothing changes.
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client.post(f"/assignments/{assignment.id}/edit", data={
            "title": "Tanpa token", "due_kind": "relative", "due_days": "30"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    get_session().expire_all()
    assert get_session().get(Assignment, assignment.id).title == "Integritas"
    saved = client.post(f"/assignments/{assignment.id}/edit", data={
        "title": "Integritas 2027", "due_kind": "relative", "due_days": "30",
        "remind_before": "7", "remind_on_due": "y", "remind_after": "5",
        "escalate_after": "10"}, follow_redirects=True)
    text = saved.get_data(as_text=True)
    assert "Integritas 2027" in text and "2 pegawai mendapat tenggat baru" in text
    get_session().expire_all()
    edited = get_session().get(Assignment, assignment.id)
    assert (edited.due_days, edited.due_date, edited.remind_after, edited.escalate_after) == (
        30, None, "5", 10)
    members = _members(assignment.id)
    assert {m.due_date for m in members.values()} == {
        m.joined_at + dt.timedelta(days=30) for m in members.values()}
    # The stages of the old date are forgotten: the new date's reminders come again.
    new_due = next(iter(members.values())).due_date
    assert remind.remind_all(new_due - dt.timedelta(days=7))["reminders"] == 2
    get_session().commit()
    # Another HR scope cannot see or change it; a closed assignment cannot be changed.
    other = service.create_assignment(service.AssignmentSpec(
        title="B", target_kind="course", target_id=course.id,
        rules={"units": [org["dinas_b"].id]}, due_days=10),
        by=org["hr_all"], scope=service.scope_of_unit(org["dinas_b"].id))
    get_session().commit()
    assert client.get(f"/assignments/{other.id}/edit").status_code == 404
    assert client.post(f"/assignments/{other.id}/edit", data={
        "title": "X", "due_kind": "relative", "due_days": "3"}).status_code == 404
    closed = client.post(f"/assignments/{assignment.id}/archive", follow_redirects=True)
    assert "Penugasan ditutup" in closed.get_data(as_text=True)
    refused = client.get(f"/assignments/{assignment.id}/edit", follow_redirects=True)
    assert "sudah ditutup" in refused.get_data(as_text=True)
