"""Admin pages for LRS and API client keys: list, create (the secret is shown once),
revoke."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from lms.db import get_session
from lms.errors import LmsError
from lms.people.auth import role_required
from lms.people.models import Role
from lms.xapi import auth
from lms.xapi.forms import ClientForm, RevokeForm

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
