"""Domain exceptions raised by services and mapped to HTTP by views and the API.

Services never build HTTP responses; they raise one of these with a message a person can
act on (already translated with ``lazy_gettext`` where it is shown in the UI).
"""

from __future__ import annotations

from typing import Any


class LmsError(Exception):
    """Base class: a request that cannot be done as asked. Maps to HTTP 400."""

    status = 400

    def __init__(self, message: Any, *, field: str | None = None, details: Any = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.details = details


class ValidationError(LmsError):
    """Input that breaks a rule (a bad NIP, a missing column, an invalid statement)."""


class NotFound(LmsError):
    """The thing asked for does not exist (or is not visible to the caller)."""

    status = 404


class Forbidden(LmsError):
    """The caller may not do this."""

    status = 403


class Conflict(LmsError):
    """The request conflicts with what is stored (a duplicate, a changed document)."""

    status = 409


class PreconditionFailed(LmsError):
    """A precondition given by the caller (If-Match, If-None-Match) does not hold."""

    status = 412
