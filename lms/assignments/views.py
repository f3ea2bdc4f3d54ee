"""``/assignments``: HR assigns learning and follows compliance; learners see what is
assigned to them. Every HR view resolves the viewer's HR scope first and passes it on."""

from __future__ import annotations

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
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import pgettext
from flask_login import current_user, login_required

from lms.assignments import audience as aud
from lms.assignments import service
from lms.assignments.forms import (
    RULE_LABELS,
    AssignmentEditForm,
    AssignmentForm,
    AudienceForm,
    CsrfForm,
    ProgramForm,
)
from lms.assignments.models import (
    COURSE,
    PROGRAM,
    RULE_N_OF_M,
    TRAINING,
    Assignment,
    Audience,
    Program,
    ProgramCompletion,
)
from lms.db import get_session
from lms.errors import LmsError
from lms.people.auth import role_required
from lms.people.models import POSITION_KIND_LABELS, OrgUnit, Position, PositionKind, Role, User
from lms.people.service import org_tree
from lms.reports.scope import Scope, employee_in_scope, scope_for
from lms.web import Page, paginate, select_choices

assignments_bp = Blueprint("assignments", __name__, url_prefix="/assignments")
PER_PAGE = 50


def _scope() -> Scope:
    return scope_for(current_user._get_current_object())


def _page() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 100_000))
    except ValueError:
        return 1


def _unit_choices(scope: Scope) -> list[tuple[str, str]]:
    return [(str(u.id), "\u2003" * u.depth + u.name) for u in org_tree()
            if scope.covers(u.path)]


def _position_choices(scope: Scope) -> list[tuple[str, str]]:
    query = sa.select(Position, OrgUnit.name).join(OrgUnit, OrgUnit.id == Position.org_unit_id)
    if scope.path is not None:
        query = query.where(OrgUnit.path.like(scope.path + "%"))
    return [(str(p.id), f"{p.name} — {unit}") for p, unit in
            get_session().execute(query.order_by(Position.name, OrgUnit.name).limit(2000))]


def _target_choices(scope: Scope) -> list[tuple[str, str]]:
    from lms.courses.models import Course
    from lms.reports.models import Training

    session = get_session()
    out = [(f"{COURSE}:{c.id}", _("Course: %(title)s", title=c.title)) for c in session.scalars(
        sa.select(Course).where(Course.published.is_(True)).order_by(Course.title))]
    out += [(f"{PROGRAM}:{p.id}", _("Program: %(title)s", title=p.title)) for p in
            session.scalars(service.visible(sa.select(Program), Program, scope)
                            .order_by(Program.title))]
    trainings = sa.select(Training).where(Training.voided_at.is_(None))
    if scope.path is not None:
        trainings = trainings.outerjoin(OrgUnit, OrgUnit.id == Training.org_unit_id).where(
            OrgUnit.path.like(scope.path + "%"))
    out += [(f"{TRAINING}:{t.id}", _("Offline training: %(title)s", title=t.title))
            for t in session.scalars(trainings.order_by(Training.end_date.desc()).limit(500))]
    return out


def _audience_choices(scope: Scope) -> list[tuple[str, str]]:
    rows = get_session().scalars(service.visible(sa.select(Audience), Audience, scope)
                                 .order_by(Audience.name))
    return [("", _("— none: the rules below —"))] + [(str(a.id), a.name) for a in rows]


def _rules_from(form: Any) -> dict[str, Any]:
    grades = [g.strip() for g in (form.grades.data or "").split(",") if g.strip()]
    return aud.clean_rules({"units": form.units.data, "kinds": form.kinds.data,
                            "positions": form.positions.data, "grades": grades})


def _field_error(form: Any, exc: LmsError, default: str) -> None:
    field = getattr(form, exc.field or "", None) or getattr(form, default)
    field.errors = [*field.errors, str(exc.message)]


# --- HR: assignments ----------------------------------------------------------------------


@assignments_bp.get("/")
@role_required(Role.HR)
def index() -> Any:
    scope = _scope()
    query = service.visible(sa.select(Assignment), Assignment, scope).where(
        Assignment.archived_at.is_(None)).order_by(Assignment.created_at.desc(),
                                                   Assignment.id.desc())
    page = paginate(query, _page(), 25)
    # One grouped query for the page's figures (was a compliance query per row).
    figures = service.list_figures([a.id for a in page.items], scope)
    rows = [(a, figures[a.id]) for a in page.items]
    return render_template("assignments/index.html", page=page, rows=rows,
                           titles={a.id: service.target_title(a) for a in page.items})


