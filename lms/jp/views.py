"""Web views of the JP module (``/jp``): the yearly JP statement (page and PDF), learning
submitted for JP and its verification chain, and HR's pages (waiting verifications, who is
below 20 JP, the 10:20:70 mix, the conversion table, SIASN)."""

from __future__ import annotations

import csv
import io
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
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from lms.db import get_session
from lms.errors import Conflict, LmsError, ValidationError
from lms.jp import hr, kinds, service, siasn, submissions
from lms.jp.models import STATUS_LABELS, JpSubmission, SiasnPush, SubmissionStatus
from lms.people.auth import role_required
from lms.people.models import Role, User
from lms.reports.scope import get_employee, scope_for
from lms.web import form_date

jp_bp = Blueprint("jp", __name__, url_prefix="/jp")


class CsrfForm(FlaskForm):
    """A form with only the CSRF token."""


def _csrf() -> None:
    if not CsrfForm().validate_on_submit():
        abort(400)


def jp_number(value: Any) -> str:
    """A JP figure by the locale (``12,5`` in Indonesian)."""
    return str(format_decimal(float(value or 0), "#,##0.##"))


def kind_label(kind: str | None) -> str:
    found = kinds.type_of_kind(kind)
    if found is not None:
        return found.name
    from lms.reports.exports import kind_label as reports_kind_label

    return reports_kind_label(kind or "")


def status_label(status: str) -> str:
    from flask_babel import lazy_gettext as _l

    return str({service.VERIFIED: _l("Verified"), service.PENDING: _l("Waiting for verification"),
                service.RETURNED: _l("Returned")}.get(status, status))


@jp_bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"jp_kind_label": kind_label, "jp_status_label": status_label,
            "jp_submission_status": STATUS_LABELS, "jp_route_labels": kinds.ROUTE_LABELS}


@jp_bp.app_template_filter("jp_number")
def _jp_number(value: Any) -> str:
    return jp_number(value)


def _year() -> int:
    raw = request.args.get("year", "")
    if raw.isdigit() and len(raw) == 4 and 2000 <= int(raw) <= 2999:
        return int(raw)
    if raw:
        raise ValidationError(_("Choose a year from 2000 to 2999."), field="year")
    return service.this_year()


def _employee(nip: str | None) -> User:
    viewer = current_user._get_current_object()
    if nip is None or nip == viewer.nip:
        return viewer  # type: ignore[no-any-return]
    return get_employee(viewer, nip)


# --- the yearly statement --------------------------------------------------------------------


@jp_bp.get("/")
@login_required
def index() -> Any:
    return redirect(url_for("jp.statement_page"))


@jp_bp.get("/statement")
@jp_bp.get("/statement/<nip>")
@login_required
def statement_page(nip: str | None = None) -> Any:
    user = _employee(nip)
    data = service.statement(user, _year())
    return render_template("jp/statement.html", statement=data, own=user.id == current_user.id,
                           years=range(service.this_year(), service.this_year() - 5, -1))


@jp_bp.get("/statement.pdf")
@jp_bp.get("/statement/<nip>.pdf")
@login_required
def statement_pdf(nip: str | None = None) -> Any:
    from lms.jp.pdf import statement_pdf as render

    user = _employee(nip)
    data = service.statement(user, _year())
    response = current_app.response_class(render(data), mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'inline; filename="pernyataan-jp-{user.nip or user.id}-{data.year}.pdf"')
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- submissions -------------------------------------------------------------------------------


