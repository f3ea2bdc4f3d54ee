"""Queueing and delivering e-mail through the outbox (see docs/mail.md).

:func:`queue_mail` only adds a row to the caller's session: nothing leaves before the
caller commits, and a rolled-back transaction sends nothing. :func:`send_pending` claims
due rows one at a time (a compare-and-set UPDATE with a lease), sends them over SMTP when
``MAIL_SERVER`` is set or writes them to the log otherwise, and records the outcome:
``sent``; ``queued`` again with a growing delay after a temporary failure; ``failed``
with the error after a permanent one or after ``MAIL_MAX_ATTEMPTS`` tries.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any
from urllib.parse import urlsplit

import nh3
import sqlalchemy as sa
from flask import Flask, current_app

from lms.db import after_commit, get_session, utcnow
from lms.errors import ValidationError
from lms.mail.categories import MailCategory, categories, get_category
from lms.mail.models import FAILED, QUEUED, SENDING, SENT, MailOptOut, OutboxMessage

log = logging.getLogger(__name__)

#: The after-commit kind (lms.db.after_commit) of new rows in the outbox.
KIND = "mail"
_ADDRESS = re.compile(r"^[^@\s<>,;\"']+@[^@\s<>,;\"']+\.[^@\s<>,;\"']+$|"
                      r"^[^@\s<>,;\"']+@localhost$")


def valid_address(address: str) -> bool:
    """A single plain address (no display name, no list, no header tricks)."""
    return bool(address) and len(address) <= 254 and bool(_ADDRESS.match(address))


def _one_line(value: str, limit: int) -> str:
    return " ".join(str(value).split())[:limit]


def queue_mail(to: Any, subject: str, text: str, *, html: str | None = None,
               category: str = "general", link: str | None = None, key: str | None = None,
               footer: bool = True) -> OutboxMessage | None:
    """Add a message to the outbox in the current session; the caller commits.

    ``to`` is a :class:`~lms.people.models.User` or an e-mail address. A user without an
    address (or an inactive one, or one whose stored address is not valid) is skipped: the
    result is None, and so it is when the user turned ``category`` off. ``category`` must
    be registered (:func:`lms.mail.register_category`; an unknown one raises ValueError: a
    programming error). An address that is not a single valid address raises
    :class:`~lms.errors.ValidationError`. ``html`` is an optional alternative part,
    sanitised. ``link``: where the thing waiting is, added at the end of the text. ``key``:
    a message with the same key is queued only once (None when it was). With ``footer``,
    mail to a user ends, in the user's language, with why it came and where to turn this
    kind off. Returns the (flushed) outbox row.
    """
    found = get_category(category)
    if found is None:
        raise ValueError(f"unknown mail category {category!r}: register it with "
                         "lms.mail.register_category")
    session = get_session()
    user_id: int | None = None
    user = None
    if isinstance(to, str):
        address = to.strip()
    else:
        if not getattr(to, "email", None) or getattr(to, "active", True) is False:
            return None
        address = str(to.email).strip()
        user_id = to.id
        user = to
        if not valid_address(address):
            # One stored address the outbox refuses must not cost the sender its change.
            log.warning("mail to user %s skipped: the stored address is refused", user_id)
            return None
    if not valid_address(address):
        raise ValidationError(f"Not a valid e-mail address: {address!r}", field="to")
    if user_id is not None and found.optional and turned_off(user_id, category):
        return None
    if key is not None:
        key = _one_line(key, 200)
        if session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.key == key)):
            return None
    body = str(text).rstrip()
    if link:
        body += "\n\n" + str(link)
    if footer and user is not None:
        body += _footer(user, found)
    message = OutboxMessage(
        to_address=address, user_id=user_id, subject=_one_line(subject, 300) or "(no subject)",
        text=body, html=nh3.clean(html) if html else None,
        category=found.name, status=QUEUED, attempts=0, key=key)
    session.add(message)
    session.flush()
    after_commit(KIND, session=session)
    return message


def _footer(user: Any, category: MailCategory) -> str:
    from flask_babel import force_locale
    from flask_babel import gettext as _

    with force_locale(recipient_locale(user)):
        text = "\n\n-- \n" + _("Lentera sends you this e-mail: %(label)s.",
                                  label=str(category.label))
        if category.optional:
            text += "\n" + _("Choose which e-mails you get: %(url)s",
                              url=absolute_url("notifications.settings"))
    return text


def recipient_locale(user: Any) -> str:
    """The language to write to ``user`` in: theirs when the platform offers it, else the
    platform's default (Bahasa Indonesia)."""
    languages = current_app.config.get("LANGUAGES") or ["id"]
    locale = getattr(user, "locale", None)
    if locale and locale in languages:
        return str(locale)
    return str(current_app.config.get("BABEL_DEFAULT_LOCALE") or "id")