@assignments_bp.route("/new", methods=["GET", "POST"])
@role_required(Role.HR)
def new() -> Any:
    scope = _scope()
    form = AssignmentForm()
    form.target.choices = select_choices(_target_choices(scope))
    form.units.choices = select_choices(_unit_choices(scope))
    form.positions.choices = select_choices(_position_choices(scope))
    form.audience.choices = select_choices(_audience_choices(scope))
    if request.method == "GET" and request.args.get("target"):
        form.target.data = request.args["target"]  # "Assign this program"
    preview: dict[str, Any] | None = None
    if form.validate_on_submit():
        try:
            spec = _spec(form)
            if form.nip_file.data:
                nips = aud.read_nips(form.nip_file.data.read(), scope)
                form.nips.data = ",".join(nips.nips)
                preview = {"nips": nips}
            if request.form.get("confirm") == "1" and preview is None:
                created = service.create_assignment(
                    spec, by=current_user._get_current_object(), scope=scope)
                get_session().commit()
                service.enrol_missing(created)
                flash(_("Assignment saved: %(n)d people assigned.",
                        n=service.compliance(created, scope)["total"]), "success")
                return redirect(url_for("assignments.detail", assignment_id=created.id))
            rules = service.rules_of_spec(spec)
            preview = preview or {}
            preview["count"] = aud.count(rules, scope)
            preview["title"] = spec.title
        except LmsError as exc:
            get_session().rollback()
            _field_error(form, exc, "target")
            preview = None
    return render_template("assignments/form.html", form=form, preview=preview)


def _spec(form: AssignmentForm) -> service.AssignmentSpec:
    kind, _sep, ident = (form.target.data or "").partition(":")
    if kind not in (COURSE, PROGRAM, TRAINING) or not ident.isdigit():
        from lms.errors import ValidationError

        raise ValidationError(_("Choose what to assign."), field="target")
    rules = _rules_from(form)
    if form.nips.data:
        rules["nips"] = [n for n in form.nips.data.split(",") if n.isdigit()]
    fixed = form.due_kind.data != "relative"
    if fixed and form.due_date.data is None:
        from lms.errors import ValidationError

        raise ValidationError(_("Give the due date."), field="due_date")
    if not fixed and not form.due_days.data:
        from lms.errors import ValidationError

        raise ValidationError(_("Give the number of days."), field="due_days")
    return service.AssignmentSpec(
        title=form.title.data or "", target_kind=kind, target_id=int(ident), rules=rules,
        audience_id=int(form.audience.data) if (form.audience.data or "").isdigit() else None,
        due_date=form.due_date.data if fixed else None,
        due_days=None if fixed else form.due_days.data, yearly=bool(form.yearly.data),
        enrol_now=bool(form.enrol_now.data), remind_before=form.remind_before.data or "",
        remind_on_due=bool(form.remind_on_due.data), remind_after=form.remind_after.data or "",
        escalate_after=form.escalate_after.data or None)


@assignments_bp.get("/<int:assignment_id>")
@role_required(Role.HR)
def detail(assignment_id: int) -> Any:
    scope = _scope()
    assignment = service.get_assignment(assignment_id, scope)
    return render_template(
        "assignments/detail.html", assignment=assignment,
        counts=service.compliance(assignment, scope), units=service.by_unit(assignment, scope),
        target=service.target_title(assignment), rules=_rules_text(assignment),
        form=CsrfForm(), statuses=service.STATUSES)


def _rules_text(assignment: Assignment) -> list[str]:
    rules = service.rules_of(assignment)
    session = get_session()
    out = []
    if assignment.audience_id:
        saved = session.get(Audience, assignment.audience_id)
        out.append(_("Saved audience: %(name)s", name=saved.name if saved else "-"))
    if rules.get("units"):
        names = session.scalars(sa.select(OrgUnit.name).where(OrgUnit.id.in_(rules["units"])))
        out.append(_("Units: %(names)s", names=", ".join(names)))
    if rules.get("kinds"):
        out.append(_("Position kinds: %(names)s", names=", ".join(
            str(POSITION_KIND_LABELS[PositionKind(k)]) for k in rules["kinds"])))
    if rules.get("positions"):
        names = session.scalars(sa.select(Position.name).where(
            Position.id.in_(rules["positions"])))
        out.append(_("Positions: %(names)s", names=", ".join(names)))
    if rules.get("grades"):
        out.append(_("Grades: %(names)s", names=", ".join(rules["grades"])))
    if rules.get("nips"):
        out.append(_("A list of %(n)d NIPs", n=len(rules["nips"])))
    return out


