"""Admin pages for client keys: create (secret shown once), list, revoke; admins only."""

from __future__ import annotations

import re

import sqlalchemy as sa

from lms.xapi.models import Credential
from tests.xapi.conftest import Xapi, basic


def test_admin_creates_lists_and_revokes_a_key(client, login_as, db):
    login_as("admin")
    assert client.get("/admin/lrs/clients/new").status_code == 200
    response = client.post("/admin/lrs/clients/new", data={
        "name": "Moodle BKPSDM", "scopes": ["statements/write", "statements/read"]})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    key = re.search(r'id="client-key">([0-9a-f]{32})<', page).group(1)
    secret = re.search(r'id="client-secret">([^<]+)<', page).group(1)
    credential = db.scalar(sa.select(Credential).where(Credential.key == key))
    assert credential.secret_hash != secret
    assert Xapi(client, basic(key, secret)).get("statements").status_code == 200
    listing = client.get("/admin/lrs/clients").get_data(as_text=True)
    assert "Moodle BKPSDM" in listing and key in listing
    assert client.post(f"/admin/lrs/clients/{key}/revoke").status_code == 302
    assert Xapi(client, basic(key, secret)).get("statements").status_code == 401


def test_creating_a_key_needs_a_scope(client, login_as):
    login_as("admin")
    response = client.post("/admin/lrs/clients/new", data={"name": "x"})
    assert response.status_code == 400


def test_only_admins_see_client_keys(client, login_as):
    login_as("hr")
    assert client.get("/admin/lrs/clients").status_code == 403
    assert client.post("/admin/lrs/clients/new", data={"name": "x",
                                                       "scopes": ["all"]}).status_code == 403
