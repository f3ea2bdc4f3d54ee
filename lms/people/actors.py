"""How people appear in xAPI: the account actor, and finding the user behind an actor.

A learner is identified by the account actor ``{"homePage": LMS_BASE_URL, "name": NIP}``;
statements from other platforms may instead use ``mbox`` (``mailto:`` + e-mail) or
``mbox_sha1sum``, which are matched against users' e-mail addresses.
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import orm

from lms.db import get_session
from lms.people.models import User


def actor_for(user: User) -> dict[str, Any]:
    """The xAPI Agent that stands for ``user`` in every statement Lentera writes."""
    if user.nip:
        account = {"homePage": current_app.config["BASE_URL"], "name": user.nip}
    else:
        # Staff without a NIP (trainers from outside, admins) are identified by user id.
        account = {"homePage": current_app.config["BASE_URL"], "name": f"user:{user.id}"}
    return {"objectType": "Agent", "name": user.name, "account": account}


def _actor_key(actor: dict[str, Any]) -> tuple[str, str] | None:
    """What identifies the person in an Agent (our account name, e-mail or its hash)."""
    account = actor.get("account")
    if isinstance(account, dict):
        if str(account.get("homePage", "")).rstrip("/") != current_app.config["BASE_URL"]:
            return None
        name = str(account.get("name", ""))
        return ("account", name) if name else None
    mbox = actor.get("mbox")
    if isinstance(mbox, str) and mbox.lower().startswith("mailto:"):
        email = mbox[7:].strip().lower()
        return ("mbox", email) if email else None
    sha1 = actor.get("mbox_sha1sum")
    if isinstance(sha1, str) and len(sha1) == 40:
        return ("sha1", sha1.lower())
    return None


def _find(kind: str, value: str) -> User | None:
    session = get_session()
    if kind == "account":
        if value.startswith("user:") and value[5:].isdigit():
            return session.get(User, int(value[5:]))
        return session.scalar(sa.select(User).where(User.nip == value))
    if kind == "mbox":
        return session.scalar(sa.select(User).where(User.email == value))
    # Only a scan can match a hash; e-mail counts are small (one row per employee).
    for user_id, email in session.execute(
        sa.select(User.id, User.email).where(User.email.is_not(None))
    ):
        if hashlib.sha1(f"mailto:{email}".encode()).hexdigest() == value:
            return session.get(User, user_id)
    return None


def user_for_actor(actor: dict[str, Any] | None) -> User | None:
    """The user an xAPI Agent identifies, or None (unknown person, group, other system).

    Found users are remembered until the transaction ends: a batch of statements (a quiz
    submission, a consumer's catch-up) names the same few people many times.
    """
    if not isinstance(actor, dict) or actor.get("objectType", "Agent") != "Agent":
        return None
    key = _actor_key(actor)
    if key is None:
        return None
    session = get_session()
    # The users themselves are kept, not their ids: the session's identity map holds its
    # objects weakly, and an id would mean a query again once the object is collected.
    known: dict[tuple[str, str], User] = session.info.setdefault(_CACHE, {})
    user = known.get(key)
    if user is not None and user in session:
        return user
    user = _find(*key)
    if user is not None:
        known[key] = user
    return user


_CACHE = "lms.people.actor_users"


@sa.event.listens_for(orm.Session, "after_commit")
@sa.event.listens_for(orm.Session, "after_soft_rollback")
def _forget_actors(session: orm.Session, *_args: Any) -> None:
    session.info.pop(_CACHE, None)
