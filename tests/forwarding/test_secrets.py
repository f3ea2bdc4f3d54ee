"""External LRS passwords are encrypted at rest, never shown back, and rotate; pulling
brings statement attachments along."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from lms.db import get_session
from lms.forwarding import secrets, service
from lms.forwarding.models import ForwardTarget, PullSource
from tests.forwarding.conftest import Remote, statement, store_local

SECRET = "rahasia-pusat-123"


def _raw(table: str) -> list[dict[str, Any]]:
    rows = get_session().execute(sa.text(f"SELECT * FROM {table}")).mappings().all()
    get_session().commit()
    return [dict(r) for r in rows]


def test_passwords_are_stored_encrypted(app: Any) -> None:
    service.create_target("pusat", "https://lrs.example.go.id/xapi/", "key", SECRET)
    service.create_source("moodle", "https://moodle.example.go.id/xapi/", "key", SECRET)
    get_session().commit()
    for table in ("forwarding_target", "forwarding_source"):
        [row] = _raw(table)
        assert "password" not in row
        assert row["password_token"].startswith("fernet:")
        assert SECRET not in str(row)
    get_session().expire_all()
    assert get_session().scalars(sa.select(ForwardTarget)).one().password == SECRET
    assert get_session().scalars(sa.select(PullSource)).one().password == SECRET


def test_a_dedicated_key_and_rotation(make_app: Any) -> None:
    old, new = Fernet.generate_key().decode(), "a long random passphrase, not a Fernet key"
    first = make_app(FORWARDING_KEY=old)
    with first.app_context():
        token = secrets.encrypt(SECRET)
        assert secrets.decrypt(token) == SECRET
    other_secret = make_app(SECRET_KEY="another-secret-key")
    with other_secret.app_context(), pytest.raises(secrets.SecretError, match="enter"):
        secrets.decrypt(token)  # the signing key alone cannot read it
    both = make_app(FORWARDING_KEY=f"{new},{old}")
    with both.app_context():
        assert secrets.decrypt(token) == SECRET
        rotated = secrets.rotate(token)
    only_new = make_app(FORWARDING_KEY=new)
    with only_new.app_context():
        assert secrets.decrypt(rotated) == SECRET
        with pytest.raises(secrets.SecretError):
            secrets.decrypt(token)


def test_rows_written_before_a_dedicated_key_stay_readable(make_app: Any) -> None:
    plain = make_app()
    with plain.app_context():
        token = secrets.encrypt(SECRET)  # with the key derived from SECRET_KEY
    keyed = make_app(FORWARDING_KEY=Fernet.generate_key().decode())
    with keyed.app_context():
        assert secrets.decrypt(token) == SECRET


def test_reencrypt_command(app: Any, make_app: Any) -> None:
    service.create_target("pusat", "https://lrs.example.go.id/xapi/", "key", SECRET)
    get_session().commit()
    key = Fernet.generate_key().decode()
    keyed = make_app(FORWARDING_KEY=key)
    with keyed.app_context():  # the command runs in the current app context
        result = keyed.test_cli_runner().invoke(args=["forwarding", "reencrypt"])
    assert result.exit_code == 0, result.output
    assert "1 password(s)" in result.output
    [row] = _raw("forwarding_target")
    assert Fernet(key.encode()).decrypt(row["password_token"][7:].encode()).decode() == SECRET


def test_an_undecryptable_password_is_a_visible_retry(app: Any, remote: Remote,
                                                      make_app: Any) -> None:
    other = make_app(SECRET_KEY="not-the-key-it-was-written-with",
                     FORWARDING_BACKGROUND=False)
    with other.app_context():
        service.create_target("pusat", remote.endpoint, remote.key, remote.secret)
        get_session().commit()
    store_local(statement())
    assert service.deliver_all() == 0
    get_session().expire_all()
    target = get_session().scalars(sa.select(ForwardTarget)).one()
    assert "cannot be decrypted" in (target.last_error or "") and target.failures == 1
    assert remote.ids() == []


def test_the_password_is_never_shown_back(app: Any, client: Any, login_as: Any,
                                          remote: Remote) -> None:
    login_as("admin")
    client.post("/admin/forwarding/targets/new", data={
        "name": "BKN", "endpoint": remote.endpoint, "username": remote.key,
        "password": remote.secret, "version": "1.0.3"})
    client.post("/admin/forwarding/sources/new", data={
        "name": "Moodle", "endpoint": remote.endpoint, "username": remote.key,
        "password": remote.secret, "version": "1.0.3", "interval_seconds": "300"})
    target = get_session().scalars(sa.select(ForwardTarget)).one()
    source = get_session().scalars(sa.select(PullSource)).one()
    get_session().commit()
    for url in ("/admin/forwarding/", f"/admin/forwarding/targets/{target.id}/edit",
                f"/admin/forwarding/sources/{source.id}/edit"):
        page = client.get(url)
        assert page.status_code == 200
        assert remote.secret not in page.text and "fernet:" not in page.text
    assert remote.key in client.get(f"/admin/forwarding/targets/{target.id}/edit").text
    assert "Kosongkan untuk tetap memakai" in client.get(
        f"/admin/forwarding/targets/{target.id}/edit").text

    # An empty password keeps the stored one; a new one replaces it.
    response = client.post(f"/admin/forwarding/targets/{target.id}/edit", data={
        "endpoint": remote.endpoint, "username": remote.key, "password": "",
        "version": "2.0.0"})
    assert response.status_code == 302
    get_session().expire_all()
    target = get_session().get(ForwardTarget, target.id)
    assert target.password == remote.secret and target.version == "2.0.0"
    client.post(f"/admin/forwarding/sources/{source.id}/edit", data={
        "endpoint": remote.endpoint, "username": remote.key, "password": "baru-sekali",
        "version": "1.0.3"})
    get_session().expire_all()
    assert get_session().get(PullSource, source.id).password == "baru-sekali"
    bad = client.post(f"/admin/forwarding/sources/{source.id}/edit", data={
        "endpoint": "not a url", "username": remote.key, "password": "x", "version": "1.0.3"})
    assert bad.status_code == 400 and 'value="x"' not in bad.text
    assert client.get("/admin/forwarding/targets/999/edit").status_code == 404
    login_as("hr")
    assert client.get(f"/admin/forwarding/targets/{target.id}/edit").status_code == 403


def test_pull_brings_attachments_along(app: Any, remote: Remote, monkeypatch: Any) -> None:
    from lms.xapi.models import Attachment
    from lms.xapi.service import AttachmentPart, get_statement, store_statements

    monkeypatch.setattr(service, "PULL_PAGE", 2)  # attachments on later pages too
    contents = [f"Sertifikat pelatihan {i}".encode() * 20 for i in range(3)]
    with remote.app.app_context():
        for content in contents:
            sha2 = hashlib.sha256(content).hexdigest()
            store_statements([statement(attachments=[{
                "usageType": "http://id.tincanapi.com/attachment/certificate-of-completion",
                "display": {"id-ID": "Sertifikat"}, "contentType": "text/plain",
                "length": len(content), "sha2": sha2}])],
                attachments={sha2: AttachmentPart("text/plain", content)})
        get_session().commit()
    plain = remote.store([statement()])
    source = service.create_source("moodle", remote.endpoint, remote.key, remote.secret)
    get_session().commit()
    assert service.pull_source(source.id, force=True) == 4
    get_session().expire_all()
    assert get_session().get(PullSource, source.id).last_error is None
    stored = {a.sha2: a.content for a in get_session().scalars(sa.select(Attachment))}
    assert stored == {hashlib.sha256(c).hexdigest(): c for c in contents}
    assert get_statement(plain[0]) is not None
    assert service.pull_source(source.id, force=True) == 0  # exactly once


# --- the migration that encrypts existing rows -------------------------------------------


@pytest.fixture
def scratch_url(tmp_path: Path) -> Any:
    """A database of its own for a migration test (test_d2 next to a PostgreSQL run)."""
    main = os.environ.get("LMS_TEST_DATABASE_URL", "")
    if not main.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    from sqlalchemy.engine import make_url

    url = make_url(main)
    name = f"{url.database}2"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                           {"n": name}):
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    scratch = url.set(database=name).render_as_string(hide_password=False)
    engine = sa.create_engine(scratch)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    yield scratch


def test_the_migration_encrypts_existing_passwords(scratch_url: str, tmp_path: Path) -> None:
    from alembic import command

    from lms import create_app
    from lms.db import alembic_config, get_engine
    from tests.conftest import _test_config

    app = create_app(_test_config(scratch_url, tmp_path / "inst"))
    try:
        with app.app_context():
            cfg = alembic_config(app)
            command.upgrade(cfg, "0007_forwarding")
            with get_engine(app).begin() as conn:
                conn.execute(sa.text(
                    "INSERT INTO forwarding_target (name, endpoint, username, password, "
                    "version, verbs, activity_prefixes, enabled, last_seq, delivered, "
                    "failures, created) VALUES ('pusat', 'https://lrs.example.go.id/xapi/', "
                    "'key', :p, '1.0.3', '[]', '[]', true, 0, 0, 0, CURRENT_TIMESTAMP)"),
                    {"p": SECRET})
            command.upgrade(cfg, "heads")
            with get_engine(app).connect() as conn:
                token = conn.scalar(sa.text("SELECT password_token FROM forwarding_target"))
            assert token.startswith("fernet:") and secrets.decrypt(token) == SECRET
            assert get_session().scalars(sa.select(ForwardTarget)).one().password == SECRET
            get_session().commit()
            command.downgrade(cfg, "0007_forwarding")
            with get_engine(app).connect() as conn:
                assert conn.scalar(sa.text("SELECT password FROM forwarding_target")) == SECRET
    finally:
        get_engine(app).dispose()
