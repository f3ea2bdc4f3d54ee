"""Admin page of the outbox (filter by status, read a message, send again) and each
person's page of the kinds of e-mail they get (``/notifications/settings``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from lms.db import get_session
from lms.errors import NotFound, ValidationError
from lms.mail import service
from lms.mail.models import STATUSES, OutboxMessage
from lms.web import paginate

mail_bp = Blueprint("mail", __name__, url_prefix="/admin/mail")
notifications_bp = Blueprint("notifications", __name__, url_prefix="/notifications")


#: The role the outbox pages are for (lms.people.models.Role.ADMIN; mail sits below people
#: and names it by its value).
ADMIN = "admin"


@mail_bp.before_request
@login_required
def _admins_only() -> Any:
    """Every outbox page is for administrators."""
    if not current_user.has_role(ADMIN):
        abort(403)
    return None


class ActionForm(FlaskForm):
    """A button (CSRF only)."""


@mail_bp.get("/")
def outbox() -> Any:
    status = request.args.get("status", "")
    if status and status not in STATUSES:
        raise ValidationError(_("Unknown status."))
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status:
        query = query.where(OutboxMessage.status == status)
    counts = dict(get_session().execute(
        sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)).all())
    page = paginate(query, request.args.get("page", 1, type=int) or 1, 50)
    return render_template("mail/outbox.html", page=page, status=status, counts=counts,
                           statuses=STATUSES, action=ActionForm(),
                           labels={"queued": _("queued"), "sending": _("sending"),
                                   "sent": _("sent"), "failed": _("failed")})


@mail_bp.get("/<int:message_id>")
def message(message_id: int) -> Any:
    row = get_session().get(OutboxMessage, message_id)
    if row is None:
        raise NotFound(_("No such message."))
    return render_template("mail/message.html", m=row, action=ActionForm())


@mail_bp.post("/<int:message_id>/retry")
def retry(message_id: int) -> Any:
    if not ActionForm().validate_on_submit():
        raise ValidationError(_("The form expired; please try again."))
    row = service.retry(message_id)
    if row is None:
        raise NotFound(_("No such message."))
    get_session().commit()
    flash(_("The message is queued again."), "success")
    return redirect(url_for(".outbox", status=request.args.get("status") or None))


@mail_bp.post("/retry-failed")
def retry_failed() -> Any:
    if not ActionForm().validate_on_submit():
        raise ValidationError(_("The form expired; please try again."))
    session = get_session()
    ids = list(session.scalars(sa.select(OutboxMessage.id)
                               .where(OutboxMessage.status == "failed")))
    for message_id in ids:
        service.retry(message_id)
    session.commit()
    flash(_("%(n)d messages are queued again.", n=len(ids)), "success")
    return redirect(url_for(".outbox"))


# --- each person's choice of e-mails --------------------------------------------------------


@notifications_bp.get("/settings")
@login_required
def settings() -> Any:
    """The kinds of e-mail the signed-in person can get, grouped by who they are for."""
    groups: dict[str, list[Any]] = {}
    for category, on in service.preferences(current_user):
        groups.setdefault(str(category.audience), []).append((category, on))
    return render_template("mail/settings.html", groups=groups, form=ActionForm(),
                           has_email=bool(current_user.email))


@notifications_bp.post("/settings")
@login_required
def settings_save() -> Any:
    form = ActionForm()
    if not form.validate_on_submit():
        raise ValidationError(_("The form expired; please try again."))
    wanted = request.form.getlist("on")
    if len(wanted) > 200:
        raise ValidationError(_("Unknown kind of e-mail."))
    off = service.set_preferences(current_user, wanted)
    get_session().commit()
    flash(_("Your e-mail choices are saved.") + " " + (
        _("%(n)d kinds of e-mail are turned off.", n=off) if off
        else _("You get every kind of e-mail.")), "success")
    return redirect(url_for(".settings"))
