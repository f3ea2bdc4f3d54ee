"""cmi5 launch modes (Normal, Browse, Review), launchMethod OwnWindow, abandoned sessions."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import sqlalchemy as sa

from lms.authoring import cmi5
from lms.authoring.models import Cmi5Launch
from lms.courses.models import Completion
from lms.xapi.models import Statement
from tests.authoring.test_cmi5 import AU, XAPI, _import, _send

PAGE = "/courses/etika-cmi5/modules/au-1"


def _open(client: Any, query: str = "") -> tuple[str, dict[str, Any]]:
    """Open the AU's launch page; return the page and the launch URL's parameters."""
    response = client.get(PAGE)
    assert response.status_code == 302
    page = client.get(response.headers["Location"] + query).get_data(as_text=True)
    marker = 'id="cmi5-frame" src="' if 'id="cmi5-frame"' in page else 'id="cmi5-open" href="'
    url = page.split(marker, 1)[1].split('"', 1)[0].replace("&amp;", "&")
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    return page, {"url": url, **params}


def _start(client: Any, launch: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    token = client.post(urlsplit(launch["fetch"]).path).get_json()["auth-token"]
    state = client.get("/xapi/activities/state", query_string={
        "stateId": "LMS.LaunchData", "activityId": AU, "agent": launch["actor"],
        "registration": launch["registration"]},
        headers={**XAPI, "Authorization": f"Basic {token}"}).get_json()
    return token, state


def _session(state: dict[str, Any]) -> str:
    return state["contextTemplate"]["extensions"][cmi5.SESSION_EXT]


def _statements(db: Any, verb: str) -> list[dict[str, Any]]:
    db.expire_all()
    return [s for s in db.scalars(sa.select(Statement.data).order_by(Statement.seq))
            if s["verb"]["id"] == verb]


def _learner(client: Any, login_as: Any, move_on: str = "Completed") -> None:
    login_as("trainer")
    assert _import(client, move_on).status_code == 302
    client.post("/logout")
    login_as("learner")
    client.post("/courses/etika-cmi5/enrol")


def _first_session(client: Any, login_as: Any) -> tuple[dict[str, Any], str, str]:
    """The learner enrols and starts a session: its launch parameters, token and id."""
    _learner(client, login_as)
    _page, first = _open(client)
    token, state = _start(client, first)
    first_session = _session(state)
    assert _send(client, token, first, "initialized", session_id=first_session).status_code == 200
    return first, token, first_session


def test_a_session_left_without_terminated_is_abandoned_at_the_next_launch(
        app: Any, db: Any, client: Any, login_as: Any, users: dict[str, Any]) -> None:
    first, token, first_session = _first_session(client, login_as)

    _page, second = _open(client)  # the learner closed the window and launches again
    abandoned = _statements(db, cmi5.ABANDONED)
    assert len(abandoned) == 1
    statement = abandoned[0]
    assert statement["object"]["id"] == AU
    assert statement["context"]["registration"] == first["registration"]
    assert statement["context"]["extensions"][cmi5.SESSION_EXT] == first_session
    categories = [a["id"] for a in statement["context"]["contextActivities"]["category"]]
    assert cmi5.CMI5_CATEGORY in categories
    assert statement["result"]["duration"].startswith("PT")
    assert db.scalar(sa.select(Cmi5Launch.ended).where(
        Cmi5Launch.session_id == first_session)) == "abandoned"

    # A session that terminated properly is not abandoned.
    token, state = _start(client, second)
    _send(client, token, second, "initialized", session_id=_session(state))
    _send(client, token, second, "terminated", session_id=_session(state))
    _open(client)
    assert len(_statements(db, cmi5.ABANDONED)) == 1
    assert db.scalar(sa.select(Cmi5Launch.ended).where(
        Cmi5Launch.session_id == _session(state))) == "terminated"


def test_statements_of_an_abandoned_or_terminated_session_are_refused(
        app: Any, db: Any, client: Any, login_as: Any, users: dict[str, Any]) -> None:
    first, token, first_session = _first_session(client, login_as)

    _page, second = _open(client)  # relaunched without terminating: the first is abandoned
    second_token, state = _start(client, second)
    second_session = _session(state)
    stored = db.scalar(sa.select(sa.func.count()).select_from(Statement))
    # The first session's credential is signed for the same learner and registration,
    # but cmi5 allows nothing more for an abandoned session: the credential is refused.
    response = _send(client, token, first, "experienced", session_id=first_session)
    assert response.status_code == 401
    assert "abandoned" in response.get_json()["message"]
    # A batch with one statement of the abandoned session writes nothing at all.
    ok = {"actor": json.loads(second["actor"]),
          "verb": {"id": "http://adlnet.gov/expapi/verbs/initialized"},
          "object": {"objectType": "Activity", "id": second["activityId"]},
          "context": {"registration": second["registration"],
                      "extensions": {cmi5.SESSION_EXT: second_session}}}
    late = json.loads(json.dumps(ok))
    late["context"]["extensions"][cmi5.SESSION_EXT] = first_session
    response = client.post("/xapi/statements", data=json.dumps([ok, late]),
                           headers={**XAPI, "Authorization": f"Basic {second_token}"})
    assert response.status_code == 403
    db.expire_all()
    assert db.scalar(sa.select(sa.func.count()).select_from(Statement)) == stored

    # After terminated, statements on their way are still taken for a grace period, then
    # the session is closed.
    for verb in ("initialized", "terminated", "experienced"):
        assert _send(client, second_token, second, verb,
                     session_id=second_session).status_code == 200
    assert db.scalar(sa.select(Cmi5Launch.ended).where(
        Cmi5Launch.session_id == second_session)) == "terminated"
    app.config["CMI5_TERMINATED_GRACE_SECONDS"] = 0
    response = _send(client, second_token, second, "experienced", session_id=second_session)
    assert response.status_code == 401
    assert "terminated" in response.get_json()["message"]
    # ... and so is every other use of its credential (the State, the Agent Profile).
    state_url = "/xapi/activities/state?" + urlencode({
        "stateId": "LMS.LaunchData", "activityId": second["activityId"],
        "agent": second["actor"], "registration": second["registration"]})
    response = client.get(state_url, headers={**XAPI, "Authorization": f"Basic {second_token}"})
    assert response.status_code == 401


def test_browse_mode_is_offered_and_does_not_complete(
        app: Any, db: Any, client: Any, login_as: Any, users: dict[str, Any]) -> None:
    _learner(client, login_as)
    page, _launch = _open(client)
    assert 'data-mode="Normal"' in page and "mode=browse" in page
    page, launch = _open(client, "?mode=browse")
    assert 'data-mode="Browse"' in page
    token, state = _start(client, launch)
    assert state["launchMode"] == "Browse"
    launched = _statements(db, "http://adlnet.gov/expapi/verbs/launched")[-1]
    assert launched["context"]["extensions"][cmi5.LAUNCHMODE_EXT] == "Browse"
    session_id = _session(state)
    for verb in ("initialized", "completed", "terminated"):
        _send(client, token, launch, verb, {"completion": True} if verb == "completed" else None,
              session_id)
    db.expire_all()
    assert _statements(db, cmi5.SATISFIED) == []
    assert db.scalar(sa.select(sa.func.count(Completion.id))) == 0


def test_review_mode_once_the_au_is_satisfied(
        app: Any, db: Any, client: Any, login_as: Any, users: dict[str, Any]) -> None:
    _learner(client, login_as, "Completed")
    _page, launch = _open(client)
    token, state = _start(client, launch)
    assert state["launchMode"] == "Normal"
    for verb in ("initialized", "completed", "terminated"):
        _send(client, token, launch, verb, {"completion": True} if verb == "completed" else None,
              _session(state))
    db.expire_all()
    assert db.scalar(sa.select(sa.func.count(Completion.id))) == 1

    page, launch = _open(client, "?mode=browse")  # Review wins once the AU is done
    assert 'data-mode="Review"' in page
    token, state = _start(client, launch)
    assert state["launchMode"] == "Review"
    _send(client, token, launch, "completed", {"completion": True}, _session(state))
    assert len(_statements(db, cmi5.SATISFIED)) == 3  # nothing new from the review


def test_own_window_au_opens_in_a_new_window_with_a_return_page(
        app: Any, db: Any, client: Any, login_as: Any, users: dict[str, Any]) -> None:
    _learner(client, login_as, 'Completed" launchMethod="OwnWindow')
    page, launch = _open(client)
    assert 'id="cmi5-frame"' not in page
    assert 'target="_blank" rel="noopener"' in page
    _token, state = _start(client, launch)
    assert urlsplit(state["returnURL"]).query == "window=own"
    returned = client.get(urlsplit(state["returnURL"]).path + "?window=own")
    html = returned.get_data(as_text=True)
    assert returned.status_code == 200 and 'href="/courses/etika-cmi5"' in html
    assert 'target="_top"' not in html
    assert json.loads(launch["actor"])["account"]["name"] == users["learner"].nip
