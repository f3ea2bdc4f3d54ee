"""cmi5: import, launch (LaunchData, launched, one-time fetch), moveOn and completion."""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from lms.authoring import cmi5
from lms.courses.models import Completion, Course
from lms.errors import ValidationError
from lms.xapi.models import Statement
from tests.authoring.conftest import CMI5_XML, cmi5_zip

AU = "https://example.org/cmi5/etika-asn/au-1"
COURSE = "https://example.org/cmi5/etika-asn"
XAPI = {"X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}


def _import(client: Any, move_on: str = "CompletedAndPassed", slug: str = "etika-cmi5") -> Any:
    return client.post("/authoring/import-cmi5", data={
        "package": (io.BytesIO(cmi5_zip(move_on)), "etika.zip"), "slug": slug,
        "topic": "Etika", "jp": "2", "competency": "M.01", "competency_level": "1"},
        content_type="multipart/form-data")


def _launch(client: Any, login_as: Any, slug: str = "etika-cmi5") -> dict[str, Any]:
    login_as("learner")
    client.post(f"/courses/{slug}/enrol")
    # The course's first module is the AU: the lesson view hands it to the cmi5 player.
    response = client.get(f"/courses/{slug}/modules/au-1")
    assert response.status_code == 302 and "/cmi5/" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    url = page.split('id="cmi5-frame" src="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    return {"url": url, **params}


def _send(client: Any, token: str, launch: dict[str, Any], verb: str,
          result: dict[str, Any] | None = None, session_id: str = "") -> Any:
    statement = {"actor": json.loads(launch["actor"]),
                 "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}"},
                 "object": {"objectType": "Activity", "id": launch["activityId"]},
                 "context": {"registration": launch["registration"],
                             "extensions": {cmi5.SESSION_EXT: session_id}}}
    if result:
        statement["result"] = result
    return client.post("/xapi/statements", data=json.dumps(statement),
                       headers={**XAPI, "Authorization": f"Basic {token}"})


def test_parse_course_structure_reads_blocks_and_aus() -> None:
    structure = cmi5.parse_course_structure(CMI5_XML.replace("{move_on}", "Passed").encode())
    assert structure["id"] == COURSE
    assert structure["aus"][0]["moveOn"] == "Passed"
    assert structure["aus"][0]["masteryScore"] == 0.8
    assert structure["aus"][0]["blocks"] == [COURSE + "/blok-1"]
    with pytest.raises(ValidationError):
        cmi5.parse_course_structure(CMI5_XML.replace("{move_on}", "Sometimes").encode())
    with pytest.raises(ValidationError):
        cmi5.parse_course_structure(b"<!DOCTYPE x [<!ENTITY a 'aaaa'>]><x>&a;</x>")


@pytest.mark.parametrize("move_on", ["CompletedAndPassed", "Completed", "Passed",
                                     "CompletedOrPassed"])
def test_a_launched_au_completes_the_course_by_its_move_on(
        app: Any, db: Any, client: Any, login_as: Any, users: dict[str, Any],
        move_on: str) -> None:
    login_as("trainer")
    assert _import(client, move_on).status_code == 302
    launch = _launch(client, login_as)
    assert launch["endpoint"].endswith("/xapi/")
    assert launch["activityId"] == AU
    fetch_path = urlsplit(launch["fetch"]).path
    token = client.post(fetch_path).get_json()["auth-token"]
    second = client.post(fetch_path)
    assert second.status_code == 400 and second.get_json()["error-code"] == "1"
    # LMS.LaunchData is in the State resource, readable with the token.
    state = client.get("/xapi/activities/state", query_string={
        "stateId": "LMS.LaunchData", "activityId": AU, "agent": launch["actor"],
        "registration": launch["registration"]},
        headers={**XAPI, "Authorization": f"Basic {token}"})
    data = state.get_json()
    assert data["moveOn"] == move_on and data["launchMode"] == "Normal"
    session_id = data["contextTemplate"]["extensions"][cmi5.SESSION_EXT]
    assert _send(client, token, launch, "initialized", session_id=session_id).status_code == 200
    db.expire_all()
    assert db.scalar(sa.select(sa.func.count(Completion.id))) == 0
    if move_on in ("Completed", "CompletedAndPassed", "CompletedOrPassed"):
        _send(client, token, launch, "completed", {"completion": True}, session_id)
    if move_on in ("Passed", "CompletedAndPassed"):
        _send(client, token, launch, "passed", {"success": True, "score": {"scaled": 0.9}},
              session_id)
    _send(client, token, launch, "terminated", session_id=session_id)
    db.expire_all()
    verbs = list(db.scalars(sa.select(Statement.verb_id).where(
        Statement.registration == launch["registration"].lower())))
    assert "http://adlnet.gov/expapi/verbs/launched" in verbs
    assert verbs.count(cmi5.SATISFIED) == 3  # the AU, its block and the course
    completion = db.scalar(sa.select(Completion))
    assert completion is not None and completion.jp == 2
    course = db.scalar(sa.select(Course).where(Course.slug == "etika-cmi5"))
    assert completion.course_id == course.id


def test_move_on_not_met_does_not_complete(
        app: Any, db: Any, client: Any, login_as: Any, users: dict[str, Any]) -> None:
    login_as("trainer")
    _import(client, "CompletedAndPassed")
    launch = _launch(client, login_as)
    token = client.post(urlsplit(launch["fetch"]).path).get_json()["auth-token"]
    _send(client, token, launch, "completed", {"completion": True})
    db.expire_all()
    assert db.scalar(sa.select(sa.func.count(Completion.id))) == 0
    # The lesson button cannot complete an AU either.
    assert client.post("/courses/etika-cmi5/modules/au-1/complete").status_code == 400


def test_the_token_only_writes_for_its_learner(
        app: Any, db: Any, client: Any, login_as: Any, users: dict[str, Any]) -> None:
    login_as("trainer")
    _import(client)
    launch = _launch(client, login_as)
    token = client.post(urlsplit(launch["fetch"]).path).get_json()["auth-token"]
    other = dict(launch, actor=json.dumps({"objectType": "Agent", "mbox": "mailto:x@example.org"}))
    assert _send(client, token, other, "completed").status_code == 403


def test_a_package_without_cmi5_xml_or_with_links_is_refused(
        app: Any, db: Any, client: Any, login_as: Any) -> None:
    from tests.authoring.conftest import symlink_info, zip_with

    login_as("trainer")
    for data, needle in [(zip_with([("index.html", b"x")]), "cmi5.xml"),
                         (zip_with([("cmi5.xml", b"x"), (symlink_info("au/x"), b"/etc")]), "au/x")]:
        response = client.post("/authoring/import-cmi5", data={
            "package": (io.BytesIO(data), "x.zip"), "slug": "x-cmi5", "topic": "T", "jp": "1",
            "competency": "M.01", "competency_level": "1"},
            content_type="multipart/form-data", follow_redirects=True)
        assert needle in response.get_data(as_text=True)
    db.expire_all()
    assert db.scalar(sa.select(sa.func.count(Course.id))) == 0


def test_the_return_url_is_a_frameable_page_back_to_the_course(
        app: Any, db: Any, client: Any, login_as: Any, users: dict[str, Any]) -> None:
    login_as("trainer")
    _import(client)
    launch = _launch(client, login_as)
    token = client.post(urlsplit(launch["fetch"]).path).get_json()["auth-token"]
    state = client.get("/xapi/activities/state", query_string={
        "stateId": "LMS.LaunchData", "activityId": AU, "agent": launch["actor"],
        "registration": launch["registration"]},
        headers={**XAPI, "Authorization": f"Basic {token}"}).get_json()
    page = client.get(urlsplit(state["returnURL"]).path)
    assert page.status_code == 200 and "X-Frame-Options" not in page.headers
    assert 'href="/courses/etika-cmi5" target="_top"' in page.get_data(as_text=True)
