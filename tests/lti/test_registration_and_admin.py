"""Registering platforms: Dynamic Registration with a platform that answers as Moodle does,
the admin pages, the ``lms lti`` commands, and Lentera's key set and its rotation."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import sqlalchemy as sa

from lms.db import get_session
from lms.lti import keys, registration
from lms.lti.models import LtiKey, LtiPlatform, LtiRegistrationInvite
from tests.lti.conftest import BASE


@pytest.fixture
def admin(app: Any, users: dict[str, Any]) -> Any:
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = users["admin"].get_id()
        session["locale"] = "en"
    return client


def _invite() -> str:
    _row, url = registration.create_invite(None)
    get_session().commit()
    return url.removeprefix(BASE)


def test_dynamic_registration_with_a_moodle_shaped_platform(client, platform, course):
    path = _invite()
    query = {"openid_configuration": platform.url + "/.well-known/openid-configuration",
             "registration_token": "reg-token-1"}
    page = client.get(path, query_string=query)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert platform.url + "/auth" in text and "moodle" in text
    # The platform shows this page in its frame.
    assert f"frame-ancestors 'self' {platform.url}" in page.headers["Content-Security-Policy"]
    done = client.post(path, data=query)
    assert done.status_code == 200, done.get_data(as_text=True)[-500:]
    assert 'id="registered"' in done.get_data(as_text=True)
    sent = platform.registrations[0]
    assert sent["initiate_login_uri"] == f"{BASE}/lti/login"
    assert sent["redirect_uris"] == [f"{BASE}/lti/launch"]
    assert sent["jwks_uri"] == f"{BASE}/lti/jwks"
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in sent["scope"].split()
    get_session().expire_all()
    row = get_session().scalar(sa.select(LtiPlatform))
    assert (row.issuer, row.client_id, row.deployment_ids) == (
        platform.issuer, platform.client_id, [platform.deployment_id])
    assert (row.auth_url, row.token_url, row.jwks_url, row.registered_via) == (
        platform.url + "/auth", platform.url + "/token", platform.url + "/jwks", "dynamic")
    assert row.product == "moodle 4.5"
    # The link worked once.
    assert client.get(path, query_string=query).status_code == 404


def test_registered_platform_can_launch_right_away(client, platform, browser_standin, course):
    path = _invite()
    query = {"openid_configuration": platform.url + "/.well-known/openid-configuration",
             "registration_token": "reg-token-1"}
    assert client.post(path, data=query).status_code == 200
    response = browser_standin.launch(platform.scenario(f"{BASE}/courses/mini-kursus"))
    assert response.status_code == 302
    assert response.headers["Location"] == "/courses/mini-kursus"


def test_registration_refusals(client, platform):
    assert client.get("/lti/register/unknown").status_code == 404
    path = _invite()
    bad = client.get(path, query_string={"openid_configuration": "ftp://x/y"})
    assert bad.status_code == 400
    bad = client.get(path, query_string={"openid_configuration": platform.url + "/jwks"})
    assert bad.status_code == 400 and "issuer yang sah" in bad.get_data(as_text=True)
    refused = client.post(path, data={
        "openid_configuration": platform.url + "/.well-known/openid-configuration",
        "registration_token": "wrong"})
    assert refused.status_code == 400 and "HTTP 401" in refused.get_data(as_text=True)
    assert get_session().scalar(sa.select(sa.func.count()).select_from(LtiPlatform)) == 0
    row = get_session().scalar(sa.select(LtiRegistrationInvite))
    row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    get_session().commit()
    assert client.get(path).status_code == 404


def test_moodle_messages_and_specification_messages_are_both_read():
    doc = {"issuer": "https://moodle.example.go.id",
           "authorization_endpoint": "https://moodle.example.go.id/mod/lti/auth.php",
           "token_endpoint": "https://moodle.example.go.id/mod/lti/token.php",
           "jwks_uri": "https://moodle.example.go.id/mod/lti/certs.php",
           "registration_endpoint": "https://moodle.example.go.id/mod/lti/openid-registration.php",
           registration.PLATFORM_CONFIGURATION: {
               "product_family_code": "moodle",
               "messages_supported": ["LtiResourceLinkRequest", "LtiDeepLinkingRequest"]}}
    parsed = registration.parse_configuration("https://moodle.example.go.id/x", doc)
    assert parsed.messages == ["LtiResourceLinkRequest", "LtiDeepLinkingRequest"]
    doc[registration.PLATFORM_CONFIGURATION]["messages_supported"] = [
        {"type": "LtiResourceLinkRequest", "placements": ["course_navigation"]}]
    parsed = registration.parse_configuration("https://canvas.example/x", doc)
    assert parsed.messages == ["LtiResourceLinkRequest"]


def test_admin_registers_a_platform_by_hand(admin, platform):
    page = admin.get("/admin/lti/platforms/new")
    assert page.status_code == 200 and f"{BASE}/lti/login" in page.get_data(as_text=True)
    fields = platform.lentera_fields()
    data = {**fields, "deployment_ids": "\n".join(fields["deployment_ids"]),
            "match_by": "email", "nip_claim": "custom.nip", "create_users": "y", "active": "y",
            "frame_origins": ""}
    answer = admin.post("/admin/lti/platforms/new", data=data)
    assert answer.status_code == 302
    row = get_session().scalar(sa.select(LtiPlatform))
    detail = admin.get(f"/admin/lti/platforms/{row.id}").get_data(as_text=True)
    assert platform.issuer in detail
    listing = admin.get("/admin/lti/").get_data(as_text=True)
    assert "Moodle Uji" in listing and f"{BASE}/lti/jwks" in listing
    # The same issuer and client id twice is refused with a message, not a 500.
    again = admin.post("/admin/lti/platforms/new", data=data)
    assert again.status_code == 400 and "registered already" in again.get_data(as_text=True)
    edit = admin.post(f"/admin/lti/platforms/{row.id}/edit",
                      data={**data, "frame_origins": "https://moodle.example.go.id"})
    assert edit.status_code == 302
    get_session().expire_all()
    assert get_session().get(LtiPlatform, row.id).frame_origins == "https://moodle.example.go.id"


@pytest.mark.parametrize(("field", "value"), [
    ("issuer", "moodle.example"),
    ("auth_url", "http://moodle.example.go.id/auth"),
    ("jwks_url", "https://user:pw@moodle.example.go.id/certs"),
    ("jwks_url", "https://x.example/" + "a" * 3000),
    ("name", "x\x00y"),
    ("deployment_ids", ""),
    ("frame_origins", "https://moodle.example.go.id/path"),
    ("client_id", "c" * 300),
    ("match_by", "phone"),
])
def test_hostile_platform_input_is_a_clear_400(admin, platform, field, value):
    fields = platform.lentera_fields()
    data = {**fields, "deployment_ids": "dep-1", "match_by": "email", "nip_claim": "custom.nip",
            "active": "y", field: value}
    answer = admin.post("/admin/lti/platforms/new", data=data)
    assert answer.status_code == 400
    assert get_session().scalar(sa.select(sa.func.count()).select_from(LtiPlatform)) == 0


def test_admin_pages_need_the_admin_role(client, login_as, users):
    login_as("hr")
    for path in ("/admin/lti/", "/admin/lti/scores", "/admin/lti/platforms/new"):
        assert client.get(path).status_code == 403
    assert client.post("/admin/lti/keys/rotate").status_code == 403
    assert client.post("/admin/lti/invites", data={"hours": 1}).status_code == 403


def test_admin_makes_a_registration_link(admin):
    answer = admin.post("/admin/lti/invites", data={"hours": "2"})
    assert answer.status_code == 200
    assert f"{BASE}/lti/register/" in answer.get_data(as_text=True)
    assert admin.post("/admin/lti/invites", data={"hours": "99999"}).status_code == 302


def test_key_set_rotation_keeps_the_old_key_for_the_grace_period(admin, client, app):
    first = client.get("/lti/jwks").get_json()["keys"]
    assert len(first) == 1 and first[0]["kty"] == "RSA" and first[0]["alg"] == "RS256"
    assert "d" not in first[0] and "p" not in first[0]
    assert admin.post("/admin/lti/keys/rotate").status_code == 302
    second = client.get("/lti/jwks").get_json()["keys"]
    assert [k["kid"] for k in second][1] == first[0]["kid"] and len(second) == 2
    assert keys.current_key().kid == second[0]["kid"]
    # The private key is stored encrypted.
    stored = get_session().scalar(sa.select(LtiKey.private_token).limit(1))
    assert stored.startswith("fernet:") and "PRIVATE KEY" not in stored
    # After the grace period the retired key is gone from the set.
    get_session().execute(sa.update(LtiKey).where(LtiKey.retired_at.is_not(None)).values(
        retired_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=8)))
    get_session().commit()
    assert [k["kid"] for k in client.get("/lti/jwks").get_json()["keys"]] == \
        [second[0]["kid"]]


def test_cli_registers_lists_and_rotates(runner, platform):
    fields = platform.lentera_fields()
    result = runner.invoke(args=[
        "lti", "platform", "add", "--name", "Moodle CLI", "--issuer", fields["issuer"],
        "--client-id", "cli-1", "--deployment", "d1", "--deployment", "d2",
        "--auth-url", fields["auth_url"], "--jwks-url", fields["jwks_url"],
        "--token-url", fields["token_url"], "--match", "nip"])
    assert result.exit_code == 0, result.output
    listed = json.loads(runner.invoke(args=["lti", "platform", "list", "--json"]).output)
    assert listed[0]["deployments"] == ["d1", "d2"] and listed[0]["match_by"] == "nip"
    bad = runner.invoke(args=["lti", "platform", "add", "--name", "x", "--issuer", "nope",
                              "--client-id", "c", "--deployment", "d", "--auth-url", "x",
                              "--jwks-url", "y"])
    assert bad.exit_code != 0 and "issuer" in bad.output.lower()
    result = runner.invoke(args=["lti", "platform", "deployment", str(listed[0]["id"]), "d3"])
    assert "d1, d2, d3" in result.output
    assert runner.invoke(args=["lti", "invite", "--hours", "1"]).output.startswith(
        f"{BASE}/lti/register/")
    tool = runner.invoke(args=["lti", "tool"]).output
    assert f"Initiate login URL: {BASE}/lti/login" in tool
    assert runner.invoke(args=["lti", "keys", "rotate"]).exit_code == 0
    assert runner.invoke(args=["lti", "keys", "rotate"]).exit_code == 0
    assert len(runner.invoke(args=["lti", "keys", "list"]).output.strip().splitlines()) == 2
    assert runner.invoke(args=["lti", "scores", "send"]).output.startswith("sent 0")
    removed = runner.invoke(args=["lti", "platform", "remove", str(listed[0]["id"])])
    assert removed.exit_code == 0
