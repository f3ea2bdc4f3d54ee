"""``/api/v1/reports/...``: HR figures, completion records and one employee's record,
limited to the caller's scope (an HR session sees its scope; a client key with
``api:read`` sees everyone)."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request

from lms.api import api_bp, api_error, require_api
from lms.api.openapi import register_paths
from lms.errors import LmsError
from lms.reports import exports, service
from lms.reports.scope import Scope, get_employee, scope_for

MAX_PER_PAGE = 500


def _scope() -> Scope:
    return scope_for(g.api_user)


def _error(exc: LmsError) -> Any:
    status = exc.status
    code = {404: "not_found", 403: "forbidden"}.get(status, "bad_request")
    return api_error(status, code, str(exc.message))


@api_bp.get("/reports/summary")
@require_api("api:read")
def api_report_summary() -> Any:
    """The dashboard's figures for the scope and filters."""
    try:
        scope = _scope()
        filters = service.parse_filters(request.args, scope)
        data = service.dashboard(scope, filters)
    except LmsError as exc:
        return _error(exc)
    return jsonify({
        "period": {"from": filters.date_from.isoformat(), "to": filters.date_to.isoformat()},
        "year": data.year,
        "employees": data.employees,
        "enrolled": data.enrolled,
        "enrolled_completed": data.enrolled_completed,
        "completion_rate": data.completion_rate,
        "completions": data.completions,
        "average_jp": round(data.average_jp, 2),
        "at_target": data.at_target,
        "at_target_share": data.at_target_share,
        "jp_target": service.JP_TARGET,
        "months": [{"month": m, "completions": n, "jp": jp} for m, n, jp in data.months],
        "jp_distribution": [{"band": label, "employees": n} for label, n in data.bands],
    })


@api_bp.get("/reports/completions")
@require_api("api:read")
def api_report_completions() -> Any:
    """Completion records of the scope, one page at a time."""
    try:
        scope = _scope()
        filters = service.parse_filters(request.args, scope)
        page = max(1, request.args.get("page", 1, type=int) or 1)
        per_page = min(MAX_PER_PAGE, max(1, request.args.get("per_page", 100, type=int) or 100))
        query = service.records_query(scope, filters, search=request.args.get("q", ""),
                                      sort=request.args.get("sort", "completed_at"),
                                      descending=request.args.get("dir", "desc") != "asc")
        rows, total = service.page_rows(query, page, per_page)
    except LmsError as exc:
        return _error(exc)
    return jsonify({
        "page": page, "per_page": per_page, "total": total,
        "items": [{
            "completed_on": exports.local_date(r.completed_at).isoformat(),
            "nip": r.nip, "name": r.name, "org_unit": r.unit, "position": r.position,
            "title": r.title, "kind": r.kind, "provider": r.provider, "jp": float(r.jp),
            "certificate_number": r.certificate} for r in rows],
    })


@api_bp.get("/reports/employees/<nip>")
@require_api("api:read")
def api_report_employee(nip: str) -> Any:
    """One employee's learning record (every kind of learning) and JP per year."""
    try:
        user = get_employee(g.api_user, nip) if g.api_user else get_employee(None, nip)
    except LmsError as exc:
        return _error(exc)
    from lms.jp import service as jp

    data = jp.transcript(user)
    return jsonify({
        "nip": user.nip, "name": user.name,
        "position": user.position.name if user.position else None,
        "jp_target_per_year": data["target"],
        "jp_by_year": [{"year": y, "jp": jp} for y, jp in data["jp_by_year"].items()],
        "records": [{"completed_on": exports.local_date(i.completed_at).isoformat(),
                     "title": i.course_title, "kind": i.kind, "provider": i.provider,
                     "jp": i.jp, "certificate_number": i.certificate_number,
                     "status": i.status}
                    for i in data["completions"]],
        "jp_this_year": jp.jp_total(user, data["this_year"]),
    })


_FILTER_PARAMS = [
    {"name": "unit", "in": "query", "schema": {"type": "integer"},
     "description": "An org unit id: that unit and its subtree (inside your scope)."},
    {"name": "kind", "in": "query",
     "schema": {"type": "string", "enum": ["jpt", "administrator", "pengawas", "pelaksana",
                                           "fungsional"]}},
    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
]
_ERRORS = {"401": {"$ref": "#/components/responses/Unauthorized"},
           "403": {"$ref": "#/components/responses/Forbidden"}}

register_paths({
    "/reports/summary": {"get": {
        "summary": "HR dashboard figures for your scope",
        "description": "An HR session sees its scope (org unit subtree); a client key with "
        "api:read sees every employee.",
        "parameters": _FILTER_PARAMS,
        "responses": {"200": {"description": "Figures"}, **_ERRORS}}},
    "/reports/completions": {"get": {
        "summary": "Completion records (courses and offline learning) for your scope",
        "parameters": _FILTER_PARAMS + [
            {"name": "q", "in": "query", "schema": {"type": "string"}},
            {"name": "sort", "in": "query", "schema": {"type": "string",
                                                       "enum": list(service.RECORD_SORTS)}},
            {"name": "dir", "in": "query", "schema": {"type": "string",
                                                      "enum": ["asc", "desc"]}},
            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
            {"name": "per_page", "in": "query",
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}}],
        "responses": {"200": {"description": "One page of records"}, **_ERRORS}}},
    "/reports/employees/{nip}": {"get": {
        "summary": "One employee's learning record, if inside your scope",
        "parameters": [{"name": "nip", "in": "path", "required": True,
                        "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The record"}, **_ERRORS,
                      "404": {"$ref": "#/components/responses/NotFound"}}}},
})
