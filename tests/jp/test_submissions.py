"""Learning submitted for JP: the chain supervisor → HR, statements through the LRS, nothing
counted before verification, voiding, duplicates, files, the conversion table."""

from __future__ import annotations

import datetime as dt
import io

import sqlalchemy as sa

from lms.db import get_session
from tests.jp.conftest import PDF, PNG, form, sign_in


def _jp(user) -> float:
    from lms.jp import service

    return service.jp_total(user, service.this_year())


def _submission(submission_id: int):
    from lms.jp.models import JpSubmission

    get_session().expire_all()
    return get_session().get(JpSubmission, submission_id)


def _submit(client, org, **overrides) -> int:
    sign_in(client, org["a1"])
    response = client.post("/jp/submissions/new", data=form(**overrides),
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[-1])


def test_the_chain_counts_only_after_hr_verified_and_voiding_takes_it_back(client, org):
    from lms.jp import service
    from lms.jp.models import JpSubmissionStep
    from lms.xapi.models import Statement

    submission_id = _submit(client, org, competencies="M.03:2")
    submission = _submission(submission_id)
    assert submission.status.value == "submitted"
    assert submission.jp == 8  # 6 hours of classroom learning = 8 JP of 45 minutes
    assert _jp(org["a1"]) == 0
    # It shows as pending on the statement, not counted.
    statement = service.statement(org["a1"])
    assert [p.title for p in statement.pending] == [submission.title]
    assert statement.jp == 0 and statement.pending_jp == 8

    # HR cannot verify before the supervisor confirmed; another employee cannot confirm.
    sign_in(client, org["hr"])
    client.post(f"/jp/submissions/{submission_id}/verify")
    assert _submission(submission_id).status.value == "submitted"
    sign_in(client, org["a2"])
    assert client.post(f"/jp/submissions/{submission_id}/confirm").status_code == 403
    sign_in(client, org["head"])
    page = client.get("/jp/team").get_data(as_text=True)
    assert submission.title in page
    assert client.post(f"/jp/submissions/{submission_id}/confirm").status_code == 303
    assert _submission(submission_id).status.value == "confirmed"
    assert _jp(org["a1"]) == 0

    sign_in(client, org["hr"])
    page = client.get("/jp/hr").get_data(as_text=True)
    assert submission.title in page and "Bidang A1" in page
    assert client.post(f"/jp/submissions/{submission_id}/verify").status_code == 303
    assert _submission(submission_id).status.value == "verified"
    assert _jp(org["a1"]) == 8
    [item] = service.items(org["a1"], service.this_year())
    assert item.source == "submission" and item.kind == "siasn-9" and item.jp == 8
    # Every step is a statement in the LRS.
    steps = get_session().scalars(sa.select(JpSubmissionStep).where(
        JpSubmissionStep.submission_id == submission_id)).all()
    assert [s.action for s in steps] == ["submitted", "confirmed", "verified"]
    verbs = [get_session().scalar(sa.select(Statement.verb_id).where(
        Statement.statement_id == s.statement_id)) for s in steps]
    assert verbs == ["http://activitystrea.ms/schema/1.0/submit",
                     "http://activitystrea.ms/schema/1.0/confirm",
                     "http://activitystrea.ms/schema/1.0/approve"]
    # The competency it served is evidence in her profile.
    from lms.competency.models import Competency, UserCompetency

    m03 = get_session().scalar(sa.select(Competency).where(Competency.code == "M.03"))
    level = get_session().scalar(sa.select(UserCompetency.level).where(
        UserCompetency.user_id == org["a1"].id, UserCompetency.competency_id == m03.id))
    assert level == 2

    # Voiding needs a reason, then takes the JP and the evidence back.
    client.post(f"/jp/submissions/{submission_id}/void", data={"reason": ""})
    assert _submission(submission_id).status.value == "verified"
    client.post(f"/jp/submissions/{submission_id}/void", data={"reason": "Sertifikat palsu"})
    assert _submission(submission_id).status.value == "voided"
    assert _jp(org["a1"]) == 0
    level = get_session().scalar(sa.select(UserCompetency.level).where(
        UserCompetency.user_id == org["a1"].id, UserCompetency.competency_id == m03.id))
    assert not level


