"""``/api/v1/employees/<nip>/jp``: one employee's JP statement of a year, from the one JP
service, inside the caller's HR scope (a client key with ``api:read`` sees everyone)."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request

from lms.api import api_bp, api_error, require_api
from lms.api.openapi import register_paths
from lms.errors import LmsError
from lms.jp import service
from lms.reports.scope import get_employee


@api_bp.get("/employees/<nip>/jp")
@require_api("api:read")
def api_employee_jp(nip: str) -> Any:
    """JP of an employee in a year, and from what."""
    raw = request.args.get("year", "")
    if raw and not (raw.isdigit() and len(raw) == 4):
        return api_error(400, "bad_request", "year must be a four-digit year")
    try:
        user = get_employee(g.api_user, nip) if g.api_user else get_employee(None, nip)
    except LmsError as exc:
        return api_error(exc.status, {404: "not_found", 403: "forbidden"}.get(
            exc.status, "bad_request"), str(exc.message))
    data = service.statement(user, int(raw) if raw else None)

    def item(i: service.JpItem) -> dict[str, Any]:
        return {"title": i.title, "kind": i.kind, "provider": i.provider,
                "date": i.completed_at.astimezone(service.LOCAL_TZ).date().isoformat(),
                "jp": i.jp, "status": i.status, "source": i.source, "route": i.route,
                "certificate_number": None if i.certificate_number == "–"
                else i.certificate_number}

    return jsonify({
        "nip": user.nip, "name": user.name, "year": data.year, "jp": data.jp,
        "target": data.target, "met": data.met, "pending_jp": data.pending_jp,
        "mix": {str(k): v for k, v in data.mix.items()},
        "items": [item(i) for i in data.items], "pending": [item(i) for i in data.pending],
    })


_ITEM = {"type": "object", "properties": {
    "title": {"type": "string"}, "kind": {"type": "string"}, "provider": {"type": "string"},
    "date": {"type": "string", "format": "date"}, "jp": {"type": "number"},
    "status": {"type": "string", "enum": ["verified", "pending", "returned"]},
    "source": {"type": "string", "enum": ["course", "training", "submission", "external"]},
    "route": {"type": "integer", "enum": [10, 20, 70]},
    "certificate_number": {"type": ["string", "null"]}}}

register_paths({
    "/employees/{nip}/jp": {
        "get": {
            "operationId": "getEmployeeJp",
            "tags": ["jp"],
            "summary": "JP of an employee in a year, and from what",
            "description": "The yearly JP statement: the JP that count (verified sources), "
            "every verified source, submitted learning not verified yet, the 10:20:70 mix.",
            "parameters": [
                {"name": "nip", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "year", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1000, "maximum": 9999}},
            ],
            "responses": {
                "200": {"description": "The statement", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {
                        "nip": {"type": "string"}, "name": {"type": "string"},
                        "year": {"type": "integer"}, "jp": {"type": "number"},
                        "target": {"type": "integer"}, "met": {"type": "boolean"},
                        "pending_jp": {"type": "number"},
                        "mix": {"type": "object", "additionalProperties": {"type": "number"}},
                        "items": {"type": "array", "items": _ITEM},
                        "pending": {"type": "array", "items": _ITEM}}}}}},
                "400": {"description": "A bad year"},
                "403": {"description": "Outside the caller's scope"},
                "404": {"description": "No such employee"},
            },
        },
    },
})
