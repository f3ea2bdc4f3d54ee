"""Kinds of e-mail: a registry modules add their categories to (see docs/mail.md).

A category names one kind of message (``plans.submitted``: a plan waits for your
approval). It carries the words people see (``label``), who it is for (``audience``) and
whether a person may turn it off. :func:`lms.mail.queue_mail` accepts registered
categories only, leaves out the messages a recipient turned off, and adds a footer that
says why the mail came and where to turn it off. The outbox and the preferences page show
the label, never the name.

A module registers its categories in its ``init_app``::

    from lms.mail import register_category
    register_category("plans.submitted", _l("A development plan waits for your approval"),
                      _l("Supervisors"), description=_l("..."))

Registering the same name again from the same module replaces the entry (an app is
created more than once in a process); a name another module registered is an error.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from lms.plugins import registry

_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


@dataclass(frozen=True)
class MailCategory:
    """One kind of e-mail."""

    #: Stored on every outbox row (at most 50 characters): ``<module>.<event>``.
    name: str
    #: What it is about, in words (a lazy translation).
    label: Any
    #: Who it is for, in words ("Supervisors", "HR staff").
    audience: Any
    #: One sentence on when it is sent (shown on the preferences page).
    description: Any = ""
    #: Whether a person may turn it off (mail a person asked for is not optional).
    optional: bool = True
    #: Whether it can reach a user at all (the preferences page shows the ones that can);
    #: None: everyone.
    applies: Callable[[Any], bool] | None = None
    #: The module that registered it.
    owner: str = ""

    def applies_to(self, user: Any) -> bool:
        if self.applies is None:
            return True
        try:
            return bool(self.applies(user))
        except Exception:  # a broken predicate must not hide the page
            return True


#: The ``mail_categories`` registry of lms.plugins.registry.
_CATEGORIES: dict[str, MailCategory] = registry.MAIL_CATEGORIES


def register_category(name: str, label: Any, audience: Any, *, description: Any = "",
                      optional: bool = True, applies: Callable[[Any], bool] | None = None,
                      owner: str | None = None) -> MailCategory:
    """Add a kind of e-mail; returns it. ``name`` is lower-case words joined by dots (at most
    50 characters). A name another module registered raises ValueError."""
    if not isinstance(name, str) or len(name) > 50 or not _NAME.match(name):
        raise ValueError(f"bad mail category name {name!r}")
    owner = owner or sys._getframe(1).f_globals.get("__name__", "")
    previous = _CATEGORIES.get(name)
    if previous is not None and previous.owner != owner:
        raise ValueError(f"mail category {name!r} is registered by {previous.owner}")
    category = MailCategory(name=name, label=label, audience=audience,
                            description=description, optional=optional, applies=applies,
                            owner=owner)
    _CATEGORIES[name] = category
    return category


def get_category(name: str) -> MailCategory | None:
    return _CATEGORIES.get(name)


def categories() -> list[MailCategory]:
    """Every registered category, in the order of registration."""
    return list(_CATEGORIES.values())


def category_label(name: str | None) -> str:
    """The words for a category name (for the outbox); never the name itself."""
    found = _CATEGORIES.get(name or "")
    return str(found.label) if found is not None else str(_l("Other messages"))


# The outbox's own kinds.
register_category("general", _l("Other messages"), _l("Everyone"), optional=False,
                  owner=__name__)
register_category("test", _l("Test message from an administrator"), _l("Administrators"),
                  optional=False, owner=__name__)
