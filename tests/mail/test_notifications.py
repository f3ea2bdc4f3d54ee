"""Kinds of e-mail: the registry, each person's choices, and the mails that tell people
something waits for them (plans, training recorded, certificates), in their language
with a link."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms.db import get_session, utcnow
from lms.mail import queue_mail, register_category
from lms.mail.categories import categories, category_label, get_category
from lms.mail.models import MailOptOut, OutboxMessage
from tests import factories
from tests.assessment.conftest import login, org  # noqa: F401  (fixture)


def _mails(category: str | None = None) -> list[OutboxMessage]:
    get_session().expire_all()
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if category:
        query = query.where(OutboxMessage.category == category)
    return list(get_session().scalars(query))


# --- the registry ------------------------------------------------------------------------


def test_categories_must_be_registered_and_names_are_owned(app: Any) -> None:
    user = factories.make_user()
    with pytest.raises(ValueError):
        queue_mail(user, "s", "t", category="nobody.registered.this")
    with pytest.raises(ValueError):
        register_category("Bad Name", _l("x"), _l("y"))
    with pytest.raises(ValueError):
        register_category("plans.submitted", _l("x"), _l("y"))  # the plans module's
    made = register_category("tests.example", _l("Example"), _l("Testers"))
    again = register_category("tests.example", _l("Example"), _l("Testers"))
    assert get_category("tests.example") is again and made.owner == again.owner


def test_every_registered_category_has_words_in_indonesian(app: Any) -> None:
    from flask_babel import force_locale

    names = {c.name for c in categories()}
    assert {"plans.submitted", "plans.decided", "assessment.requested",
            "assessment.validation", "reports.training_recorded", "courses.certificate",
            "community", "evaluation"} <= names
    with app.test_request_context(), force_locale("id"):
        for category in categories():
            label = category_label(category.name)
            assert label and label != category.name, category.name
            assert "." not in label.split()[0]  # words, not a code
        assert category_label("no.such.kind") == "Pesan lainnya"


# --- each person's choices ---------------------------------------------------------------


def test_the_settings_page_turns_kinds_off_and_queue_mail_respects_it(client, login_as,
                                                                      users) -> None:
    user = login_as("learner")
    assert 'href="/notifications/settings"' in client.get("/").get_data(as_text=True)  # menu
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert "Sertifikat Anda sudah terbit" in page  # words, in Indonesian
    assert 'value="courses.certificate"' in page and "checked" in page
    assert "plans.submitted" not in page  # for supervisors; she leads nobody
    assert 'value="test"' not in page  # not optional
    response = client.post("/notifications/settings",
                           data={"on": ["plans.decided", "reports.training_recorded"]})
    assert response.status_code == 302
    off = set(get_session().scalars(sa.select(MailOptOut.category)
                                    .where(MailOptOut.user_id == user.id)))
    assert "courses.certificate" in off and "plans.decided" not in off
    db_user = get_session().merge(user)
    assert queue_mail(db_user, "s", "t", category="courses.certificate") is None
    assert queue_mail(db_user, "s", "t", category="plans.decided") is not None
    get_session().rollback()  # the test's transaction must not hold the database
    # On again.
    client.post("/notifications/settings",
                data={"on": ["plans.decided", "reports.training_recorded",
                             "courses.certificate", "assessment.requested", "community",
                             "evaluation"]})
    get_session().expire_all()
    assert queue_mail(db_user, "s", "t", category="courses.certificate") is not None


@pytest.mark.parametrize("values", [
    ["no.such.kind"], ["plans.submitted"], ["test"], ["courses.certificate\x00"],
    ["x" * 100_000], [f"k{i}" for i in range(500)],
])
def test_hostile_settings_are_refused_and_nothing_changes(client, login_as, users,
                                                          values) -> None:
    user = login_as("learner")
    assert client.post("/notifications/settings", data={"on": values}).status_code == 400
    assert get_session().scalar(sa.select(sa.func.count()).select_from(MailOptOut).where(
        MailOptOut.user_id == user.id)) == 0


def test_the_settings_need_sign_in_and_the_csrf_token(client, make_app, users) -> None:
    assert client.get("/notifications/settings").status_code in (302, 401)
    strict = make_app(WTF_CSRF_ENABLED=True).test_client()
    login(strict, users["learner"])
    assert strict.post("/notifications/settings", data={"on": []}).status_code == 400


def test_the_outbox_shows_kinds_as_words(client, login_as, users) -> None:
    queue_mail(get_session().merge(users["learner"]), "Sertifikat", "t",
               category="courses.certificate")
    get_session().commit()
    login_as("admin")
    page = client.get("/admin/mail/").get_data(as_text=True)
    assert "Sertifikat Anda sudah terbit" in page and ">courses.certificate<" not in page


def test_a_mail_is_written_in_the_recipients_language(app: Any) -> None:
    english = factories.make_user()
    english.locale = "en"
    indonesian = factories.make_user()
    for user in (english, indonesian):
        queue_mail(user, "s", "t", category="courses.certificate", link="http://x.test/1")
    mails = _mails()
    assert "Choose which e-mails you get" in mails[0].text
    assert "Pilih e-mail yang Anda terima" in mails[1].text
    assert mails[0].text.index("http://x.test/1") < mails[0].text.index("-- ")


def test_a_key_queues_one_message(app: Any) -> None:
    user = factories.make_user()
    assert queue_mail(user, "s", "t", category="courses.certificate", key="k:1") is not None
    assert queue_mail(user, "s", "t", category="courses.certificate", key="k:1") is None
    assert len(_mails()) == 1


def test_a_user_with_a_broken_stored_address_is_skipped(app: Any) -> None:
    user = factories.make_user()
    user.email = "not an address"  # stored before addresses were checked
    assert queue_mail(user, "s", "t", category="courses.certificate") is None


# --- the mails of each workflow ----------------------------------------------------------


def test_plan_submitted_approved_and_returned_are_mailed(client, org) -> None:  # noqa: F811
    from lms.competency import service as competency
    from lms.plans.models import DevelopmentPlan

    employee, supervisor = org["employee"], org["supervisor"]
    competency.apply_course_publication({
        "iri": "http://lentera.test/courses/integritas", "slug": "integritas",
        "title": "Integritas ASN", "jp": 8, "version": 1,
        "targets": [{"competency": "M.01", "level": 3}]})
    get_session().commit()
    login(client, employee)
    year = dt.date.today().year
    assert client.post("/plans/new", data={"year": str(year)}).status_code == 302
    plan = get_session().scalar(sa.select(DevelopmentPlan))
    client.post(f"/plans/{plan.id}/submit")
    mail = _mails("plans.submitted")
    assert [m.to_address for m in mail] == [supervisor.email]
    assert f"http://lentera.test/plans/{plan.id}" in mail[0].text
    assert employee.name in mail[0].subject and "Rencana" in mail[0].subject
    login(client, supervisor)
    client.post(f"/plans/{plan.id}/return", data={"comment": "Tambahkan coaching."})
    decided = _mails("plans.decided")
    assert [m.to_address for m in decided] == [employee.email]
    assert "Tambahkan coaching." in decided[0].text and "dikembalikan" in decided[0].subject
    login(client, employee)
    client.post(f"/plans/{plan.id}/submit")
    login(client, supervisor)
    client.post(f"/plans/{plan.id}/approve")
    decided = _mails("plans.decided")
    assert len(decided) == 2 and "disetujui" in decided[1].subject


def test_a_supervisor_who_turned_plan_mails_off_gets_none(client, org) -> None:  # noqa: F811
    from lms.plans.models import DevelopmentPlan

    get_session().add(MailOptOut(user_id=org["supervisor"].id, category="plans.submitted"))
    get_session().commit()
    login(client, org["employee"])
    client.post("/plans/new", data={"year": str(dt.date.today().year)})
    plan = get_session().scalar(sa.select(DevelopmentPlan))
    from lms.plans.service import add_item

    add_item(plan, org["employee"], {"kind": "coaching", "title": "Coaching", "jp": 2,
                                     "start_date": dt.date.today(),
                                     "end_date": dt.date.today()})
    get_session().commit()
    assert client.post(f"/plans/{plan.id}/submit").status_code == 302
    assert _mails("plans.submitted") == []


def test_recorded_training_is_mailed_to_each_participant(app, org) -> None:  # noqa: F811
    from lms.reports import training

    today = dt.date.today()
    made = training.create_training(
        training.TrainingSpec(title="Bimtek Penyusunan SKP", kind="workshop",
                              provider="BKPSDM", start_date=today - dt.timedelta(days=1),
                              end_date=today, jp=12.5, competencies="", description=""),
        created_by=org["hr"], org_unit=None)
    rows = [training.ParticipantRow(line=1, nip=org["employee"].nip, user=org["employee"]),
            training.ParticipantRow(line=2, nip=org["peer"].nip, user=org["peer"])]
    training.record_participants(made, rows)
    get_session().commit()
    mails = _mails("reports.training_recorded")
    assert sorted(m.to_address for m in mails) == sorted([org["employee"].email,
                                                          org["peer"].email])
    text = mails[0].text
    assert "Bimtek Penyusunan SKP" in text and "12,5 JP" in text
    assert "/reports/employees/" in text


def _completed(user: Any, slug: str, when: dt.datetime) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()),
            "actor": {"objectType": "Agent", "account": {"homePage": "http://lentera.test",
                                                         "name": user.nip}},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"objectType": "Activity", "id": f"http://lentera.test/courses/{slug}"},
            "result": {"completion": True}, "timestamp": when.isoformat()}


def test_a_new_certificate_is_mailed_once_and_a_replay_mails_nobody(app, runner) -> None:
    from lms.courses.models import Completion
    from lms.xapi.service import store_statements
    from tests.factories import import_sample_course

    import_sample_course("komunikasi-efektif")
    fresh, old = factories.make_user(), factories.make_user()
    get_session().commit()
    store_statements([_completed(fresh, "komunikasi-efektif", utcnow()),
                      _completed(old, "komunikasi-efektif", utcnow() - dt.timedelta(days=30))])
    get_session().commit()
    numbers = dict(get_session().execute(sa.select(Completion.user_id,
                                                   Completion.certificate_number)).all())
    assert set(numbers) == {fresh.id, old.id}
    mails = _mails("courses.certificate")
    assert [m.to_address for m in mails] == [fresh.email]  # learning from a month ago: no
    assert numbers[fresh.id] in mails[0].text
    assert f"/courses/certificates/{numbers[fresh.id]}.pdf" in mails[0].text
    result = runner.invoke(args=["xapi", "replay", "courses"])
    assert result.exit_code == 0, result.output
    assert len(_mails("courses.certificate")) == 1
