"""HR pages: dashboard, drill-downs, employee records, completion records and exports,
training needs (AKPK), offline training, and HR scopes. Every page resolves the viewer's
scope first (:func:`lms.reports.scope.scope_for`) and passes it to the queries."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.db import get_session
from lms.errors import LmsError
from lms.people.auth import role_required
from lms.people.models import POSITION_KIND_LABELS, OrgUnit, Position, Role, User, UserRole
from lms.people.service import find_user, org_tree
from lms.reports import exports, needs, service, training
from lms.reports import jobs as report_jobs
from lms.reports.forms import (
    ConfirmParticipantsForm,
    CsrfForm,
    ParticipantsForm,
    RouteForm,
    ScopeForm,
    TargetForm,
    TrainingForm,
    VoidTrainingForm,
)
from lms.reports.models import (
    TRAINING_KIND_LABELS,
    DevelopmentRoute,
    HrScope,
    Training,
    TrainingParticipant,
)
from lms.reports.scope import Scope, get_employee, scope_for, set_scope
from lms.web import Page, paginate, select_choices

reports_bp = Blueprint("reports", __name__, url_prefix="/reports")

PER_PAGE = 25


def _scope() -> Scope:
    return scope_for(current_user._get_current_object())


def _page() -> int:
    value = request.args.get("page", "1")
    return max(1, int(value)) if value.isdigit() else 1


def _units(scope: Scope) -> list[OrgUnit]:
    """Org units a filter may choose: those inside the scope, in tree order."""
    return [u for u in org_tree() if scope.covers(u.path)]


def _filter_context(scope: Scope, filters: service.Filters) -> dict[str, Any]:
    return {"filters": filters, "units": _units(scope), "scope": scope,
            "kinds": list(POSITION_KIND_LABELS.items())}


@reports_bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"kind_label": exports.kind_label, "local_date": exports.local_date,
            "training_kinds": TRAINING_KIND_LABELS}


# --- dashboard -----------------------------------------------------------------------------


@reports_bp.get("/")
@role_required(Role.HR)
def dashboard() -> Any:
    scope = _scope()
    filters = service.parse_filters(request.args, scope)
    data = service.dashboard(scope, filters)
    args = filters.args()
    chart = {
        "months": {
            "labels": [m[0] for m in data.months],
            "counts": [m[1] for m in data.months],
            "jp": [round(m[2], 1) for m in data.months],
            "countLabel": _("Completions"),
            "jpLabel": _("JP earned"),
        },
        "bands": {
            "labels": [b[0] for b in data.bands],
            "counts": [b[1] for b in data.bands],
            "label": _("Employees"),
            "urls": [url_for("reports.employees", drill="band", band=i, **args)
                     for i in range(len(data.bands))],
        },
    }
    return render_template("reports/dashboard.html", data=data,
                           chart=json.dumps(chart), args=args, target=service.JP_TARGET,
                           **_filter_context(scope, filters))


@reports_bp.get("/heatmap")
@role_required(Role.HR)
def heatmap() -> Any:
    """The gap heatmap of the dashboard's filters. The dashboard loads it after it has
    rendered (``?fragment=1``: the table alone), because counting gaps reads every
    profile row of the scope; on its own it is a page (for browsers without scripts)."""
    scope = _scope()
    filters = service.parse_filters(request.args, scope)
    heat = service.gap_heatmap(scope, filters)
    args = filters.args()
    if request.args.get("fragment"):
        response = current_app.make_response(render_template(
            "reports/_heatmap.html", heat=heat, args=args, page_endpoint="reports.dashboard"))
        response.headers["Cache-Control"] = "private, no-store"
        return response
    return render_template("reports/heatmap.html", heat=heat, args=args,
                           page_endpoint="reports.dashboard", **_filter_context(scope, filters))


@reports_bp.get("/employees")
@role_required(Role.HR)
def employees() -> Any:
    scope = _scope()
    filters = service.parse_filters(request.args, scope)
    drill = request.args.get("drill", "all")
    if drill not in service.DRILLS:
        drill = "all"
    band = request.args.get("band", "")
    competency = request.args.get("competency", "")
    query = service.drill_query(
        scope, filters, drill, band=int(band) if band.isdigit() else None,
        competency_id=int(competency) if competency.isdigit() else None,
        search=request.args.get("q", ""))
    rows, total = service.page_rows(query, _page(), PER_PAGE)
    competency_row = None
    if competency.isdigit():
        from lms.competency.models import Competency

        competency_row = get_session().get(Competency, int(competency))
    return render_template(
        "reports/employees.html", rows=rows, page=Page(rows, _page(), PER_PAGE, total),
        drill=drill, band_label=service.band_label(int(band)) if band.isdigit()
        and int(band) < len(service.JP_BANDS) else None, competency=competency_row,
        args=filters.args(), **_filter_context(scope, filters))


@reports_bp.get("/employees/<nip>")
@login_required
def employee(nip: str) -> Any:
    viewer = current_user._get_current_object()
    user = get_employee(viewer, nip)
    from lms.competency.service import build_profile

    profile = build_profile(user)
    gaps = needs.employee_gaps(user)
    from lms.jp import service as jp

    data = jp.transcript(user)
    in_scope = viewer.has_role(Role.HR, Role.ADMIN) and _in_scope(user)
    target_form = None
    if in_scope:
        target_form = TargetForm()
        target_form.position.choices = _position_choices()
        target_form.position.data = gaps["target"].id if gaps["target"] else 0
    return render_template("reports/employee.html", user=user, profile=profile, gaps=gaps,
                           transcript=data, target_form=target_form,
                           jp_year=jp.jp_total(user, data["this_year"]))


def _in_scope(user: User) -> bool:
    from lms.reports.scope import employee_in_scope

    return employee_in_scope(_scope(), user)


def _position_choices() -> list[Any]:
    positions = get_session().execute(
        sa.select(Position.id, Position.name, OrgUnit.name).join(OrgUnit)
        .order_by(OrgUnit.name, Position.name)).all()
    return select_choices([(0, _("None"))] + [(p[0], f"{p[1]} — {p[2]}") for p in positions])


@reports_bp.post("/employees/<nip>/target")
@role_required(Role.HR)
def employee_target(nip: str) -> Any:
    user = get_employee(current_user._get_current_object(), nip, allow_supervisor=False)
    if not _in_scope(user):
        abort(403)
    form = TargetForm()
    form.position.choices = _position_choices()
    if form.validate_on_submit():
        position = get_session().get(Position, form.position.data) if form.position.data else None
        needs.set_target_position(user, position)
        get_session().commit()
        flash(_("Target position saved."), "success")
    else:
        flash(_("Choose a position."), "danger")
    return redirect(url_for("reports.employee", nip=nip))


@reports_bp.get("/employees/<nip>/transcript.pdf")
@login_required
def employee_transcript_pdf(nip: str) -> Any:
    from lms.courses.certificates import transcript_pdf

    user = get_employee(current_user._get_current_object(), nip)
    from lms.jp import service as jp

    pdf = transcript_pdf(jp.transcript(user))
    response = current_app.response_class(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'inline; filename="riwayat-belajar-{user.nip or user.id}.pdf"')
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- completion records --------------------------------------------------------------------


def _records_query(scope: Scope) -> tuple[Any, service.Filters, dict[str, Any]]:
    return service.records_from_args(scope, request.args)


@reports_bp.get("/completions")
@role_required(Role.HR)
def completions() -> Any:
    scope = _scope()
    query, filters, state = _records_query(scope)
    rows, total = service.page_rows(query, _page(), PER_PAGE)
    export_args = dict(filters.args(), **{k: v for k, v in state.items() if v})
    return render_template("reports/completions.html", rows=rows,
                           page=Page(rows, _page(), PER_PAGE, total), state=state,
                           export_args=export_args, sorts=service.RECORD_SORTS,
                           background=total > _background_rows(), job=_shown_job(),
                           job_form=CsrfForm(), **_filter_context(scope, filters))


def _background_rows() -> int:
    """Exports with more rows than this are offered as background jobs."""
    return int(current_app.config.get("REPORTS_BACKGROUND_EXPORT_ROWS", 10_000))


def _shown_job() -> Any:
    """The export job named by ``?job=`` when it is the viewer's (a page reloaded, or a
    browser without scripts that posted the export form)."""
    raw = request.args.get("job", "")
    if not raw.isdigit():
        return None
    from lms.tasks import Job

    job = get_session().get(Job, int(raw))
    if job is None or job.owner_id != current_user.id or not job.kind.startswith("reports."):
        return None
    return job


def _submitted(kind: str, params: dict[str, Any], page: str) -> Any:
    """Queue an export job for the signed-in user; answer the page's script with the job's
    status (202), or a browser without scripts with the page that follows the job."""
    from lms.tasks import job_response, submit_job

    if not CsrfForm().validate_on_submit():
        abort(400)
    job = submit_job(kind, params, user=current_user._get_current_object())
    if request.accept_mimetypes.best == "application/json":
        return job_response(job)
    return redirect(url_for(page, job=job.id, **request.args.to_dict()))


@reports_bp.post("/completions/export")
@role_required(Role.HR)
def completions_export() -> Any:
    """The completion records as a background job (``format`` csv or xlsx), with the
    page's filters, search and sort."""
    fmt = request.form.get("format", "")
    if fmt not in report_jobs.FORMATS:
        abort(400)
    service.records_from_args(_scope(), request.args)  # bad filters: 4xx now, not a job
    args = {k: v for k, v in request.args.to_dict().items() if k != "job"}
    return _submitted(report_jobs.COMPLETIONS, {"format": fmt, "args": args},
                      "reports.completions")