def absolute_url(endpoint: str, **values: Any) -> str:
    """An absolute link under ``LMS_BASE_URL``, also outside a request (CLI, workers)."""
    from flask import url_for

    base = str(current_app.config["BASE_URL"]).rstrip("/")
    with current_app.test_request_context("/", base_url=base):
        return url_for(endpoint, _external=True, **values)


def turned_off(user_id: int, category: str) -> bool:
    return get_session().get(MailOptOut, (user_id, category)) is not None


def preferences(user: Any) -> list[tuple[MailCategory, bool]]:
    """The kinds of e-mail ``user`` can get and may turn off, each with whether it is on."""
    off = set(get_session().scalars(sa.select(MailOptOut.category)
                                    .where(MailOptOut.user_id == user.id)))
    return [(c, c.name not in off) for c in categories() if c.optional and c.applies_to(user)]


def set_preferences(user: Any, wanted_on: list[str]) -> int:
    """Turn on the categories named in ``wanted_on`` and off the other ones ``user`` can
    get; a name that is not such a category raises ValidationError. Returns how many are
    off now. Flushes."""
    from flask_babel import gettext as _

    offered = {c.name for c, _on in preferences(user)}
    chosen = set()
    for name in wanted_on:
        if not isinstance(name, str) or name not in offered:
            raise ValidationError(_("Unknown kind of e-mail."), field="on")
        chosen.add(name)
    session = get_session()
    existing = {row.category: row for row in session.scalars(
        sa.select(MailOptOut).where(MailOptOut.user_id == user.id))}
    for name in offered:
        if name in chosen and name in existing:
            session.delete(existing[name])
        elif name not in chosen and name not in existing:
            session.add(MailOptOut(user_id=user.id, category=name))
    session.flush()
    return len(offered - chosen)


# --- delivery --------------------------------------------------------------------------

def sender_address(app: Flask) -> str:
    configured = str(app.config.get("MAIL_SENDER") or "").strip()
    if configured:
        return configured
    host = urlsplit(str(app.config.get("BASE_URL") or "")).hostname or "localhost"
    return f"Lentera <noreply@{host}>"


