"""``/api/v1/assignments``: assignments and their compliance for other government systems,
limited to the caller's HR scope (an HR session sees its scope; a client key with
``api:read`` sees everyone)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import g, jsonify, request

from lms.api import api_bp, api_error, require_api
from lms.api.openapi import register_paths
from lms.assignments import service
from lms.assignments.models import Assignment
from lms.db import get_session
from lms.errors import LmsError
from lms.reports.scope import Scope, scope_for
from lms.web import paginate

MAX_PER_PAGE = 500


def _scope() -> Scope:
    return scope_for(g.api_user)


def _error(exc: LmsError) -> Any:
    code = {404: "not_found", 403: "forbidden"}.get(exc.status, "bad_request")
    return api_error(exc.status, code, str(exc.message))


def _int_arg(name: str, default: int, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        return None
    return int(raw)


def _assignment_json(a: Assignment, scope: Scope) -> dict[str, Any]:
    return {"id": a.id, "title": a.title, "target": {"kind": a.target_kind,
            "id": a.course_id or a.program_id or a.training_id,
            "title": service.target_title(a)},
            "due_date": a.due_date.isoformat() if a.due_date else None,
            "due_days_after_joining": a.due_days, "yearly": a.yearly,
            "created_at": a.created_at.isoformat(),
            "compliance": service.compliance(a, scope)}


@api_bp.get("/assignments")
@require_api("api:read")
def api_assignments() -> Any:
    """Open assignments made inside the caller's scope, with their compliance counts."""
    page_no = _int_arg("page", 1, 1, 100_000)
    per_page = _int_arg("per_page", 50, 1, MAX_PER_PAGE)
    if page_no is None or per_page is None:
        return api_error(400, "bad_request", "page and per_page must be whole numbers in range.")
    scope = _scope()
    query = service.visible(sa.select(Assignment), Assignment, scope).where(
        Assignment.archived_at.is_(None)).order_by(Assignment.id)
    page = paginate(query, page_no, per_page)
    return jsonify({"page": page.page, "pages": page.pages, "total": page.total,
                    "items": [_assignment_json(a, scope) for a in page.items]})


@api_bp.get("/assignments/<int:assignment_id>")
@require_api("api:read")
def api_assignment(assignment_id: int) -> Any:
    """One assignment: compliance in total and per org unit."""
    scope = _scope()
    try:
        assignment = service.get_assignment(assignment_id, scope)
    except LmsError as exc:
        return _error(exc)
    data = _assignment_json(assignment, scope)
    data["units"] = service.by_unit(assignment, scope)
    return jsonify(data)


@api_bp.get("/assignments/<int:assignment_id>/people")
@require_api("api:read")
def api_assignment_people(assignment_id: int) -> Any:
    """The members with their due date, completion and status, one page at a time."""
    page_no = _int_arg("page", 1, 1, 100_000)
    per_page = _int_arg("per_page", 100, 1, MAX_PER_PAGE)
    status = request.args.get("status") or None
    if page_no is None or per_page is None or (status and status not in service.STATUSES):
        return api_error(400, "bad_request",
                         "page, per_page or status is not valid (status: "
                         + ", ".join(service.STATUSES) + ").")
    scope = _scope()
    try:
        assignment = service.get_assignment(assignment_id, scope)
    except LmsError as exc:
        return _error(exc)
    query = service.people(assignment, scope, status=status)
    total = get_session().scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = get_session().execute(query.limit(per_page).offset((page_no - 1) * per_page)).all()
    return jsonify({"page": page_no, "per_page": per_page, "total": total, "items": [
        {"nip": r.nip, "name": r.name, "due_date": r.due_date.isoformat(),
         "completed_at": r.completed_at.isoformat() if r.completed_at else None,
         "status": r.status, "left_at": r.left_at.isoformat() if r.left_at else None,
         "cycle": r.cycle} for r in rows]})


_ERRORS = {"400": {"description": "Bad input (a message says what)"},
           "401": {"$ref": "#/components/responses/Unauthorized"},
           "403": {"$ref": "#/components/responses/Forbidden"}}
_PAGE = [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                    "maximum": 100000}},
         {"name": "per_page", "in": "query",
          "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}}]
_ID = [{"name": "assignment_id", "in": "path", "required": True,
        "schema": {"type": "integer", "minimum": 1}}]

register_paths({
    "/assignments": {"get": {
        "summary": "Mandatory learning assignments of your scope, with compliance counts",
        "description": "Counts: assigned (not started), in_progress, on_time, late, "
        "overdue, total. An HR session sees the assignments made in its scope and the "
        "people inside it; a client key with api:read sees everything.",
        "parameters": _PAGE,
        "responses": {"200": {"description": "One page of assignments"}, **_ERRORS}}},
    "/assignments/{assignment_id}": {"get": {
        "summary": "One assignment's compliance, in total and per org unit",
        "parameters": _ID,
        "responses": {"200": {"description": "The assignment"}, **_ERRORS,
                      "404": {"$ref": "#/components/responses/NotFound"}}}},
    "/assignments/{assignment_id}/people": {"get": {
        "summary": "The people of one assignment with due date, completion and status",
        "parameters": _ID + _PAGE + [
            {"name": "status", "in": "query",
             "schema": {"type": "string", "enum": list(service.STATUSES)}}],
        "responses": {"200": {"description": "One page of people"}, **_ERRORS,
                      "404": {"$ref": "#/components/responses/NotFound"}}}},
})
