"""Single sign-on against a real OpenID provider: `oidc-provider` (npm) run under node on
127.0.0.1; the authorization code flow with PKCE goes through requests (the provider's
pages) and the Flask test client (Lentera's pages), with real HTTP between Lentera and
the provider for discovery, keys, token and userinfo."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from lms.db import get_session
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
BASE = "http://lentera.test"
SECRET = "test-client-secret-not-used-elsewhere"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "oidc-provider").is_dir():
        pytest.skip("node and the oidc-provider devDependency are needed (npm ci)")
    port = _free_port()
    env = dict(os.environ, OIDC_PORT=str(port), OIDC_CLIENT_SECRET=SECRET,
               OIDC_REDIRECT_URI=f"{BASE}/login/oidc/callback",
               OIDC_ACCOUNTS=json.dumps({
                   "ani": {"email": "ani.sso@test.lentera.local", "email_verified": True,
                           "nip": "", "name": "Ani"},
                   "budi": {"email": "someone.else@test.lentera.local",
                            "email_verified": True, "nip": factories.make_nip(777), "name": "Budi"},
                   "eve": {"email": "eve@test.lentera.local", "email_verified": False},
               }))
    log = (ROOT / "instance").joinpath("oidc-provider-test.log")
    log.parent.mkdir(exist_ok=True)
    with log.open("w") as errors:
        process = subprocess.Popen([node, str(SCRIPT)], cwd=ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=errors, text=True)
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert line.startswith("READY"), log.read_text()[-2000:]
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=10)
            if process.stdout is not None:
                process.stdout.close()


@pytest.fixture
def sso_client(make_app: Any, provider: str) -> Any:
    def make(match: str = "email", local: bool = True, accounts: dict | None = None) -> Any:
        app = make_app(OIDC_ISSUER=provider, OIDC_CLIENT_ID="lentera",
                       OIDC_CLIENT_SECRET=SECRET, OIDC_MATCH=match, OIDC_LABEL="SSO Pemda",
                       LOCAL_PASSWORDS=local)
        return app, app.test_client()
    return make


def _sign_in_at_provider(start: str, login: str) -> str:
    """Follow the provider's pages as a browser would (its sign-in and consent forms);
    the redirect back to Lentera (the callback URL with code and state)."""
    browser = requests.Session()
    url = start
    for _step in range(12):
        response = browser.get(url, allow_redirects=False, timeout=10)
        while response.status_code in (302, 303):
            url = urljoin(url, response.headers["Location"])
            if url.startswith(BASE):
                return url
            response = browser.get(url, allow_redirects=False, timeout=10)
        form = re.search(r'<form[^>]*action="([^"]+)"', response.text)
        assert form, response.text[:500]
        prompt = re.search(r'name="prompt" value="(\w+)"', response.text).group(1)
        data = {"prompt": prompt}
        if prompt == "login":
            data.update(login=login, password="any")
        posted = browser.post(urljoin(url, unescape(form.group(1))), data=data,
                              allow_redirects=False, timeout=10)
        assert posted.status_code in (302, 303), posted.text[:500]
        url = urljoin(url, posted.headers["Location"])
        if url.startswith(BASE):
            return url
    raise AssertionError("the provider never sent the browser back")


def _flow(client: Any, login: str) -> Any:
    start = client.get("/login/oidc?next=/assignments/mine")
    assert start.status_code == 302
    location = start.headers["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["redirect_uri"] == [f"{BASE}/login/oidc/callback"]
    back = urlsplit(_sign_in_at_provider(location, login))
    return client.get(f"{back.path}?{back.query}")


def test_sign_in_by_verified_email(sso_client, app):
    user = factories.make_user(name="Ani SSO", email="ani.sso@test.lentera.local")
    get_session().commit()
    sso_app, client = sso_client("email")
    login_page = client.get("/login").get_data(as_text=True)
    assert "Masuk dengan SSO Pemda" in login_page
    done = _flow(client, "ani")
    assert done.status_code == 302 and done.headers["Location"].endswith("/assignments/mine")
    home = client.get("/").get_data(as_text=True)
    assert "Ani SSO" in home
    get_session().refresh(user)
    assert user.last_login_at is not None
    # An address the provider has not verified opens nothing.
    _other, fresh = sso_client("email")
    factories.make_user(name="Eve", email="eve@test.lentera.local")
    get_session().commit()
    refused = _flow(fresh, "eve")
    assert refused.status_code == 302 and refused.headers["Location"].endswith("/login")
    assert fresh.get("/", follow_redirects=False).status_code == 302


def test_sign_in_by_nip_with_local_passwords_off(sso_client, app):
    budi = factories.make_user(name="Budi SSO", nip=factories.make_nip(777))
    get_session().commit()
    # The provider's account "budi" carries Budi's NIP (and someone else's address).
    sso_app, client = sso_client("nip", local=False)
    page = client.get("/login").get_data(as_text=True)
    assert "Masuk dengan SSO Pemda" in page and 'name="password"' not in page
    assert client.post("/login", data={"identifier": budi.nip, "password": "x"}
                       ).status_code == 404
    assert client.get("/password/forgot").status_code == 404
    done = _flow(client, "budi")
    assert done.status_code == 302 and done.headers["Location"].endswith("/assignments/mine")
    assert "Budi SSO" in client.get("/").get_data(as_text=True)
    with sso_app.app_context():
        from lms.people.oidc import match_user

        assert match_user({"nip": budi.nip}).id == budi.id
        assert match_user({"nip": "not-a-nip"}) is None
        assert match_user({"email": budi.email}) is None  # matched by NIP only


def test_forged_callback_is_refused(sso_client, app):
    _app, client = sso_client("email")
    response = client.get("/login/oidc/callback?code=forged&state=forged")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert client.get("/login/oidc/callback?error=access_denied").status_code == 302
