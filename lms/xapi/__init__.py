"""The Learning Record Store: xAPI 1.0.3 and 2.0 under ``/xapi/``, client keys, consumers.

- :mod:`lms.xapi.service`: store, fetch and query statements (the internal API)
- :mod:`lms.xapi.documents`: State, Activity Profile and Agent Profile documents
- :mod:`lms.xapi.auth`: client keys, scopes, launch credentials
- :mod:`lms.xapi.consumers`: statement consumers (cursor, exactly-once, replay)
- :mod:`lms.xapi.validation`: statement validation, one module per part of the spec
- :mod:`lms.xapi.launch`: what content launched with a launch credential may write
- :mod:`lms.xapi.views`: the ``/xapi`` blueprint; :mod:`lms.xapi.admin`: client keys and
  consumers (lag, failed statements); :mod:`lms.xapi.api`: consumer health for monitoring
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from flask.sessions import SessionInterface

_SLASHES = re.compile(r"/{2,}")


class XapiPaths:
    """WSGI middleware: xAPI requests are served at the paths real clients send.

    cmi5 hands content the endpoint ``<base>/xapi/`` and libraries append resource names
    with a slash of their own (``/xapi//activities/state``); others add a trailing slash.
    Flask would answer such paths with a redirect (308), which a cross-origin browser
    request cannot follow, so the path is tidied before routing instead: runs of slashes
    become one and a trailing slash goes. Only paths under ``/xapi/`` are touched; an xAPI
    request is never redirected.
    """

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or ""
        if "/xapi" in path[:8] and ("//" in path or (path.endswith("/") and len(path) > 6)):
            tidy = _SLASHES.sub("/", path)
            if tidy.startswith("/xapi/"):
                environ["PATH_INFO"] = tidy.rstrip("/") or "/"
        return self.wsgi_app(environ, start_response)


def _is_lrs_path(path: str) -> bool:
    return path == "/xapi" or path.startswith("/xapi/")


def _without_browser_session(base: SessionInterface) -> SessionInterface:
    """The app's session interface, reading and writing no cookie for ``/xapi`` requests.

    LRS clients authenticate every request with their own header (lms.xapi.auth) and never
    use the browser session; opening it (a serializer, a signature check) and saving it cost
    about a twentieth of a single-statement POST. They get an empty session instead."""

    class LrsSessionInterface(type(base)):  # type: ignore[misc]
        def open_session(self, app: Flask, request: Any) -> Any:
            if _is_lrs_path(request.path):
                return self.session_class()
            return super().open_session(app, request)

        def save_session(self, app: Flask, session: Any, response: Any) -> None:
            from flask import request

            if _is_lrs_path(request.path):
                return
            super().save_session(app, session, response)

    interface = LrsSessionInterface()
    interface.__dict__.update(base.__dict__)
    return interface


def init_app(app: Flask) -> None:
    from lms.web import csrf, limiter
    from lms.xapi import (
        api,  # noqa: F401  (adds /api/v1/lrs/consumers before lms.api)
        consumers,
    )
    from lms.xapi.admin import admin_bp
    from lms.xapi.cli import client_group, xapi_group
    from lms.xapi.views import xapi_bp

    app.config.setdefault("XAPI_MAX_BODY", 16 * 1024 * 1024)
    app.config.setdefault("XAPI_CONSUMERS_INLINE", True)
    # At most this many statements per consumer run in the request that stored them; a
    # background thread drains any backlog beyond (LMS_XAPI_CONSUMERS_INLINE_LIMIT).
    app.config.setdefault("XAPI_CONSUMERS_INLINE_LIMIT", 500)
    # With a broker: a consumers run starts this many seconds after the commit that queued
    # it, and takes everything stored meanwhile (lms.tasks.dispatch_consumers).
    app.config.setdefault("XAPI_CONSUMERS_GATHER_SECONDS", 0.5)
    # Statements waiting longer than this make a consumer "lagging" (admin page, monitoring).
    app.config.setdefault("XAPI_LAG_WARNING_SECONDS", 300)
    # The version answered to requests that name none (or a bad one): LMS_XAPI_DEFAULT_VERSION.
    app.config.setdefault("XAPI_DEFAULT_VERSION", "2.0.0")
    # An API with Basic auth: no CSRF tokens, and never throttled like the sign-in form.
    csrf.exempt(xapi_bp)
    limiter.exempt(xapi_bp)
    app.register_blueprint(xapi_bp)
    app.wsgi_app = XapiPaths(app.wsgi_app)  # type: ignore[method-assign]
    app.session_interface = _without_browser_session(app.session_interface)
    app.register_blueprint(admin_bp)
    app.cli.add_command(client_group)
    app.cli.add_command(xapi_group)
    consumers.init_app(app)
    # Client keys also open /api/v1 (lms.api asks the registry, not this module).
    from lms.plugins.registry import API_AUTHENTICATORS
    from lms.xapi.auth import authenticate_basic

    API_AUTHENTICATORS.add("lrs-client-keys", authenticate_basic)
