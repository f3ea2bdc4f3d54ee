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


def user_for_actor(actor: dict[str, Any] | None) -> User | None:
    """The user an xAPI Agent identifies, or None (unknown person, group, other system)."""
    if not isinstance(actor, dict) or actor.get("objectType", "Agent") != "Agent":
        return None
    session = get_session()
    account = actor.get("account")
    if isinstance(account, dict):
        if str(account.get("homePage", "")).rstrip("/") != current_app.config["BASE_URL"]:
            return None
        name = str(account.get("name", ""))
        if name.startswith("user:") and name[5:].isdigit():
            return session.get(User, int(name[5:]))
        return session.scalar(sa.select(User).where(User.nip == name)) if name else None
    mbox = actor.get("mbox")
    if isinstance(mbox, str) and mbox.lower().startswith("mailto:"):
        email = mbox[7:].strip().lower()
        return session.scalar(sa.select(User).where(User.email == email)) if email else None
    sha1 = actor.get("mbox_sha1sum")
    if isinstance(sha1, str) and len(sha1) == 40:
        # Only a scan can match a hash; e-mail counts are small (one row per employee).
        for user_id, email in session.execute(
            sa.select(User.id, User.email).where(User.email.is_not(None))
        ):
            if hashlib.sha1(f"mailto:{email}".encode()).hexdigest() == sha1.lower():
                return session.get(User, user_id)
    return None
