"""The Statement resource over HTTP (1.0.3 Part Three §2.1, 2.0 §4.1.6.1)."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import quote

from tests.xapi.helpers import ACTIVITY, COMPLETED, agent, make_statement, new_id, voiding


def test_post_returns_ids_and_get_returns_the_statement(xapi):
    response = xapi.post("statements", make_statement())
    assert response.status_code == 200
    (sid,) = response.json
    got = xapi.get(f"statements?statementId={sid}")
    assert got.status_code == 200
    assert got.json["id"] == sid
    assert got.headers["X-Experience-API-Version"] == "1.0.3"
    assert "X-Experience-API-Consistent-Through" in got.headers
    assert "Last-Modified" in got.headers


def test_put_then_same_content_is_204_and_other_content_409(xapi):
    sid = new_id()
    statement = make_statement()
    assert xapi.put(f"statements?statementId={sid}", statement).status_code == 204
    assert xapi.put(f"statements?statementId={sid}", statement).status_code == 204
    changed = xapi.put(f"statements?statementId={sid}", make_statement(actor=agent(2)))
    assert changed.status_code == 409
    assert changed.json["error"] == "conflict"


def test_put_without_statement_id_is_400(xapi):
    response = xapi.put("statements", make_statement())
    assert response.status_code == 400
    assert "statementId" in response.json["message"]


def test_validation_error_is_400_naming_the_property(xapi):
    response = xapi.post("statements", make_statement(verb={"id": "completed"}))
    assert response.status_code == 400
    assert "statement.verb.id" in response.json["message"]


def test_batch_with_one_bad_statement_stores_nothing(xapi):
    good = make_statement(id=new_id())
    response = xapi.post("statements", [good, make_statement(actor={"name": "no ifi"})])
    assert response.status_code == 400
    assert "statements[1].actor" in response.json["message"]
    assert xapi.get(f"statements?statementId={good['id']}").status_code == 404


def test_voided_statement_only_by_voided_statement_id(xapi):
    (target,) = xapi.post("statements", make_statement()).json
    (voider,) = xapi.post("statements", voiding(target)).json
    assert xapi.get(f"statements?statementId={target}").status_code == 404
    assert xapi.get(f"statements?voidedStatementId={target}").json["id"] == target
    ids = [s["id"] for s in xapi.get("statements").json["statements"]]
    assert target not in ids and voider in ids


def test_query_filters(xapi):
    registration = new_id()
    parent = "http://lentera.test/activities/course/induction"
    xapi.post("statements", [
        make_statement(context={"registration": registration,
                                "contextActivities": {"parent": [{"id": parent}]}}),
        make_statement(actor=agent(2)),
    ])
    by_agent = xapi.get(f"statements?agent={quote(json.dumps(agent(2)))}").json["statements"]
    assert [s["actor"]["mbox"] for s in by_agent] == ["mailto:pegawai2@x.go.id"]
    assert len(xapi.get(f"statements?registration={registration}").json["statements"]) == 1
    assert xapi.get(f"statements?activity={parent}").json["statements"] == []
    related = xapi.get(f"statements?activity={parent}&related_activities=true").json
    assert len(related["statements"]) == 1
    assert len(xapi.get(f"statements?verb={COMPLETED}").json["statements"]) == 2


def test_limit_gives_a_more_link_that_pages_stably(xapi):
    ids = xapi.post("statements", [make_statement() for _ in range(3)]).json
    page = xapi.get("statements?limit=2&ascending=true").json
    assert [s["id"] for s in page["statements"]] == ids[:2]
    xapi.post("statements", make_statement())  # stored after the first page was read
    more = page["more"]
    assert more.startswith("/xapi/statements?more=")
    second = xapi.get(more.removeprefix("/xapi/")).json
    assert [s["id"] for s in second["statements"]] == ids[2:]
    assert second["more"] == ""


def test_format_ids_and_canonical(xapi):
    statement = make_statement()
    statement["verb"]["display"]["id-ID"] = "menyelesaikan"
    (sid,) = xapi.post("statements", statement).json
    ids = xapi.get(f"statements?statementId={sid}&format=ids").json
    assert ids["verb"] == {"id": COMPLETED}
    assert ids["object"] == {"id": ACTIVITY}
    canonical = xapi.get(f"statements?statementId={sid}&format=canonical",
                         headers={"Accept-Language": "id-ID"}).json
    assert canonical["verb"]["display"] == {"id-ID": "menyelesaikan"}


def test_unknown_parameter_is_400(xapi):
    response = xapi.get("statements?Verb=x")
    assert response.status_code == 400
    assert "Verb" in response.json["message"]


def test_head_answers_like_get_without_body(xapi):
    response = xapi.client.head("/xapi/statements", headers=xapi.headers())
    assert response.status_code == 200
    assert response.data == b""
    assert "X-Experience-API-Consistent-Through" in response.headers


def test_attachments_multipart_round_trip(xapi):
    content = b"sertifikat"
    sha2 = hashlib.sha256(content).hexdigest()
    statement = make_statement(attachments=[{
        "usageType": "http://id.tincanapi.com/attachment/certificate",
        "display": {"id-ID": "Sertifikat"}, "contentType": "text/plain",
        "length": len(content), "sha2": sha2}])
    body = (b"--b\r\nContent-Type: application/json\r\n\r\n" + json.dumps(statement).encode()
            + b"\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n"
            + f"X-Experience-API-Hash: {sha2}\r\n\r\n".encode() + content + b"\r\n--b--\r\n")
    response = xapi.post("statements", data=body, content_type="multipart/mixed; boundary=b")
    assert response.status_code == 200, response.json
    (sid,) = response.json
    got = xapi.get(f"statements?statementId={sid}&attachments=true")
    assert got.content_type.startswith("multipart/mixed; boundary=")
    assert content in got.data


def test_attachment_without_its_part_is_400(xapi):
    statement = make_statement(attachments=[{
        "usageType": "http://id.tincanapi.com/attachment/certificate",
        "display": {"id-ID": "Sertifikat"}, "contentType": "text/plain",
        "length": 3, "sha2": hashlib.sha256(b"abc").hexdigest()}])
    response = xapi.post("statements", statement)
    assert response.status_code == 400
    assert "fileUrl" in response.json["message"]


def test_file_url_only_attachment_is_accepted(xapi):
    statement = make_statement(attachments=[{
        "usageType": "http://id.tincanapi.com/attachment/certificate",
        "display": {"id-ID": "Sertifikat"}, "contentType": "application/pdf",
        "length": 3, "sha2": hashlib.sha256(b"abc").hexdigest(),
        "fileUrl": "http://lentera.test/cert.pdf"}])
    assert xapi.post("statements", statement).status_code == 200


def test_activities_resource_merges_definitions(xapi):
    first = make_statement()
    second = make_statement(object={"id": ACTIVITY,
                                    "definition": {"name": {"en-US": "ASN ethics"}}})
    xapi.post("statements", [first, second])
    activity = xapi.get(f"activities?activityId={ACTIVITY}").json
    assert activity["definition"]["name"] == {"id-ID": "Etika ASN", "en-US": "ASN ethics"}


def test_agents_resource_returns_a_person(xapi):
    person = xapi.get(f"agents?agent={quote(json.dumps(agent(3)))}").json
    assert person == {"objectType": "Person", "name": ["Pegawai 3"],
                      "mbox": ["mailto:pegawai3@x.go.id"]}


def test_about_needs_no_auth(client):
    response = client.get("/xapi/about")
    assert response.status_code == 200
    assert response.json["version"] == ["1.0.3", "2.0.0"]


def test_alternate_syntax_in_1_0_3_and_refused_in_2_0(xapi, xapi2):
    sid = new_id()
    form = {"statementId": sid, "content": json.dumps(make_statement()),
            "Authorization": xapi.authorization, "X-Experience-API-Version": "1.0.3"}
    response = xapi.client.post("/xapi/statements?method=PUT", data=form)
    assert response.status_code == 204
    assert xapi.get(f"statements?statementId={sid}").status_code == 200
    refused = xapi2.post("statements?method=GET", data={"limit": "1"})
    assert refused.status_code == 400


def test_version_2_stamps_version_and_accepts_context_agents(xapi2):
    statement = make_statement(context={"contextAgents": [
        {"objectType": "contextAgent", "agent": agent(5),
         "relevantTypes": ["http://lentera.test/types/mentor"]}]})
    (sid,) = xapi2.post("statements", statement).json
    stored = xapi2.get(f"statements?statementId={sid}").json
    assert stored["version"] == "2.0.0"
    assert xapi2.get("statements").headers["X-Experience-API-Version"] == "2.0.0"


def test_since_and_until_compare_instants_whatever_the_offset(xapi):
    import datetime as dt

    (sid,) = xapi.post("statements", make_statement()).json
    stored = dt.datetime.fromisoformat(
        xapi.get(f"statements?statementId={sid}").json["stored"].replace("Z", "+00:00"))
    jakarta = dt.timezone(dt.timedelta(hours=7))
    before = (stored - dt.timedelta(seconds=1)).astimezone(jakarta).isoformat()
    after = (stored + dt.timedelta(seconds=1)).astimezone(jakarta).isoformat()
    assert [s["id"] for s in xapi.get(f"statements?since={quote(before)}").json["statements"]] \
        == [sid]
    assert xapi.get(f"statements?since={quote(after)}").json["statements"] == []
    assert [s["id"] for s in xapi.get(f"statements?until={quote(after)}").json["statements"]] \
        == [sid]


def test_a_definition_merged_elsewhere_is_taken_over_again_within_a_minute(xapi, db,
                                                                           monkeypatch):
    """Each process remembers definitions it saw stored, to skip a query per statement.
    Another process (here: a direct update) may merge a different one meanwhile; the
    memory is trusted for a minute at most, then a repeated definition wins again."""
    import sqlalchemy as sa

    from lms.xapi.models import Activity
    from lms.xapi.store import definitions

    named = make_statement(object={"id": ACTIVITY, "definition": {"name": {"en-US": "A"}}})
    assert xapi.post("statements", named).status_code == 200
    assert xapi.post("statements", {**named, "id": new_id()}).status_code == 200  # remembered
    db.execute(sa.update(Activity).where(Activity.activity_id == ACTIVITY)
               .values(definition={"name": {"en-US": "B"}}))
    db.commit()

    def name() -> str:
        return xapi.get(f"activities?activityId={ACTIVITY}").json["definition"]["name"]["en-US"]

    assert xapi.post("statements", {**named, "id": new_id()}).status_code == 200
    assert name() == "B"  # within the minute: the remembered merge is trusted
    later = definitions._clock() + definitions._DEFINITION_CACHE_SECONDS + 1
    monkeypatch.setattr(definitions, "_clock", lambda: later)
    assert xapi.post("statements", {**named, "id": new_id()}).status_code == 200
    assert name() == "A"  # the newest statement's definition wins again
