"""Offline training: recorded as xAPI statements, counted toward JP and profiles like any
learning; participants in bulk by CSV with a preview of bad rows."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import sqlalchemy as sa

from lms.competency.models import UserCompetency
from lms.jp import service as jp_service
from lms.reports import service
from lms.reports.models import JpCredit, Training, TrainingParticipant
from lms.xapi.models import Statement
from tests.reports.conftest import completed_with_jp, send


def _create(client, **overrides):
    today = service.today()
    data = {"title": "Workshop Komunikasi Publik", "kind": "workshop",
            "provider": "BPSDM Provinsi", "start_date": (today - dt.timedelta(days=2)).isoformat(),
            "end_date": today.isoformat(), "jp": "24", "competencies": "M.03:2",
            "description": "Praktik"}
    data.update(overrides)
    return client.post("/reports/trainings/new", data=data)


def test_recorded_workshop_raises_participants_jp_and_profile(client, as_user, org, db):
    as_user(org["hr_all"])
    response = _create(client)
    assert response.status_code == 302
    training = db.scalar(sa.select(Training))
    csv_text = f"nip,certificate_number\n{org['a1'].nip},SERT-1\n{org['b1'].nip},\n"
    preview = client.post(f"/reports/trainings/{training.id}/participants",
                          data={"file": (io.BytesIO(csv_text.encode()), "peserta.csv")},
                          content_type="multipart/form-data")
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Ani Dinas A" in page and "Citra Dinas B" in page
    import json
    import re

    rows = re.search(r'name="rows" type="hidden" value="([^"]*)"', page) or re.search(
        r'id="rows" name="rows" type="hidden" value="([^"]*)"', page)
    payload = json.loads(rows.group(1).replace("&#34;", '"').replace("&quot;", '"'))
    done = client.post(f"/reports/trainings/{training.id}/participants/confirm",
                       data={"rows": json.dumps(payload)})
    assert done.status_code == 302
    db.expire_all()
    statements = db.scalars(sa.select(Statement).where(
        Statement.activity_id == f"http://lentera.test/training/{training.id}")).all()
    assert len(statements) == 2
    data = statements[0].data
    assert data["verb"]["id"].endswith("/completed")
    assert data["result"]["extensions"]["http://lentera.test/xapi/extensions/jp"] == 24
    assert data["actor"]["account"]["homePage"] == "http://lentera.test"
    assert data["context"]["extensions"]["http://lentera.test/xapi/extensions/learning-type"] \
        == "workshop"
    # JP: counted by the ledger of other learning, shown in reports
    assert jp_service.jp_total(org["a1"], service.today().year) == 24
    assert db.scalar(sa.select(sa.func.count(JpCredit.id))) == 2
    # Profile: the evidence rule created for the training proved M.03 level 2
    level = db.scalar(sa.select(UserCompetency.level).where(
        UserCompetency.user_id == org["a1"].id,
        UserCompetency.competency_id == org["codes"]["M.03"].id))
    assert level == 2
    assert db.scalar(sa.select(TrainingParticipant.certificate_number).where(
        TrainingParticipant.user_id == org["a1"].id)) == "SERT-1"
    detail = client.get(f"/reports/employees/{org['a1'].nip}").get_data(as_text=True)
    assert "Workshop Komunikasi Publik" in detail


def test_participant_preview_lists_bad_rows_and_records_only_good_ones(client, login_as, org,
                                                                       db):
    login_as("hr")  # scope: Dinas A
    _create(client)
    training = db.scalar(sa.select(Training))
    text = "\n".join([org["a1"].nip, org["a1"].nip, org["b1"].nip, "12345",
                      "199001012015031999"])
    page = client.post(f"/reports/trainings/{training.id}/participants",
                       data={"nips": text}).get_data(as_text=True)
    assert 'id="bad-rows"' in page
    bad = page.split('id="bad-rows"')[1].split("</table>")[0]
    assert org["b1"].nip in bad  # outside the HR's scope
    assert "12345" in bad and "199001012015031999" in bad
    assert bad.count("<tr>") == 5  # header + 4 bad rows (the duplicate too)
    good = page.split('id="good-rows"')[1].split("</table>")[0]
    assert org["a1"].nip in good


def test_confirm_checks_the_list_again(client, login_as, org, db):
    login_as("hr")
    _create(client)
    training = db.scalar(sa.select(Training))
    import json

    # A tampered list naming an employee of another OPD records nobody from it.
    response = client.post(f"/reports/trainings/{training.id}/participants/confirm",
                           data={"rows": json.dumps([[org["b1"].nip, ""]])})
    assert response.status_code == 302
    db.expire_all()
    assert db.scalar(sa.select(sa.func.count(TrainingParticipant.id))) == 0


def test_training_form_rejects_bad_input_with_messages(client, as_user, org, db):
    as_user(org["hr_all"])
    page = _create(client, competencies="X.99:2").get_data(as_text=True)
    assert "X.99" in page
    assert _create(client, end_date="2020-01-01").status_code == 200
    assert db.scalar(sa.select(sa.func.count(Training.id))) == 0


def test_certificate_upload_is_kept_and_served_to_hr(client, as_user, org, db):
    as_user(org["hr_all"])
    today = service.today().isoformat()
    response = client.post("/reports/trainings/new", data={
        "title": "Seminar SPBE", "kind": "seminar", "provider": "Kominfo",
        "start_date": today, "end_date": today, "jp": "4", "competencies": "",
        "certificate": (io.BytesIO(b"%PDF-1.4 test"), "sertifikat.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    training = db.scalar(sa.select(Training))
    got = client.get(f"/reports/trainings/{training.id}/certificate")
    try:
        assert got.status_code == 200 and got.data.startswith(b"%PDF")
    finally:
        got.close()


def test_jp_ledger_credits_external_platforms_and_withdraws_voided(org, db):
    ids = send(completed_with_jp(org["a1"], "https://moodle.example.go.id/mod/7", 8))
    assert jp_service.jp_total(org["a1"], service.today().year) == 8
    send({"actor": {"objectType": "Agent", "mbox": "mailto:admin@lentera.test"},
          "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
          "object": {"objectType": "StatementRef", "id": ids[0]}})
    db.expire_all()
    assert jp_service.jp_total(org["a1"], service.today().year) == 0


def test_course_iris_are_left_to_the_courses_ledger(org, db):
    send(completed_with_jp(org["a1"], "http://lentera.test/courses/etika", 8))
    assert db.scalar(sa.select(sa.func.count(JpCredit.id))) == 0


def test_replay_rebuilds_the_same_credits(org, db, app):
    from lms.xapi.consumers import replay

    send(completed_with_jp(org["a1"], "https://x.example/1", 3),
         completed_with_jp(org["a2"], "https://x.example/1", 5))
    before = sorted(db.execute(sa.select(JpCredit.statement_id, JpCredit.jp)).all())
    replay("jp-credits")
    db.expire_all()
    assert sorted(db.execute(sa.select(JpCredit.statement_id, JpCredit.jp)).all()) == before


def test_home_page_shows_offline_learning_and_jp_of_every_kind(client, as_user, org):
    send(completed_with_jp(org["a1"], "https://x.example/seminar", 7))
    as_user(org["a1"])
    page = client.get("/").get_data(as_text=True)
    assert "External course" in page and ">7</strong> / 20" in page
    assert f"/reports/employees/{org['a1'].nip}" in page


def test_learners_jp_panel_counts_offline_learning_too(client, as_user, org, db):
    send(completed_with_jp(org["a1"], "https://x.example/seminar", 7))
    from lms.courses.models import Completion

    assert not db.query(Completion).count()  # no Lentera course completed
    assert jp_service.jp_total(org["a1"], jp_service.this_year()) == 7
    as_user(org["a1"])
    page = client.get("/").get_data(as_text=True)
    # The courses panel's gauge and its "JP still to go" agree with the offline panel.
    assert 'id="jp-this-year">7<' in page and "13 JP" in page


def test_a_batch_of_credits_looks_its_learners_up_at_once(org, db):
    """The JP consumer's batch finds the learners of every completion it may credit with
    one query (not one per learner) before it takes their summary locks."""
    from lms.db import get_engine
    from lms.reports.training import JpLedger
    from lms.xapi.consumers import StoredStatement
    from tests import factories
    from tests.helpers import sql_log

    learners = [factories.make_user() for _ in range(5)]
    db.commit()
    batch = [StoredStatement(seq=n, id=str(uuid.uuid4()), data=completed_with_jp(
        learner, f"https://moodle.example.go.id/mod/{n}", 2)) for n, learner in
        enumerate([*learners, org["a1"]])]
    db.expunge_all()
    with sql_log(get_engine()) as sent:
        JpLedger().handle_batch(batch)
    db.commit()
    users = [s for s in sent if s.lstrip().startswith("SELECT")
             and ('FROM "user"' in s or "FROM user " in s)]  # (PostgreSQL quotes it)
    assert len(users) == 1, users
    assert db.scalar(sa.select(sa.func.count(JpCredit.id))) == 6