@assignments_bp.get("/<int:assignment_id>/people")
@role_required(Role.HR)
def people(assignment_id: int) -> Any:
    scope = _scope()
    assignment = service.get_assignment(assignment_id, scope)
    status = request.args.get("status") or None
    if status is not None and status not in service.STATUSES:
        abort(400)
    unit = _unit_arg()
    query = service.people(assignment, scope, status=status, unit=unit)
    session = get_session()
    total = session.scalar(sa.select(sa.func.count()).select_from(
        query.order_by(None).subquery())) or 0
    number = _page()
    page = Page(list(session.execute(query.limit(PER_PAGE).offset((number - 1) * PER_PAGE))),
                number, PER_PAGE, total)
    return render_template("assignments/people.html", assignment=assignment, page=page,
                           status=status, unit=unit, statuses=service.STATUSES)


def _unit_arg() -> OrgUnit | None:
    raw = request.args.get("unit") or ""
    if not raw:
        return None
    if not raw.isdigit():
        abort(400)
    unit = get_session().get(OrgUnit, int(raw))
    if unit is None:
        abort(404)
    return unit


def status_label(status: str) -> str:
    return {
        service.ASSIGNED: _("Not started"),
        service.IN_PROGRESS: pgettext("assignments", "In progress"),
        service.ON_TIME: _("Completed on time"),
        service.LATE: _("Completed late"),
        service.OVERDUE: _("Overdue"),
    }.get(status, status)


@assignments_bp.app_template_filter("assignment_status")
def _status_filter(status: str) -> str:
    return status_label(status)


@assignments_bp.get("/<int:assignment_id>/export.xlsx")
@role_required(Role.HR)
def export(assignment_id: int) -> Any:
    from lms.reports.exports import local_date, xlsx_file

    scope = _scope()
    assignment = service.get_assignment(assignment_id, scope)
    headers = [_("NIP"), _("Name"), _("Org unit"), _("Due date"), _("Completed on"),
               _("Status"), _("Left the audience on")]
    units = dict(get_session().execute(_current_units()).all())

    def rows() -> Any:
        for row in get_session().execute(service.people(assignment, scope)):
            yield [row.nip or "", row.name, units.get(row.id, ""), row.due_date,
                   local_date(row.completed_at), status_label(row.status), row.left_at]

    counts = service.compliance(assignment, scope)
    summary = [[status_label(s), counts[s]] for s in service.STATUSES]
    per_unit = [[u["unit"], *[u[s] for s in service.STATUSES], u["total"], u["rate"]]
                for u in service.by_unit(assignment, scope)]
    handle = xlsx_file([
        (_("People"), headers, rows()),
        (_("Summary"), [_("Status"), _("People")], summary),
        (_("Per unit"), [_("Org unit"), *[status_label(s) for s in service.STATUSES],
                         _("Total"), _("Completed (%)")], per_unit),
    ])
    response = send_file(handle, as_attachment=True,
                         download_name=f"kepatuhan-penugasan-{assignment.id}.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument."
                                  "spreadsheetml.sheet")
    response.call_on_close(handle.close)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _current_units() -> sa.Select:
    from lms.people.models import PositionAssignment

    return (sa.select(PositionAssignment.user_id, OrgUnit.name)
            .join(Position, Position.id == PositionAssignment.position_id)
            .join(OrgUnit, OrgUnit.id == Position.org_unit_id)
            .where(PositionAssignment.end_date.is_(None)))


@assignments_bp.post("/<int:assignment_id>/sync")
@role_required(Role.HR)
def sync_now(assignment_id: int) -> Any:
    CsrfForm().validate_on_submit() or abort(400)
    assignment = service.get_assignment(assignment_id, _scope())
    result = service.sync(assignment)
    get_session().commit()
    flash(_("Audience brought up to date: %(joined)d joined, %(left)d left.",
            joined=result.joined + result.rejoined, left=result.left), "success")
    return redirect(url_for("assignments.detail", assignment_id=assignment.id))


