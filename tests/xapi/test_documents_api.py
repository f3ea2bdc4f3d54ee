"""State, Activity Profile and Agent Profile (1.0.3 Part Three §2.3–2.7, 2.0 §4.1.6.2–6)."""

from __future__ import annotations

import json
from urllib.parse import quote

from tests.xapi.helpers import ACTIVITY, agent, new_id

AGENT = quote(json.dumps(agent()))
STATE = f"activities/state?activityId={ACTIVITY}&agent={AGENT}"


def test_state_put_get_etag_and_list(xapi):
    assert xapi.put(f"{STATE}&stateId=bookmark", {"page": 3}).status_code == 204
    got = xapi.get(f"{STATE}&stateId=bookmark")
    assert got.json == {"page": 3}
    assert got.headers["ETag"].startswith('"') and len(got.headers["ETag"]) == 42
    assert "Last-Modified" in got.headers
    assert xapi.get(STATE).json == ["bookmark"]


def test_state_post_merges_json(xapi):
    xapi.put(f"{STATE}&stateId=s", {"a": 1, "b": 1})
    assert xapi.post(f"{STATE}&stateId=s", {"b": 2, "c": 3}).status_code == 204
    assert xapi.get(f"{STATE}&stateId=s").json == {"a": 1, "b": 2, "c": 3}


def test_state_post_onto_non_json_is_400_and_unchanged(xapi):
    xapi.put(f"{STATE}&stateId=s", data=b"raw", content_type="application/octet-stream")
    assert xapi.post(f"{STATE}&stateId=s", {"b": 2}).status_code == 400
    assert xapi.get(f"{STATE}&stateId=s").data == b"raw"


def test_state_with_registration_and_delete_of_a_set(xapi):
    registration = new_id()
    scoped = f"{STATE}&registration={registration}"
    xapi.put(f"{scoped}&stateId=a", {"x": 1})
    xapi.put(f"{scoped}&stateId=b", {"x": 2})
    xapi.put(f"{STATE}&stateId=other", {"x": 3})
    assert sorted(xapi.get(scoped).json) == ["a", "b"]
    assert xapi.delete(scoped).status_code == 204
    assert xapi.get(scoped).json == []
    assert xapi.get(STATE).json == ["other"]


def test_if_match_mismatch_is_412(xapi):
    xapi.put(f"{STATE}&stateId=s", {"a": 1})
    response = xapi.put(f"{STATE}&stateId=s", {"a": 2}, headers={"If-Match": '"1234"'})
    assert response.status_code == 412
    assert xapi.get(f"{STATE}&stateId=s").json == {"a": 1}


def test_if_none_match_star_on_existing_is_412(xapi):
    xapi.put(f"{STATE}&stateId=s", {"a": 1})
    response = xapi.put(f"{STATE}&stateId=s", {"a": 2}, headers={"If-None-Match": "*"})
    assert response.status_code == 412


def test_profile_put_on_existing_without_precondition_is_409(xapi):
    path = f"activities/profile?activityId={ACTIVITY}&profileId=p"
    assert xapi.put(path, {"v": 1}, headers={"If-None-Match": "*"}).status_code == 204
    assert xapi.put(path, {"v": 2}).status_code == 409
    etag = xapi.get(path).headers["ETag"]
    assert xapi.put(path, {"v": 2}, headers={"If-Match": etag}).status_code == 204
    assert xapi.get(path).json == {"v": 2}


def test_agent_profile_round_trip_and_delete(xapi):
    path = f"agents/profile?agent={AGENT}&profileId=prefs"
    assert xapi.put(path, {"lang": "id"}, headers={"If-None-Match": "*"}).status_code == 204
    assert xapi.get(f"agents/profile?agent={AGENT}").json == ["prefs"]
    assert xapi.delete(path).status_code == 204
    assert xapi.get(path).status_code == 404


def test_state_in_2_0_needs_precondition_to_overwrite(xapi2):
    assert xapi2.put(f"{STATE}&stateId=s", {"a": 1}).status_code == 204
    assert xapi2.put(f"{STATE}&stateId=s", {"a": 2}).status_code == 409


def test_missing_or_bad_document_params_are_400(xapi):
    assert xapi.get(f"activities/state?agent={AGENT}").status_code == 400
    assert xapi.get(f"activities/state?activityId={ACTIVITY}&agent=true").status_code == 400
    bad_registration = xapi.get(f"{STATE}&registration=true")
    assert bad_registration.status_code == 400
    assert "registration" in bad_registration.json["message"]
