"""Web views of the people module: sign-in, account, home, and administration."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from lms.db import get_session
from lms.errors import LmsError
from lms.people import importer, service
from lms.people.auth import role_required
from lms.people.forms import (
    ChangePasswordForm,
    DeleteForm,
    ImportConfirmForm,
    ImportUploadForm,
    LanguageForm,
    LoginForm,
    OrgUnitForm,
    PositionForm,
    UserForm,
)
from lms.people.models import OrgUnit, Position, PositionAssignment, Role, User, UserRole
from lms.web import limiter, paginate, safe_next_url, select_choices

auth_bp = Blueprint("auth", __name__)
home_bp = Blueprint("home", __name__)
admin_bp = Blueprint("admin", __name__, url_prefix="/admin")


def _apply_form_error(form: Any, exc: LmsError) -> None:
    """Show a service error next to its field when the form has it, else as a flash."""
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, str(exc.message)]
    else:
        flash(str(exc.message), "danger")


# --- sign-in ---------------------------------------------------------------------------


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _account_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT_ACCOUNT"]


def _address_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT_ADDRESS"]


def _client_address() -> str:
    """The client's address (behind trusted proxies, the one they report: see
    TRUSTED_PROXY_COUNT)."""
    return f"addr:{request.remote_addr or '?'}"


def _account() -> str:
    """The account a sign-in attempt names, as a key (hashed: no identifier is stored in
    the rate-limit store)."""
    import hashlib

    identifier = (request.form.get("identifier") or "").strip().lower()[:300]
    return "acct:" + hashlib.sha256(identifier.encode("utf-8", "replace")).hexdigest()[:32]


def _failed(response: Any) -> bool:
    """A sign-in that did not succeed (a success redirects)."""
    return bool(response.status_code != 302)


@auth_bp.get("/login")
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    return render_template("people/login.html", form=LoginForm())


@auth_bp.post("/login")
@limiter.limit(_login_limit, key_func=_client_address, methods=["POST"], scope="login-all",
               error_message="Too many sign-in attempts")
@limiter.limit(_address_limit, key_func=_client_address, methods=["POST"],
               scope="login-failed-address", deduct_when=_failed,
               error_message="Too many failed sign-in attempts from this address")
@limiter.limit(_account_limit, key_func=_account, methods=["POST"],
               scope="login-failed-account", deduct_when=_failed,
               error_message="Too many failed sign-in attempts for this account")
def login_submit() -> Any:
    if not current_app.config.get("LOCAL_PASSWORDS", True):
        abort(404)  # sign-in through the identity provider only
    form = LoginForm()
    if form.validate_on_submit():
        user = service.authenticate(form.identifier.data, form.password.data)
        if user is not None:
            # A new session id for the signed-in user guards against session fixation.
            locale = user.locale or session.get("locale")
            session.clear()
            if locale:
                session["locale"] = locale
            login_user(user, remember=form.remember.data)
            get_session().commit()
            flash(_("Welcome, %(name)s.", name=user.name.rstrip(".")), "success")
            return redirect(safe_next_url(request.args.get("next"), url_for("home.index")))
        flash(_("The NIP/e-mail or password is not correct."), "danger")
    return render_template("people/login.html", form=form), 400


@auth_bp.post("/logout")
@login_required
def logout() -> Any:
    form = DeleteForm()  # any FlaskForm: it carries the CSRF check
    if form.validate_on_submit():
        # End the session on the server, not only in this browser: a copied session or
        # remember-me cookie must not sign in after sign-out (every session of the account
        # ends: cookies are signed, not stored, so the account's token is what can change).
        service.end_sessions(current_user._get_current_object())
        get_session().commit()
        logout_user()
        locale = session.get("locale")
        session.clear()
        if locale:
            session["locale"] = locale
        flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@auth_bp.get("/account/password")
@login_required
def change_password() -> Any:
    return render_template("people/password.html", form=ChangePasswordForm())


@auth_bp.post("/account/password")
@login_required
def change_password_submit() -> Any:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            service.change_password(
                current_user, form.current_password.data, form.new_password.data
            )
        except LmsError as exc:
            get_session().rollback()
            _apply_form_error(form, exc)
        else:
            get_session().commit()
            # The session token changed: store the new one in this session's cookie.
            login_user(current_user._get_current_object(), remember=False)
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("home.index"))
    return render_template("people/password.html", form=form), 400


@auth_bp.post("/language")
def set_language() -> Any:
    form = LanguageForm()
    fallback = url_for("home.index")
    if form.validate_on_submit() and form.locale.data in current_app.config["LANGUAGES"]:
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            current_user.locale = form.locale.data
            get_session().commit()
    return redirect(safe_next_url(form.next.data, fallback))


# --- home ------------------------------------------------------------------------------


@home_bp.get("/")
@login_required
def index() -> Any:
    s = get_session()
    figures: dict[str, int] = {}
    if current_user.has_role(Role.ADMIN, Role.HR):
        figures = {
            "users": s.scalar(sa.select(sa.func.count(User.id))) or 0,
            "employees": s.scalar(sa.select(sa.func.count(User.id)).where(User.nip.is_not(None)))
            or 0,
            "units": s.scalar(sa.select(sa.func.count(OrgUnit.id))) or 0,
            "positions": s.scalar(sa.select(sa.func.count(Position.id))) or 0,
        }
    unit_path: list[str] = []
    position = current_user.position
    if position is not None:
        unit_path = service.org_unit_path_names(position.org_unit)
    from lms.web import HOME_PANELS

    panels = [panel for panel in (func(current_user) for func in HOME_PANELS.values()) if panel]
    return render_template(
        "people/home.html", figures=figures, position=position, unit_path=unit_path, panels=panels
    )


# --- administration: users -------------------------------------------------------------


@admin_bp.get("/")
@role_required(Role.ADMIN)
def overview() -> Any:
    return redirect(url_for("admin.users"))


@admin_bp.get("/users")
@role_required(Role.ADMIN)
def users() -> Any:
    q = (request.args.get("q") or "").strip()
    role = request.args.get("role") or ""
    query = sa.select(User).order_by(User.name, User.id)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(
            sa.or_(
                sa.func.lower(User.name).like(like),
                sa.func.lower(User.email).like(like),
                User.nip.like(f"%{re.sub(r'[^0-9]', '', q) or q}%"),
            )
        )
    if role in {r.value for r in Role}:
        query = query.where(
            User.id.in_(sa.select(UserRole.user_id).where(UserRole.role == Role(role)))
        )
    page = paginate(query, request.args.get("page", 1, type=int), 25)
    return render_template("admin/users.html", page=page, q=q, role=role, roles=list(Role))


def _position_choices() -> list[tuple[int, str]]:
    rows = get_session().execute(
        sa.select(Position.id, Position.name, OrgUnit.name)
        .join(Position.org_unit)
        .order_by(OrgUnit.name, Position.name)
    )
    return select_choices(
        [(0, _("(none)"))] + [(pid, f"{name} — {unit}") for pid, name, unit in rows]
    )


@admin_bp.get("/users/new")
@role_required(Role.ADMIN)
def user_new() -> Any:
    form = UserForm(roles=[Role.LEARNER.value], position_id=0)
    form.position_id.choices = _position_choices()
    return render_template("admin/user_form.html", form=form, user=None)


@admin_bp.post("/users/new")
@role_required(Role.ADMIN)
def user_new_submit() -> Any:
    form = UserForm()
    form.position_id.choices = _position_choices()
    if form.validate_on_submit():
        try:
            user = service.create_user(
                name=form.name.data,
                email=form.email.data,
                nip=form.nip.data,
                roles=form.roles.data,
                password=form.password.data or None,
            )
            _assign(user, form.position_id.data)
            invited = False
            if form.invite.data and not form.password.data:
                from lms.people.accounts import send_invitation

                invited = send_invitation(user)
        except LmsError as exc:
            get_session().rollback()
            _apply_form_error(form, exc)
        else:
            get_session().commit()
            flash(_("User %(name)s has been created.", name=user.name), "success")
            if invited:
                flash(_("An invitation to set a password went to %(email)s.",
                        email=user.email), "info")
            return redirect(url_for("admin.users", q=user.nip or user.email))
    return render_template("admin/user_form.html", form=form, user=None), 400


def _get_or_404(model: Any, ident: int) -> Any:
    obj = get_session().get(model, ident)
    if obj is None:
        abort(404)
    return obj


def _assign(user: User, position_id: int) -> None:
    position = get_session().get(Position, position_id) if position_id else None
    service.assign_position(user, position)


@admin_bp.get("/users/<int:user_id>")
@role_required(Role.ADMIN)
def user_edit(user_id: int) -> Any:
    user = _get_or_404(User, user_id)
    form = UserForm(
        obj=user,
        roles=[r.value for r in user.roles],
        position_id=user.position.id if user.position else 0,
    )
    form.position_id.choices = _position_choices()
    return render_template("admin/user_form.html", form=form, user=user)


@admin_bp.post("/users/<int:user_id>")
@role_required(Role.ADMIN)
def user_edit_submit(user_id: int) -> Any:
    user = _get_or_404(User, user_id)
    form = UserForm()
    form.position_id.choices = _position_choices()
    if form.validate_on_submit():
        if user.id == current_user.id and (
            Role.ADMIN.value not in form.roles.data or not form.active.data
        ):
            flash(
                _("You cannot remove your own administrator role or deactivate yourself."), "danger"
            )
            return render_template("admin/user_form.html", form=form, user=user), 400
        try:
            service.update_user(
                user,
                name=form.name.data,
                email=form.email.data,
                nip=form.nip.data,
                roles=form.roles.data,
                active=form.active.data,
            )
            if form.password.data:
                service.set_password(user, form.password.data)
            _assign(user, form.position_id.data)
        except LmsError as exc:
            get_session().rollback()
            _apply_form_error(form, exc)
        else:
            get_session().commit()
            flash(_("Changes to %(name)s have been saved.", name=user.name), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return render_template("admin/user_form.html", form=form, user=user), 400


# --- administration: organisation ------------------------------------------------------


def _unit_choices(exclude: OrgUnit | None = None, root: bool = True) -> list[tuple[int, str]]:
    choices = [(0, _("(top level: a regional government)"))] if root else []
    for unit in service.org_tree():
        if exclude is not None and unit.path.startswith(exclude.path):
            continue
        choices.append((unit.id, "— " * unit.depth + unit.name))
    return choices


def _unit_select(exclude: OrgUnit | None = None, root: bool = True) -> list[Any]:
    return select_choices(_unit_choices(exclude, root))


@admin_bp.get("/org-units")
@role_required(Role.ADMIN)
def org_units() -> Any:
    counts = dict(
        get_session()
        .execute(
            sa.select(Position.org_unit_id, sa.func.count(PositionAssignment.id))
            .join(PositionAssignment, PositionAssignment.position_id == Position.id)
            .where(PositionAssignment.end_date.is_(None))
            .group_by(Position.org_unit_id)
        )
        .all()
    )
    return render_template(
        "admin/org_units.html", units=service.org_tree(), counts=counts, delete_form=DeleteForm()
    )


@admin_bp.get("/org-units/new")
@role_required(Role.ADMIN)
def org_unit_new() -> Any:
    form = OrgUnitForm(parent_id=request.args.get("parent", 0, type=int))
    form.parent_id.choices = _unit_select()
    return render_template("admin/org_unit_form.html", form=form, unit=None)


@admin_bp.post("/org-units/new")
@role_required(Role.ADMIN)
def org_unit_new_submit() -> Any:
    form = OrgUnitForm()
    form.parent_id.choices = _unit_select()
    if form.validate_on_submit():
        parent = get_session().get(OrgUnit, form.parent_id.data) if form.parent_id.data else None
        try:
            unit = service.create_org_unit(form.name.data, parent, form.code.data)
        except LmsError as exc:
            get_session().rollback()
            _apply_form_error(form, exc)
        else:
            get_session().commit()
            flash(_("Unit %(name)s has been created.", name=unit.name), "success")
            return redirect(url_for("admin.org_units"))
    return render_template("admin/org_unit_form.html", form=form, unit=None), 400


@admin_bp.get("/org-units/<int:unit_id>")
@role_required(Role.ADMIN)
def org_unit_edit(unit_id: int) -> Any:
    unit = _get_or_404(OrgUnit, unit_id)
    form = OrgUnitForm(obj=unit, parent_id=unit.parent_id or 0)
    form.parent_id.choices = select_choices(
        [(unit.parent_id or 0, unit.parent.name if unit.parent else "-")]
    )
    return render_template("admin/org_unit_form.html", form=form, unit=unit)


@admin_bp.post("/org-units/<int:unit_id>")
@role_required(Role.ADMIN)
def org_unit_edit_submit(unit_id: int) -> Any:
    unit = _get_or_404(OrgUnit, unit_id)
    form = OrgUnitForm()
    form.parent_id.choices = select_choices(
        [(unit.parent_id or 0, unit.parent.name if unit.parent else "-")]
    )
    if form.validate_on_submit():
        try:
            service.rename_org_unit(unit, form.name.data, form.code.data)
        except LmsError as exc:
            get_session().rollback()
            _apply_form_error(form, exc)
        else:
            get_session().commit()
            flash(_("Changes to %(name)s have been saved.", name=unit.name), "success")
            return redirect(url_for("admin.org_units"))
    return render_template("admin/org_unit_form.html", form=form, unit=unit), 400


@admin_bp.post("/org-units/<int:unit_id>/delete")
@role_required(Role.ADMIN)
def org_unit_delete(unit_id: int) -> Any:
    unit = _get_or_404(OrgUnit, unit_id)
    if DeleteForm().validate_on_submit():
        name = unit.name
        try:
            service.delete_org_unit(unit)
        except LmsError as exc:
            get_session().rollback()
            flash(str(exc.message), "danger")
        else:
            get_session().commit()
            flash(_("Unit %(name)s has been deleted.", name=name), "success")
    return redirect(url_for("admin.org_units"))


@admin_bp.get("/positions")
@role_required(Role.ADMIN)
def positions() -> Any:
    unit_id = request.args.get("unit", 0, type=int)
    query = sa.select(Position).join(Position.org_unit).order_by(OrgUnit.name, Position.name)
    if unit_id:
        query = query.where(Position.org_unit_id == unit_id)
    page = paginate(query, request.args.get("page", 1, type=int), 50)
    holders = dict(
        get_session()
        .execute(
            sa.select(PositionAssignment.position_id, sa.func.count())
            .where(PositionAssignment.end_date.is_(None))
            .group_by(PositionAssignment.position_id)
        )
        .all()
    )
    return render_template(
        "admin/positions.html",
        page=page,
        holders=holders,
        units=_unit_choices(root=False),
        unit_id=unit_id,
        delete_form=DeleteForm(),
    )


@admin_bp.get("/positions/new")
@role_required(Role.ADMIN)
def position_new() -> Any:
    form = PositionForm(org_unit_id=request.args.get("unit", 0, type=int))
    form.org_unit_id.choices = _unit_select(root=False)
    return render_template("admin/position_form.html", form=form, position=None)


@admin_bp.post("/positions/new")
@role_required(Role.ADMIN)
def position_new_submit() -> Any:
    form = PositionForm()
    form.org_unit_id.choices = _unit_select(root=False)
    if form.validate_on_submit():
        unit = _get_or_404(OrgUnit, form.org_unit_id.data)
        try:
            position = service.create_position(
                form.name.data, form.kind.data, unit, form.grade.data
            )
        except LmsError as exc:
            get_session().rollback()
            _apply_form_error(form, exc)
        else:
            get_session().commit()
            flash(_("Position %(name)s has been created.", name=position.name), "success")
            return redirect(url_for("admin.positions", unit=unit.id))
    return render_template("admin/position_form.html", form=form, position=None), 400


@admin_bp.get("/positions/<int:position_id>")
@role_required(Role.ADMIN)
def position_edit(position_id: int) -> Any:
    position = _get_or_404(Position, position_id)
    form = PositionForm(obj=position, kind=position.kind.value)
    form.org_unit_id.choices = _unit_select(root=False)
    return render_template("admin/position_form.html", form=form, position=position)


@admin_bp.post("/positions/<int:position_id>")
@role_required(Role.ADMIN)
def position_edit_submit(position_id: int) -> Any:
    position = _get_or_404(Position, position_id)
    form = PositionForm()
    form.org_unit_id.choices = _unit_select(root=False)
    if form.validate_on_submit():
        unit = _get_or_404(OrgUnit, form.org_unit_id.data)
        try:
            service.update_position(position, form.name.data, form.kind.data, unit, form.grade.data)
        except LmsError as exc:
            get_session().rollback()
            _apply_form_error(form, exc)
        else:
            get_session().commit()
            flash(_("Changes to %(name)s have been saved.", name=position.name), "success")
            return redirect(url_for("admin.positions", unit=unit.id))
    return render_template("admin/position_form.html", form=form, position=position), 400


@admin_bp.post("/positions/<int:position_id>/delete")
@role_required(Role.ADMIN)
def position_delete(position_id: int) -> Any:
    position = _get_or_404(Position, position_id)
    if DeleteForm().validate_on_submit():
        name = position.name
        try:
            service.delete_position(position)
        except LmsError as exc:
            get_session().rollback()
            flash(str(exc.message), "danger")
        else:
            get_session().commit()
            flash(_("Position %(name)s has been deleted.", name=name), "success")
    return redirect(url_for("admin.positions"))


# --- administration: employee import ---------------------------------------------------


def _import_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"]) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _import_file(token: str) -> Path:
    if not re.fullmatch(r"[A-Za-z0-9_-]{20,64}", token or ""):
        abort(404)
    path = _import_dir() / f"{token}.csv"
    if not path.exists():
        abort(404)
    return path


@admin_bp.get("/import")
@role_required(Role.ADMIN)
def import_employees() -> Any:
    return render_template("admin/import.html", form=ImportUploadForm())


@admin_bp.post("/import")
@role_required(Role.ADMIN)
def import_employees_submit() -> Any:
    form = ImportUploadForm()
    if not form.validate_on_submit():
        return render_template("admin/import.html", form=form), 400
    data = form.file.data.read()
    try:
        preview = importer.preview_import(data)
    except LmsError as exc:
        get_session().rollback()
        form.file.errors = [str(exc.message)]
        return render_template("admin/import.html", form=form), 400
    cleanup_stale_imports()
    token = secrets.token_urlsafe(24)
    (_import_dir() / f"{token}.csv").write_bytes(data)
    return render_template(
        "admin/import_preview.html",
        preview=preview,
        filename=form.file.data.filename,
        confirm=ImportConfirmForm(formdata=None, token=token),
    ), (200 if preview.ok else 400)


@admin_bp.post("/import/confirm")
@role_required(Role.ADMIN)
def import_employees_confirm() -> Any:
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    path = _import_file(form.token.data)
    try:
        preview = importer.preview_import(path.read_bytes())
        result = importer.apply_import(preview)
    except LmsError as exc:
        get_session().rollback()
        flash(str(exc.message), "danger")
        return redirect(url_for("admin.import_employees"))
    get_session().commit()
    path.unlink(missing_ok=True)
    job = None
    if form.invite.data and result.created_user_ids:
        from lms.people.account_views import invite_imported

        job = invite_imported(list(result.created_user_ids))
    flash(
        _(
            "Import done: %(created)d created, %(updated)d updated, %(unchanged)d unchanged; "
            "%(units)d new units and %(positions)d new positions.",
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            units=result.units_created,
            positions=result.positions_created,
        ),
        "success",
    )
    if job is not None:
        flash(_("Invitations to the %(n)d new employees are being sent.",
                n=len(result.created_user_ids)), "info")
        return redirect(url_for("admin.pending_accounts", job=job.id))
    return redirect(url_for("admin.users"))


def cleanup_stale_imports(max_age: dt.timedelta = dt.timedelta(days=1)) -> None:
    """Remove uploaded import files nobody confirmed."""
    cutoff = dt.datetime.now().timestamp() - max_age.total_seconds()
    for path in _import_dir().glob("*.csv"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
