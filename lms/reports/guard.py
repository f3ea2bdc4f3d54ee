"""The HR scope applied to other modules' per-employee pages and API operations.

The courses and competency modules let any HR user open any employee's transcript or
profile (``/courses/transcript/<nip>``, ``/competency/employees/<nip>``, their API
twins) and search every employee. The HR scope (:mod:`lms.reports.scope`) must hold
there too, so this module checks those endpoints before their views run:

- per-employee endpoints: an HR user (not an admin) may open an employee only inside
  their scope, unless they are that employee or lead the employee's unit (supervisors
  keep what the owning module grants them);
- employee searches: an HR user whose scope is not everyone gets the same search limited
  to their scope (the page redirects to the scoped list of /reports/employees).

When the owning modules call :func:`lms.reports.scope.get_employee` themselves, the
entries here can go.
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


def _hr_viewer() -> Any:
    """The signed-in HR user who is not an admin, else None (others are unaffected)."""
    if request.headers.get("Authorization"):
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
        if viewer is None or nip == viewer.nip:
            return None
        return _check_employee(viewer, nip, api=endpoint.startswith("api."))
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
