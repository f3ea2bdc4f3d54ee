"""Web views of the competency module: profiles, frameworks, standards and rules."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from lms.competency import service
from lms.competency.forms import (
    METHOD_LABELS,
    PRECEDENCE_LABELS,
    CsrfForm,
    PolicyForm,
    RuleForm,
    UploadForm,
)
from lms.competency.models import (
    MAX_LEVEL,
    SOURCE_LABELS,
    Evidence,
    EvidenceRule,
    PositionRequirement,
)
from lms.competency.policy import SOURCES, normalize_policy
from lms.db import get_session
from lms.errors import LmsError, NotFound
from lms.people.auth import role_required
from lms.people.models import OrgUnit, Position, Role, User
from lms.web import select_choices

competency_bp = Blueprint("competency", __name__, url_prefix="/competency")


def course_link(slug: str) -> str | None:
    """The catalog page of a course, when the courses module serves one."""
    if not slug:
        return None
    for endpoint in ("courses.detail", "courses.course"):
        try:
            return url_for(endpoint, slug=slug)
        except BuildError:
            continue
    return None


@competency_bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"course_link": course_link, "MAX_LEVEL": MAX_LEVEL,
            "competency_recommendations": _recommendations_for_current_user,
            "source_labels": {k.value: v for k, v in SOURCE_LABELS.items()}}


def _recommendations_for_current_user(limit: int = 4) -> list[dict[str, Any]]:
    """Courses that close the signed-in employee's gaps (for the catalog's partial)."""
    if not current_user.is_authenticated or not getattr(current_user, "nip", None):
        return []
    return service.recommended_courses(current_user, limit=limit)


def _employee(nip: str) -> User:
    user = get_session().scalar(sa.select(User).where(User.nip == nip))
    if user is None:
        abort(404)
    if not service.can_view_profile(current_user, user):
        abort(403)
    return user


# --- profiles ------------------------------------------------------------------------------


def _chart_data(profile: service.Profile) -> str:
    rows = [r for r in profile.rows if r.required or r.level]
    return json.dumps({
        "labels": [r.competency.name for r in rows],
        "codes": [r.competency.code for r in rows],
        "current": [r.level for r in rows],
        "required": [r.required for r in rows],
        "currentLabel": _("Current level"),
        "requiredLabel": _("Required level"),
        "max": MAX_LEVEL,
    })


def _render_profile(user: User) -> str:
    profile = service.build_profile(user)
    frameworks = {c.framework_id for c in (r.competency for r in profile.rows)}
    policies = [(f, normalize_policy(f.policy)) for f in service.list_frameworks()
                if f.id in frameworks]
    return render_template(
        "competency/profile.html", profile=profile, chart=_chart_data(profile),
        policies=policies, method_labels=METHOD_LABELS, precedence_labels=PRECEDENCE_LABELS,
        recommendations=service.recommended_courses(user),
        is_self=user.id == current_user.id,
        supervisors=service.supervisors_of(user),
        recent=service.evidence_for(user)[:10])


@competency_bp.get("/")
@login_required
def my_profile() -> Any:
    """Profil Kompetensi of the signed-in employee."""
    return _render_profile(current_user)


@competency_bp.get("/employees/<nip>")
@login_required
def employee_profile(nip: str) -> Any:
    """The same profile, for HR and the employee's supervisors."""
    return _render_profile(_employee(nip))


@competency_bp.get("/employees/<nip>/<code>")
@login_required
def evidence_detail(nip: str, code: str) -> Any:
    """Why an employee is at their level in one competency: the evidence and statements."""
    user = _employee(nip)
    try:
        competency = service.get_competency(code)
    except NotFound:
        abort(404)
    profile = service.build_profile(user)
    row = next((r for r in profile.rows if r.competency.id == competency.id), None)
    policy = normalize_policy(competency.framework.policy)
    return render_template(
        "competency/evidence.html", user=user, competency=competency, row=row,
        evidence=service.evidence_for(user, competency), policy=policy,
        method_labels=METHOD_LABELS, precedence_labels=PRECEDENCE_LABELS,
        is_self=user.id == current_user.id)


@competency_bp.get("/team")
@login_required
def team() -> Any:
    """HR: search every employee. Supervisors: the people of the units they lead."""
    query = request.args.get("q", "").strip()
    is_hr = current_user.has_role(Role.HR, Role.ADMIN)
    if is_hr:
        people = service.search_employees(query, limit=50)
    else:
        people = service.subordinates(current_user)
        if not people:
            abort(403)
        if query:
            low = query.lower()
            people = [u for u in people if low in (u.nip or "") or low in u.name.lower()
                      or low in (u.email or "")]
    gaps = {}
    for person in people:
        profile = service.build_profile(person)
        gaps[person.id] = (profile.jpm, len(profile.gaps))
    return render_template("competency/team.html", people=people, query=query, gaps=gaps,
                           is_hr=is_hr)


