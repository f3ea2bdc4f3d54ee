"""The Learning Record Store: xAPI 1.0.3 and 2.0 under ``/xapi/``, client keys, consumers.

- :mod:`lms.xapi.service`: store, fetch and query statements (the internal API)
- :mod:`lms.xapi.documents`: State, Activity Profile and Agent Profile documents
- :mod:`lms.xapi.auth`: client keys, scopes, launch credentials
- :mod:`lms.xapi.consumers`: statement consumers (cursor, exactly-once, replay)
- :mod:`lms.xapi.validation`: statement validation, one module per part of the spec
- :mod:`lms.xapi.views`: the ``/xapi`` blueprint; :mod:`lms.xapi.admin`: client key pages
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from lms.web import csrf, limiter
    from lms.xapi import consumers
    from lms.xapi.admin import admin_bp
    from lms.xapi.cli import client_group, xapi_group
    from lms.xapi.views import xapi_bp

    app.config.setdefault("XAPI_MAX_BODY", 16 * 1024 * 1024)
    app.config.setdefault("XAPI_CONSUMERS_INLINE", True)
    # The version answered to requests that name none (or a bad one): LMS_XAPI_DEFAULT_VERSION.
    app.config.setdefault("XAPI_DEFAULT_VERSION", "2.0.0")
    # An API with Basic auth: no CSRF tokens, and never throttled like the sign-in form.
    csrf.exempt(xapi_bp)
    limiter.exempt(xapi_bp)
    app.register_blueprint(xapi_bp)
    app.register_blueprint(admin_bp)
    app.cli.add_command(client_group)
    app.cli.add_command(xapi_group)
    consumers.init_app(app)
