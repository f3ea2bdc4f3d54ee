"""``/api/v1`` operations of the competency module: employee search and profiles."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from lms.api import api_bp, api_error, require_api
from lms.api.openapi import register_paths
from lms.competency import service
from lms.competency.models import Evidence
from lms.people.models import User


def _employee_summary(user: User) -> dict[str, Any]:
    position = user.position
    return {
        "nip": user.nip,
        "name": user.name,
        "email": user.email,
        "position": None if position is None else {
            "id": position.id, "name": position.name, "kind": position.kind.value,
            "grade": position.grade, "org_unit": position.org_unit.name},
    }


def _time(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _evidence(row: Evidence) -> dict[str, Any]:
    return {
        "statement_id": row.statement_id,
        "activity": row.activity_iri,
        "level": row.level,
        "weight": row.weight,
        "source": row.source.value,
        "score": row.score,
        "occurred": _time(row.occurred),
        "rule": {"id": row.rule_id, "key": row.rule.rule_key, "version": row.rule.version,
                 "name": row.rule.name},
        "withdrawn": row.withdrawn,
        "withdrawn_by": row.withdrawn_by,
    }


@api_bp.get("/employees")
@require_api("api:read")
def employees() -> Any:
    """Search employees by NIP, name or e-mail."""
    query = request.args.get("q", "")
    try:
        limit = max(1, min(100, int(request.args.get("limit", 25))))
    except ValueError:
        return api_error(400, "bad_request", "limit must be a number from 1 to 100.")
    people = service.search_employees(query, limit=limit)
    return jsonify(items=[_employee_summary(u) for u in people], count=len(people))


@api_bp.get("/employees/<nip>/competencies")
@require_api("api:read")
def employee_competencies(nip: str) -> Any:
    """Levels, required levels, gaps and evidence of one employee."""
    import sqlalchemy as sa

    from lms.db import get_session

    user = get_session().scalar(sa.select(User).where(User.nip == nip))
    if user is None:
        return api_error(404, "not_found", f"No employee has NIP {nip}.")
    profile = service.build_profile(user)
    evidence: dict[int, list[Evidence]] = {}
    for row in service.evidence_for(user):
        evidence.setdefault(row.competency_id, []).append(row)
    return jsonify({
        **_employee_summary(user),
        "job_person_match": None if profile.jpm is None else {
            "percent": profile.jpm, "category": profile.jpm_category},
        "competencies": [{
            "code": r.competency.code,
            "name": r.competency.name,
            "type": r.competency.type.value,
            "framework": r.competency.framework.code,
            "iri": r.competency.iri,
            "level": r.level,
            "required": r.required,
            "gap": r.gap,
            "progress": r.progress,
            "achieved_at": _time(r.achieved_at),
            "achieved_statement_id": r.achieved_statement_id,
            "evidence": [_evidence(e) for e in evidence.get(r.competency.id, [])],
            "courses": [{"iri": c.course_iri, "slug": c.slug, "title": c.title, "jp": c.jp,
                         "level": c.level} for c in r.courses],
        } for r in profile.rows],
    })


_ERRORS = {"401": {"$ref": "#/components/responses/Unauthorized"},
           "403": {"$ref": "#/components/responses/Forbidden"}}

register_paths({
    "/employees": {"get": {
        "summary": "Search employees",
        "description": "Employees whose NIP, name or e-mail contains `q` (case-insensitive).",
        "tags": ["competency"],
        "parameters": [
            {"name": "q", "in": "query", "schema": {"type": "string"},
             "description": "Part of a NIP, name or e-mail address."},
            {"name": "limit", "in": "query",
             "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}}],
        "responses": {"200": {"description": "Matching employees.", "content": {
            "application/json": {"schema": {"type": "object", "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Employee"}},
                "count": {"type": "integer"}}}}}}, **_ERRORS},
    }},
    "/employees/{nip}/competencies": {"get": {
        "summary": "An employee's competency profile",
        "description": ("Current and required level per competency of the employee's "
                        "position standard, gaps, progress toward the next level, the "
                        "evidence (xAPI statements) behind each level, and courses that "
                        "close each gap."),
        "tags": ["competency"],
        "parameters": [{"name": "nip", "in": "path", "required": True,
                        "schema": {"type": "string", "pattern": "^[0-9]{18}$"}}],
        "responses": {
            "200": {"description": "The profile.", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/CompetencyProfile"}}}},
            "404": {"$ref": "#/components/responses/NotFound"}, **_ERRORS},
    }},
}, schemas={
    "Employee": {"type": "object", "properties": {
        "nip": {"type": "string"}, "name": {"type": "string"},
        "email": {"type": ["string", "null"]},
        "position": {"type": ["object", "null"], "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"},
            "kind": {"type": "string",
                     "enum": ["jpt", "administrator", "pengawas", "pelaksana", "fungsional"]},
            "grade": {"type": ["string", "null"]}, "org_unit": {"type": "string"}}}}},
    "CompetencyEvidence": {"type": "object", "properties": {
        "statement_id": {"type": "string", "format": "uuid"},
        "activity": {"type": "string"}, "level": {"type": "integer"},
        "weight": {"type": "number"},
        "source": {"type": "string",
                   "enum": ["assessment", "supervisor", "course", "external", "self"]},
        "score": {"type": ["number", "null"]},
        "occurred": {"type": "string", "format": "date-time"},
        "rule": {"type": "object", "properties": {
            "id": {"type": "integer"}, "key": {"type": "string"},
            "version": {"type": "integer"}, "name": {"type": "string"}}},
        "withdrawn": {"type": "boolean"},
        "withdrawn_by": {"type": ["string", "null"]}}},
    "CompetencyProfile": {"allOf": [{"$ref": "#/components/schemas/Employee"}, {
        "type": "object", "properties": {
            "job_person_match": {"type": ["object", "null"], "properties": {
                "percent": {"type": "integer"},
                "category": {"type": "string", "enum": ["optimal", "cukup", "kurang"]}}},
            "competencies": {"type": "array", "items": {"type": "object", "properties": {
                "code": {"type": "string"}, "name": {"type": "string"},
                "type": {"type": "string",
                         "enum": ["manajerial", "sosial_kultural", "teknis"]},
                "framework": {"type": "string"}, "iri": {"type": "string"},
                "level": {"type": "integer", "minimum": 0, "maximum": 5},
                "required": {"type": "integer", "minimum": 0, "maximum": 5},
                "gap": {"type": "integer"},
                "progress": {"type": "integer", "minimum": 0, "maximum": 100},
                "achieved_at": {"type": ["string", "null"], "format": "date-time"},
                "achieved_statement_id": {"type": ["string", "null"]},
                "evidence": {"type": "array",
                             "items": {"$ref": "#/components/schemas/CompetencyEvidence"}},
                "courses": {"type": "array", "items": {"type": "object"}}}}}}}]},
})