@assignments_bp.route("/<int:assignment_id>/edit", methods=["GET", "POST"])
@role_required(Role.HR)
def edit(assignment_id: int) -> Any:
    assignment = service.get_assignment(assignment_id, _scope())
    if assignment.archived_at is not None:
        flash(_("This assignment is closed: it cannot be changed."), "warning")
        return redirect(url_for("assignments.detail", assignment_id=assignment.id))
    form = AssignmentEditForm(obj=assignment)
    if request.method == "GET":
        form.due_kind.data = "relative" if assignment.due_days else "fixed"
    if form.validate_on_submit():
        fixed = form.due_kind.data != "relative"
        try:
            if fixed and form.due_date.data is None:
                from lms.errors import ValidationError

                raise ValidationError(_("Give the due date."), field="due_date")
            if not fixed and not form.due_days.data:
                from lms.errors import ValidationError

                raise ValidationError(_("Give the number of days."), field="due_days")
            moved = service.update_assignment(
                assignment, title=form.title.data or "",
                due_date=form.due_date.data if fixed else None,
                due_days=None if fixed else form.due_days.data,
                remind_before=form.remind_before.data or "",
                remind_on_due=bool(form.remind_on_due.data),
                remind_after=form.remind_after.data or "",
                escalate_after=form.escalate_after.data)
        except LmsError as exc:
            get_session().rollback()
            _field_error(form, exc, "title")
        else:
            get_session().commit()
            flash(_("Assignment saved: %(n)d people have a new due date.", n=moved), "success")
            return redirect(url_for("assignments.detail", assignment_id=assignment.id))
    return render_template("assignments/edit.html", form=form, assignment=assignment,
                           target=service.target_title(assignment))


@assignments_bp.post("/<int:assignment_id>/archive")
@role_required(Role.HR)
def archive(assignment_id: int) -> Any:
    CsrfForm().validate_on_submit() or abort(400)
    assignment = service.get_assignment(assignment_id, _scope())
    service.archive(assignment)
    get_session().commit()
    flash(_("Assignment closed: nobody is reminded of it any more."), "success")
    return redirect(url_for("assignments.index"))


# --- HR: saved audiences ------------------------------------------------------------------


@assignments_bp.route("/audiences", methods=["GET", "POST"])
@role_required(Role.HR)
def audiences() -> Any:
    scope = _scope()
    form = AudienceForm()
    form.units.choices = select_choices(_unit_choices(scope))
    form.positions.choices = select_choices(_position_choices(scope))
    if form.validate_on_submit():
        rules = _rules_from(form)
        if not aud.has_rules(rules):
            form.units.errors = [*form.units.errors, _("Choose at least one rule.")]
        else:
            get_session().add(Audience(
                name=form.name.data.strip(), rules=rules,
                org_unit_id=scope.unit.id if scope.unit else None,
                created_by_id=current_user.id))
            get_session().commit()
            flash(_("Audience saved."), "success")
            return redirect(url_for("assignments.audiences"))
    rows = list(get_session().scalars(service.visible(sa.select(Audience), Audience, scope)
                                      .order_by(Audience.name)))
    counts = {a.id: aud.count(a.rules, scope) for a in rows}
    return render_template("assignments/audiences.html", form=form, rows=rows, counts=counts)


# --- HR: learning programs ----------------------------------------------------------------


def _item_choices(scope: Scope) -> list[tuple[str, str]]:
    return [c for c in _target_choices(scope) if not c[0].startswith(PROGRAM)]


@assignments_bp.get("/programs")
@role_required(Role.HR)
def programs() -> Any:
    scope = _scope()
    rows = list(get_session().scalars(service.visible(sa.select(Program), Program, scope)
                                      .order_by(Program.title)))
    return render_template("assignments/programs.html", rows=rows,
                           jp={p.id: service.program_jp(p) for p in rows},
                           rule_labels=RULE_LABELS)


@assignments_bp.route("/programs/new", methods=["GET", "POST"])
@role_required(Role.HR)
def program_new() -> Any:
    scope = _scope()
    form = ProgramForm()
    form.items.choices = select_choices(_item_choices(scope))
    if form.validate_on_submit():
        try:
            program = service.create_program(
                title=form.title.data, description=form.description.data or "",
                items=service.ordered_items(form.items.data, form.order.data or ""),
                rule=form.rule.data, required_count=form.required_count.data,
                validity_months=form.validity_months.data,
                reopen_days=form.reopen_days.data or 0,
                by=current_user._get_current_object(), scope=scope)
        except LmsError as exc:
            get_session().rollback()
            _field_error(form, exc, "items")
        else:
            get_session().commit()
            flash(_("Learning program saved."), "success")
            return redirect(url_for("assignments.program_detail", program_id=program.id))
    return render_template("assignments/program_form.html", form=form, program=None)


