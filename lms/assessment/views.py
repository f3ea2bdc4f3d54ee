"""Web views of competency assessment (``/assessment``)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.assessment import service
from lms.assessment.forms import CsrfForm
from lms.assessment.models import KIND_LABELS, ROLE_LABELS, AssessmentRound
from lms.competency import service as competency
from lms.db import get_session
from lms.errors import ValidationError
from lms.people.models import Role, User

assessment_bp = Blueprint("assessment", __name__, url_prefix="/assessment")

def scale_labels() -> list[tuple[int, str]]:
    return [(0, _("Not shown")), (1, _("Sometimes")), (2, _("Usually")),
            (3, _("Consistently"))]


@assessment_bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"assessment_kind_labels": KIND_LABELS, "assessment_role_labels": ROLE_LABELS,
            "assessment_results_of": _results_for_profile}


def _results_for_profile(user: Any) -> list[service.ResultRow]:
    """The latest assessment results of ``user`` (for the competency profile page)."""
    if user is None or not current_user.is_authenticated:
        return []
    if not service.can_view_employee(current_user, user):
        return []
    return service.latest_results(user)


def _employee(nip: str) -> User:
    user = get_session().scalar(sa.select(User).where(User.nip == nip))
    if user is None:
        abort(404)
    if not service.can_view_employee(current_user, user):
        abort(403)
    return user


def _employee_for_hr(nip: str) -> User:
    """The employee, for the rounds only HR covering them may open (360, centre)."""
    user = _employee(nip)
    if not service.hr_covers(current_user, user):
        abort(403)
    return user


def _chart(rows: list[service.ResultRow]) -> str:
    return json.dumps({
        "labels": [r.competency.name for r in rows],
        "self": [r.self_level for r in rows],
        "others": [r.others for r in rows],
        "selfLabel": _("Self"), "othersLabel": _("Others (average)"), "max": 5,
    })


def _codes_from_form() -> list[str]:
    return [c.strip() for c in request.form.getlist("competencies") if c.strip()]


@assessment_bp.get("/")
@login_required
def index() -> Any:
    """What the signed-in person has to fill in, their own results, their team."""
    me = current_user
    is_hr = me.has_role(Role.HR, Role.ADMIN)
    return render_template(
        "assessment/index.html", form=CsrfForm(), pending=service.pending_for(me),
        validations=service.pending_validations(me) if is_hr else [],
        drafts={e.id: service.progress(service.questionnaire(e.round.competencies),
                                       service.draft_answers(e))
                for e in service.pending_for(me)},
        rounds=service.rounds_of(me) if me.nip else [],
        results=service.latest_results(me) if me.nip else [],
        team=competency.subordinates(me), is_hr=is_hr,
        hr_rounds=service.hr_rounds(me) if is_hr else [],
        query=request.args.get("q", ""),
        found=competency.search_employees(request.args.get("q", ""), limit=20)
        if is_hr and request.args.get("q") else [],
        codes=service.default_codes(me) if me.nip else [],
        competencies=competency.all_competencies())


@assessment_bp.post("/self")
@login_required
def start_self() -> Any:
    form = CsrfForm()
    if not form.validate_on_submit():
        abort(400)
    entry = service.start_self(current_user, _codes_from_form())
    get_session().commit()
    return redirect(url_for("assessment.fill", entry_id=entry.id))


@assessment_bp.get("/employees/<nip>")
@login_required
def employee(nip: str) -> Any:
    user = _employee(nip)
    results = service.latest_results(user)
    return render_template(
        "assessment/employee.html", employee=user, form=CsrfForm(), results=results,
        chart=_chart(results), rounds=service.rounds_of(user),
        is_supervisor=competency.is_supervisor_of(current_user, user),
        hr=service.hr_covers(current_user, user), codes=service.default_codes(user),
        competencies=competency.all_competencies())


@assessment_bp.post("/employees/<nip>/supervisor")
@login_required
def start_supervisor(nip: str) -> Any:
    user = _employee(nip)
    form = CsrfForm()
    if not form.validate_on_submit():
        abort(400)
    entry = service.start_supervisor(current_user, user, _codes_from_form())
    get_session().commit()
    return redirect(url_for("assessment.fill", entry_id=entry.id))


def _users(ids: list[str]) -> list[User]:
    wanted = [int(i) for i in ids if i.isdigit()]
    if len(wanted) != len([i for i in ids if i]):
        raise ValidationError(_("Choose raters from the list."))
    if not wanted:
        return []
    found = list(get_session().scalars(sa.select(User).where(User.id.in_(wanted))))
    if len(found) != len(set(wanted)):
        raise ValidationError(_("Choose raters from the list."))
    return found


@assessment_bp.route("/employees/<nip>/360", methods=["GET", "POST"])
@login_required
def open_360(nip: str) -> Any:
    user = _employee_for_hr(nip)
    form = CsrfForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        sup_id = request.form.get("supervisor", "")
        supervisor = _users([sup_id])[0] if sup_id else None
        round_ = service.open_360(
            current_user, user, _codes_from_form(), supervisor=supervisor,
            peers=_users(request.form.getlist("peers")),
            subordinates=_users(request.form.getlist("subordinates")),
            include_self=bool(request.form.get("include_self")),
            title=request.form.get("title", ""))
        get_session().commit()
        flash(_("The 360 round is open; each rater finds it under Competency assessment."),
              "success")
        return redirect(url_for("assessment.round_detail", round_id=round_.id))
    suggested = service.suggestions(user)
    people = service.candidates(user)
    known = {u.id for u in people}
    for group in suggested.values():
        for person in group:
            if person.id not in known:
                known.add(person.id)
                people.append(person)
    return render_template(
        "assessment/open_360.html", employee=user, form=form, people=people,
        suggested={k: {u.id for u in v} for k, v in suggested.items()},
        codes=service.default_codes(user), competencies=competency.all_competencies())


@assessment_bp.route("/employees/<nip>/centre", methods=["GET", "POST"])
@login_required
def centre(nip: str) -> Any:
    user = _employee_for_hr(nip)
    form = CsrfForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        levels: dict[str, int] = {}
        for c in competency.all_competencies():
            raw = request.form.get(f"level-{c.code}", "").strip()
            if raw == "":
                continue
            if not raw.isdigit():
                raise ValidationError(_("A level must be a number from 0 to 5."))
            levels[c.code] = int(raw)
        raw_date = request.form.get("assessed_on", "").strip()
        try:
            when = dt.date.fromisoformat(raw_date) if raw_date else None
        except ValueError:
            raise ValidationError(_("Give the date as YYYY-MM-DD.")) from None
        if when is not None and when > dt.date.today():
            raise ValidationError(_("The assessment date cannot be in the future."))
        round_ = service.record_centre(current_user, user, levels,
                                       note=request.form.get("note", ""), assessed_on=when)
        get_session().commit()
        flash(_("Assessment centre results recorded."), "success")
        return redirect(url_for("assessment.round_detail", round_id=round_.id))
    return render_template("assessment/centre.html", employee=user, form=form,
                           codes=service.default_codes(user),
                           competencies=competency.all_competencies())


def _page_number(raw: Any, pages: int) -> int:
    """A page of the questionnaire: 1..pages (the competencies), pages + 1 the review."""
    text = str(raw or "1")
    if not text.isdigit() or len(text) > 4 or not 1 <= int(text) <= pages + 1:
        raise ValidationError(_("There is no such page of the questionnaire."))
    return int(text)


@assessment_bp.get("/fill/<int:entry_id>")
@login_required
def fill(entry_id: int) -> Any:
    """The questionnaire, one competency per page, with the answers saved so far; the
    last page reviews the levels and submits."""
    entry = service.rater_entry(entry_id)
    if entry.rater_id != current_user.id:
        abort(403)
    if entry.submitted or entry.round.status != "open":
        flash(_("This questionnaire is no longer open."), "info")
        return redirect(url_for("assessment.round_detail", round_id=entry.round_id)
                        if service.can_view_round(current_user, entry.round)
                        else url_for("assessment.index"))
    sections = service.questionnaire(entry.round.competencies)
    page = _page_number(request.args.get("page"), len(sections))
    draft = service.draft_answers(entry)
    from lms.assessment.models import RaterRole

    held = (service.needs_validation(list(entry.round.competencies))
            if entry.role == RaterRole.SUPERVISOR else [])
    return render_template("assessment/fill.html", entry=entry, form=CsrfForm(),
                           sections=sections, page=page, draft=draft,
                           progress=service.progress(sections, draft), scale=scale_labels(),
                           needs_validation=bool(held))


@assessment_bp.post("/fill/<int:entry_id>")
@login_required
def fill_save(entry_id: int) -> Any:
    """Save the page's answers as a draft and go where the rater asked (``go``: prev,
    next, review, a page number, later, submit). A form without ``page`` carries the whole
    questionnaire and submits it."""
    entry = service.rater_entry(entry_id)
    if entry.rater_id != current_user.id:
        abort(403)
    if not CsrfForm().validate_on_submit():
        abort(400)
    sections = service.questionnaire(entry.round.competencies)
    fields = request.form.to_dict()
    go = str(request.form.get("go", "submit"))[:20]
    if "page" in request.form:
        page = _page_number(request.form.get("page"), len(sections))
        if page <= len(sections):
            service.save_draft(entry, current_user, sections[page - 1].competency.code,
                               fields)
    else:
        page = len(sections) + 1
    if go == "submit":
        service.submit(entry, current_user, fields if "page" not in request.form else {})
        get_session().commit()
        if entry.pending_validation:
            flash(_("Thank you: the assessment was submitted. It counts once HR has "
                    "validated it."), "success")
        else:
            flash(_("Thank you: the assessment was submitted."), "success")
        if service.can_view_round(current_user, entry.round):
            return redirect(url_for("assessment.round_detail", round_id=entry.round_id))
        return redirect(url_for("assessment.index"))
    get_session().commit()
    if go == "later":
        flash(_("Your answers are saved. Continue any time from Competency assessment."),
              "success")
        return redirect(url_for("assessment.index"))
    if go == "prev":
        target = max(1, page - 1)
    elif go == "review":
        target = len(sections) + 1
    elif go.isdigit():
        target = _page_number(go, len(sections))
    else:
        target = min(len(sections) + 1, page + 1)
    return redirect(url_for("assessment.fill", entry_id=entry.id, page=target))


@assessment_bp.route("/validate/<int:entry_id>", methods=["GET", "POST"])
@login_required
def validation(entry_id: int) -> Any:
    """HR checks a supervisor's rating against the profile, then validates or returns it."""
    entry = service.rater_entry(entry_id)
    if not service.hr_covers(current_user, entry.round.employee):
        abort(403)
    form = CsrfForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        action = request.form.get("action", "")
        if action == "validate":
            service.validate(entry, current_user)
            message = _("The rating is validated: it now counts in the competency profile.")
        elif action == "return":
            service.return_rating(entry, current_user, str(request.form.get("note", ""))[:4000])
            message = _("The rating was returned to the supervisor with your comment.")
        else:
            raise ValidationError(_("Choose to validate the rating or to return it."))
        get_session().commit()
        flash(message, "success")
        return redirect(url_for("assessment.index") + "#validations")
    return render_template("assessment/validation.html", entry=entry, form=form,
                           summary=service.validation_summary(entry)
                           if entry.pending_validation else None)


