"""Admin pages: forwarding targets, pull sources, dead letters (view, retry, delete)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lms.db import get_session
from lms.errors import LmsError
from lms.forwarding import service
from lms.forwarding.forms import ActionForm, ConnectionForm, SourceForm, TargetForm
from lms.forwarding.models import DeadLetter, ForwardTarget, PullSource
from lms.people.auth import role_required
from lms.people.models import Role
from lms.web import paginate

forwarding_bp = Blueprint("forwarding", __name__, url_prefix="/admin/forwarding")


@forwarding_bp.get("/")
@role_required(Role.ADMIN)
def index() -> Any:
    session = get_session()
    targets = service.list_targets()
    dead = dict(session.execute(sa.select(DeadLetter.target_id, sa.func.count())
                                .group_by(DeadLetter.target_id)).all())
    return render_template("forwarding/index.html", targets=targets,
                           backlog={t.id: service.backlog(t) for t in targets},
                           sources=service.list_sources(), dead=dead, action=ActionForm())


def _save(form: Any, create: Any, **extra: Any) -> Any:
    try:
        create(form.name.data, form.endpoint.data, form.username.data, form.password.data,
               version=form.version.data, **extra)
    except LmsError as exc:
        field = getattr(form, str(exc.field or ""), None) or form.name
        field.errors = [*field.errors, str(exc.message)]
        return None
    get_session().commit()
    return True


@forwarding_bp.route("/targets/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def target_new() -> Any:
    form = TargetForm()
    if form.validate_on_submit() and _save(
            form, service.create_target, verbs=form.verbs.data or "",
            activity_prefixes=form.activity_prefixes.data or "",
            from_start=form.from_start.data):
        flash(_("Forwarding target added."), "success")
        return redirect(url_for(".index"))
    status = 400 if request.method == "POST" else 200
    return render_template("forwarding/form.html", form=form, kind="target"), status


@forwarding_bp.route("/sources/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def source_new() -> Any:
    form = SourceForm()
    if form.validate_on_submit() and _save(
            form, service.create_source, since=(form.since.data or "").strip() or None,
            interval_seconds=form.interval_seconds.data):
        flash(_("Pull source added."), "success")
        return redirect(url_for(".index"))
    status = 400 if request.method == "POST" else 200
    return render_template("forwarding/form.html", form=form, kind="source"), status


def _edit(model: type[ForwardTarget] | type[PullSource], row_id: int, kind: str) -> Any:
    row: Any = get_session().get(model, row_id)
    if row is None:
        abort(404)
    form = ConnectionForm(obj=row)
    if form.validate_on_submit():
        try:
            service.update_connection(row, form.endpoint.data, form.username.data,
                                      form.password.data or None, form.version.data)
        except LmsError as exc:
            field = getattr(form, str(exc.field or ""), None) or form.endpoint
            field.errors = [*field.errors, str(exc.message)]
        else:
            get_session().commit()
            flash(_("Connection of %(name)s saved.", name=row.name), "success")
            return redirect(url_for(".index"))
    status = 400 if request.method == "POST" else 200
    return render_template("forwarding/form.html", form=form, kind=kind, row=row), status


@forwarding_bp.route("/targets/<int:target_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def target_edit(target_id: int) -> Any:
    return _edit(ForwardTarget, target_id, "target")


@forwarding_bp.route("/sources/<int:source_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def source_edit(source_id: int) -> Any:
    return _edit(PullSource, source_id, "source")


def _toggle(model: type[ForwardTarget] | type[PullSource], row_id: int) -> Any:
    if ActionForm().validate_on_submit():
        row: Any = get_session().get(model, row_id)
        if row is None:
            flash(_("Not found."), "danger")
        else:
            row.enabled = not row.enabled
            if row.enabled:
                row.failures, row.next_attempt = 0, None
            get_session().commit()
            flash(_("Resumed.") if row.enabled else _("Paused."), "success")
    return redirect(url_for(".index"))


@forwarding_bp.post("/targets/<int:target_id>/toggle")
@role_required(Role.ADMIN)
def target_toggle(target_id: int) -> Any:
    return _toggle(ForwardTarget, target_id)


@forwarding_bp.post("/sources/<int:source_id>/toggle")
@role_required(Role.ADMIN)
def source_toggle(source_id: int) -> Any:
    return _toggle(PullSource, source_id)


@forwarding_bp.post("/targets/<int:target_id>/delete")
@role_required(Role.ADMIN)
def target_delete(target_id: int) -> Any:
    if ActionForm().validate_on_submit():
        get_session().execute(sa.delete(DeadLetter).where(DeadLetter.target_id == target_id))
        get_session().execute(sa.delete(ForwardTarget).where(ForwardTarget.id == target_id))
        get_session().commit()
        flash(_("Forwarding target removed."), "success")
    return redirect(url_for(".index"))


@forwarding_bp.post("/sources/<int:source_id>/delete")
@role_required(Role.ADMIN)
def source_delete(source_id: int) -> Any:
    if ActionForm().validate_on_submit():
        get_session().execute(sa.delete(DeadLetter).where(DeadLetter.source_id == source_id))
        get_session().execute(sa.delete(PullSource).where(PullSource.id == source_id))
        get_session().commit()
        flash(_("Pull source removed."), "success")
    return redirect(url_for(".index"))


@forwarding_bp.post("/sources/<int:source_id>/pull")
@role_required(Role.ADMIN)
def source_pull(source_id: int) -> Any:
    if ActionForm().validate_on_submit():
        new = service.pull_source(source_id, force=True)
        get_session().expire_all()
        source = get_session().get(PullSource, source_id)
        if source is not None and source.last_error:
            flash(_("Pulling failed: %(error)s", error=source.last_error), "danger")
        else:
            flash(_("%(n)s new statement(s) pulled.", n=new), "success")
    return redirect(url_for(".index"))


@forwarding_bp.get("/dead-letters")
@role_required(Role.ADMIN)
def dead_letters() -> Any:
    page = paginate(sa.select(DeadLetter).order_by(DeadLetter.id.desc()),
                    request.args.get("page", 1, type=int))
    names = dict(get_session().execute(sa.select(ForwardTarget.id, ForwardTarget.name)).all())
    sources = dict(get_session().execute(sa.select(PullSource.id, PullSource.name)).all())
    return render_template("forwarding/dead_letters.html", page=page, names=names,
                           sources=sources, action=ActionForm())


@forwarding_bp.post("/dead-letters/<int:letter_id>/retry")
@role_required(Role.ADMIN)
def dead_letter_retry(letter_id: int) -> Any:
    if ActionForm().validate_on_submit():
        try:
            ok = service.retry_dead_letter(letter_id)
        except LmsError as exc:
            flash(str(exc.message), "danger")
        else:
            if ok:
                flash(_("Delivered."), "success")
            else:
                flash(_("Refused again; the reason is updated."), "warning")
    return redirect(url_for(".dead_letters"))


@forwarding_bp.post("/dead-letters/<int:letter_id>/delete")
@role_required(Role.ADMIN)
def dead_letter_delete(letter_id: int) -> Any:
    if ActionForm().validate_on_submit():
        get_session().execute(sa.delete(DeadLetter).where(DeadLetter.id == letter_id))
        get_session().commit()
        flash(_("Dead letter deleted."), "success")
    return redirect(url_for(".dead_letters"))