def home_panel(user: Any) -> tuple[str, dict[str, Any]] | None:
    """"My competency profile" on the home page: the match and the biggest gaps."""
    if not getattr(user, "nip", None):
        return None
    profile = service.build_profile(user)
    if not profile.rows:
        return None
    gaps = sorted(profile.gaps, key=lambda r: (-r.gap, r.competency.code))[:3]
    return "competency/_home_panel.html", {"profile": profile, "gaps": gaps}


# --- frameworks ----------------------------------------------------------------------------


@competency_bp.get("/frameworks")
@login_required
def frameworks() -> Any:
    return render_template("competency/frameworks.html", frameworks=service.list_frameworks(),
                           upload=UploadForm(), can_edit=current_user.has_role(Role.HR,
                                                                                Role.ADMIN))


@competency_bp.get("/frameworks/<code>")
@login_required
def framework(code: str) -> Any:
    try:
        fw = service.get_framework(code)
    except NotFound:
        abort(404)
    policy = normalize_policy(fw.policy)
    form = PolicyForm(data={**policy, "source_order": ", ".join(policy["source_order"])})
    return render_template("competency/framework.html", framework=fw, policy=policy, form=form,
                           method_labels=METHOD_LABELS, precedence_labels=PRECEDENCE_LABELS,
                           can_edit=current_user.has_role(Role.HR, Role.ADMIN))


@competency_bp.post("/frameworks/<code>/policy")
@role_required(Role.HR)
def framework_policy(code: str) -> Any:
    try:
        fw = service.get_framework(code)
    except NotFound:
        abort(404)
    form = PolicyForm()
    if form.validate_on_submit():
        order = [s.strip() for s in form.source_order.data.split(",") if s.strip()]
        if set(order) - set(SOURCES):
            flash(_("Unknown source in the rank: use %(sources)s.",
                    sources=", ".join(SOURCES)), "danger")
            return redirect(url_for(".framework", code=code))
        try:
            count = service.set_policy(fw, {
                "method": form.method.data, "mastery_count": form.mastery_count.data,
                "half_life_days": form.half_life_days.data,
                "precedence": form.precedence.data, "source_order": order,
                "counted_sources": form.counted_sources.data,
                "supervisor_validation": bool(form.supervisor_validation.data)})
        except LmsError as exc:
            flash(str(exc.message), "danger")
            return redirect(url_for(".framework", code=code))
        get_session().commit()
        flash(_("Policy saved; %(n)d profile entries recomputed.", n=count), "success")
    else:
        flash(_("The policy was not saved: check the values."), "danger")
    return redirect(url_for(".framework", code=code))


