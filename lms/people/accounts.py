"""Accounts for every ASN: invitations and password resets by one-time links.

A link carries a random token (``secrets.token_urlsafe(32)``, 256 bits); the database
keeps only its SHA-256, the purpose, the expiry and when it was used. Redeeming a link
sets the password (which rotates the session token, so other sessions end), marks the
token used and retires every other open token of the person. "Lupa kata sandi" answers
the same words whether or not an account exists, and sends nothing for unknown ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms.db import get_session, utcnow
from lms.errors import ValidationError
from lms.people.models import AccountToken, User

INVITE = "invite"
RESET = "reset"
MAIL_INVITATION = "people.invitation"
MAIL_RESET = "people.password_reset"


def register() -> None:
    from lms.mail.categories import register_category

    register_category(MAIL_INVITATION, _l("Invitation to activate your Lentera account"),
                      _l("New employees"), optional=False,
                      description=_l("When HR creates or imports your account."))
    register_category(MAIL_RESET, _l("Link to set a new password"), _l("Everyone"),
                      optional=False,
                      description=_l("When you ask for one on the sign-in page."))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def issue(user: User, purpose: str) -> str:
    """A new one-time token for ``user`` (older open tokens of the purpose are retired);
    returns the token to put in the link. Flushes."""
    session = get_session()
    now = utcnow()
    session.execute(sa.update(AccountToken).where(
        AccountToken.user_id == user.id, AccountToken.purpose == purpose,
        AccountToken.used_at.is_(None)).values(used_at=now))
    if purpose == INVITE:
        valid = dt.timedelta(days=int(current_app.config["INVITATION_VALID_DAYS"]))
    else:
        valid = dt.timedelta(minutes=int(current_app.config["PASSWORD_RESET_VALID_MINUTES"]))
    token = secrets.token_urlsafe(32)
    session.add(AccountToken(user_id=user.id, purpose=purpose, token_hash=token_hash(token),
                             created_at=now, expires_at=now + valid))
    session.flush()
    return token


def find(token: str) -> AccountToken | None:
    """The open (unused, unexpired) token row, for an active user; None otherwise."""
    if not token or len(token) > 200:
        return None
    row = get_session().scalar(sa.select(AccountToken).where(
        AccountToken.token_hash == token_hash(token)))
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    user = get_session().get(User, row.user_id)
    if user is None or not user.active:
        return None
    return row


def redeem(token: str, password: str) -> User:
    """Set the password through a link; the link is spent. ValidationError when the link
    is not valid (used, expired, unknown) or the password too weak."""
    from lms.people.service import check_password_strength, set_password

    row = find(token)
    if row is None:
        raise ValidationError(_("This link is not valid any more. Ask for a new one."),
                              field="password")
    check_password_strength(password)
    user = get_session().get(User, row.user_id)
    assert user is not None
    set_password(user, password)
    now = utcnow()
    get_session().execute(sa.update(AccountToken).where(
        AccountToken.user_id == user.id, AccountToken.used_at.is_(None)).values(used_at=now))
    get_session().flush()
    return user


def _link(token: str) -> str:
    from lms.mail import absolute_url

    return absolute_url("auth.set_password", token=token)


def send_invitation(user: User) -> bool:
    """Queue an invitation with a fresh link; False when the person has no usable
    address (or is not active). The caller commits."""
    from lms.mail import queue_mail, recipient_locale
    from lms.mail.service import valid_address

    if not user.active or not user.email or not valid_address(user.email):
        return False
    token = issue(user, INVITE)
    days = int(current_app.config["INVITATION_VALID_DAYS"])
    with force_locale(recipient_locale(user)):
        subject = _("Your Lentera account is ready")
        text = _("Hello %(name)s,\n\nan account on Lentera, the learning platform of your "
                 "regional government, has been made for you. Sign in with your NIP "
                 "(%(nip)s) or this e-mail address after you set your password with the link "
                 "below. The link works once and for %(days)d days.", name=user.name,
                 nip=user.nip or "-", days=days)
    return queue_mail(user, subject, text, category=MAIL_INVITATION,
                      link=_link(token)) is not None


def send_reset(identifier: str) -> None:
    """"Lupa kata sandi": queue a link for the account ``identifier`` names, if any. Says
    nothing about whether one exists (the caller shows the same page either way)."""
    from lms.mail import queue_mail, recipient_locale
    from lms.people.service import find_user

    user = find_user((identifier or "").strip()[:300]) if identifier else None
    if user is None or not user.active or not user.email:
        # Spend about the time of the real path (a token hash and a query).
        token_hash(secrets.token_urlsafe(32))
        return
    token = issue(user, RESET)
    minutes = int(current_app.config["PASSWORD_RESET_VALID_MINUTES"])
    with force_locale(recipient_locale(user)):
        subject = _("Set a new Lentera password")
        text = _("Someone (we hope you) asked to set a new password for your Lentera "
                 "account. Use the link below within %(minutes)d minutes; it works once. "
                 "If you did not ask, ignore this e-mail: your password stays as it is.",
                 minutes=minutes)
    queue_mail(user, subject, text, category=MAIL_RESET, link=_link(token))


def not_activated() -> sa.Select:
    """Active accounts that never set a password nor signed in (SSO sign-ins count)."""
    return (sa.select(User).where(User.active.is_(True), User.password_hash.is_(None),
                                  User.last_login_at.is_(None))
            .order_by(User.name, User.id))


def last_invited(user_ids: list[int]) -> dict[int, dt.datetime]:
    if not user_ids:
        return {}
    rows = get_session().execute(
        sa.select(AccountToken.user_id, sa.func.max(AccountToken.created_at))
        .where(AccountToken.purpose == INVITE, AccountToken.user_id.in_(user_ids))
        .group_by(AccountToken.user_id)).all()
    return {user_id: when for user_id, when in rows}


def invitations_job(job: Any, params: dict[str, Any], progress: Any) -> None:
    """Background job ``people.invitations``: invite ``params["user_ids"]`` (or every
    account not activated yet), committing every 200 with progress."""
    session = get_session()
    ids = params.get("user_ids")
    if ids is None:
        ids = [u.id for u in session.scalars(not_activated())]
    ids = [int(i) for i in ids][:500_000]
    sent = skipped = 0
    for number, user_id in enumerate(ids, start=1):
        user = session.get(User, user_id)
        if user is not None and user.password_hash is None and send_invitation(user):
            sent += 1
        else:
            skipped += 1
        if number % 200 == 0 or number == len(ids):
            session.commit()
            progress(100.0 * number / max(1, len(ids)),
                     _("%(sent)d invitations sent, %(skipped)d skipped.", sent=sent,
                       skipped=skipped))
    session.commit()
    progress(100.0, _("%(sent)d invitations sent, %(skipped)d skipped.", sent=sent,
                      skipped=skipped))
    return None
