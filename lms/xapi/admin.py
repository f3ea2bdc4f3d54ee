"""Admin pages of the LRS: client keys (list, create with the secret shown once, revoke)
and the statement consumers (their lag, and the statements they could not handle, with
retry and skip)."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.db import get_session
from lms.errors import LmsError
from lms.people.auth import role_required
from lms.people.models import Role
from lms.xapi import auth, consumers
from lms.xapi.forms import ActionForm, ClientForm, RevokeForm
from lms.xapi.models import Statement, by_statement_id

admin_bp = Blueprint("xapi_admin", __name__, url_prefix="/admin/lrs")


@admin_bp.get("/clients")
@role_required(Role.ADMIN)
def clients() -> Any:
    return render_template("xapi/clients.html", clients=auth.list_credentials(),
                           revoke_form=RevokeForm())


@admin_bp.get("/clients/new")
@role_required(Role.ADMIN)
def client_new() -> Any:
    return render_template("xapi/client_form.html", form=ClientForm())


@admin_bp.post("/clients/new")
@role_required(Role.ADMIN)
def client_create() -> Any:
    form = ClientForm()
    if not form.validate_on_submit():
        return render_template("xapi/client_form.html", form=form), 400
    try:
        credential, secret = auth.create_credential(form.name.data, form.scopes.data)
    except LmsError as exc:
        form.name.errors = [*form.name.errors, str(exc.message)]
        return render_template("xapi/client_form.html", form=form), 400
    get_session().commit()
    # The secret is shown on this response only; it is stored hashed.
    return render_template("xapi/client_created.html", credential=credential, secret=secret)


@admin_bp.post("/clients/<key>/revoke")
@role_required(Role.ADMIN)
def client_revoke(key: str) -> Any:
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            credential = auth.revoke_credential(key)
        except LmsError as exc:
            flash(str(exc.message), "danger")
        else:
            get_session().commit()
            flash(_("Key %(key)s (%(name)s) is revoked.", key=credential.key,
                    name=credential.name), "success")
    return redirect(url_for("xapi_admin.clients"))


# --- statement consumers ----------------------------------------------------------------


def lag_warning_seconds() -> float:
    """How long statements may wait for a consumer before its lag is a warning."""
    return float(current_app.config.get("XAPI_LAG_WARNING_SECONDS", 300))


@admin_bp.get("/consumers")
@role_required(Role.ADMIN)
def consumer_list() -> Any:
    status = consumers.consumer_status()
    failures = consumers.list_failures(consumers.FAILED, limit=200)
    skipped = consumers.list_failures(consumers.SKIPPED, limit=20)
    ids = [f.statement_id for f in failures + skipped]
    texts = {}
    if ids:
        texts = {sid: json.dumps(data, indent=2, ensure_ascii=False)[:20000]
                 for sid, data in get_session().execute(
                     by_statement_id(sa.select(Statement.statement_id, Statement.data),
                                     ids))}
    return render_template("xapi/consumers.html", status=status, failures=failures,
                           skipped=skipped, statements=texts, action=ActionForm(),
                           warn_after=lag_warning_seconds())


@admin_bp.post("/consumers/failures/<int:failure_id>/retry")
@role_required(Role.ADMIN)
def failure_retry(failure_id: int) -> Any:
    if ActionForm().validate_on_submit():
        try:
            error = consumers.retry_failure(failure_id)
        except LmsError as exc:
            flash(str(exc.message), "danger")
        else:
            if error is None:
                flash(_("The statement is handled now."), "success")
            else:
                flash(_("The statement failed again: %(error)s", error=error), "danger")
    return redirect(url_for("xapi_admin.consumer_list"))


@admin_bp.post("/consumers/failures/<int:failure_id>/skip")
@role_required(Role.ADMIN)
def failure_skip(failure_id: int) -> Any:
    if ActionForm().validate_on_submit():
        try:
            consumers.skip_failure(failure_id, current_user.email or current_user.name)
        except LmsError as exc:
            flash(str(exc.message), "danger")
        else:
            get_session().commit()
            flash(_("The statement is skipped: this consumer will not handle it."), "info")
    return redirect(url_for("xapi_admin.consumer_list"))