@assignments_bp.route("/programs/<int:program_id>/edit", methods=["GET", "POST"])
@role_required(Role.HR)
def program_edit(program_id: int) -> Any:
    scope = _scope()
    program = service.get_program(program_id, scope)
    editable = service.program_editable(program)
    codes = [f"{i.kind}:{i.course_id if i.kind == COURSE else i.training_id}"
             for i in program.items]
    form = ProgramForm(obj=program)
    form.items.choices = select_choices(_item_choices(scope))
    if request.method == "GET":
        form.items.data = codes
        form.order.data = ", ".join(codes)
    if request.method == "POST" and not editable:
        form.validate_on_submit() or abort(400)
        flash(_("Someone has completed this program already: it can no longer be changed. "
                "Make a new program instead."), "warning")
        return redirect(url_for("assignments.program_detail", program_id=program.id))
    if editable and form.validate_on_submit():
        try:
            service.update_program(
                program, title=form.title.data, description=form.description.data or "",
                items=service.ordered_items(form.items.data, form.order.data or ""),
                rule=form.rule.data, required_count=form.required_count.data,
                validity_months=form.validity_months.data,
                reopen_days=form.reopen_days.data or 0, scope=scope)
        except LmsError as exc:
            get_session().rollback()
            _field_error(form, exc, "items")
        else:
            get_session().commit()
            flash(_("Learning program saved."), "success")
            return redirect(url_for("assignments.program_detail", program_id=program.id))
    return render_template("assignments/program_form.html", form=form, program=program,
                           editable=editable)


@assignments_bp.get("/programs/<int:program_id>")
@role_required(Role.HR)
def program_detail(program_id: int) -> Any:
    scope = _scope()
    program = service.get_program(program_id, scope)
    completions = get_session().scalar(sa.select(sa.func.count()).select_from(
        ProgramCompletion).where(ProgramCompletion.program_id == program.id)) or 0
    return render_template("assignments/program.html", program=program,
                           parts=service.program_parts(program), jp=service.program_jp(program),
                           completions=completions, rule_labels=RULE_LABELS,
                           editable=completions == 0,
                           n_of_m=RULE_N_OF_M)


# --- learners -----------------------------------------------------------------------------


@assignments_bp.get("/mine")
@login_required
def mine() -> Any:
    return render_template("assignments/mine.html",
                           items=service.my_assignments(current_user._get_current_object()))


@assignments_bp.get("/mine/programs/<int:program_id>")
@login_required
def program_mine(program_id: int) -> Any:
    program = get_session().get(Program, program_id)
    if program is None:
        abort(404)
    me = current_user._get_current_object()
    if not service.program_visible_to(program, me):
        abort(404)
    return render_template("assignments/program_mine.html", program=program,
                           state=service.program_state(program, me),
                           jp=service.program_jp(program), rule_labels=RULE_LABELS,
                           n_of_m=RULE_N_OF_M)


def _own_certificate(number: str) -> Any:
    """A program certificate its holder, or HR whose scope has the program, may fetch."""
    from lms.assignments import certificates

    cert = certificates.by_number(number)
    if cert is None:
        abort(404)
    me = current_user._get_current_object()
    if cert.user.id != me.id:
        if not me.has_role(Role.HR, Role.ADMIN):
            abort(404)
        # HR reads the papers of the employees in its scope, as for course certificates.
        if not employee_in_scope(_scope(), cert.user):
            abort(403)
    return cert


@assignments_bp.get("/certificates/<number>.pdf")
@login_required
def program_certificate(number: str) -> Any:
    from lms.assignments import certificates

    cert = _own_certificate(number)
    response = current_app.response_class(certificates.pdf(cert), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="sertifikat-{number}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@assignments_bp.get("/certificates/<number>.jwt")
@login_required
def program_badge(number: str) -> Any:
    """The program's Open Badge (an OpenBadgeCredential as a signed JWT)."""
    from lms.assignments import certificates

    cert = _own_certificate(number)
    response = current_app.response_class(certificates.signed_badge(cert),
                                          mimetype="application/vc+jwt")
    response.headers["Content-Disposition"] = f'attachment; filename="lencana-{number}.jwt"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@assignments_bp.get("/mine/<int:assignment_id>/training")
@login_required
def training_info(assignment_id: int) -> Any:
    from lms.reports.models import Training

    assignment = get_session().get(Assignment, assignment_id)
    me = current_user._get_current_object()
    if assignment is None or assignment.target_kind != TRAINING or not any(
            r["assignment"].id == assignment.id for r in service.my_assignments(me)):
        abort(404)
    training = get_session().get(Training, assignment.training_id)
    return render_template("assignments/training_info.html", assignment=assignment,
                           training=training)


def home_panel(user: User) -> Any:
    """The learner's assigned learning, first on the home page."""
    if not getattr(user, "is_authenticated", False):
        return None
    items = service.my_assignments(user)
    open_items = [i for i in items if i["status"] not in (service.ON_TIME, service.LATE)]
    if not open_items:
        return None
    return "assignments/_home_panel.html", {"items": open_items[:8],
                                            "more": max(0, len(open_items) - 8),
                                            "today": service.today(), "top": True}


