"""Accounts for every ASN: invitations on import and creation, one-time links (stored
hashed, single use, expiring), "Lupa kata sandi" without revealing accounts, and the
administrators' list of accounts not activated with re-send and a bulk job."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re

import sqlalchemy as sa

from lms.db import get_session, utcnow
from lms.mail.models import OutboxMessage
from lms.people import accounts
from lms.people.models import AccountToken, User
from tests import factories

HEADER = "nip,name,email,org_unit,position,position_kind\n"
ROWS = (
    "198501012010011001,Budi Santoso,budi@example.go.id,Pemkab Uji / Dinas A,Analis,pelaksana\n"
    "199002022015032002,Sri Lestari,sri@example.go.id,Pemkab Uji / Dinas A,Kepala Dinas,JPT\n"
)
NEW_PASSWORD = "kata-sandi-baru-2026"


def _link(message: OutboxMessage) -> str:
    found = re.search(r"http://lentera\.test(/password/set/[A-Za-z0-9_-]+)", message.text)
    assert found, message.text
    return found.group(1)


def _outbox(category: str, to: str | None = None) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).where(OutboxMessage.category == category)
    if to:
        query = query.where(OutboxMessage.to_address == to)
    return list(get_session().scalars(query.order_by(OutboxMessage.id)))


def test_import_invites_then_one_activates_and_signs_in(client, login_as, auth):
    login_as("admin")
    upload = client.post("/admin/import", data={
        "file": (io.BytesIO((HEADER + ROWS).encode()), "pegawai.csv")},
        content_type="multipart/form-data")
    token = re.search(r'name="token" type="hidden" value="([^"]+)"',
                      upload.get_data(as_text=True)).group(1)
    page = upload.get_data(as_text=True)
    assert "Kirim undangan melalui surel ke setiap pegawai baru" in page
    # Ticked by default.
    assert re.search(r'<input checked[^>]*id="invite"|id="invite"[^>]*checked', page)
    done = client.post("/admin/import/confirm", data={"token": token, "invite": "y"},
                       follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "Undangan untuk 2 pegawai baru sedang dikirim" in page
    assert "Akun belum aktif" in page
    invitations = _outbox(accounts.MAIL_INVITATION)
    assert {m.to_address for m in invitations} == {"budi@example.go.id", "sri@example.go.id"}
    budi_mail = next(m for m in invitations if m.to_address == "budi@example.go.id")
    assert budi_mail.subject == "Akun Lentera Anda sudah siap"
    link = _link(budi_mail)
    # Only the hash of the token is stored.
    raw = link.rsplit("/", 1)[1]
    stored = get_session().scalars(sa.select(AccountToken.token_hash)).all()
    assert raw not in stored and hashlib.sha256(raw.encode()).hexdigest() in stored
    client.post("/logout")
    form = client.get(link)
    assert form.status_code == 200 and "Budi Santoso" in form.get_data(as_text=True)
    assert form.headers["Cache-Control"] == "no-store"
    short = client.post(link, data={"password": "pendek", "confirm": "pendek"})
    assert "paling sedikit 10" in short.get_data(as_text=True).lower()
    saved = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
                        follow_redirects=True)
    assert "Kata sandi Anda tersimpan" in saved.get_data(as_text=True)
    # Single use.
    assert client.get(link).status_code == 404
    signed_in = auth.login("198501012010011001", NEW_PASSWORD)
    assert signed_in.status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "Budi Santoso" in home and "<dt>Surel</dt>" in home


def test_new_user_gets_an_invitation(client, login_as):
    login_as("admin")
    response = client.post("/admin/users/new", data={
        "name": "Rina Baru", "email": "rina@example.go.id", "nip": "",
        "roles": ["learner"], "position_id": "0", "active": "y", "invite": "y"},
        follow_redirects=True)
    assert "Undangan untuk membuat kata sandi dikirim ke rina@example.go.id" in \
        response.get_data(as_text=True)
    assert len(_outbox(accounts.MAIL_INVITATION, "rina@example.go.id")) == 1


def test_forgot_password_says_the_same_and_leaks_nothing(client, app):
    user = factories.make_user(name="Tono", email="tono@example.go.id",
                               password=factories.PASSWORD)
    get_session().commit()
    known = client.post("/password/forgot", data={"identifier": "tono@example.go.id"})
    unknown = client.post("/password/forgot", data={"identifier": "nobody@example.go.id"})
    by_nip = client.post("/password/forgot", data={"identifier": user.nip})
    message = "Jika ada akun dengan NIP atau surel tersebut"
    for response in (known, unknown, by_nip):
        assert response.status_code == 200 and message in response.get_data(as_text=True)
    sent = _outbox(accounts.MAIL_RESET)
    assert [m.to_address for m in sent] == ["tono@example.go.id"] * 2
    # The second link retired the first.
    first, second = (_link(m) for m in sent)
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    client.post(second, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert client.post("/login", data={"identifier": "tono@example.go.id",
                                       "password": factories.PASSWORD}).status_code == 400
    assert client.post("/login", data={"identifier": "tono@example.go.id",
                                       "password": NEW_PASSWORD}).status_code == 302


def test_links_expire_and_bad_tokens_are_404(client, app):
    user = factories.make_user(name="Kedaluwarsa", email="exp@example.go.id")
    get_session().commit()
    token = accounts.issue(user, accounts.RESET)
    row = get_session().scalars(sa.select(AccountToken)).one()
    row.expires_at = utcnow() - dt.timedelta(seconds=1)
    get_session().commit()
    assert client.get(f"/password/set/{token}").status_code == 404
    assert client.get("/password/set/" + "x" * 500).status_code == 404
    assert client.post(f"/password/set/{token}", data={
        "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 404


def test_pending_list_resend_and_bulk_job(client, login_as):
    waiting = factories.make_user(name="Belum Aktif", email="belum@example.go.id")
    factories.make_user(name="Tanpa Surel", email=None)
    factories.make_user(name="Sudah Aktif", email="aktif@example.go.id",
                        password=factories.PASSWORD)
    get_session().commit()
    login_as("admin")
    page = client.get("/admin/accounts/pending").get_data(as_text=True)
    assert "Belum Aktif" in page and "Tanpa Surel" in page and "Sudah Aktif" not in page
    assert "belum pernah" in page
    resend = client.post(f"/admin/accounts/{waiting.id}/invite", follow_redirects=True)
    assert "Undangan dikirim ke belum@example.go.id" in resend.get_data(as_text=True)
    job = client.post("/admin/accounts/invite-all", headers={"Accept": "application/json"})
    assert job.status_code in (200, 202)
    status = client.get(job.get_json()["status_url"]).get_json()
    assert status["status"] == "done", status
    # Every account not activated with an address got one (the re-sent one twice).
    assert len(_outbox(accounts.MAIL_INVITATION, "belum@example.go.id")) == 2
    assert _outbox(accounts.MAIL_INVITATION, "aktif@example.go.id") == []
    assert get_session().scalar(sa.select(sa.func.count()).select_from(User)) >= 3
    # Learners do not reach the list.
    client.post("/logout")
    login_as("learner")
    assert client.get("/admin/accounts/pending").status_code == 403