def _number(name: str) -> float | None:
    raw = request.form.get(name, "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValidationError(_("Give a number."), field=name) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValidationError(_("Give a number."), field=name)
    return value


def _spec() -> submissions.SubmissionSpec:
    type_raw = request.form.get("type_id", "")
    amount = _number("amount")
    unit = request.form.get("unit", "hours")
    return submissions.SubmissionSpec(
        title=request.form.get("title", ""),
        type_id=int(type_raw) if type_raw.isdigit() and len(type_raw) <= 3 else None,
        provider=request.form.get("provider", ""),
        start_date=form_date("start_date"), end_date=form_date("end_date"),
        hours=amount if unit != "jp" else None, jp=amount if unit == "jp" else None,
        certificate_number=request.form.get("certificate_number", ""),
        certificate_url=request.form.get("certificate_url", ""),
        competencies=request.form.get("competencies", ""))


@jp_bp.get("/submissions")
@login_required
def submissions_page() -> Any:
    user = current_user._get_current_object()
    return render_template("jp/submissions.html", items=submissions.of_employee(user),
                           summary=service.summary(user))


@jp_bp.route("/submissions/new", methods=["GET", "POST"])
@login_required
def submission_new() -> Any:
    form = CsrfForm()
    error: LmsError | None = None
    if request.method == "POST":
        _csrf()
        try:
            submission = submissions.submit(current_user._get_current_object(), _spec(),
                                            request.files.get("certificate"))
            get_session().commit()
        except LmsError as exc:
            get_session().rollback()
            error = exc
        else:
            flash(_("Submitted. It counts once your supervisor confirmed it and HR verified "
                    "it."), "success")
            return redirect(url_for("jp.submission_detail", submission_id=submission.id))
    status = 409 if isinstance(error, Conflict) else (400 if error else 200)
    return render_template("jp/submission_form.html", form=form, error=error,
                           values=request.form, types=kinds.TYPES.values(),
                           submission=None), status


def _submission(submission_id: int) -> JpSubmission:
    submission = get_session().get(JpSubmission, submission_id)
    if submission is None:
        abort(404)
    viewer = current_user._get_current_object()
    if not (submission.user_id == viewer.id or submissions.may_confirm(viewer, submission)
            or submissions.may_hr_decide(viewer, submission)):
        abort(403)
    return submission


@jp_bp.get("/submissions/<int:submission_id>")
@login_required
def submission_detail(submission_id: int) -> Any:
    submission = _submission(submission_id)
    viewer = current_user._get_current_object()
    return render_template(
        "jp/submission.html", submission=submission, form=CsrfForm(),
        employee=get_session().get(User, submission.user_id),
        steps=submissions.steps(submission),
        type=kinds.TYPES.get(submission.type_id),
        may_confirm=submission.status == SubmissionStatus.SUBMITTED
        and submissions.may_confirm(viewer, submission),
        may_hr=submissions.may_hr_decide(viewer, submission))


@jp_bp.route("/submissions/<int:submission_id>/edit", methods=["GET", "POST"])
@login_required
def submission_edit(submission_id: int) -> Any:
    submission = _submission(submission_id)
    if submission.user_id != current_user.id or submission.status != SubmissionStatus.RETURNED:
        abort(403)
    error: LmsError | None = None
    if request.method == "POST":
        _csrf()
        try:
            submissions.resubmit(submission, current_user._get_current_object(), _spec(),
                                 request.files.get("certificate"))
            get_session().commit()
        except LmsError as exc:
            get_session().rollback()
            error = exc
        else:
            flash(_("Submitted again."), "success")
            return redirect(url_for("jp.submission_detail", submission_id=submission.id))
        values: Any = request.form
    else:
        values = {"title": submission.title, "type_id": str(submission.type_id),
                  "provider": submission.provider,
                  "start_date": submission.start_date.isoformat(),
                  "end_date": submission.end_date.isoformat(),
                  "amount": "{:g}".format(submission.hours if submission.hours is not None
                                          else submission.jp_claimed or 0),
                  "unit": "hours" if submission.hours is not None else "jp",
                  "certificate_number": submission.certificate_number or "",
                  "certificate_url": submission.certificate_url or "",
                  "competencies": ", ".join(f"{c['code']}:{c['level']}"
                                            for c in submission.competencies or [])}
    status = 409 if isinstance(error, Conflict) else (400 if error else 200)
    return render_template("jp/submission_form.html", form=CsrfForm(), error=error,
                           values=values, types=kinds.TYPES.values(),
                           submission=submission), status


@jp_bp.get("/submissions/<int:submission_id>/certificate")
@login_required
def submission_certificate(submission_id: int) -> Any:
    submission = _submission(submission_id)
    path = submissions.certificate_path(submission)
    if path is None:
        abort(404)
    response = send_file(path, mimetype=siasn._mimetype(path), as_attachment=False,
                         download_name=f"sertifikat-{submission.id}{path.suffix}")
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "sandbox"
    return response


def _decide(submission_id: int, action: str) -> Any:
    _csrf()
    submission = _submission(submission_id)
    viewer = current_user._get_current_object()
    reason = request.form.get("reason", "")
    category = "success"
    try:
        if action == "confirm":
            submissions.confirm(submission, viewer)
            message = _("Confirmed; HR verifies it next.")
        elif action == "return":
            submissions.return_submission(submission, viewer, reason)
            message = _("Returned to the employee with your reason.")
        elif action == "verify":
            submissions.verify(submission, viewer)
            message = _("Verified: %(jp)s JP count for %(name)s.", jp=jp_number(submission.jp),
                        name=get_session().get(User, submission.user_id).name)  # type: ignore[union-attr]
        else:
            submissions.void(submission, viewer, reason)
            message = _("Voided: its JP no longer count.")
        get_session().commit()
        if action == "void":
            message, category = _withdraw_from_siasn(submission.id, message)
    except LmsError as exc:
        get_session().rollback()
        flash(str(exc.message), "danger")
        return redirect(url_for("jp.submission_detail", submission_id=submission_id)), 303
    flash(message, category)
    return redirect(url_for("jp.submission_detail", submission_id=submission_id)), 303


def _withdraw_from_siasn(submission_id: int, message: str) -> tuple[str, str]:
    """A voided record already sent to SIASN is deleted there at once when SIASN is set
    up; when that fails (or SIASN is not set up) it waits on /jp/hr/siasn and the next
    push deletes it."""
    row = get_session().scalar(sa.select(SiasnPush).where(
        SiasnPush.record_key == f"submission:{submission_id}"))
    if row is None:
        return message, "success"
    if not current_app.config.get("SIASN_API_URL"):
        return message + " " + _("It was sent to SIASN: delete it there with the next push "
                                 "(SIASN page)."), "warning"
    scope = scope_for(current_user._get_current_object())
    found = [r for r in siasn.removals(scope) if r.row.id == row.id]
    try:
        if found:
            siasn.withdraw(found[0], siasn.SiasnClient())
    except siasn.SiasnError as exc:
        return message + " " + _("Deleting it in SIASN failed (%(error)s); the next push "
                                 "tries again.", error=str(exc)[:200]), "warning"
    return message + " " + _("It was deleted in SIASN too."), "success"


@jp_bp.post("/submissions/<int:submission_id>/confirm")
@login_required
def submission_confirm(submission_id: int) -> Any:
    return _decide(submission_id, "confirm")


@jp_bp.post("/submissions/<int:submission_id>/return")
@login_required
def submission_return(submission_id: int) -> Any:
    return _decide(submission_id, "return")


@jp_bp.post("/submissions/<int:submission_id>/verify")
@role_required(Role.HR)
def submission_verify(submission_id: int) -> Any:
    return _decide(submission_id, "verify")


@jp_bp.post("/submissions/<int:submission_id>/void")
@role_required(Role.HR)
def submission_void(submission_id: int) -> Any:
    return _decide(submission_id, "void")


@jp_bp.get("/team")
@login_required
def team() -> Any:
    viewer = current_user._get_current_object()
    return render_template("jp/team.html", items=submissions.waiting_for_supervisor(viewer),
                           users={u.id: u for u in get_session().query(User).filter(
                               User.id.in_([s.user_id for s in
                                            submissions.waiting_for_supervisor(viewer)]))})


# --- HR ----------------------------------------------------------------------------------------


def _page() -> int:
    value = request.args.get("page", "1")
    return max(1, int(value)) if value.isdigit() and len(value) < 7 else 1


@jp_bp.get("/hr")
@role_required(Role.HR)
def hr_overview() -> Any:
    scope = scope_for(current_user._get_current_object())
    year = _year()
    rows, total = hr.below_target(scope, year, _page())
    return render_template("jp/hr.html", units=hr.pending_by_unit(scope), below=rows,
                           total=total, page=_page(), year=year, form=CsrfForm(),
                           target=service.JP_TARGET)


@jp_bp.post("/hr/remind/<nip>")
@role_required(Role.HR)
def hr_remind(nip: str) -> Any:
    _csrf()
    from lms.jp.notify import reminder
    from lms.reports.scope import employee_in_scope

    viewer = current_user._get_current_object()
    user = get_session().query(User).filter(User.nip == nip).one_or_none()
    if user is None:
        abort(404)
    if not employee_in_scope(scope_for(viewer), user):
        abort(403)
    year = service.this_year()
    sent = reminder(user, year, service.jp_total(user, year), service.JP_TARGET, viewer)
    get_session().commit()
    if sent:
        flash(_("Reminder queued for %(name)s.", name=user.name), "success")
    else:
        flash(_("No reminder sent to %(name)s: already reminded today, no e-mail address, "
                "or reminders turned off.", name=user.name), "warning")
    return redirect(url_for("jp.hr_overview")), 303


@jp_bp.get("/hr/mix")
@role_required(Role.HR)
def hr_mix() -> Any:
    scope = scope_for(current_user._get_current_object())
    year = _year()
    rows, total = hr.mix_table(scope, year, _page())
    return render_template("jp/mix.html", rows=rows, total=total, page=_page(), year=year)


@jp_bp.route("/hr/conversion", methods=["GET", "POST"])
@role_required(Role.HR)
def hr_conversion() -> Any:
    error: LmsError | None = None
    if request.method == "POST":
        _csrf()
        type_raw = request.form.get("type_id", "")
        try:
            effective = form_date("effective_from")
            if effective is None:
                raise ValidationError(_("Give the date the line takes effect."),
                                      field="effective_from")
            per_activity = _number("jp_per_activity")
            submissions.set_conversion(
                int(type_raw) if type_raw.isdigit() and len(type_raw) <= 3 else 0, effective,
                factor=_number("factor"), jp_per_activity=per_activity,
                source=request.form.get("source", ""), by=current_user._get_current_object())
            get_session().commit()
        except LmsError as exc:
            get_session().rollback()
            error = exc
        else:
            flash(_("Conversion line saved."), "success")
            return redirect(url_for("jp.hr_conversion")), 303
    return render_template("jp/conversion.html", lines=submissions.conversion_table(),
                           types=[t for t in kinds.TYPES.values() if not t.classroom],
                           types_by_id=kinds.TYPES,
                           form=CsrfForm(), error=error, values=request.form), (
        400 if error else 200)


@jp_bp.get("/hr/siasn")
@role_required(Role.HR)
def hr_siasn() -> Any:
    scope = scope_for(current_user._get_current_object())
    year = _year()
    records = list(siasn.verified_records(scope, year))
    configured = bool(current_app.config.get("SIASN_API_URL"))
    removals = siasn.removals(scope, include_removed=True)
    return render_template("jp/siasn.html", records=records, year=year, form=CsrfForm(),
                           removals=removals,
                           pushes={p.record_key: p for p in siasn.pushes(
                               list({r.user.id for r in records}) or [0], limit=5000)},
                           configured=configured)


@jp_bp.get("/hr/siasn.<fmt>")
@role_required(Role.HR)
def hr_siasn_export(fmt: str) -> Any:
    if fmt not in ("xlsx", "csv"):
        abort(404)
    scope = scope_for(current_user._get_current_object())
    year = _year()
    rows = list(siasn.export_rows(scope, year))
    name = f"siasn-riwayat-kursus-{year}.{fmt}"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(siasn.EXPORT_COLUMNS)
        for row in rows:
            writer.writerow([_safe(v) for v in row])
        response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    else:
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = "riwayat_kursus"
        sheet.append(siasn.EXPORT_COLUMNS)
        for row in rows:
            sheet.append([_safe(v) for v in row])
        data = io.BytesIO()
        book.save(data)
        response = Response(data.getvalue(), mimetype=(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _safe(value: Any) -> Any:
    """Text that a spreadsheet would read as a formula is written as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@jp_bp.post("/hr/siasn/push")
@role_required(Role.HR)
def hr_siasn_push() -> Any:
    _csrf()
    scope = scope_for(current_user._get_current_object())
    year = _year()
    try:
        client = siasn.SiasnClient()
        result = siasn.push(scope, client, year)
    except siasn.SiasnError as exc:
        flash(_("SIASN could not be reached: %(error)s", error=str(exc)), "danger")
        return redirect(url_for("jp.hr_siasn", year=year)), 303
    flash(_("Sent %(sent)d, found in SIASN already %(found)d, documents %(docs)d, "
            "deleted %(deleted)d, failed %(failed)d.", sent=result.sent, found=result.found,
            docs=result.uploaded, deleted=result.deleted, failed=result.failed),
          "success" if not result.failed else "warning")
    return redirect(url_for("jp.hr_siasn", year=year)), 303


def home_panel(user: Any) -> tuple[str, dict[str, Any]] | None:
    """Submissions of this user's team waiting for them (supervisors)."""
    waiting = submissions.waiting_for_supervisor(user)
    if not waiting:
        return None
    return "jp/_home_panel.html", {"count": len(waiting)}
