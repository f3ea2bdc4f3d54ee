"""Pages: answering an evaluation, the reports per course/training and provider, CSV
exports, and the level-4 results HR records."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.db import get_session
from lms.errors import NotFound, ValidationError
from lms.evaluation import service
from lms.evaluation.forms import ActionForm, AnswerForm, ResultForm
from lms.evaluation.models import REACTION
from lms.evaluation.questions import SCALE, questions
from lms.people.models import User

evaluation_bp = Blueprint("evaluation", __name__, url_prefix="/evaluation")

KINDS = ("course", "training")


@evaluation_bp.get("/")
@login_required
def index() -> Any:
    items = service.open_for(current_user)
    return render_template("evaluation/index.html", items=items, names=_names(items),
                           can_report=service.can_report(current_user))


@evaluation_bp.route("/<int:evaluation_id>", methods=["GET", "POST"])
@login_required
def respond(evaluation_id: int) -> Any:
    row = service.get_for_respondent(evaluation_id, current_user)
    form = AnswerForm()
    chosen: dict[str, str] = {}
    error = None
    status = 200
    if request.method == "POST":
        chosen = {k: v for k, v in request.form.items() if k.startswith("q_")}
        if not form.validate_on_submit():
            if "csrf_token" in form.errors:
                raise ValidationError(_("The form expired; please try again."))
            status = 400
        else:
            try:
                answers = service.parse_answers(row.level, request.form.to_dict())
                service.answer(row, current_user, answers, form.comment.data or "")
            except ValidationError as exc:
                if row.status == "done" or exc.field is None:
                    raise
                error, status = str(exc.message), 400
                get_session().rollback()
            else:
                get_session().commit()
                flash(_("Thank you: your answers are recorded."), "success")
                return redirect(url_for("home.index"))
    employee = get_session().get(User, row.user_id)
    return render_template("evaluation/respond.html", row=row, form=form,
                           questions=questions(row.level), scale=SCALE, chosen=chosen,
                           error=error, employee=employee), status


# --- reports -------------------------------------------------------------------------------

def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise NotFound(_("No such course or training."))
    return kind


@evaluation_bp.get("/reports")
@login_required
def reports() -> Any:
    viewer = service.viewer_for(current_user)
    rows, providers = service.summary(viewer)
    chart = {
        "labels": [p["provider"] for p in providers],
        "reaction": [p["reaction_mean"] for p in providers],
        "behaviour": [p["behaviour_mean"] for p in providers],
        "reactionLabel": _("Reaction (level 1), mean 1-5"),
        "behaviourLabel": _("Application at work (level 3), mean 1-5"),
    }
    return render_template("evaluation/reports.html", rows=rows, providers=providers,
                           viewer=viewer, chart=json.dumps(chart))


def _short(number: int, text: Any, limit: int = 28) -> str:
    """A chart label: the statement's number and its start (the table has it whole)."""
    text = str(text)
    return f"{number}. {text if len(text) <= limit else text[:limit].rstrip() + '…'}"