def test_return_with_a_reason_then_correct_and_submit_again(client, org):
    submission_id = _submit(client, org)
    sign_in(client, org["head"])
    client.post(f"/jp/submissions/{submission_id}/return", data={"reason": ""})
    assert _submission(submission_id).status.value == "submitted"
    client.post(f"/jp/submissions/{submission_id}/return",
                data={"reason": "Tanggal tidak sesuai sertifikat"})
    submission = _submission(submission_id)
    assert submission.status.value == "returned"
    sign_in(client, org["a1"])
    page = client.get(f"/jp/submissions/{submission_id}").get_data(as_text=True)
    assert "Tanggal tidak sesuai sertifikat" in page
    response = client.post(f"/jp/submissions/{submission_id}/edit",
                           data=form(amount="3", unit="jp", certificate=(io.BytesIO(b""), "")),
                           content_type="multipart/form-data")
    assert response.status_code == 302
    submission = _submission(submission_id)
    assert submission.status.value == "submitted" and submission.jp == 3


def test_hr_outside_the_scope_cannot_decide(client, org, users):
    from lms.reports.scope import set_scope

    # Citra works in Dinas B; her unit has no head, so it goes to HR directly.
    sign_in(client, org["b1"])
    response = client.post("/jp/submissions/new", data=form(certificate_number="B-1"),
                           content_type="multipart/form-data")
    submission_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    assert _submission(submission_id).status.value == "confirmed"
    set_scope(org["hr"], org["dinas_a"])
    get_session().commit()
    sign_in(client, org["hr"])
    assert client.get(f"/jp/submissions/{submission_id}").status_code == 403
    assert client.post(f"/jp/submissions/{submission_id}/verify").status_code == 403
    assert "Citra" not in client.get("/jp/hr").get_data(as_text=True)
    assert client.post(f"/jp/hr/remind/{org['b1'].nip}").status_code == 403
    assert _jp(org["b1"]) == 0


def test_duplicates_are_caught(client, org):
    _submit(client, org)
    sign_in(client, org["a1"])
    # The same certificate number, and the same event under another number.
    response = client.post("/jp/submissions/new", data=form(),
                           content_type="multipart/form-data")
    assert response.status_code == 409
    assert "SEM-2026-001" in response.get_data(as_text=True)
    response = client.post("/jp/submissions/new", data=form(
        certificate_number="OTHER-1", title="seminar nasional  transformasi DIGITAL"),
        content_type="multipart/form-data")
    assert response.status_code == 409
    # Someone else's submission with the same number is caught too.
    sign_in(client, org["a2"])
    response = client.post("/jp/submissions/new", data=form(title="Lain"),
                           content_type="multipart/form-data")
    assert response.status_code == 409