@reports_bp.get("/completions.csv")
@role_required(Role.HR)
def completions_csv() -> Any:
    scope = _scope()
    query, _filters, _state = _records_query(scope)
    rows = exports.record_csv_rows(service.export_rows(query))
    response = Response(stream_with_context(exports.csv_stream(exports.record_headers(), rows,
                                                               ready=True)),
                        mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="rekap-penyelesaian.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@reports_bp.get("/completions.xlsx")
@role_required(Role.HR)
def completions_xlsx() -> Any:
    scope = _scope()
    query, _filters, _state = _records_query(scope)
    rows = exports.export_values(service.export_rows(query))
    handle = exports.xlsx_file([(_("Completions"), exports.record_headers(), rows)])
    return _send_xlsx(handle, "rekap-penyelesaian.xlsx")


def _send_xlsx(handle: Any, name: str) -> Any:
    response = send_file(
        handle, as_attachment=True, download_name=name,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.call_on_close(handle.close)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- training needs (AKPK) -----------------------------------------------------------------


def _cost_per_jp() -> float | None:
    return exports.cost_per_jp(request.args)


@reports_bp.get("/needs")
@role_required(Role.HR)
def needs_page() -> Any:
    scope = _scope()
    filters = service.parse_filters(request.args, scope)
    category = request.args.get("category") or None
    items = needs.needs(scope, filters)
    cost = _cost_per_jp()
    rows, total = service.page_rows(needs.match_query(scope, filters, category), _page(),
                                    PER_PAGE)
    employees_total = total if category is None else service.count_rows(
        needs.match_query(scope, filters))
    form = RouteForm()
    form.competency.choices = _competency_choices()
    lines, totals = needs.budget_plan(scope, filters, cost)
    return render_template(
        "reports/needs.html", items=items, cost=cost, plan=needs.plan_rows(items, cost),
        lines=lines, totals=totals, development_type=needs.development_type,
        matches=[needs.to_match(r) for r in rows], page=Page(rows, _page(), PER_PAGE, total),
        categories=needs.category_counts(scope, filters), category=category,
        heat=service.gap_heatmap(scope, filters), route_form=form, delete_form=CsrfForm(),
        routes=get_session().scalars(sa.select(DevelopmentRoute).order_by(
            DevelopmentRoute.title)).all(),
        args=filters.args(), background=employees_total > _background_rows(),
        job=_shown_job(), job_form=CsrfForm(), **_filter_context(scope, filters))


def _competency_choices() -> list[Any]:
    from lms.competency.models import Competency

    rows = get_session().execute(sa.select(Competency.code, Competency.name).order_by(
        Competency.sort_order, Competency.code)).all()
    return select_choices([(code, f"{code} {name}") for code, name in rows])


@reports_bp.get("/needs.xlsx")
@role_required(Role.HR)
def needs_xlsx() -> Any:
    scope = _scope()
    filters = service.parse_filters(request.args, scope)
    handle = exports.xlsx_file(exports.needs_sheets(scope, filters, _cost_per_jp()))
    return _send_xlsx(handle, f"akpk-{filters.year}.xlsx")


@reports_bp.post("/needs/export")
@role_required(Role.HR)
def needs_export() -> Any:
    """The AKPK workbook as a background job, with the page's filters and cost per JP."""
    scope = _scope()
    service.parse_filters(request.args, scope)  # bad filters: 4xx now, not a job
    _cost_per_jp()
    args = {k: v for k, v in request.args.to_dict().items() if k != "job"}
    return _submitted(report_jobs.NEEDS, {"args": args}, "reports.needs_page")


def _category_label(category: str | None) -> str:
    return exports.category_label(category)


@reports_bp.app_template_filter("jpm_category_label")
def jpm_category_label(category: str | None) -> str:
    return _category_label(category)


@reports_bp.post("/routes")
@role_required(Role.HR)
def route_add() -> Any:
    form = RouteForm()
    form.competency.choices = _competency_choices()
    if not form.validate_on_submit():
        flash(_("The route was not added: %(errors)s", errors="; ".join(
            f"{getattr(form, k).label.text}: {' '.join(v)}" for k, v in form.errors.items())),
            "danger")
        return redirect(url_for("reports.needs_page"))
    try:
        needs.add_route(needs.RouteSpec(
            competency_code=form.competency.data, kind=form.kind.data, title=form.title.data,
            provider=form.provider.data or "", jp=float(form.jp.data),
            level=form.level.data, schedule=form.schedule.data or "",
            cost_per_jp=float(form.cost_per_jp.data) if form.cost_per_jp.data is not None
            else None))
    except LmsError as exc:
        get_session().rollback()
        flash(str(exc.message), "danger")
        return redirect(url_for("reports.needs_page"))
    get_session().commit()
    flash(_("Route added."), "success")
    return redirect(url_for("reports.needs_page") + "#routes")


@reports_bp.post("/routes/<int:route_id>/delete")
@role_required(Role.HR)
def route_delete(route_id: int) -> Any:
    form = CsrfForm()
    if not form.validate_on_submit():
        abort(400)
    route = get_session().get(DevelopmentRoute, route_id) or abort(404)
    get_session().delete(route)
    get_session().commit()
    flash(_("Route deleted."), "success")
    return redirect(url_for("reports.needs_page") + "#routes")


# --- offline training ----------------------------------------------------------------------


def _visible_trainings(scope: Scope) -> sa.Select:
    query = sa.select(Training).outerjoin(OrgUnit, OrgUnit.id == Training.org_unit_id)
    if scope.path is not None:
        query = query.where(OrgUnit.path.like(scope.path + "%"))
    return query.order_by(Training.end_date.desc(), Training.id.desc())


def _training(training_id: int) -> Training:
    scope = _scope()
    found = get_session().scalar(_visible_trainings(scope).where(Training.id == training_id))
    if found is None:
        abort(404)
    return found


@reports_bp.get("/trainings")
@role_required(Role.HR)
def trainings() -> Any:
    scope = _scope()
    page = paginate(_visible_trainings(scope), _page(), PER_PAGE)
    return render_template("reports/trainings.html", page=page)


@reports_bp.route("/trainings/new", methods=["GET", "POST"])
@role_required(Role.HR)
def training_new() -> Any:
    form = TrainingForm()
    if form.validate_on_submit():
        scope = _scope()
        try:
            created = training.create_training(
                training.TrainingSpec(
                    title=form.title.data, kind=form.kind.data, provider=form.provider.data,
                    start_date=form.start_date.data, end_date=form.end_date.data,
                    jp=float(form.jp.data), competencies=form.competencies.data or "",
                    description=form.description.data or ""),
                created_by=current_user._get_current_object(), org_unit=scope.unit,
                certificate=form.certificate.data)
        except LmsError as exc:
            get_session().rollback()
            field = getattr(form, exc.field or "", None) or form.title
            field.errors = [*field.errors, str(exc.message)]
        else:
            get_session().commit()
            flash(_("Training saved. Now add its participants."), "success")
            return redirect(url_for("reports.training_detail", training_id=created.id))
    return render_template("reports/training_form.html", form=form)


@reports_bp.get("/trainings/<int:training_id>")
@role_required(Role.HR)
def training_detail(training_id: int) -> Any:
    item = _training(training_id)
    scope = _scope()
    participants = get_session().execute(
        sa.select(User, TrainingParticipant.certificate_number)
        .join(TrainingParticipant, TrainingParticipant.user_id == User.id)
        .where(TrainingParticipant.training_id == item.id).order_by(User.name)).all()
    visible = [(u, cert) for u, cert in participants if scope.everyone or _in_scope(u)]
    return render_template("reports/training.html", training=item, participants=visible,
                           hidden=len(participants) - len(visible), form=ParticipantsForm(),
                           iri=training.training_iri(item.id), void_form=VoidTrainingForm(),
                           remove_form=CsrfForm(), changes=item.changes,
                           field_labels=_field_labels())


@reports_bp.post("/trainings/<int:training_id>/participants")
@role_required(Role.HR)
def training_participants(training_id: int) -> Any:
    item = _training(training_id)
    form = ParticipantsForm()
    if not form.validate_on_submit():
        return render_template("reports/training.html", training=item, participants=[],
                               hidden=0, form=form, iri=training.training_iri(item.id),
                               void_form=VoidTrainingForm(), remove_form=CsrfForm(),
                               changes=item.changes, field_labels=_field_labels()), 400
    text = form.nips.data or ""
    if form.file.data and form.file.data.filename:
        raw = form.file.data.read(2 * 1024 * 1024 + 1)
        if len(raw) > 2 * 1024 * 1024:
            flash(_("The participant file is larger than 2 MB."), "danger")
            return redirect(url_for("reports.training_detail", training_id=item.id))
        text = raw.decode("utf-8-sig", errors="replace")
    try:
        preview = training.preview_participants(item, text, _scope())
    except LmsError as exc:
        flash(str(exc.message), "danger")
        return redirect(url_for("reports.training_detail", training_id=item.id))
    confirm = ConfirmParticipantsForm()
    confirm.rows.data = json.dumps([[r.nip, r.certificate_number] for r in preview.good])
    return render_template("reports/participants_preview.html", training=item,
                           preview=preview, confirm=confirm)


@reports_bp.post("/trainings/<int:training_id>/participants/confirm")
@role_required(Role.HR)
def training_participants_confirm(training_id: int) -> Any:
    item = _training(training_id)
    form = ConfirmParticipantsForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        pairs = json.loads(form.rows.data or "[]")
        text = "nip,certificate_number\n" + "\n".join(
            f"{str(nip)},{str(cert).replace(',', ' ')}" for nip, cert in pairs)
    except (ValueError, TypeError):
        abort(400)
    try:
        # Checked again: the list came back from the browser.
        preview = training.preview_participants(item, text, _scope())
        count = training.record_participants(item, preview.good,
                                             by=current_user._get_current_object())
    except LmsError as exc:
        get_session().rollback()
        flash(str(exc.message), "danger")
        return redirect(url_for("reports.training_detail", training_id=item.id))
    get_session().commit()
    flash(_("%(n)d participants recorded; their JP and competency evidence are updated.",
            n=count), "success")
    return redirect(url_for("reports.training_detail", training_id=item.id))


def _field_labels() -> dict[str, str]:
    """Names of a training's fields in its history."""
    return {"title": _("Title"), "kind": _("Kind of learning"), "provider": _("Provider"),
            "start_date": _("Start date"), "end_date": _("End date"), "jp": _("JP"),
            "competencies": _("Competencies developed"), "description": _("Description"),
            "certificate_file": _("Certificate")}


def _spec(form: TrainingForm) -> training.TrainingSpec:
    return training.TrainingSpec(
        title=form.title.data, kind=form.kind.data, provider=form.provider.data,
        start_date=form.start_date.data, end_date=form.end_date.data,
        jp=float(form.jp.data) if form.jp.data is not None else None,
        competencies=form.competencies.data or "", description=form.description.data or "")


@reports_bp.route("/trainings/<int:training_id>/edit", methods=["GET", "POST"])
@role_required(Role.HR)
def training_edit(training_id: int) -> Any:
    item = _training(training_id)
    if item.voided:
        flash(_("This training was voided; it can no longer be changed."), "danger")
        return redirect(url_for("reports.training_detail", training_id=item.id))
    form = TrainingForm(obj=None if request.method == "POST" else item)
    if request.method == "GET":
        form.kind.data = item.kind.value
        form.competencies.data = training.competencies_text(item.competencies)
    form.submit.label.text = _("Save changes")
    if form.validate_on_submit():
        try:
            change = training.update_training(item, _spec(form),
                                              by=current_user._get_current_object(),
                                              certificate=form.certificate.data)
        except LmsError as exc:
            get_session().rollback()
            field = getattr(form, exc.field or "", None) or form.title
            field.errors = [*field.errors, str(exc.message)]
        else:
            get_session().commit()
            if change is None:
                flash(_("Nothing was changed."), "info")
            else:
                sent = change.detail.get("statements", {}).get("sent", 0)
                flash(_("Training saved; %(n)d participants' records were corrected.",
                        n=sent), "success")
            return redirect(url_for("reports.training_detail", training_id=item.id))
    return render_template("reports/training_form.html", form=form, training=item)


@reports_bp.post("/trainings/<int:training_id>/void")
@role_required(Role.HR)
def training_void(training_id: int) -> Any:
    item = _training(training_id)
    form = VoidTrainingForm()
    if not form.validate_on_submit():
        flash(_("Say why the training is voided."), "danger")
        return redirect(url_for("reports.training_detail", training_id=item.id))
    try:
        training.void_training(item, by=current_user._get_current_object(),
                               reason=form.reason.data)
    except LmsError as exc:
        get_session().rollback()
        flash(str(exc.message), "danger")
    else:
        get_session().commit()
        flash(_("Training voided; it no longer counts for its participants."), "success")
    return redirect(url_for("reports.training_detail", training_id=item.id))


@reports_bp.post("/trainings/<int:training_id>/participants/<int:user_id>/remove")
@role_required(Role.HR)
def training_participant_remove(training_id: int, user_id: int) -> Any:
    item = _training(training_id)
    if not CsrfForm().validate_on_submit():
        abort(400)
    user = get_session().get(User, user_id)
    if user is None:
        abort(404)
    if not (_scope().everyone or _in_scope(user)):
        abort(403)
    try:
        training.remove_participant(item, user, by=current_user._get_current_object())
    except LmsError as exc:
        get_session().rollback()
        flash(str(exc.message), "danger")
    else:
        get_session().commit()
        flash(_("%(name)s removed; their JP and evidence from this training are withdrawn.",
                name=user.name), "success")
    return redirect(url_for("reports.training_detail", training_id=item.id))


@reports_bp.get("/trainings/<int:training_id>/certificate")
@role_required(Role.HR)
def training_certificate(training_id: int) -> Any:
    item = _training(training_id)
    if not item.certificate_file:
        abort(404)
    path = training.upload_dir(item) / item.certificate_file
    if not path.is_file():
        abort(404)
    response = send_file(path, as_attachment=True,
                         download_name=f"pelatihan-{item.id}{path.suffix}")
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- HR scopes -----------------------------------------------------------------------------


@reports_bp.route("/scopes", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def scopes() -> Any:
    session = get_session()
    form = ScopeForm()
    units = org_tree()
    form.org_unit.choices = select_choices(
        [(0, _("Default: the OPD of their position"))]
        + [(u.id, "— " * u.depth + u.name) for u in units])
    if form.validate_on_submit():
        user = find_user(form.user.data)
        if user is None or not user.has_role(Role.HR):
            form.user.errors = [*form.user.errors, _("No HR user has that NIP or e-mail.")]
        else:
            set_scope(user, session.get(OrgUnit, form.org_unit.data) if form.org_unit.data
                      else None)
            session.commit()
            flash(_("Scope of %(name)s saved.", name=user.name), "success")
            return redirect(url_for("reports.scopes"))
    hr_users = session.scalars(
        sa.select(User).join(UserRole, UserRole.user_id == User.id).where(UserRole.role == Role.HR)
        .order_by(User.name)).all()
    stored = {row.user_id: row for row in session.scalars(sa.select(HrScope))}
    rows = [(u, scope_for(u), u.id in stored) for u in hr_users]
    return render_template("reports/scopes.html", form=form, rows=rows)


def home_panel(user: Any) -> tuple[str, dict[str, Any]] | None:
    """On the home page of someone with offline or external learning: those records and
    JP this year across every kind of learning (the courses panel counts courses only)."""
    if not getattr(user, "nip", None):
        return None
    from lms.reports.models import JpCredit

    credits = get_session().scalars(
        sa.select(JpCredit).where(JpCredit.user_id == user.id)
        .order_by(JpCredit.completed_at.desc()).limit(3)).all()
    if not credits:
        return None
    from lms.jp import service as jp

    year = jp.this_year()
    return "reports/_home_panel.html", {"credits": credits, "year": year,
                                        "jp": jp.jp_total(user, year),
                                        "target": service.JP_TARGET}
