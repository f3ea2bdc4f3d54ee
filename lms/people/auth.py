"""Sign-in plumbing: loading the user of a session and role checks for views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import orm

from lms.db import get_session
from lms.people.models import Role, User

F = TypeVar("F", bound=Callable[..., Any])


def load_user_from_session_id(session_id: str) -> User | None:
    """The user for a Flask-Login id ``"<user id>:<session token>"``.

    The token changes with the password, so changing it signs out every other session.
    """
    user_id, _sep, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    # Every signed-in request runs this: one query for the user and their roles (a
    # joined load; ``get`` would add a second query for the roles).
    user = get_session().execute(_USER_WITH_ROLES, {"id": int(user_id)}).unique().scalar()
    if user is None or user.session_token != token or not user.active:
        return None
    return user


_USER_WITH_ROLES = (
    sa.select(User).options(orm.joinedload(User.role_rows)).where(User.id == sa.bindparam("id"))
)


def role_required(*roles: Role) -> Callable[[F], F]:
    """Allow a view only to signed-in users holding one of ``roles`` (admins always pass)."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(Role.ADMIN, *roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