def test_certificate_files_are_checked(client, org, monkeypatch):
    from lms.jp import submissions

    monkeypatch.setattr(submissions, "MAX_CERTIFICATE_BYTES", 4096)
    sign_in(client, org["a1"])
    bad = [(io.BytesIO(b"MZ\x90\0 not a pdf"), "sertifikat.pdf"),
           (io.BytesIO(PDF), "sertifikat.exe"),
           (io.BytesIO(b"%PDF-" + b"0" * 4096), "besar.pdf"),
           (io.BytesIO(b""), "kosong.png")]
    for number, upload in enumerate(bad):
        response = client.post("/jp/submissions/new", data=form(
            certificate=upload, certificate_number=f"X-{number}", title=f"T {number}"),
            content_type="multipart/form-data")
        assert response.status_code == 400, upload[1]
    # No file and no public address: refused; a public address alone is a claim.
    response = client.post("/jp/submissions/new", data=form(
        certificate=(io.BytesIO(b""), ""), certificate_number="Y-1"),
        content_type="multipart/form-data")
    assert response.status_code == 400
    response = client.post("/jp/submissions/new", data=form(
        certificate=(io.BytesIO(b""), ""), certificate_number="Y-1",
        certificate_url="javascript:alert(1)"), content_type="multipart/form-data")
    assert response.status_code == 400
    response = client.post("/jp/submissions/new", data=form(
        certificate=(io.BytesIO(b""), ""), certificate_number="Y-1",
        certificate_url="https://sertifikat.example.go.id/Y-1"),
        content_type="multipart/form-data")
    assert response.status_code == 302
    response = client.post("/jp/submissions/new", data=form(
        certificate=(io.BytesIO(PNG), "foto.png"), certificate_number="Y-2", title="Foto"),
        content_type="multipart/form-data")
    assert response.status_code == 302
    # Bad values give a clear 4xx, never a 500.
    for field, value in (("type_id", "99"), ("amount", "abc"), ("amount", "-1"),
                         ("start_date", "2026-13-01"), ("end_date", "2999-01-01"),
                         ("title", " "), ("competencies", "NOPE:9")):
        response = client.post("/jp/submissions/new", data=form(**{field: value}),
                               content_type="multipart/form-data")
        assert response.status_code == 400, (field, value)


def test_the_conversion_table_by_effective_date(client, org):
    from lms.jp import submissions

    today = dt.date.today()
    this_year, next_year = dt.date(today.year, 1, 1), dt.date(today.year + 1, 1, 1)
    sign_in(client, org["hr"])
    # Coaching (14): no line yet -> JP of 45 minutes.
    assert submissions.convert(14, today, hours=3)[0] == 4
    response = client.post("/jp/hr/conversion", data={
        "type_id": "14", "effective_from": this_year.isoformat(), "factor": "0,5",
        "source": "Tabel konversi instansi"})
    assert response.status_code == 303
    assert submissions.convert(14, today, hours=3)[0] == 2
    # Next year's line leaves this year's learning alone.
    client.post("/jp/hr/conversion", data={
        "type_id": "14", "effective_from": next_year.isoformat(), "factor": "",
        "jp_per_activity": "2", "source": "Tabel baru"})
    assert submissions.convert(14, today, hours=3)[0] == 2
    assert submissions.convert(14, next_year, hours=3)[0] == 2
    assert submissions.convert(14, next_year, hours=30)[0] == 2
    assert submissions.convert(14, today, hours=30)[0] == 20
    # A classroom type is not in the table; bad lines are refused.
    assert client.post("/jp/hr/conversion", data={
        "type_id": "9", "effective_from": this_year.isoformat(), "factor": "2"}
    ).status_code == 400
    assert client.post("/jp/hr/conversion", data={
        "type_id": "14", "effective_from": "", "factor": "2"}).status_code == 400
    # A coaching submission converts by the table.
    submission_id = _submit(client, org, type_id="14", title="Coaching", amount="3",
                            certificate_number="C-1")
    assert _submission(submission_id).jp == 2
    # Only HR edits the table.
    sign_in(client, org["a1"])
    assert client.post("/jp/hr/conversion", data={
        "type_id": "14", "effective_from": this_year.isoformat(), "factor": "9"}
    ).status_code == 403


def test_hr_reminds_someone_below_20_jp_once_a_day(client, org):
    from lms.mail.models import OutboxMessage

    sign_in(client, org["hr"])
    page = client.get("/jp/hr").get_data(as_text=True)
    assert "Ani Dinas A" in page and "Kepala Bidang A1" in page
    assert client.post(f"/jp/hr/remind/{org['a1'].nip}").status_code == 303
    assert client.post(f"/jp/hr/remind/{org['a1'].nip}").status_code == 303
    messages = get_session().scalars(sa.select(OutboxMessage).where(
        OutboxMessage.category == "jp.reminder")).all()
    assert len(messages) == 1 and messages[0].to_address == "ani@test.lentera.local"
