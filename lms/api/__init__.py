"""The JSON API at ``/api/v1``: a thin layer over the modules' services.

Modules add their operations in their own ``api.py`` on :data:`api_bp` and describe them
with :func:`lms.api.openapi.register_paths`; the document is served at
``/api/v1/openapi.json``. Access: a signed-in HR user or administrator (browser session),
or a client key (HTTP Basic, created with ``lms client create``) holding the scope.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Flask, g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from lms.api.openapi import openapi_document
from lms.people.models import Role
from lms.plugins.registry import API_AUTHENTICATORS

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")
F = TypeVar("F", bound=Callable[..., Any])

#: Roles whose browser session may read the API (HR tooling, admin scripts).
SESSION_ROLES = (Role.HR, Role.ADMIN)


def api_error(status: int, error: str, message: str) -> Any:
    """A JSON error body that says what to do, with the HTTP status."""
    return jsonify(error=error, message=message), status


def _credential_from_request(scope: str) -> tuple[Any | None, Any | None]:
    """(credential, error response) for an ``Authorization: Basic`` header, if any."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None, None
    # Client keys belong to the LRS (lms.xapi registers how to check one).
    authenticators = list(API_AUTHENTICATORS.values())
    if not authenticators:
        return None, api_error(401, "unauthorized", _("Client keys are not enabled."))
    credential = authenticators[0](header)
    if credential is None:
        return None, api_error(401, "unauthorized", _("The client key or secret is not valid."))
    scopes = set(credential.scopes)
    wanted = {scope, "api:write"} if scope == "api:read" else {scope}
    if not scopes & wanted:
        return None, api_error(
            403, "forbidden", _("This client key lacks the %(scope)s scope.", scope=scope)
        )
    return credential, None


def require_api(
    scope: str = "api:read", roles: tuple[Role, ...] = SESSION_ROLES
) -> Callable[[F], F]:
    """Admit a browser session with one of ``roles`` or a client key with ``scope``.

    Sets ``g.api_user`` (the signed-in user, or None) and ``g.api_credential`` (the client
    key, or None) for the view.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            credential, error = _credential_from_request(scope)
            if error is not None:
                return error
            g.api_user, g.api_credential = None, credential
            if credential is None:
                if not current_user.is_authenticated:
                    return api_error(
                        401,
                        "unauthorized",
                        _("Sign in, or send a client key with HTTP Basic auth."),
                    )
                if not current_user.has_role(*roles):
                    return api_error(
                        403, "forbidden", _("Your account may not use this part of the API.")
                    )
                g.api_user = current_user._get_current_object()
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


@api_bp.get("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3.1 document describing every operation of /api/v1."""
    return jsonify(openapi_document())


@api_bp.errorhandler(404)
def not_found(_exc: Any) -> Any:
    return api_error(404, "not_found", _("There is no such resource."))


def init_app(app: Flask) -> None:
    from lms.web import csrf

    # Browser sessions use the API read-only (GET), and client keys are not cookies, so
    # the API carries no CSRF token; write operations demand a client key.
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)