@competency_bp.get("/frameworks/<code>.json")
@login_required
def framework_json(code: str) -> Any:
    try:
        fw = service.get_framework(code)
    except NotFound:
        abort(404)
    body = json.dumps(service.export_framework(fw), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{code}.json"'})


@competency_bp.get("/frameworks/<code>.csv")
@login_required
def framework_csv(code: str) -> Any:
    try:
        fw = service.get_framework(code)
    except NotFound:
        abort(404)
    return Response("\ufeff" + service.framework_csv(fw), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{code}.csv"'})


@competency_bp.post("/frameworks/import")
@role_required(Role.HR)
def framework_import() -> Any:
    form = UploadForm()
    if not form.validate_on_submit():
        flash(_("Choose a JSON or CSV framework file."), "danger")
        return redirect(url_for(".frameworks"))
    content = form.file.data.read()
    try:
        text = content.decode("utf-8-sig")
        if form.file.data.filename.lower().endswith(".csv"):
            data = service.framework_from_csv(text)
        else:
            try:
                data = json.loads(text)
            except ValueError as exc:
                raise LmsError(_("The file is not valid JSON: %(error)s", error=str(exc))) \
                    from None
        fw, created, updated = service.import_framework(data)
    except UnicodeDecodeError:
        get_session().rollback()
        flash(_("The file is not UTF-8 text."), "danger")
        return redirect(url_for(".frameworks"))
    except LmsError as exc:
        get_session().rollback()
        flash(_("Nothing was imported: %(error)s", error=str(exc.message)), "danger")
        return redirect(url_for(".frameworks"))
    get_session().commit()
    flash(_("Framework %(code)s imported: %(c)d new and %(u)d updated competencies.",
            code=fw.code, c=created, u=updated), "success")
    return redirect(url_for(".framework", code=fw.code))


@competency_bp.get("/c/<code>")
def competency_page(code: str) -> Any:
    """What a competency IRI resolves to: its definition and levels (public)."""
    try:
        competency = service.get_competency(code)
    except NotFound:
        abort(404)
    if request.accept_mimetypes.best == "application/json":
        fw = service.export_framework(competency.framework)
        item = next(c for c in fw["competencies"] if c["code"] == code)
        return {"framework": fw["code"], **item}
    return render_template("competency/competency.html", competency=competency)


# --- position standards ------------------------------------------------------------------


def _standards_scope_path() -> str | None:
    """The org-unit path prefix whose position standards the signed-in HR user may see and
    change (None: the whole organisation)."""
    from lms.reports.scope import scope_for

    return scope_for(current_user).path


def _position_in_scope(position_id: int) -> Position:
    position = get_session().get(Position, position_id) or abort(404)
    path = _standards_scope_path()
    if path is not None and not position.org_unit.path.startswith(path):
        abort(403, _("That position is outside your HR scope."))
    return position


@competency_bp.get("/standards")
@role_required(Role.HR)
def standards() -> Any:
    session = get_session()
    path = _standards_scope_path()
    query = sa.select(Position).join(OrgUnit)
    if path is not None:
        query = query.where(OrgUnit.path.startswith(path, autoescape=True))
    positions = session.scalars(query.order_by(OrgUnit.path, Position.name)).all()
    counts = dict(session.execute(
        sa.select(PositionRequirement.position_id, sa.func.count())
        .group_by(PositionRequirement.position_id)).all())
    return render_template("competency/standards.html", positions=positions, counts=counts,
                           form=CsrfForm(), upload=UploadForm())


@competency_bp.get("/standards/<int:position_id>")
@role_required(Role.HR)
def standard_edit(position_id: int) -> Any:
    position = _position_in_scope(position_id)
    return render_template("competency/standard_edit.html", position=position,
                           competencies=service.all_competencies(),
                           required=service.requirements_for(position),
                           defaults=service.default_levels(position), form=CsrfForm())


@competency_bp.post("/standards/<int:position_id>")
@role_required(Role.HR)
def standard_save(position_id: int) -> Any:
    position = _position_in_scope(position_id)
    form = CsrfForm()
    if not form.validate_on_submit():
        abort(400)
    levels: dict[int, int] = {}
    for competency in service.all_competencies():
        raw = request.form.get(f"level-{competency.id}", "0")
        if not raw.isdigit() or not 0 <= int(raw) <= MAX_LEVEL:
            flash(_("A required level must be a number from 0 to 5."), "danger")
            return redirect(url_for(".standard_edit", position_id=position_id))
        levels[competency.id] = int(raw)
    service.set_requirements(position, levels)
    get_session().commit()
    flash(_("The competency standard of %(name)s is saved.", name=position.name), "success")
    return redirect(url_for(".standards"))


@competency_bp.post("/standards/defaults")
@role_required(Role.HR)
def standard_defaults() -> Any:
    form = CsrfForm()
    if not form.validate_on_submit():
        abort(400)
    changed = service.apply_default_standards(overwrite=False,
                                              unit_path=_standards_scope_path())
    get_session().commit()
    flash(_("Default standards given to %(n)d positions without a standard.", n=changed),
          "success")
    return redirect(url_for(".standards"))


@competency_bp.get("/standards.csv")
@role_required(Role.HR)
def standards_csv() -> Any:
    text = service.standards_csv(_standards_scope_path())
    return Response("\ufeff" + text, mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="standar-kompetensi-jabatan.csv"'})


@competency_bp.post("/standards/import")
@role_required(Role.HR)
def standards_import() -> Any:
    form = UploadForm()
    if not form.validate_on_submit():
        flash(_("Choose a CSV file."), "danger")
        return redirect(url_for(".standards"))
    try:
        result = service.import_standards_csv(form.file.data.read(),
                                              unit_path=_standards_scope_path())
    except LmsError as exc:
        get_session().rollback()
        flash(str(exc.message), "danger")
        return redirect(url_for(".standards"))
    if result.errors:
        get_session().rollback()
        for error in result.errors[:20]:
            flash(error, "danger")
        flash(_("Nothing was imported: %(n)d rows have errors.", n=len(result.errors)),
              "danger")
        return redirect(url_for(".standards"))
    get_session().commit()
    flash(_("Imported %(rows)d rows for %(positions)d positions.", rows=result.rows,
            positions=len(result.changes)), "success")
    return redirect(url_for(".standards"))


# --- evidence rules ------------------------------------------------------------------------


@competency_bp.get("/rules")
@role_required(Role.HR)
def rules() -> Any:
    return render_template("competency/rules.html", rules=service.current_rules(),
                           form=CsrfForm(), format_bands=service.format_bands)


def _rule_form(rule: EvidenceRule | None = None) -> RuleForm:
    if rule is not None and request.method == "GET":
        form = RuleForm(data={
            "name": rule.name, "activity_iri": rule.activity_iri, "match": rule.match,
            "criterion": rule.criterion.value, "threshold": rule.threshold,
            "bands": service.format_bands(rule.bands), "items": "\n".join(rule.items or []),
            "competency_id": rule.competency_id, "level": rule.level, "weight": rule.weight,
            "source": rule.source.value})
    else:
        form = RuleForm()
    form.competency_id.choices = select_choices(
        (c.id, f"{c.code} {c.name}") for c in service.all_competencies())
    return form


def _spec(form: RuleForm) -> service.RuleSpec:
    return service.RuleSpec(
        name=form.name.data, activity_iri=form.activity_iri.data.strip(),
        match=form.match.data, criterion=form.criterion.data,
        competency_id=form.competency_id.data, level=form.level.data,
        weight=float(form.weight.data), source=form.source.data,
        threshold=float(form.threshold.data) if form.threshold.data is not None else None,
        bands=service.parse_bands(form.bands.data or ""),
        items=[line.strip() for line in (form.items.data or "").splitlines() if line.strip()])


def _apply_error(form: RuleForm, exc: LmsError) -> None:
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, str(exc.message)]
    else:
        flash(str(exc.message), "danger")


@competency_bp.route("/rules/new", methods=["GET", "POST"])
@role_required(Role.HR)
def rule_new() -> Any:
    form = _rule_form()
    if form.validate_on_submit():
        try:
            rule = service.create_rule(_spec(form), created_by=current_user)
        except LmsError as exc:
            get_session().rollback()
            _apply_error(form, exc)
        else:
            get_session().commit()
            flash(_("Rule saved. Earlier statements were judged by it too."), "success")
            return redirect(url_for(".rule_detail", rule_id=rule.id))
    return render_template("competency/rule_form.html", form=form, rule=None), (
        400 if request.method == "POST" else 200)


def _rule(rule_id: int) -> EvidenceRule:
    return get_session().get(EvidenceRule, rule_id) or abort(404)


@competency_bp.get("/rules/<int:rule_id>")
@role_required(Role.HR)
def rule_detail(rule_id: int) -> Any:
    rule = _rule(rule_id)
    versions = service.rule_versions(rule.rule_key)
    counts = dict(get_session().execute(
        sa.select(Evidence.rule_id, sa.func.count()).where(
            Evidence.rule_id.in_([v.id for v in versions]), Evidence.withdrawn.is_(False))
        .group_by(Evidence.rule_id)).all())
    return render_template("competency/rule_detail.html", rule=versions[0], versions=versions,
                           counts=counts, form=CsrfForm(), format_bands=service.format_bands)


@competency_bp.route("/rules/<int:rule_id>/edit", methods=["GET", "POST"])
@role_required(Role.HR)
def rule_edit(rule_id: int) -> Any:
    rule = service.rule_versions(_rule(rule_id).rule_key)[0]
    form = _rule_form(rule)
    if form.validate_on_submit():
        try:
            new = service.update_rule(rule.rule_key, _spec(form),
                                      retroactive=form.retroactive.data,
                                      created_by=current_user)
        except LmsError as exc:
            get_session().rollback()
            _apply_error(form, exc)
        else:
            get_session().commit()
            flash(_("Version %(v)d of the rule saved.", v=new.version), "success")
            return redirect(url_for(".rule_detail", rule_id=new.id))
    return render_template("competency/rule_form.html", form=form, rule=rule), (
        400 if request.method == "POST" else 200)


@competency_bp.post("/rules/<int:rule_id>/active")
@role_required(Role.HR)
def rule_active(rule_id: int) -> Any:
    rule = service.rule_versions(_rule(rule_id).rule_key)[0]
    form = CsrfForm()
    if not form.validate_on_submit():
        abort(400)
    new = service.set_rule_active(rule.rule_key, not rule.active, created_by=current_user)
    get_session().commit()
    flash(_("Rule switched on.") if new.active else _("Rule switched off."), "success")
    return redirect(url_for(".rule_detail", rule_id=new.id))
