"""Bad requests get the right status and a clear message; nothing is half-stored."""

from __future__ import annotations

import json

import sqlalchemy as sa

from lms.xapi import auth
from lms.xapi.models import Statement
from tests.xapi.conftest import Xapi, basic
from tests.xapi.helpers import (
    LAUNCHED_AU,
    agent,
    launch_header,
    launched_statement,
    make_statement,
    new_id,
)


def count(db):
    return db.scalar(sa.select(sa.func.count()).select_from(Statement))


def test_malformed_json_is_400(xapi, db):
    response = xapi.post("statements", data=b'{"actor": ', content_type="application/json")
    assert response.status_code == 400
    assert "not valid JSON" in response.json["message"]
    assert count(db) == 0


def test_wrong_content_type_is_400(xapi):
    response = xapi.post("statements", data=json.dumps(make_statement()),
                         content_type="text/plain")
    assert response.status_code == 400
    assert "application/json" in response.json["message"]


def test_huge_body_is_413_with_a_message(xapi, app, db):
    app.config["XAPI_MAX_BODY"] = 1000
    big = [make_statement() for _ in range(20)]
    response = xapi.post("statements", big)
    assert response.status_code == 413
    assert "at most 1000 bytes" in response.json["message"]
    assert response.headers["X-Experience-API-Version"]
    assert count(db) == 0


def test_missing_version_header_is_400(client, xapi):
    response = client.get("/xapi/statements", headers={"Authorization": xapi.authorization})
    assert response.status_code == 400
    assert "X-Experience-API-Version" in response.json["message"]


def test_bad_credentials_are_401(client):
    bad = Xapi(client, basic("nobody", "wrong"))
    response = bad.get("statements")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert response.json["error"] == "unauthorized"


def test_scope_violations_are_403(client, xapi_with, db):
    reader = xapi_with(client, "statements/read")
    response = reader.post("statements", make_statement())
    assert response.status_code == 403
    assert "statements/write" in response.json["message"]
    writer = xapi_with(client, "statements/write")
    assert writer.get("statements").status_code == 403
    assert writer.get(f"activities/state?activityId=http://x.test/a&agent="
                      f"{json.dumps(agent())}").status_code == 403
    assert count(db) == 0


def test_read_mine_sees_only_its_own_statements(client, xapi_with):
    mine = xapi_with(client, "statements/write statements/read/mine")
    other = xapi_with(client, "all")
    (own,) = mine.post("statements", make_statement()).json
    (foreign,) = other.post("statements", make_statement()).json
    assert [s["id"] for s in mine.get("statements").json["statements"]] == [own]
    assert mine.get(f"statements?statementId={foreign}").status_code == 404


def test_revoked_key_is_401(client, xapi_with, db):
    key, secret = auth.create_credential("to revoke", "all")[0].key, None
    db.commit()
    credential, secret = auth.create_credential("revoked", "all")
    db.commit()
    auth.revoke_credential(credential.key)
    db.commit()
    assert Xapi(client, basic(credential.key, secret)).get("statements").status_code == 401
    assert key


def test_launch_credential_is_limited_to_its_learner_and_registration(client, db):
    registration = new_id()
    launch = Xapi(client, launch_header(agent(1), registration))
    own = launched_statement(registration)
    assert launch.post("statements", own).status_code == 200
    wrong_actor = launched_statement(registration, actor=agent(2))
    assert launch.post("statements", wrong_actor).status_code == 403
    wrong_registration = launched_statement(new_id())
    assert launch.post("statements", wrong_registration).status_code == 403
    state = (f"activities/state?activityId={LAUNCHED_AU}&agent={json.dumps(agent(1))}"
             f"&registration={registration}&stateId=s")
    assert launch.put(state, {"bookmark": 2}).status_code == 204
    other_state = state.replace(registration, new_id())
    assert launch.get(other_state).status_code == 403
    assert len(launch.get("statements").json["statements"]) == 1
    assert count(db) == 1


def test_errors_carry_the_version_header_and_json(xapi2):
    response = xapi2.get(f"statements?statementId={new_id()}")
    assert response.status_code == 404
    assert response.headers["X-Experience-API-Version"] == "2.0.0"
    assert set(response.json) == {"error", "message"}


def test_launch_credential_never_sees_answer_keys(client, db):
    """Content in a learner's browser must not read the correct responses of a quiz."""
    registration = new_id()
    question = "http://lentera.test/courses/etika/quizzes/akhir/questions/q1"
    answered = make_statement(
        verb={"id": "http://adlnet.gov/expapi/verbs/answered"},
        object={"objectType": "Activity", "id": question, "definition": {
            "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
            "interactionType": "true-false", "correctResponsesPattern": ["true"]}},
        result={"response": "false", "success": False},
        context={"registration": registration})
    from lms.xapi import service

    service.store_statements([answered])
    db.commit()
    launch = Xapi(client, launch_header(agent(1), registration))
    listed = launch.get("statements").json["statements"]
    assert len(listed) == 1 and "correctResponsesPattern" not in json.dumps(listed)
    one = launch.get(f"statements?statementId={listed[0]['id']}").json
    assert one["object"]["definition"]["interactionType"] == "true-false"
    assert "correctResponsesPattern" not in json.dumps(one)
    activity = launch.get(f"activities?activityId={question}").json
    assert "correctResponsesPattern" not in activity.get("definition", {})
    # A platform's full-access key still reads the definition as stored.
    credential, secret = auth.create_credential("platform", "all")
    db.commit()
    full = Xapi(client, basic(credential.key, secret))
    assert full.get(f"activities?activityId={question}").json["definition"][
        "correctResponsesPattern"] == ["true"]


def test_only_keys_with_define_change_activity_definitions(client, db):
    activity = "http://lentera.test/activities/define-check"

    def statement(name: str) -> dict:
        return make_statement(object={"objectType": "Activity", "id": activity,
                                      "definition": {"name": {"en-US": name}}})

    writer, writer_secret = auth.create_credential("writer", "statements/write,statements/read")
    definer, definer_secret = auth.create_credential("definer", "statements/write,define")
    db.commit()
    plain = Xapi(client, basic(writer.key, writer_secret))
    assert plain.post("statements", statement("From a writer")).status_code == 200
    assert "definition" not in plain.get(f"activities?activityId={activity}").json
    assert Xapi(client, basic(definer.key, definer_secret)).post(
        "statements", statement("Defined")).status_code == 200
    assert plain.post("statements", statement("Changed by a writer")).status_code == 200
    assert plain.get(f"activities?activityId={activity}").json["definition"]["name"] == {
        "en-US": "Defined"}
