"""The e-mail outbox: queueing in the caller's transaction, SMTP and log delivery, retries,
the CLI and the admin page."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
import sqlalchemy as sa
from flask import current_app

from lms.db import utcnow
from lms.errors import ValidationError
from lms.mail import queue_mail
from lms.mail.models import OutboxMessage
from lms.mail.service import send_pending
from tests import factories


def _smtp(port: int, **extra: Any) -> None:
    current_app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, **extra)


def test_queue_mail_adds_a_row_in_the_callers_transaction(app: Any, db: Any) -> None:
    user = factories.make_user(email="ani@contoh.go.id")
    msg = queue_mail(user, "Halo\nAni", "Isi pesan", html="<p>Isi <script>x</script></p>",
                     category="community")
    assert msg is not None and msg.id and msg.user_id == user.id
    assert msg.subject == "Halo Ani"  # no header injection
    assert "<script>" not in (msg.html or "")
    db.rollback()  # the caller's transaction decides: nothing stays, nothing is sent
    assert db.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_users_without_address_are_skipped_and_bad_addresses_refused(app: Any, db: Any) -> None:
    user = factories.make_user(email=None)
    assert queue_mail(user, "s", "t") is None
    for bad in ("", "no-at-sign", "a@b.c, d@e.f", "x@y.z\r\nBcc: v@w.x", "A <a@b.cd>"):
        with pytest.raises(ValidationError):
            queue_mail(bad, "s", "t")
    assert queue_mail("  budi@contoh.go.id ", "s", "t").to_address == "budi@contoh.go.id"


def test_smtp_delivery_marks_sent(app: Any, db: Any, smtp_server: Any) -> None:
    _smtp(smtp_server.port, MAIL_USERNAME="lentera", MAIL_PASSWORD="pw",
          MAIL_SENDER="Lentera <lentera@contoh.go.id>")
    queue_mail("a@contoh.go.id", "Satu", "Teks satu", html="<p>HTML</p>")
    queue_mail("b@contoh.go.id", "Dua", "Teks dua")
    db.commit()
    assert send_pending() == {"sent": 2, "retry": 0, "failed": 0}
    assert [r for r, _m in smtp_server.received] == [["a@contoh.go.id"], ["b@contoh.go.id"]]
    first = smtp_server.received[0][1]
    assert first["Subject"] == "Satu" and first["From"] == "Lentera <lentera@contoh.go.id>"
    assert first.get_body(("plain",)).get_content().strip() == "Teks satu"
    assert "<p>HTML</p>" in first.get_body(("html",)).get_content()
    assert smtp_server.logins  # authenticated
    rows = db.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(r.status, r.attempts) for r in rows] == [("sent", 1), ("sent", 1)]
    assert all(r.sent_at for r in rows)
    assert send_pending() == {"sent": 0, "retry": 0, "failed": 0}  # never twice


def test_no_server_writes_the_log(app: Any, db: Any, caplog: Any) -> None:
    queue_mail("a@contoh.go.id", "Log saja", "Isi ke log")
    db.commit()
    with caplog.at_level(logging.INFO, logger="lms.mail.service"):
        assert send_pending()["sent"] == 1
    assert "Log saja" in caplog.text and "Isi ke log" in caplog.text


def test_unreachable_server_retries_with_backoff_then_fails(app: Any, db: Any,
                                                            closed_port: int) -> None:
    _smtp(closed_port, MAIL_MAX_ATTEMPTS=2, MAIL_TIMEOUT=2)
    msg = queue_mail("a@contoh.go.id", "s", "t")
    db.commit()
    now = utcnow()
    assert send_pending(now=now) == {"sent": 0, "retry": 1, "failed": 0}
    db.refresh(msg)
    assert msg.status == "queued" and msg.attempts == 1 and msg.last_error
    assert msg.next_attempt > now
    assert send_pending(now=now)["retry"] == 0  # not due yet
    later = now + dt.timedelta(hours=1)
    assert send_pending(now=later) == {"sent": 0, "retry": 0, "failed": 1}
    db.refresh(msg)
    assert msg.status == "failed" and msg.attempts == 2


def test_permanent_refusal_fails_at_once(app: Any, db: Any, smtp_server: Any) -> None:
    _smtp(smtp_server.port)
    smtp_server.refuse, smtp_server.refuse_code = {"gone@contoh.go.id"}, 550
    bad = queue_mail("gone@contoh.go.id", "s", "t")
    good = queue_mail("ok@contoh.go.id", "s", "t")
    db.commit()
    assert send_pending() == {"sent": 1, "retry": 0, "failed": 1}
    db.refresh(bad)
    db.refresh(good)
    assert bad.status == "failed" and "refused" in bad.last_error and good.status == "sent"


def test_a_claimed_message_is_not_sent_twice_until_its_lease_ends(app: Any, db: Any,
                                                                  smtp_server: Any) -> None:
    _smtp(smtp_server.port)
    msg = queue_mail("a@contoh.go.id", "s", "t")
    db.commit()
    now = utcnow()
    db.execute(sa.update(OutboxMessage).values(status="sending",
                                               lease_until=now + dt.timedelta(minutes=5)))
    db.commit()
    assert send_pending(now=now)["sent"] == 0  # another sender holds it
    assert send_pending(now=now + dt.timedelta(minutes=6))["sent"] == 1  # that sender died
    db.refresh(msg)
    assert msg.status == "sent" and len(smtp_server.received) == 1


def test_cli_send(app: Any, db: Any, runner: Any, smtp_server: Any) -> None:
    _smtp(smtp_server.port)
    queue_mail("a@contoh.go.id", "s", "t")
    db.commit()
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output and len(smtp_server.received) == 1
    result = runner.invoke(args=["mail", "test", "x@contoh.go.id"])
    assert result.exit_code == 0 and len(smtp_server.received) == 2
    assert runner.invoke(args=["mail", "test", "nope"]).exit_code == 1


def test_cli_send_exits_2_when_a_message_failed(app: Any, db: Any, runner: Any,
                                               closed_port: int) -> None:
    _smtp(closed_port, MAIL_MAX_ATTEMPTS=1)
    queue_mail("a@contoh.go.id", "s", "t")
    db.commit()
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 2 and "failed 1" in result.output


def test_admin_outbox_page_and_retry(app: Any, db: Any, client: Any, users: Any,
                                     login_as: Any) -> None:
    msg = queue_mail("a@contoh.go.id", "Pengingat <b>", "t", category="evaluation")
    msg.status, msg.last_error, msg.attempts = "failed", "550 no such user", 5
    db.commit()
    login_as("hr")
    assert client.get("/admin/mail/").status_code == 403
    login_as("admin")
    page = client.get("/admin/mail/?status=failed")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Pengingat &lt;b&gt;" in html and "550 no such user" in html
    assert client.get("/admin/mail/?status=bogus").status_code == 400
    assert client.get(f"/admin/mail/{msg.id}").status_code == 200
    assert client.get("/admin/mail/999999").status_code == 404
    assert client.post("/admin/mail/999999/retry").status_code == 404
    assert client.post(f"/admin/mail/{msg.id}/retry").status_code == 302
    db.refresh(msg)
    assert (msg.status, msg.attempts) == ("queued", 0)
    msg.status = "failed"
    db.commit()
    assert client.post("/admin/mail/retry-failed").status_code == 302
    db.refresh(msg)
    assert msg.status == "queued"


def test_admin_retry_needs_csrf(make_app: Any, db: Any, users: Any) -> None:
    other = make_app(WTF_CSRF_ENABLED=True)
    client = other.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = users["admin"].get_id()
        session["_fresh"] = True
    msg = queue_mail("a@contoh.go.id", "s", "t")
    db.commit()
    assert client.post(f"/admin/mail/{msg.id}/retry").status_code == 400


def test_background_sending_after_commit(make_app: Any, db: Any) -> None:
    """With MAIL_BACKGROUND on and no broker, a commit wakes the in-process sender."""
    import time

    other = make_app(MAIL_BACKGROUND=True)
    with other.app_context():
        from lms.db import get_session

        queue_mail("a@contoh.go.id", "s", "t")
        get_session().commit()
        sender = other.extensions["lms.mail.sender"]
    deadline = time.monotonic() + 20
    status = "queued"
    while time.monotonic() < deadline and status != "sent":
        time.sleep(0.1)
        db.expire_all()
        status = db.scalar(sa.select(OutboxMessage.status))
    assert status == "sent"
    assert sender.thread is not None


def test_purge_keeps_recent_and_unsent(app: Any, db: Any, runner: Any) -> None:
    old = queue_mail("a@contoh.go.id", "lama", "t")
    recent = queue_mail("b@contoh.go.id", "baru", "t")
    failed = queue_mail("c@contoh.go.id", "gagal", "t")
    long_ago = utcnow() - dt.timedelta(days=120)
    old.status, old.created = "sent", long_ago
    recent.status = "sent"
    failed.status, failed.created = "failed", long_ago
    db.commit()
    result = runner.invoke(args=["mail", "purge", "--days", "90"])
    assert result.exit_code == 0 and "deleted 1" in result.output
    db.expire_all()
    assert sorted(db.scalars(sa.select(OutboxMessage.subject))) == ["baru", "gagal"]


def test_the_background_sender_finishes_before_exit(make_app: Any, db: Any) -> None:
    from lms.mail import _Sender

    other = make_app()
    with other.app_context():
        from lms.db import get_session

        queue_mail("a@contoh.go.id", "s", "t")
        get_session().commit()
    sender = _Sender(other)
    sender.poke()
    sender.stop()  # what atexit does: wait for the batch, then end the thread
    assert sender.thread is not None and not sender.thread.is_alive()
    db.expire_all()
    assert db.scalar(sa.select(OutboxMessage.status)) == "sent"
