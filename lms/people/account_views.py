"""Pages of accounts: "Lupa kata sandi", the one-time link to set a password, and the
administrators' list of accounts not activated yet (invite one, or all as a job)."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from lms.db import get_session
from lms.errors import LmsError
from lms.people import accounts
from lms.people.auth import role_required
from lms.people.forms import DeleteForm, ForgotPasswordForm, SetPasswordForm
from lms.people.models import Role, User
from lms.people.views import admin_bp, auth_bp
from lms.web import limiter, paginate

INVITATIONS_JOB = "people.invitations"


def _reset_limit() -> str:
    return current_app.config["PASSWORD_RESET_RATE_LIMIT"]


def _local_passwords() -> None:
    if not current_app.config.get("LOCAL_PASSWORDS", True):
        abort(404)


@auth_bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"], scope="password-reset",
               error_message="Too many requests for a password link")
def forgot_password() -> Any:
    _local_passwords()
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.send_reset(form.identifier.data)
        get_session().commit()
        # The same page whether or not the account exists.
        return render_template("people/forgot.html", form=form, sent=True)
    return render_template("people/forgot.html", form=form, sent=False)


@auth_bp.route("/password/set/<token>", methods=["GET", "POST"])
def set_password(token: str) -> Any:
    _local_passwords()
    row = accounts.find(token)
    form = SetPasswordForm()
    if row is None:
        return render_template("people/set_password.html", form=form, valid=False), 404
    user = get_session().get(User, row.user_id)
    if form.validate_on_submit():
        try:
            accounts.redeem(token, form.password.data)
        except LmsError as exc:
            get_session().rollback()
            form.password.errors = [*form.password.errors, str(exc.message)]
        else:
            get_session().commit()
            if current_user.is_authenticated:
                logout_user()
            flash(_("Your password is set. Sign in with your NIP or e-mail and the new "
                    "password."), "success")
            return redirect(url_for("auth.login"))
    # The page itself must not leak the token to other sites (the referrer policy is
    # strict already) nor be cached.
    response = current_app.make_response(render_template(
        "people/set_password.html", form=form, valid=True, name=user.name if user else ""))
    response.headers["Cache-Control"] = "no-store"
    return response


@admin_bp.get("/accounts/pending")
@role_required(Role.ADMIN)
def pending_accounts() -> Any:
    try:
        number = max(1, min(int(request.args.get("page", 1)), 100_000))
    except ValueError:
        number = 1
    page = paginate(accounts.not_activated(), number, 50)
    invited = accounts.last_invited([u.id for u in page.items])
    job = request.args.get("job")
    return render_template("admin/pending_accounts.html", page=page, invited=invited,
                           form=DeleteForm(), job=int(job) if job and job.isdigit() else None)


@admin_bp.post("/accounts/<int:user_id>/invite")
@role_required(Role.ADMIN)
def invite_one(user_id: int) -> Any:
    if not DeleteForm().validate_on_submit():
        abort(400)
    user = get_session().get(User, user_id)
    if user is None:
        abort(404)
    if accounts.send_invitation(user):
        get_session().commit()
        flash(_("Invitation sent to %(email)s.", email=user.email), "success")
    else:
        flash(_("%(name)s has no usable e-mail address.", name=user.name), "warning")
    return redirect(request.referrer if request.referrer and
                    request.referrer.startswith(request.host_url) else
                    url_for("admin.pending_accounts"))


@admin_bp.post("/accounts/invite-all")
@role_required(Role.ADMIN)
def invite_all() -> Any:
    from lms.tasks import job_response, submit_job

    if not DeleteForm().validate_on_submit():
        abort(400)
    job = submit_job(INVITATIONS_JOB, {}, user=current_user._get_current_object())
    if request.accept_mimetypes.best == "application/json":
        return job_response(job)
    return redirect(url_for("admin.pending_accounts", job=job.id))


def invite_imported(user_ids: list[int]) -> Any:
    """After an import: invite the new employees in the background; the job."""
    from lms.tasks import submit_job

    if not user_ids:
        return None
    return submit_job(INVITATIONS_JOB, {"user_ids": user_ids},
                      user=current_user._get_current_object(), commit=True)