def _round(round_id: int) -> AssessmentRound:
    round_ = get_session().get(AssessmentRound, round_id)
    if round_ is None:
        abort(404)
    if not service.can_view_round(current_user, round_):
        abort(403)
    return round_


@assessment_bp.get("/rounds/<int:round_id>")
@login_required
def round_detail(round_id: int) -> Any:
    round_ = _round(round_id)
    rows = service.round_results(round_)
    # Individual 360 raters are shown to HR only; others see roles and averages.
    return render_template("assessment/round.html", round=round_, rows=rows,
                           chart=_chart(rows), form=CsrfForm(),
                           hr=service.hr_covers(current_user, round_.employee),
                           can_close=round_.status == "open" and (
                               service.hr_covers(current_user, round_.employee)
                               or round_.opened_by_id == current_user.id))


@assessment_bp.post("/rounds/<int:round_id>/close")
@login_required
def close(round_id: int) -> Any:
    round_ = _round(round_id)
    form = CsrfForm()
    if not form.validate_on_submit():
        abort(400)
    service.close_round(round_, current_user)
    get_session().commit()
    return redirect(url_for("assessment.round_detail", round_id=round_.id))



def home_panel(user: Any) -> tuple[str, dict[str, Any]] | None:
    """Questionnaires the signed-in person still has to fill in."""
    pending = service.pending_for(user)
    if not pending:
        return None
    return "assessment/_home_panel.html", {"pending": pending}