def build_message(app: Flask, row: OutboxMessage) -> EmailMessage:
    """The RFC 5322 message for an outbox row."""
    msg = EmailMessage()
    sender = sender_address(app)
    msg["From"] = sender
    msg["To"] = row.to_address
    msg["Subject"] = row.subject
    msg["Date"] = formatdate(localtime=False)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    msg["Message-ID"] = make_msgid(f"lentera.{row.id}", domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(row.text)
    if row.html:
        msg.add_alternative(row.html, subtype="html")
    return msg


class PermanentError(Exception):
    """The server refused the message for good (a 5xx answer): retrying will not help."""


class Transport:
    """Sends messages over one SMTP connection (opened on first use), or to the log."""

    def __init__(self, app: Flask):
        self.app = app
        self.server = str(app.config.get("MAIL_SERVER") or "")
        self.smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        cfg = self.app.config
        port = int(cfg.get("MAIL_PORT") or (465 if cfg.get("MAIL_USE_SSL") else 25))
        timeout = float(cfg.get("MAIL_TIMEOUT", 10))
        smtp: smtplib.SMTP
        if cfg.get("MAIL_USE_SSL"):
            smtp = smtplib.SMTP_SSL(self.server, port, timeout=timeout)
        else:
            smtp = smtplib.SMTP(self.server, port, timeout=timeout)
            if cfg.get("MAIL_USE_TLS"):
                smtp.starttls()
        if cfg.get("MAIL_USERNAME"):
            smtp.login(str(cfg["MAIL_USERNAME"]), str(cfg.get("MAIL_PASSWORD") or ""))
        return smtp

    def send(self, msg: EmailMessage) -> None:
        if not self.server:
            log.info("e-mail (no MAIL_SERVER, logged only) to %s: %s\n%s", msg["To"],
                     msg["Subject"], msg.get_body(("plain",)).get_content())  # type: ignore[union-attr]
            return
        try:
            if self.smtp is None:
                self.smtp = self._connect()
            self.smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _m in exc.recipients.values()]
            if codes and all(500 <= c < 600 for c in codes):
                raise PermanentError(f"recipient refused: {exc.recipients}") from exc
            self.close()
            raise
        except smtplib.SMTPResponseException as exc:
            self.close()
            if 500 <= exc.smtp_code < 600 and not isinstance(
                    exc, smtplib.SMTPAuthenticationError):
                raise PermanentError(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            raise
        except (OSError, smtplib.SMTPException):
            self.close()
            raise

    def close(self) -> None:
        smtp, self.smtp = self.smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


def _backoff(app: Flask, attempts: int) -> dt.timedelta:
    base = float(app.config.get("MAIL_RETRY_SECONDS", 60))
    return dt.timedelta(seconds=min(base * 2 ** max(0, attempts - 1), 6 * 3600))


def _due(now: dt.datetime) -> Any:
    return sa.or_(
        sa.and_(OutboxMessage.status == QUEUED,
                sa.or_(OutboxMessage.next_attempt.is_(None), OutboxMessage.next_attempt <= now)),
        sa.and_(OutboxMessage.status == SENDING, OutboxMessage.lease_until < now))


def send_pending(limit: int = 200, now: dt.datetime | None = None) -> dict[str, int]:
    """Send the due messages (at most ``limit``); commits after each one.

    Returns counts of ``sent``, ``retry`` (queued again) and ``failed``.
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    session = get_session()
    session.commit()  # start from a clean transaction: each claim commits on its own
    max_attempts = int(app.config.get("MAIL_MAX_ATTEMPTS", 5))
    lease = dt.timedelta(seconds=float(app.config.get("MAIL_LEASE_SECONDS", 300)))
    counts = {"sent": 0, "retry": 0, "failed": 0}
    transport = Transport(app)
    try:
        ids = list(session.scalars(sa.select(OutboxMessage.id).where(_due(now or utcnow()))
                                   .order_by(OutboxMessage.id).limit(limit)))
        for message_id in ids:
            moment = now or utcnow()
            claimed = session.execute(  # type: ignore[attr-defined]
                sa.update(OutboxMessage)
                .where(OutboxMessage.id == message_id, _due(moment))
                .values(status=SENDING, lease_until=moment + lease,
                        attempts=OutboxMessage.attempts + 1)
                .execution_options(synchronize_session=False)).rowcount
            session.commit()
            if claimed != 1:
                continue  # another sender took it
            row = session.get(OutboxMessage, message_id, populate_existing=True)
            assert row is not None
            try:
                transport.send(build_message(app, row))
            except PermanentError as exc:
                row.status, row.last_error = FAILED, str(exc)[:2000]
                counts["failed"] += 1
            except (OSError, smtplib.SMTPException) as exc:
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                if row.attempts >= max_attempts:
                    row.status = FAILED
                    counts["failed"] += 1
                else:
                    row.status = QUEUED
                    row.next_attempt = (now or utcnow()) + _backoff(app, row.attempts)
                    counts["retry"] += 1
            else:
                row.status, row.sent_at, row.last_error = SENT, now or utcnow(), None
                counts["sent"] += 1
            row.lease_until = None
            session.commit()
            if row.status == FAILED:
                log.warning("e-mail %s to %s failed: %s", row.id, row.to_address, row.last_error)
    finally:
        transport.close()
    return counts


def retry(message_id: int) -> OutboxMessage | None:
    """Queue a failed (or stuck) message again, with a fresh count of attempts."""
    row = get_session().get(OutboxMessage, message_id)
    if row is None or row.status == SENT:
        return None
    row.status, row.attempts, row.next_attempt, row.lease_until = QUEUED, 0, None, None
    get_session().flush()
    after_commit(KIND)
    return row
