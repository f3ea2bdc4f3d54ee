"""A launch credential sits in the learner's browser: what the learner can do with it.

The forgeries found in the security review, each tried twice: through the LRS with the
real credential of a real launch (refused with 403), and stored anyway with the authority
the LRS gives such statements (as if a path had let it through): no consumer awards
anything for it.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from lms.authoring import cmi5
from lms.courses.ledger import certificate_number
from lms.courses.models import Completion, Course
from lms.db import get_session
from lms.xapi import launch as launch_rules
from lms.xapi.service import store_statements
from tests import factories
from tests.authoring.test_cmi5 import AU, XAPI, _import, _launch

BASE = "http://lentera.test"
ADL = "http://adlnet.gov/expapi/verbs/"


@pytest.fixture
def launched(app: Any, db: Any, client: Any, login_as: Any, users: dict[str, Any]
             ) -> dict[str, Any]:
    """The learner, enrolled in a cmi5 course and launched into its AU: the launch
    parameters, the credential the AU fetched and the session id of LMS.LaunchData."""
    login_as("trainer")
    assert _import(client).status_code == 302
    launch = _launch(client, login_as)
    token = client.post(urlsplit(launch["fetch"]).path).get_json()["auth-token"]
    data = client.get("/xapi/activities/state", query_string={
        "stateId": "LMS.LaunchData", "activityId": AU, "agent": launch["actor"],
        "registration": launch["registration"]},
        headers={**XAPI, "Authorization": f"Basic {token}"}).get_json()
    session_id = data["contextTemplate"]["extensions"][cmi5.SESSION_EXT]
    return {**launch, "token": token, "session": session_id,
            "actor_json": json.loads(launch["actor"]), "learner": users["learner"]}


def _statement(launched: dict[str, Any], verb: str, activity: str,
               **extra: Any) -> dict[str, Any]:
    statement = {
        "id": str(uuid.uuid4()), "actor": launched["actor_json"],
        "verb": {"id": ADL + verb, "display": {"en-US": verb}},
        "object": {"objectType": "Activity", "id": activity},
        "context": {"registration": launched["registration"],
                    "extensions": {cmi5.SESSION_EXT: launched["session"]}},
        "timestamp": dt.datetime.now(dt.UTC).isoformat(),
    }
    statement.update(extra)
    return statement


def _post(client: Any, launched: dict[str, Any], statement: dict[str, Any]) -> Any:
    return client.post("/xapi/statements", data=json.dumps(statement),
                       headers={**XAPI, "Authorization": f"Basic {launched['token']}"})


def _store_as_launch(launched: dict[str, Any], statement: dict[str, Any]) -> None:
    """Store ``statement`` with the authority of the launch, past the LRS's write check:
    the consumers alone must refuse it."""
    store_statements([statement], launch_rules.authority_for(AU, launched["session"]))
    get_session().commit()
    get_session().expire_all()


def test_completing_a_course_never_enrolled_in_gives_no_certificate(
        app: Any, db: Any, client: Any, launched: dict[str, Any]) -> None:
    other = factories.import_sample_course()
    forged = _statement(launched, "completed", f"{BASE}/courses/{other.slug}",
                        result={"completion": True})
    response = _post(client, launched, forged)
    assert response.status_code == 403
    assert "Lentera's own courses" in response.get_json()["message"]
    _store_as_launch(launched, forged)
    assert db.scalar(sa.select(sa.func.count(Completion.id))) == 0
    number = certificate_number(forged["id"], dt.datetime.now(dt.UTC))
    page = client.get(f"/verify/{number}")
    assert page.status_code == 404
    # Nor a module of it, nor its progress.
    from lms.courses.models import CourseProgress, ModuleProgress

    module = _statement(launched, "completed", f"{BASE}/courses/{other.slug}/modules/m1")
    assert _post(client, launched, module).status_code == 403
    _store_as_launch(launched, module)
    assert db.scalar(sa.select(sa.func.count(ModuleProgress.user_id))) == 0
    assert db.scalar(sa.select(sa.func.count()).select_from(CourseProgress).where(
        CourseProgress.course_id == other.id)) == 0


def test_completing_the_launched_course_itself_is_not_the_aus_to_write(
        app: Any, db: Any, client: Any, launched: dict[str, Any]) -> None:
    """The course of the AU completes by the AU's moveOn, judged by Lentera; the AU cannot
    declare the Lentera course complete."""
    course = db.scalar(sa.select(Course).where(Course.slug == "etika-cmi5"))
    forged = _statement(launched, "completed", f"{BASE}/courses/{course.slug}")
    assert _post(client, launched, forged).status_code == 403
    _store_as_launch(launched, forged)
    assert db.scalar(sa.select(sa.func.count(Completion.id))) == 0


def test_completing_an_hr_offline_training_credits_no_jp(
        app: Any, db: Any, client: Any, launched: dict[str, Any]) -> None:
    from lms.competency import service as competency
    from lms.reports import service as reports
    from lms.reports.models import JpCredit
    from lms.reports.training import TrainingSpec, create_training, jp_extension, training_iri

    competency.load_shipped_frameworks()
    today = dt.date.today()
    training = create_training(TrainingSpec(
        title="Diklat Kepemimpinan", kind="workshop", provider="BPSDM", start_date=today,
        end_date=today, jp=24, competencies="M.03:2"), created_by=None, org_unit=None)
    db.commit()
    forged = _statement(launched, "completed", training_iri(training.id),
                        result={"completion": True, "extensions": {jp_extension(): 24}})
    assert _post(client, launched, forged).status_code == 403
    _store_as_launch(launched, forged)
    assert db.scalar(sa.select(sa.func.count(JpCredit.id))) == 0
    from lms.jp import service as jp

    assert jp.jp_total(launched["learner"], today.year) == 0
    # A JP extension on its own AU earns nothing either: launched content earns JP only
    # through the course completion Lentera records.
    own = _statement(launched, "experienced", AU,
                     result={"completion": True, "extensions": {jp_extension(): 40}})
    assert _post(client, launched, own).status_code == 200
    db.expire_all()
    assert db.scalar(sa.select(sa.func.count(JpCredit.id))) == 0


def test_raising_competency_evidence_with_another_activity_is_refused(
        app: Any, db: Any, client: Any, launched: dict[str, Any]) -> None:
    from lms.competency import service as competency
    from lms.competency.models import Evidence

    competency.load_shipped_frameworks()
    m02 = competency.get_competency("M.02")
    external = "https://moodle.example.org/course/7"
    for iri in (external, AU):
        competency.create_rule(competency.RuleSpec(
            name=f"rule {iri}", activity_iri=iri, match="exact", criterion="completed",
            competency_id=m02.id, level=4 if iri == external else 1))
    db.commit()
    forged = _statement(launched, "completed", external, result={"completion": True})
    # An activity outside Lentera is a "cmi5 allowed" statement: stored, and worth nothing.
    assert _post(client, launched, forged).status_code == 200
    db.expire_all()
    assert db.scalar(sa.select(sa.func.count(Evidence.id)).where(
        Evidence.activity_iri == external)) == 0
    # What the AU reports about itself is what it was launched for: it counts.
    assert _post(client, launched, _statement(launched, "completed", AU)).status_code == 200
    db.expire_all()
    levels = list(db.scalars(sa.select(Evidence.level)))
    assert levels == [1]


def test_plans_and_evaluations_ignore_a_launch_about_another_activity(
        app: Any, db: Any, client: Any, launched: dict[str, Any]) -> None:
    from lms.evaluation.models import Evaluation

    other = factories.import_sample_course()
    forged = _statement(launched, "completed", f"{BASE}/courses/{other.slug}")
    _store_as_launch(launched, forged)
    assert db.scalar(sa.select(sa.func.count(Evaluation.id))) == 0
    from lms.plans.tracking import _completed_activity
    from lms.xapi.consumers import StoredStatement

    stored = StoredStatement(1, forged["id"], {**forged, "authority":
                                               launch_rules.authority_for(AU, "s")})
    assert _completed_activity(stored) is None


@pytest.mark.parametrize("kind", ["void", "launched", "satisfied", "substatement",
                                  "agent-object", "no-session", "other-session",
                                  "cmi5-defined-elsewhere"])
def test_what_launched_content_may_not_write(
        app: Any, db: Any, client: Any, launched: dict[str, Any], kind: str) -> None:
    legit = _statement(launched, "experienced", AU)
    assert _post(client, launched, legit).status_code == 200
    if kind == "void":
        forged = _statement(launched, "voided", AU,
                            object={"objectType": "StatementRef", "id": legit["id"]})
    elif kind in ("launched", "satisfied"):
        verb = "https://w3id.org/xapi/adl/verbs/satisfied" if kind == "satisfied" \
            else ADL + "launched"
        forged = _statement(launched, kind, AU)
        forged["verb"] = {"id": verb}
    elif kind == "substatement":
        forged = _statement(launched, "experienced", AU, object={
            "objectType": "SubStatement", "actor": launched["actor_json"],
            "verb": {"id": ADL + "completed"},
            "object": {"objectType": "Activity", "id": f"{BASE}/courses/x"}})
    elif kind == "agent-object":
        forged = _statement(launched, "experienced", AU, object={
            "objectType": "Agent", "mbox": "mailto:someone@example.org"})
    elif kind == "no-session":
        forged = _statement(launched, "completed", AU)
        del forged["context"]["extensions"]
    elif kind == "other-session":
        forged = _statement(launched, "completed", AU)
        forged["context"]["extensions"][cmi5.SESSION_EXT] = str(uuid.uuid4())
    else:
        forged = _statement(launched, "completed", "https://example.org/cmi5/other-au")
        forged["context"]["contextActivities"] = {"category": [
            {"objectType": "Activity", "id": cmi5.CMI5_CATEGORY}]}
    response = _post(client, launched, forged)
    assert response.status_code == 403, response.get_json()
    assert response.get_json()["message"]


def test_the_launch_credential_reads_learner_preferences_and_nothing_else(
        app: Any, db: Any, client: Any, launched: dict[str, Any]) -> None:
    """cmi5 §11: the AU reads cmi5LearnerPreferences of its learner; it may not write it
    (403, which cmi5 allows) nor read another's, and other profiles are closed."""
    headers = {**XAPI, "Authorization": f"Basic {launched['token']}"}
    own = {"agent": launched["actor"], "profileId": "cmi5LearnerPreferences"}
    response = client.get("/xapi/agents/profile", query_string=own, headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {"languagePreference": "id-ID,en-US", "audioPreference": "on"}
    assert client.put("/xapi/agents/profile", query_string=own, headers={
        **headers, "If-None-Match": "*"}, data=json.dumps({"audioPreference": "off"})
    ).status_code == 403
    other = {"agent": json.dumps({"mbox": "mailto:x@example.org"}),
             "profileId": "cmi5LearnerPreferences"}
    assert client.get("/xapi/agents/profile", query_string=other,
                      headers=headers).status_code == 403
    assert client.get("/xapi/agents/profile", query_string={
        "agent": launched["actor"], "profileId": "secrets"}, headers=headers).status_code == 403
    # LMS.LaunchData is the LMS's: readable, never writable or deletable by the AU.
    state = {"stateId": "LMS.LaunchData", "activityId": AU, "agent": launched["actor"],
             "registration": launched["registration"]}
    assert client.put("/xapi/activities/state", query_string=state, headers=headers,
                      data=json.dumps({"launchMode": "Normal"})).status_code == 403
    assert client.delete("/xapi/activities/state", query_string=state,
                         headers=headers).status_code == 403
    everything = {k: v for k, v in state.items() if k != "stateId"}
    assert client.delete("/xapi/activities/state", query_string=everything,
                         headers=headers).status_code == 403
    elsewhere = dict(state, stateId="bookmark", activityId=f"{BASE}/courses/x")
    assert client.put("/xapi/activities/state", query_string=elsewhere, headers=headers,
                      data=json.dumps({"page": 3})).status_code == 403
    own_state = dict(state, stateId="bookmark")
    assert client.put("/xapi/activities/state", query_string=own_state, headers=headers,
                      data=json.dumps({"page": 3})).status_code == 204