def _csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _csv(name: str, header: list[str], rows: list[list[Any]]) -> Response:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return Response("\ufeff" + buf.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@evaluation_bp.get("/reports.csv")
@login_required
def reports_csv() -> Any:
    viewer = service.viewer_for(current_user)
    rows, _providers = service.summary(viewer)
    from lms.i18n import format_number

    kinds = {"course": _("Course"), "training": _("Training")}
    return _csv("evaluation-summary.csv",
                [_("Kind"), "ID", _("Title"), _("Provider"), _("Completions"),
                 _("Reaction responses"), _("Reaction mean (1-5)"),
                 _("Application responses"), _("Application mean (1-5)"),
                 _("Application follow-ups waiting"), _("Results")],
                [[kinds.get(r.subject.kind, r.subject.kind), r.subject.key[1], r.subject.title,
                  r.subject.provider, r.completions, r.reaction_n,
                  format_number(r.reaction_mean), r.behaviour_n,
                  format_number(r.behaviour_mean), r.behaviour_due, r.results_n]
                 for r in rows])


@evaluation_bp.get("/reports/<kind>/<int:subject_id>")
@login_required
def report(kind: str, subject_id: int) -> Any:
    viewer = service.viewer_for(current_user)
    subj = service.subject(_kind(kind), subject_id)
    data = service.report(viewer, subj)
    chart = {
        "reaction": {"labels": [_short(i, q.text) for i, q in enumerate(data["reaction"], 1)],
                     "values": [q.mean for q in data["reaction"]],
                     "label": _("Reaction (level 1), mean 1-5")},
        "behaviour": {"labels": [_short(i, q.text)
                                 for i, q in enumerate(data["behaviour"], 1)],
                      "values": [q.mean for q in data["behaviour"]],
                      "label": _("Application at work (level 3), mean 1-5")},
    }
    form = ResultForm() if viewer.can_record_results else None
    return render_template("evaluation/report.html", d=data, viewer=viewer, kind=kind,
                           subject_id=subject_id, chart=json.dumps(chart), form=form,
                           action=ActionForm())


@evaluation_bp.get("/reports/<kind>/<int:subject_id>.csv")
@login_required
def report_csv(kind: str, subject_id: int) -> Any:
    viewer = service.viewer_for(current_user)
    subj = service.subject(_kind(kind), subject_id)
    data = service.report(viewer, subj)
    rows = service._visible_rows(viewer, subj)
    people = data["people"]
    from lms.i18n import format_datetime

    all_q = [q for q, _t in questions(1)] + [q for q, _t in questions(3)]
    texts = dict(questions(1)) | dict(questions(3))
    # Headers in the UI language (each statement by its text), times in the Pemda's zone.
    header = [_("Level"), _("Completed"), _("Answered")]
    if viewer.names:
        header += ["NIP", _("Employee"), _("Respondent")]
    header += [str(texts[q]) for q in all_q] + [_("Comment")]
    out = []
    for r in rows:
        if r.status != "done":
            continue
        line: list[Any] = [r.level, format_datetime(r.completed_at, "yyyy-MM-dd HH:mm"),
                           format_datetime(r.answered_at, "yyyy-MM-dd HH:mm")]
        if viewer.names:
            emp, resp = people.get(r.user_id), people.get(r.respondent_id or 0)
            line += [emp.nip if emp else "", emp.name if emp else "", resp.name if resp else ""]
        line += [(r.answers or {}).get(q, "") for q in all_q] + [r.comment or ""]
        out.append(line)
    return _csv(f"evaluation-{kind}-{subject_id}.csv", header, out)


@evaluation_bp.post("/reports/<kind>/<int:subject_id>/results")
@login_required
def add_result(kind: str, subject_id: int) -> Any:
    viewer = service.viewer_for(current_user)
    subj = service.subject(_kind(kind), subject_id)
    form = ResultForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            raise ValidationError(_("The form expired; please try again."))
        problems = "; ".join(f"{getattr(form, k).label.text}: {' '.join(map(str, v))}"
                             for k, v in form.errors.items())
        raise ValidationError(_("The result was not saved: %(problems)s", problems=problems))
    service.add_result(viewer, subj, indicator=form.indicator.data or "",
                       value=float(form.value.data), baseline=form.baseline.data,
                       measured_on=form.measured_on.data, unit=form.unit.data or "",
                       note=form.note.data or "")
    get_session().commit()
    flash(_("Result recorded."), "success")
    return redirect(url_for(".report", kind=kind, subject_id=subject_id) + "#level4")


@evaluation_bp.post("/results/<int:result_id>/delete")
@login_required
def delete_result(result_id: int) -> Any:
    viewer = service.viewer_for(current_user)
    if not ActionForm().validate_on_submit():
        raise ValidationError(_("The form expired; please try again."))
    subj = service.delete_result(viewer, result_id)
    get_session().commit()
    flash(_("Result deleted."), "success")
    return redirect(url_for(".report", kind=subj.kind, subject_id=subj.key[1]) + "#level4")


def home_panel(user: Any) -> tuple[str, dict[str, Any]] | None:
    """Home panel: the questionnaires waiting for the signed-in user."""
    items = service.open_for(user)
    if not items:
        return None
    return "evaluation/_panel.html", {"items": items, "names": _names(items)}


def _names(items: list[Any]) -> dict[int, str]:
    ids = {e.user_id for e in items if e.level != REACTION}
    if not ids:
        return {}
    import sqlalchemy as sa

    return dict(get_session().execute(sa.select(User.id, User.name).where(User.id.in_(ids))).all())
