"""The HR scope applied to other modules' per-employee pages and API operations.

The courses and competency modules let any HR user open any employee's transcript or
profile (``/courses/transcript/<nip>``, ``/competency/employees/<nip>``, their API
twins) and search every employee. The HR scope (:mod:`lms.reports.scope`) must hold
there too, so this module checks those endpoints before their views run:

- per-employee endpoints: an HR user (not an admin) may open an employee only inside
  their scope, unless they are that employee or lead the employee's unit (supervisors
  keep what the owning module grants them);
- certificates by number (the PDF, the badge files): the same rule for the employee who
  holds the certificate. The public verification pages (``/verify/<number>``,
  ``/credentials/badges/<number>``) stay open to anyone holding the number: that is what a
  printed QR code is for;
- employee searches: an HR user whose scope is not everyone gets the same search limited
  to their scope (the page redirects to the scoped list of /reports/employees).

When the owning modules call :func:`lms.reports.scope.get_employee` themselves, the
entries here can go. The assessment, plans and evaluation modules check the scope in their
own views (through :func:`lms.reports.scope.scope_for`); tests/reports/test_guard.py checks
every route of the application with an employee's NIP or a certificate number, so a new
one that forgets the scope fails there.

A request that carries an ``Authorization`` header is a client key only on the API
(``/api/v1``); anywhere else the header is ignored by the application, so it does not
lift the check.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.people.models import Role

#: Endpoints whose ``nip`` view argument names the employee shown.
EMPLOYEE_ENDPOINTS = frozenset({
    "courses.transcript",
    "courses.transcript_pdf",
    "competency.employee_profile",
    "competency.evidence_detail",
    "api.api_transcript",
    "api.employee_competencies",
})

#: Endpoints whose ``number`` view argument is a certificate number (of a course completion).
CERTIFICATE_ENDPOINTS = frozenset({
    "courses.certificate",
    "credentials.badge_json",
    "credentials.badge_jwt",
})


def _hr_viewer() -> Any:
    """The signed-in HR user who is not an admin, else None (others are unaffected)."""
    if request.headers.get("Authorization") and (request.endpoint or "").startswith("api."):
        return None  # a client key: the API's own scopes apply
    if not current_user.is_authenticated:
        return None
    if current_user.has_role(Role.ADMIN) or not current_user.has_role(Role.HR):
        return None
    return current_user._get_current_object()


def check_scope() -> Any:
    """``before_app_request`` hook: None to carry on, or a response that refuses."""
    endpoint = request.endpoint or ""
    if endpoint in EMPLOYEE_ENDPOINTS:
        nip = (request.view_args or {}).get("nip")
        viewer = _hr_viewer() if nip else None
        if viewer is None or not nip or nip == viewer.nip:
            return None
        return _check_employee(viewer, nip, api=endpoint.startswith("api."))
    if endpoint in CERTIFICATE_ENDPOINTS:
        viewer = _hr_viewer()
        number = (request.view_args or {}).get("number")
        if viewer is None or not number:
            return None
        holder = _certificate_holder(str(number))
        if holder is None or holder.id == viewer.id or not holder.nip:
            return None  # the owning view answers (404, or one's own certificate)
        return _check_employee(viewer, holder.nip, api=False)
    if endpoint in ("competency.team", "api.employees"):
        viewer = _hr_viewer()
        if viewer is None:
            return None
        from lms.reports.scope import scope_for

        scope = scope_for(viewer)
        if scope.everyone:
            return None
        if endpoint == "competency.team":
            return redirect(url_for("reports.employees", q=request.args.get("q", "")))
        return _scoped_search(scope)
    return None


def _check_employee(viewer: Any, nip: str, *, api: bool) -> Any:
    from lms.errors import Forbidden, NotFound
    from lms.reports.scope import get_employee

    try:
        get_employee(viewer, nip)
    except NotFound:
        return None  # the owning view answers 404 in its own way
    except Forbidden as exc:
        if api:
            return jsonify(error="forbidden", message=str(exc.message)), 403
        from flask import abort

        abort(403)
    return None


def _certificate_holder(number: str) -> Any:
    """The employee holding certificate ``number`` (of a course completion), if any."""
    import sqlalchemy as sa

    from lms.courses.models import Completion
    from lms.db import get_session
    from lms.people.models import User

    return get_session().scalar(
        sa.select(User).join(Completion, Completion.user_id == User.id)
        .where(Completion.certificate_number == number.strip().upper()))


def _scoped_search(scope: Any) -> Any:
    from lms.competency.api import _employee_summary
    from lms.competency.service import search_employees

    try:
        limit = max(1, min(100, int(request.args.get("limit", 25))))
    except ValueError:
        return jsonify(error="bad_request",
                       message=_("limit must be a number from 1 to 100.")), 400
    people = search_employees(request.args.get("q", ""), limit=limit, unit_path=scope.path)
    return jsonify(items=[_employee_summary(u) for u in people], count=len(people))
