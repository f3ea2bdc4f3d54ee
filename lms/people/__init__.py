"""People and organisation: users, roles, sign-in, org units, positions, employee import."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from lms.people import account_views, oidc  # noqa: F401  (their routes)
    from lms.people.accounts import register
    from lms.people.auth import load_user_from_session_id
    from lms.people.views import admin_bp, auth_bp, home_bp
    from lms.web import login_manager

    login_manager.user_loader(load_user_from_session_id)
    register()  # its kinds of e-mail (lms.mail)
    # Its job kind (people.invitations) is declared in the lms.jobs entry-point group.
    oidc.init_app(app)

    app.register_blueprint(auth_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(admin_bp)
