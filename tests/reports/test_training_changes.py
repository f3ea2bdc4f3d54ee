"""Recorded trainings are corrected, trimmed, extended and voided through statements, so
JP, the summary and competency profiles follow; every change is kept with who and when."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from lms.competency.models import UserCompetency
from lms.reports import service, summary
from lms.reports.models import Training, TrainingChange, TrainingParticipant
from lms.xapi.consumers import replay
from lms.xapi.models import Statement

VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def _form(**overrides):
    today = service.today()
    data = {"title": "Workshop Komunikasi Publik", "kind": "workshop",
            "provider": "BPSDM Provinsi", "start_date": (today - dt.timedelta(days=2)).isoformat(),
            "end_date": today.isoformat(), "jp": "24", "competencies": "M.03:2",
            "description": "Praktik"}
    data.update(overrides)
    return data


def _recorded(client, db, org, *people):
    """A workshop recorded through the pages with ``people`` as participants."""
    assert client.post("/reports/trainings/new", data=_form()).status_code == 302
    item = db.scalar(sa.select(Training).order_by(Training.id.desc()))
    _add(client, db, item, *people)
    return item


def _add(client, db, item, *people):
    import json

    rows = json.dumps([[u.nip, ""] for u in people])
    response = client.post(f"/reports/trainings/{item.id}/participants/confirm",
                           data={"rows": rows})
    assert response.status_code == 302
    db.expire_all()


def _jp(user) -> float:
    from lms.jp import service as jp_service

    return jp_service.jp_total(user, service.today().year)


def _summary_jp(db, user) -> float:
    from lms.reports.models import jp_summary_table as table

    return db.scalar(sa.select(table.c.jp).where(
        table.c.user_id == user.id, table.c.year == service.today().year)) or 0.0


def _level(db, user, code, org) -> int:
    return db.scalar(sa.select(UserCompetency.level).where(
        UserCompetency.user_id == user.id,
        UserCompetency.competency_id == org["codes"][code].id)) or 0


def _statements(db, item):
    return db.scalars(sa.select(Statement).where(
        Statement.activity_id == f"http://lentera.test/training/{item.id}")
        .order_by(Statement.seq)).all()


def test_editing_a_training_corrects_participants_jp_and_profile(client, as_user, org, db):
    as_user(org["hr_all"])
    item = _recorded(client, db, org, org["a1"], org["b1"])
    assert _jp(org["a1"]) == 24 and _level(db, org["a1"], "M.03", org) == 2
    old_ids = set(db.scalars(sa.select(TrainingParticipant.statement_id)))

    response = client.post(f"/reports/trainings/{item.id}/edit",
                           data=_form(jp="10", competencies="M.05:1", title="Workshop Humas"))
    assert response.status_code == 302
    db.expire_all()
    # The old statements are voided, corrected ones sent with the new values.
    statements = _statements(db, item)
    assert {s.statement_id for s in statements if s.voided} == old_ids
    fresh = [s for s in statements if not s.voided]
    assert len(fresh) == 2
    assert {s.data["result"]["extensions"]["http://lentera.test/xapi/extensions/jp"]
            for s in fresh} == {10}
    assert {s.data["object"]["definition"]["name"]["id-ID"] for s in fresh} == {
        "Workshop Humas"}
    assert set(db.scalars(sa.select(TrainingParticipant.statement_id))) == {
        s.statement_id for s in fresh}
    # JP, the dashboard's summary and the profile follow.
    assert _jp(org["a1"]) == 10 and _jp(org["b1"]) == 10
    assert _summary_jp(db, org["a1"]) == 10
    assert _level(db, org["a1"], "M.03", org) == 0
    assert _level(db, org["a1"], "M.05", org) == 1
    page = client.get(f"/reports/employees/{org['a1'].nip}").get_data(as_text=True)
    assert "Workshop Humas" in page
    # Who changed what, and when.
    change = db.scalars(sa.select(TrainingChange).order_by(TrainingChange.id.desc())).first()
    assert change.kind == "edited" and change.user_id == org["hr_all"].id
    assert change.detail["fields"]["jp"] == [24.0, 10.0]
    assert change.detail["fields"]["competencies"] == ["M.03:2", "M.05:1"]
    assert change.detail["statements"] == {"voided": 2, "sent": 2}
    detail = client.get(f"/reports/trainings/{item.id}").get_data(as_text=True)
    assert "HR Pemda" in detail and "Workshop Komunikasi Publik" in detail  # old title kept
    assert summary.differences() == []


def test_an_edit_that_changes_nothing_sends_nothing(client, as_user, org, db):
    as_user(org["hr_all"])
    item = _recorded(client, db, org, org["a1"])
    before = len(_statements(db, item))
    assert client.post(f"/reports/trainings/{item.id}/edit", data=_form()).status_code == 302
    db.expire_all()
    assert len(_statements(db, item)) == before
    assert [c.kind for c in item.changes] == ["created", "participants_added"]


def test_participants_removed_and_added_later(client, as_user, org, db):
    as_user(org["hr_all"])
    item = _recorded(client, db, org, org["a1"], org["b1"])
    response = client.post(
        f"/reports/trainings/{item.id}/participants/{org['b1'].id}/remove")
    assert response.status_code == 302
    db.expire_all()
    assert _jp(org["b1"]) == 0 and _summary_jp(db, org["b1"]) == 0
    assert _level(db, org["b1"], "M.03", org) == 0
    assert _jp(org["a1"]) == 24
    _add(client, db, item, org["a2"], org["b1"])  # b1 may come back
    assert _jp(org["a2"]) == 24 and _jp(org["b1"]) == 24
    assert _level(db, org["a2"], "M.03", org) == 2
    kinds = [c.kind for c in db.scalars(sa.select(TrainingChange).where(
        TrainingChange.training_id == item.id).order_by(TrainingChange.id))]
    assert kinds == ["created", "participants_added", "participant_removed",
                     "participants_added"]
    # Removing someone who is not a participant says so.
    client.post(f"/reports/trainings/{item.id}/participants/{org['b2'].id}/remove")
    assert _jp(org["b2"]) == 0


def test_voiding_a_training_voids_its_statements(client, as_user, org, db):
    as_user(org["hr_all"])
    item = _recorded(client, db, org, org["a1"], org["b1"])
    assert client.post(f"/reports/trainings/{item.id}/void", data={}).status_code == 302
    db.expire_all()
    assert not db.get(Training, item.id).voided  # a reason is required
    response = client.post(f"/reports/trainings/{item.id}/void",
                           data={"reason": "Tercatat dua kali"})
    assert response.status_code == 302
    db.expire_all()
    item = db.get(Training, item.id)
    assert item.voided and item.voided_by_id == org["hr_all"].id
    assert all(s.voided for s in _statements(db, item))
    assert _jp(org["a1"]) == 0 and _jp(org["b1"]) == 0
    assert _summary_jp(db, org["a1"]) == 0
    assert _level(db, org["a1"], "M.03", org) == 0
    page = client.get(f"/reports/trainings/{item.id}").get_data(as_text=True)
    assert "Tercatat dua kali" in page
    # A voided training takes no more changes.
    assert client.get(f"/reports/trainings/{item.id}/edit").status_code == 302
    _void_again = client.post(f"/reports/trainings/{item.id}/void", data={"reason": "x"})
    client.post(f"/reports/trainings/{item.id}/participants/confirm",
                data={"rows": f'[["{org["a2"].nip}", ""]]'})
    db.expire_all()
    assert _jp(org["a2"]) == 0
    assert [c.kind for c in item.changes].count("voided") == 1
    # The derived state equals a replay of every statement.
    before = summary.stored()
    replay("jp-credits")
    db.expire_all()
    assert summary.stored() == before and summary.differences() == []


def test_hr_of_one_opd_cannot_remove_another_opds_participant(client, as_user, login_as, org,
                                                            db, users):
    as_user(org["hr_all"])
    item = _recorded(client, db, org, org["a1"], org["b1"])
    # Make it a training of Dinas A, which the HR of Dinas A sees.
    item.org_unit_id = org["dinas_a"].id
    db.commit()
    login_as("hr")
    response = client.post(f"/reports/trainings/{item.id}/participants/{org['b1'].id}/remove")
    assert response.status_code == 403
    assert _jp(org["b1"]) == 24


def test_edit_rejects_bad_input_and_changes_nothing(client, as_user, org, db):
    as_user(org["hr_all"])
    item = _recorded(client, db, org, org["a1"])
    page = client.post(f"/reports/trainings/{item.id}/edit",
                       data=_form(competencies="X.99:2", jp="12"))
    assert page.status_code == 200 and "X.99" in page.get_data(as_text=True)
    db.expire_all()
    assert _jp(org["a1"]) == 24 and db.get(Training, item.id).jp == 24
    form = client.get(f"/reports/trainings/{item.id}/edit").get_data(as_text=True)
    assert 'value="M.03:2"' in form and 'value="Workshop Komunikasi Publik"' in form
