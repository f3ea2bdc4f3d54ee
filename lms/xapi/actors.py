"""How people appear in xAPI: the account actor, and finding the user behind an actor.

A learner is identified by the account actor ``{"homePage": LMS_BASE_URL, "name": NIP}``;
statements from other platforms may instead use ``mbox`` (``mailto:`` + e-mail) or
``mbox_sha1sum``, which are matched against users' e-mail addresses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import orm

from lms.db import get_session
from lms.people.models import User
from lms.xapi.validation.agents import agent_key


def actor_for(user: User) -> dict[str, Any]:
    """The xAPI Agent that stands for ``user`` in every statement Lentera writes."""
    if user.nip:
        account = {"homePage": current_app.config["BASE_URL"], "name": user.nip}
    else:
        # Staff without a NIP (trainers from outside, admins) are identified by user id.
        account = {"homePage": current_app.config["BASE_URL"], "name": f"user:{user.id}"}
    return {"objectType": "Agent", "name": user.name, "account": account}


def actor_keys(user: User | Any) -> list[str]:
    """Every actor key (:func:`~lms.xapi.validation.agents.agent_key`, the LRS's
    ``actor_key`` column) a user's statements can carry: the account by user id and by
    NIP, the e-mail address and its SHA-1. ``user`` is a User or a row with its ``id``,
    ``nip`` and ``email``."""
    base = current_app.config["BASE_URL"]
    agents: list[dict[str, Any]] = [{"account": {"homePage": base, "name": f"user:{user.id}"}}]
    if user.nip:
        agents.append({"account": {"homePage": base, "name": user.nip}})
    if user.email:
        agents.append({"mbox": f"mailto:{user.email}"})
        agents.append({"mbox_sha1sum": hashlib.sha1(f"mailto:{user.email}".encode())
                       .hexdigest()})
    return [key for agent in agents if (key := agent_key(agent))]


#: The users found for statements are loaded without their roles (one query, not two):
#: the statement consumers that ask are told who learned, never what they may do. The
#: roles still load if something reads them.
_WITHOUT_ROLES = (orm.lazyload(User.role_rows),)
#: The largest user id (the column is a 32-bit integer).
_MAX_ID = 2**31 - 1


def _lookup(key: str) -> tuple[str, Any] | None:
    """What an actor key names among our users: ``("id", 12)``, ``("nip", "1985...")``,
    ``("email", "a@b.go.id")`` or ``("sha1", hex)``; None when it cannot be one of ours."""
    kind, _, value = key.partition(":")
    if kind == "account":
        # An IRI has no "|", so the first one ends the homePage.
        home, _, name = value.partition("|")
        if home.rstrip("/") != current_app.config["BASE_URL"] or not name:
            return None
        if name.startswith("user:"):
            digits = name[5:]
            # Our ids are ASCII digits within the id column's range; any other "user:"
            # name is nobody's (not an error: a client may send anything here).
            if digits.isascii() and digits.isdigit() and int(digits) <= _MAX_ID:
                return "id", int(digits)
            return None
        return "nip", name
    if kind == "mbox":
        if not value.lower().startswith("mailto:"):
            return None
        email = value[7:].strip().lower()
        return ("email", email) if email else None
    if kind != "mbox_sha1sum" or len(value) != 40:
        return None
    return "sha1", value


def _find(key: str) -> User | None:
    """The user behind an actor key: our account (NIP or user id), e-mail or its hash."""
    found = _lookup(key)
    if found is None:
        return None
    kind, value = found
    session = get_session()
    if kind == "id":
        return session.get(User, value, options=_WITHOUT_ROLES)
    if kind in _COLUMNS:
        return session.scalar(sa.select(User).where(_COLUMNS[kind] == value)
                              .options(*_WITHOUT_ROLES))
    # Only a scan can match a hash; e-mail counts are small (one row per employee).
    for user_id, address in session.execute(
        sa.select(User.id, User.email).where(User.email.is_not(None))
    ):
        if hashlib.sha1(f"mailto:{address}".encode()).hexdigest() == value:
            return session.get(User, user_id, options=_WITHOUT_ROLES)
    return None


_COLUMNS: dict[str, Any] = {"id": User.id, "nip": User.nip, "email": User.email}


def _agent_key(actor: Any) -> str | None:
    """The key of an Agent (a person); None for a Group or anything else."""
    if not isinstance(actor, dict) or actor.get("objectType", "Agent") != "Agent":
        return None
    return agent_key(actor)


def remember_users(actors: Iterable[Any]) -> None:
    """Look the users behind many actors up at once (a consumer's batch: dozens of
    learners), a query per kind of key instead of one per person, so that
    :func:`user_for_actor` then finds them without a query. Accounts (by NIP or user id)
    and e-mail addresses; hashed addresses and people who are not users are left to
    :func:`user_for_actor`."""
    session = get_session()
    known: dict[str, User] = session.info.setdefault(_CACHE, {})
    wanted: dict[str, dict[Any, list[str]]] = {"id": {}, "nip": {}, "email": {}}
    for actor in actors:
        key = _agent_key(actor)
        if key is None or (key in known and known[key] in session):
            continue
        found = _lookup(key)
        if found is not None and found[0] in wanted:
            wanted[found[0]].setdefault(found[1], []).append(key)
    for kind, keys in wanted.items():
        values = list(keys)
        for start in range(0, len(values), 500):
            for user in session.scalars(
                sa.select(User).where(_COLUMNS[kind].in_(values[start:start + 500]))
                .options(*_WITHOUT_ROLES)
            ):
                for key in keys.get(getattr(user, kind), ()):
                    known[key] = user


def user_for_actor(actor: dict[str, Any] | None) -> User | None:
    """The user an xAPI Agent identifies, or None (unknown person, group, other system).

    Found users are remembered until the transaction ends: a batch of statements (a quiz
    submission, a consumer's catch-up) names the same few people many times.
    """
    key = _agent_key(actor)
    if key is None:
        return None
    session = get_session()
    # The users themselves are kept, not their ids: the session's identity map holds its
    # objects weakly, and an id would mean a query again once the object is collected.
    known: dict[str, User] = session.info.setdefault(_CACHE, {})
    user = known.get(key)
    if user is not None and user in session:
        return user
    user = _find(key)
    if user is not None:
        known[key] = user
    return user


_CACHE = "lms.xapi.actor_users"


@sa.event.listens_for(orm.Session, "after_commit")
@sa.event.listens_for(orm.Session, "after_soft_rollback")
def _forget_actors(session: orm.Session, *_args: Any) -> None:
    session.info.pop(_CACHE, None)
