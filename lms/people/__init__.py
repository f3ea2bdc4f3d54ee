"""People and organisation: users, roles, sign-in, org units, positions, employee import."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from lms.people import account_views, oidc  # noqa: F401  (their routes)
    from lms.people.accounts import invitations_job, register
    from lms.people.views import admin_bp, auth_bp, home_bp
    from lms.tasks import register_job

    register()  # its kinds of e-mail (lms.mail)
    register_job(account_views.INVITATIONS_JOB, invitations_job)
    oidc.init_app(app)

    app.register_blueprint(auth_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(admin_bp)
