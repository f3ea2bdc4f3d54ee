"""Learning programs: three parts (two courses and an offline training), completion rules
from the LRS, a yearly validity that reopens before it lapses, HR pages and the learner's
page, and a program assigned like a course."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from lms.assignments import ledger, service
from lms.assignments.models import RULE_ALL, RULE_IN_ORDER, RULE_N_OF_M, ProgramCompletion
from lms.db import get_session
from lms.reports import training as trainings
from tests import factories
from tests.assignments.conftest import completed_with_jp, course_completed, send

NOW = dt.datetime.now(dt.UTC)


def _program(org: Any, rule: str = RULE_ALL, **extra: Any) -> tuple[Any, Any, Any, Any]:
    first = factories.import_sample_course("integritas-antikorupsi")
    second = factories.import_sample_course("pelayanan-publik-prima")
    training = trainings.create_training(trainings.TrainingSpec(
        title="Orientasi PPPK tatap muka", kind="classroom", provider="BKPSDM",
        start_date=dt.date(2026, 1, 5), end_date=dt.date(2026, 1, 7), jp=24),
        created_by=None, org_unit=None)
    program = service.create_program(
        title="Orientasi PPPK", description="", rule=rule,
        items=[("course", first.id), ("training", training.id), ("course", second.id)],
        required_count=extra.get("required_count"),
        validity_months=extra.get("validity_months"), reopen_days=extra.get("reopen_days", 30),
        by=org["hr_all"], scope=service.scope_of_unit(org["pemda"].id))
    get_session().commit()
    return program, first, second, training


def _completions(program: Any, user: Any) -> list[Any]:
    return list(get_session().scalars(sa.select(ProgramCompletion).where(
        ProgramCompletion.program_id == program.id, ProgramCompletion.user_id == user.id)
        .order_by(ProgramCompletion.completed_at)))


def test_three_parts_complete_then_reopen_and_renew(org):
    program, first, second, training = _program(org, validity_months=12, reopen_days=30)
    user = org["a1"]
    start = NOW - dt.timedelta(days=400)
    send(course_completed(user, first.slug, start),
         completed_with_jp(user, trainings.training_iri(training.id), 24,
                           start + dt.timedelta(days=1)))
    assert _completions(program, user) == []
    send(course_completed(user, second.slug, start + dt.timedelta(days=2)))
    done = _completions(program, user)
    assert len(done) == 1
    assert done[0].expires_at.date() == (start + dt.timedelta(days=2)).replace(
        year=start.year + 1).date()
    assert service.program_jp(program) == first.jp + second.jp + 24
    # A year later: lapsed (reopened 30 days before); the parts must be done again.
    state = service.program_state(program, user)
    assert state["state"] == "lapsed" and state["done"] == 0
    renew = NOW - dt.timedelta(days=10)
    send(course_completed(user, first.slug, renew),
         completed_with_jp(user, trainings.training_iri(training.id), 24, renew),
         course_completed(user, second.slug, renew))
    done = _completions(program, user)
    assert len(done) == 2
    assert service.program_state(program, user)["state"] == "valid"
    # Inside the reopening window: reopened, the parts start over.
    soon = done[1].expires_at - dt.timedelta(days=5)
    assert service.program_state(program, user, soon)["state"] == "reopened"


def test_rules_in_order_and_n_of_m(org):
    program, first, second, training = _program(org, rule=RULE_IN_ORDER)
    user = org["a2"]
    send(course_completed(user, second.slug, NOW - dt.timedelta(days=3)),
         course_completed(user, first.slug, NOW - dt.timedelta(days=2)),
         completed_with_jp(user, trainings.training_iri(training.id), 24,
                           NOW - dt.timedelta(days=1)))
    assert _completions(program, user) == []  # the last part came first
    send(course_completed(user, second.slug, NOW))
    assert len(_completions(program, user)) == 1
    program.rule, program.required_count = RULE_N_OF_M, 2
    get_session().flush()
    ledger.derive_program(program, org["b1"].id)
    send(course_completed(org["b1"], first.slug), course_completed(org["b1"], second.slug))
    assert len(_completions(program, org["b1"])) == 1


def test_voiding_a_part_withdraws_the_program(org):
    program, first, second, training = _program(org, rule=RULE_N_OF_M, required_count=1)
    statement = course_completed(org["a1"], first.slug)
    send(statement)
    assert len(_completions(program, org["a1"])) == 1
    send({"actor": statement["actor"], "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
          "object": {"objectType": "StatementRef", "id": statement["id"]}})
    assert _completions(program, org["a1"]) == []


def test_program_pages_and_assignment(client, login_as, org, auth):
    program, first, second, training = _program(org)
    login_as("admin")
    listing = client.get("/assignments/programs").get_data(as_text=True)
    assert "Orientasi PPPK" in listing and "Semua bagian" in listing
    detail = client.get(f"/assignments/programs/{program.id}").get_data(as_text=True)
    assert "Orientasi PPPK tatap muka" in detail and "Jumlah JP" in detail
    bad = client.post("/assignments/programs/new", data={
        "title": "Kosong", "items": [f"course:{first.id}"], "rule": "n_of_m",
        "required_count": "5"})
    assert bad.status_code == 200 and "N harus antara 1" in bad.get_data(as_text=True)
    made = client.post("/assignments/programs/new", data={
        "title": "Sertifikasi teknis", "items": [f"course:{first.id}", f"course:{second.id}"],
        "order": f"course:{second.id}, course:{first.id}", "rule": "in_order",
        "validity_months": "12", "reopen_days": "30"}, follow_redirects=True)
    assert "Jalur pembelajaran disimpan" in made.get_data(as_text=True)
    assignment = service.create_assignment(service.AssignmentSpec(
        title="Orientasi wajib", target_kind="program", target_id=program.id,
        rules={"units": [org["dinas_a"].id]}, due_days=60),
        by=org["hr_all"], scope=service.scope_of_unit(org["pemda"].id))
    get_session().commit()
    client.post("/logout")
    from lms.people import service as people

    people.set_password(org["a1"], factories.PASSWORD)
    get_session().commit()
    auth.login(org["a1"].email)
    home = client.get("/").get_data(as_text=True)
    assert "Orientasi wajib" in home
    mine = client.get(f"/assignments/mine/programs/{program.id}").get_data(as_text=True)
    assert "0 dari 3 bagian selesai" in mine
    send(course_completed(org["a1"], first.slug),
         completed_with_jp(org["a1"], trainings.training_iri(training.id), 24),
         course_completed(org["a1"], second.slug))
    rows = {r.user_id: r.status for r in get_session().execute(
        service.members_with_status(assignment))}
    assert rows[org["a1"].id] == service.ON_TIME
    mine = client.get(f"/assignments/mine/programs/{program.id}").get_data(as_text=True)
    assert "Nomor sertifikat" in mine
    # Someone else's program page stays closed to a learner it is not assigned to.
    client.post("/logout")
    people.set_password(org["b1"], factories.PASSWORD)
    get_session().commit()
    auth.login(org["b1"].email)
    assert client.get(f"/assignments/mine/programs/{program.id}").status_code == 404


def test_assign_this_program_preselects_it(client, login_as, org):
    program, *_rest = _program(org)
    login_as("admin")
    page = client.get(f"/assignments/new?target=program:{program.id}").get_data(as_text=True)
    assert f'<option selected value="program:{program.id}"' in page or \
        f'value="program:{program.id}" selected' in page


def test_program_certificate_pdf_badge_and_verification(client, org, auth):
    """Completing a program gives a certificate number that /verify knows, a PDF with
    embedded fonts, and a signed Open Badge; a recertification gets a new number."""
    from lms.credentials import badges
    from lms.people import service as people

    program, first, second, training = _program(org, validity_months=12, reopen_days=30)
    user = org["a1"]
    start = NOW - dt.timedelta(days=400)
    send(course_completed(user, first.slug, start),
         completed_with_jp(user, trainings.training_iri(training.id), 24, start),
         course_completed(user, second.slug, start))
    [done] = _completions(program, user)
    number = done.certificate_number
    page = client.get(f"/verify/{number}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Sertifikat ini sah" in text
    assert "Orientasi PPPK" in text and user.name in text
    assert client.get("/verify/LTP-2026-XXXX-XXXX-XXXX").status_code == 404
    # Course certificates are still found as before (the lookup runs only on a miss).
    assert client.get(f"/assignments/certificates/{number}.pdf").status_code == 302  # sign in
    people.set_password(user, factories.PASSWORD)
    get_session().commit()
    auth.login(user.email)
    mine = client.get(f"/assignments/mine/programs/{program.id}").get_data(as_text=True)
    assert "Unduh sertifikat (PDF)" not in mine  # lapsed: no valid certificate offered
    response = client.get(f"/assignments/certificates/{number}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF") and b"/FontFile2" in response.data
    token = client.get(f"/assignments/certificates/{number}.jwt").get_data(as_text=True)
    payload = badges.verify(token)
    assert payload["credentialSubject"]["achievement"]["name"] == "Orientasi PPPK"
    assert payload["credentialSubject"]["creditsEarned"] == float(service.program_jp(program))
    checked = client.post("/credentials/verify", data={"token": token}).get_data(as_text=True)
    assert "Badge ini asli" in checked and "telah ditarik" not in checked
    # Recertification: a new completion with its own number, verifiable too.
    renew = NOW - dt.timedelta(days=5)
    send(course_completed(user, first.slug, renew),
         completed_with_jp(user, trainings.training_iri(training.id), 24, renew),
         course_completed(user, second.slug, renew))
    latest = _completions(program, user)[-1]
    assert latest.certificate_number != number
    assert client.get(f"/verify/{latest.certificate_number}").status_code == 200
    mine = client.get(f"/assignments/mine/programs/{program.id}").get_data(as_text=True)
    assert "Unduh sertifikat (PDF)" in mine and latest.certificate_number in mine
    # Someone else's certificate stays closed to a learner.
    client.post("/logout")
    people.set_password(org["b1"], factories.PASSWORD)
    get_session().commit()
    auth.login(org["b1"].email)
    assert client.get(f"/assignments/certificates/{number}.pdf").status_code == 404
    assert client.get(f"/assignments/certificates/{number}.jwt").status_code == 404


def test_program_edited_until_someone_completes_it(client, login_as, org):
    program, first, second, training = _program(org)
    login_as("admin")
    page = client.get(f"/assignments/programs/{program.id}").get_data(as_text=True)
    assert "Program dapat diubah sampai ada yang menyelesaikannya" in page
    form = client.get(f"/assignments/programs/{program.id}/edit").get_data(as_text=True)
    assert "Ubah program" in form and 'value="Orientasi PPPK"' in form
    bad = client.post(f"/assignments/programs/{program.id}/edit", data={
        "title": "Orientasi PPPK", "items": [f"course:{first.id}"], "rule": "n_of_m",
        "required_count": "4"})
    assert bad.status_code == 200 and "N harus antara 1" in bad.get_data(as_text=True)
    saved = client.post(f"/assignments/programs/{program.id}/edit", data={
        "title": "Orientasi PPPK 2027", "items": [f"course:{first.id}", f"course:{second.id}"],
        "rule": "all", "reopen_days": "30"}, follow_redirects=True)
    assert "Orientasi PPPK 2027" in saved.get_data(as_text=True)
    get_session().expire_all()
    assert [i.course_id for i in service.get_program(
        program.id, service.scope_of_unit(None)).items] == [first.id, second.id]
    # Someone completes it: the program is frozen, and the page says why.
    send(course_completed(org["a1"], first.slug), course_completed(org["a1"], second.slug))
    assert len(_completions(program, org["a1"])) == 1
    page = client.get(f"/assignments/programs/{program.id}").get_data(as_text=True)
    assert "tidak dapat diubah lagi" in page and f"/programs/{program.id}/edit" not in page
    frozen = client.post(f"/assignments/programs/{program.id}/edit", data={
        "title": "Lain", "items": [f"course:{first.id}"], "rule": "all"},
        follow_redirects=True)
    assert "tidak dapat diubah lagi" in frozen.get_data(as_text=True)
    get_session().expire_all()
    assert get_session().get(type(program), program.id).title == "Orientasi PPPK 2027"


def test_program_edit_outside_the_hr_scope(client, login_as, org):
    from lms.assignments.models import Program

    other = Program(title="Milik Dinas B", org_unit_id=org["dinas_b"].id)
    get_session().add(other)
    get_session().commit()
    login_as("hr")  # Dinas A
    assert client.get(f"/assignments/programs/{other.id}/edit").status_code == 404
    assert client.post(f"/assignments/programs/{other.id}/edit",
                       data={"title": "X"}).status_code == 404


def test_list_figures_in_one_query_agree_with_compliance(client, login_as, org):
    """The /assignments/ list's figures come from one grouped query and equal those of
    each assignment's compliance, for courses, programs and trainings, in any scope."""
    program, first, second, training = _program(org)
    pemda = service.scope_of_unit(org["pemda"].id)
    past = service.today() - dt.timedelta(days=3)
    made = [service.create_assignment(service.AssignmentSpec(
        title=f"Tugas {kind}", target_kind=kind, target_id=ident,
        rules={"units": [org["pemda"].id]}, due_date=due), by=org["hr_all"], scope=pemda)
        for kind, ident, due in [
            ("course", first.id, past), ("program", program.id, past),
            ("training", training.id, service.today() + dt.timedelta(days=3))]]
    get_session().commit()
    late = NOW - dt.timedelta(hours=1)
    send(course_completed(org["a1"], first.slug, NOW - dt.timedelta(days=5)),
         course_completed(org["a2"], first.slug, late),
         completed_with_jp(org["a1"], trainings.training_iri(training.id), 24, late),
         course_completed(org["a1"], second.slug, late))
    for scope in (pemda, service.scope_of_unit(org["dinas_a"].id)):
        figures = service.list_figures([a.id for a in made], scope)
        for assignment in made:
            counts = service.compliance(assignment, scope)
            assert figures[assignment.id] == {
                "total": counts["total"], "completed": counts["on_time"] + counts["late"],
                "overdue": counts["overdue"]}, assignment.title
    figures = service.list_figures([a.id for a in made], pemda)
    assert figures[made[0].id]["completed"] == 2 and figures[made[0].id]["overdue"] >= 1
    assert figures[made[1].id]["completed"] == 1  # a1 did all three parts
    assert figures[made[2].id] == {"total": figures[made[0].id]["total"], "completed": 1,
                                   "overdue": 0}
    login_as("admin")
    page = client.get("/assignments/").get_data(as_text=True)
    assert all(a.title in page for a in made)
