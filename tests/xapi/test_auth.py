"""Client keys and launch credentials."""

from __future__ import annotations

import base64

import pytest

from lms.errors import ValidationError
from lms.xapi import auth
from tests.xapi.conftest import basic
from tests.xapi.helpers import LAUNCH_SESSION, LAUNCHED_AU, agent, launch_header, new_id


def test_create_and_authenticate(app, db):
    credential, secret = auth.create_credential("Moodle Pemda", "statements/write,api:read")
    db.commit()
    assert credential.secret_hash != secret  # only the hash is stored
    found = auth.authenticate_basic(basic(credential.key, secret))
    assert found is not None and found.name == "Moodle Pemda"
    assert found.scopes == {"statements/write", "api:read"}
    assert not found.revoked


def test_wrong_secret_and_revoked_key_fail(app, db):
    credential, secret = auth.create_credential("x", "all")
    assert auth.authenticate_basic(basic(credential.key, "nope")) is None
    auth.revoke_credential(credential.key)
    assert auth.authenticate_basic(basic(credential.key, secret)) is None


@pytest.mark.parametrize("header", [None, "", "Bearer x", "Basic !!!", "Basic " +
                                    base64.b64encode(b"nocolon").decode()])
def test_malformed_headers_fail(app, db, header):
    assert auth.authenticate_basic(header) is None


def test_unknown_scope_is_rejected(app, db):
    with pytest.raises(ValidationError, match="Unknown scope"):
        auth.create_credential("x", "statements/delete")


def test_launch_credentials_are_limited_to_actor_and_registration(app, db):
    registration = new_id()
    header = launch_header(agent(), registration)
    credential = auth.authenticate_basic(header)
    assert credential is not None
    assert credential.scopes == {"statements/write", "statements/read/mine", "state"}
    assert credential.launch_registration == registration
    assert credential.launch_actor == agent()
    assert credential.launch_activity == LAUNCHED_AU
    assert credential.launch_session == LAUNCH_SESSION
    # What it writes carries an authority naming the launch, not Lentera's own.
    assert credential.authority["name"] == LAUNCHED_AU
    assert credential.authority["account"] == {
        "homePage": "http://lentera.test/xapi/launch", "name": LAUNCH_SESSION}


def test_expired_or_tampered_launch_credentials_fail(app, db):
    header = launch_header(agent(), new_id(), ttl_seconds=-1)
    assert auth.authenticate_basic(header) is None
    good = launch_header(agent(), new_id())
    user, _sep, sig = base64.b64decode(good[6:]).decode().partition(":")
    tampered = "Basic " + base64.b64encode(f"{user}x:{sig}".encode()).decode()
    assert auth.authenticate_basic(tampered) is None


def test_cli_client_create_json(runner):
    import json

    result = runner.invoke(args=["client", "create", "--name", "H5P", "--scopes",
                                 "statements/write,statements/read", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"key", "secret"}


def test_a_launch_credential_bound_to_no_activity_is_refused(app, db):
    """Credentials of the older form (actor and registration only) wrote any statement
    of their learner; they no longer authenticate."""
    import json
    import time

    payload = {"a": agent(), "k": "mbox:mailto:pegawai1@x.go.id", "r": new_id(),
               "e": int(time.time()) + 600}
    user = auth.LAUNCH_PREFIX + auth._b64url(json.dumps(payload).encode())
    header = "Basic " + base64.b64encode(
        f"{user}:{auth._launch_signature(user)}".encode()).decode()
    assert auth.authenticate_basic(header) is None
