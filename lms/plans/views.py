"""Web views of individual development plans (``/plans``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.competency import service as competency
from lms.db import get_session
from lms.errors import ValidationError
from lms.people.models import Role, User
from lms.plans import service
from lms.plans.forms import CsrfForm
from lms.plans.models import EDITABLE, STATUS_LABELS, DevelopmentPlan, PlanStatus
from lms.web import form_date

plans_bp = Blueprint("plans", __name__, url_prefix="/plans")


@plans_bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"plan_status_labels": STATUS_LABELS, "plans_of_employee": _plans_for_profile}


def _plans_for_profile(user: Any) -> list[DevelopmentPlan]:
    if user is None or not current_user.is_authenticated:
        return []
    if not service.can_view_employee(current_user, user):
        return []
    return service.plans_of(user)


def _csrf() -> None:
    if not CsrfForm().validate_on_submit():
        abort(400)


def _number(name: str) -> float | None:
    raw = request.form.get(name, "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ValidationError(_("%(field)s must be a number.", field=name), field=name) from None


@plans_bp.get("/")
@login_required
def index() -> Any:
    me = current_user
    team = service.team_plans(me)
    team.sort(key=lambda p: (p.status != PlanStatus.SUBMITTED, p.employee.name))
    return render_template(
        "plans/index.html", form=CsrfForm(), plans=service.plans_of(me) if me.nip else [],
        team=team, team_people=competency.subordinates(me),
        is_hr=me.has_role(Role.HR, Role.ADMIN), year=dt.date.today().year)


@plans_bp.post("/new")
@login_required
def create() -> Any:
    _csrf()
    nip = request.form.get("nip", "").strip()
    employee = current_user
    if nip:
        employee = get_session().scalar(sa.select(User).where(User.nip == nip))
        if employee is None:
            abort(404)
    raw_year = request.form.get("year", "").strip()
    if not raw_year.isdigit():
        raise ValidationError(_("Choose a year."), field="year")
    plan = service.create_from_gaps(employee, current_user, int(raw_year))
    get_session().commit()
    if not plan.items:
        flash(_("No gaps to close: the plan is empty. Add items yourself."), "info")
    return redirect(url_for("plans.detail", plan_id=plan.id))


@plans_bp.get("/<int:plan_id>")
@login_required
def detail(plan_id: int) -> Any:
    plan = service.get_plan(plan_id, current_user)
    return render_template(
        "plans/plan.html", plan=plan, form=CsrfForm(), kinds=service.kind_labels(),
        route_kinds=service.ROUTE_KINDS,
        editable=service.can_edit(current_user, plan),
        is_employee=plan.employee_id == current_user.id,
        is_supervisor=competency.is_supervisor_of(current_user, plan.employee),
        cost_per_jp=service.cost_per_jp_setting(),
        competencies=competency.all_competencies(), editable_states=EDITABLE)


def _plan_for_post(plan_id: int) -> DevelopmentPlan:
    _csrf()
    return service.get_plan(plan_id, current_user)


@plans_bp.post("/<int:plan_id>/items")
@login_required
def add_item(plan_id: int) -> Any:
    plan = _plan_for_post(plan_id)
    raw_comp = request.form.get("competency_id", "").strip()
    service.add_item(plan, current_user, {
        "kind": request.form.get("kind", ""), "title": request.form.get("title", ""),
        "provider": request.form.get("provider", ""), "jp": _number("jp") or 0,
        "cost_per_jp": _number("cost_per_jp"), "start_date": form_date("start_date"),
        "end_date": form_date("end_date"),
        "competency_id": int(raw_comp) if raw_comp.isdigit() else None,
        "target_level": request.form.get("target_level") or 1})
    get_session().commit()
    return redirect(url_for("plans.detail", plan_id=plan.id))


@plans_bp.post("/<int:plan_id>/items/<int:item_id>/update")
@login_required
def update_item(plan_id: int, item_id: int) -> Any:
    plan = _plan_for_post(plan_id)
    item = service.item_of(plan, item_id)
    data: dict[str, Any] = {"start_date": form_date("start_date"),
                            "end_date": form_date("end_date")}
    jp = _number("jp")
    if jp is not None:
        data["jp"] = jp
    if "cost_per_jp" in request.form:
        data["cost_per_jp"] = _number("cost_per_jp")
    service.update_item(plan, item, current_user, data)
    get_session().commit()
    return redirect(url_for("plans.detail", plan_id=plan.id))


@plans_bp.post("/<int:plan_id>/items/<int:item_id>/delete")
@login_required
def remove_item(plan_id: int, item_id: int) -> Any:
    plan = _plan_for_post(plan_id)
    service.remove_item(plan, service.item_of(plan, item_id), current_user)
    get_session().commit()
    return redirect(url_for("plans.detail", plan_id=plan.id))


@plans_bp.post("/<int:plan_id>/items/<int:item_id>/done")
@login_required
def report_done(plan_id: int, item_id: int) -> Any:
    plan = _plan_for_post(plan_id)
    service.report_done(plan, service.item_of(plan, item_id), current_user)
    get_session().commit()
    flash(_("Recorded in your learning record."), "success")
    return redirect(url_for("plans.detail", plan_id=plan.id))


@plans_bp.post("/<int:plan_id>/<any(submit, approve, return, start):action>")
@login_required
def workflow(plan_id: int, action: str) -> Any:
    plan = _plan_for_post(plan_id)
    if action == "submit":
        service.submit(plan, current_user)
        message = _("The plan was sent to your supervisor.")
    elif action == "approve":
        service.approve(plan, current_user)
        message = _("The plan is approved.")
    elif action == "return":
        service.return_plan(plan, current_user, request.form.get("comment", ""))
        message = _("The plan was returned with your comment.")
    else:
        service.start(plan, current_user)
        message = _("The plan is in progress.")
    get_session().commit()
    flash(message, "success")
    return redirect(url_for("plans.detail", plan_id=plan.id))


# --- organisation plan ---------------------------------------------------------------------


def _org_rows() -> tuple[int, list[service.OrgRow]]:
    if not current_user.has_role(Role.HR, Role.ADMIN):
        abort(403)
    raw = request.args.get("year", "").strip()
    if raw and not raw.isdigit():
        raise ValidationError(_("Choose a year."), field="year")
    year = int(raw) if raw else dt.date.today().year
    return year, service.organisation_plan(current_user, year)


@plans_bp.get("/organisation")
@login_required
def organisation() -> Any:
    year, rows = _org_rows()
    total_cost = sum(r.cost or 0 for r in rows)
    return render_template(
        "plans/organisation.html", year=year, rows=rows, kinds=service.kind_labels(),
        total_jp=sum(r.item.jp for r in rows), total_cost=total_cost,
        unpriced=any(r.cost is None for r in rows),
        by_unit=service.summarise(rows, "unit"), by_kind=service.summarise(rows, "kind"),
        employees=len({r.plan.employee_id for r in rows}))


@plans_bp.get("/organisation.csv")
@login_required
def organisation_csv() -> Any:
    from lms.reports.exports import csv_stream

    year, rows = _org_rows()
    response = Response(csv_stream(service.org_headers(), service.org_cells(rows)),
                        mimetype="text/csv")
    name = f"rencana-pengembangan-{year}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@plans_bp.get("/organisation.xlsx")
@login_required
def organisation_xlsx() -> Any:
    from flask import send_file

    from lms.reports.exports import xlsx_file

    year, rows = _org_rows()
    handle = xlsx_file([
        (_("Development plan %(year)d", year=year), service.org_headers(),
         service.org_cells(rows)),
        (_("Per org unit"), service.summary_headers("unit"),
         service.summary_cells(service.summarise(rows, "unit"))),
        (_("Per kind"), service.summary_headers("kind"),
         service.summary_cells(service.summarise(rows, "kind")))])
    response = send_file(
        handle, as_attachment=True, download_name=f"rencana-pengembangan-{year}.xlsx",
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.call_on_close(handle.close)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def home_panel(user: Any) -> tuple[str, dict[str, Any]] | None:
    """The signed-in employee's plan of this year, and team plans awaiting a decision."""
    year = dt.date.today().year
    mine = next((p for p in service.plans_of(user) if p.year == year), None) \
        if getattr(user, "nip", None) else None
    waiting = [p for p in service.team_plans(user) if p.status == PlanStatus.SUBMITTED]
    if mine is None and not waiting:
        return None
    return "plans/_home_panel.html", {"mine": mine, "waiting": waiting}
