"""``/api/v1/courses`` (the published catalog) and ``/api/v1/employees/<nip>/transcript``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import jsonify
from flask_babel import gettext as _

from lms.api import api_bp, api_error, require_api
from lms.api.openapi import register_paths
from lms.courses import service
from lms.courses import statements as st
from lms.db import get_session
from lms.people.models import User


def course_json(course: Any) -> dict[str, Any]:
    definition = service.definition_of(service.current_version(course))
    modules = [m for m in definition["modules"] if m["kind"] != "quiz"]
    quizzes = [m for m in definition["modules"] if m["kind"] == "quiz"]
    return {
        "slug": course.slug,
        "title": course.title,
        "summary": course.summary,
        "topic": course.topic,
        "level": course.level,
        "language": course.language,
        "jp": course.jp,
        "version": course.version,
        "iri": st.course_iri(course.slug),
        "competencies": [{"code": c["code"], "level": c["level"]} for c in course.competencies],
        "modules": [
            {
                "id": m["id"],
                "title": m["title"],
                "kind": m["kind"],
                "iri": st.module_iri(course.slug, m),
            }
            for m in modules
        ],
        "quizzes": [
            {
                "id": m["id"],
                "title": m["title"],
                "iri": st.module_iri(course.slug, m),
                "pass_mark": m["quiz"]["pass_mark"],
                "questions": [
                    st.question_iri(course.slug, m["id"], q["id"]) for q in m["quiz"]["questions"]
                ],
            }
            for m in quizzes
        ],
    }


@api_bp.get("/courses")
@require_api("api:read")
def api_courses() -> Any:
    """The published catalog."""
    return jsonify(courses=[course_json(c) for c in service.search_catalog()])


@api_bp.get("/employees/<nip>/transcript")
@require_api("api:read")
def api_transcript(nip: str) -> Any:
    """An employee's course completions, every JP-earning record and JP per year (from the
    one JP service, lms.jp.service)."""
    user = get_session().scalar(sa.select(User).where(User.nip == nip))
    if user is None:
        return api_error(404, "not_found", _("No employee with NIP %(nip)s.", nip=nip))
    from lms.jp import service as jp_service

    data = jp_service.transcript(user)
    return jsonify(
        {
            "nip": user.nip,
            "name": user.name,
            "jp_target_per_year": data["target"],
            "jp_by_year": [{"year": y, "jp": jp} for y, jp in data["jp_by_year"].items()],
            "jp_this_year": jp_service.jp_total(user, data["this_year"]),
            "records": [
                {"completed_at": r.completed_at.isoformat().replace("+00:00", "Z"),
                 "title": r.title, "kind": r.kind, "provider": r.provider, "jp": r.jp,
                 "status": r.status,
                 "certificate_number": None if r.certificate_number == "–"
                 else r.certificate_number}
                for r in data["completions"]
            ],
            "completions": [
                {
                    "course": c.course.slug,
                    "title": c.course_title,
                    "course_iri": st.course_iri(c.course.slug),
                    "version": c.course_version,
                    "jp": c.jp,
                    "completed_at": c.completed_at.isoformat().replace("+00:00", "Z"),
                    "certificate_number": c.certificate_number,
                    "verify_url": f"{st.base_url()}/verify/{c.certificate_number}",
                    "competencies": c.competencies,
                }
                for c in service.completions_of(user)
            ],
        }
    )


_TARGET = {
    "type": "object",
    "required": ["code", "level"],
    "properties": {
        "code": {"type": "string", "examples": ["M.05"]},
        "level": {"type": "integer", "minimum": 1, "maximum": 5},
    },
}
_ERRORS = {
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": {"$ref": "#/components/responses/Forbidden"},
}

register_paths(
    {
        "/courses": {
            "get": {
                "operationId": "listCourses",
                "tags": ["courses"],
                "summary": "The published course catalog with activity IRIs",
                "description": "Every published course (current version) with its xAPI activity "
                "IRIs, so other systems can send statements Lentera understands.",
                "responses": {
                    "200": {
                        "description": "The catalog",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "courses": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/Course"},
                                        }
                                    },
                                }
                            }
                        },
                    },
                    **_ERRORS,
                },
            }
        },
        "/employees/{nip}/transcript": {
            "get": {
                "operationId": "getTranscript",
                "tags": ["courses"],
                "summary": "An employee's learning history (riwayat belajar)",
                "parameters": [
                    {
                        "name": "nip",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[0-9]{18}$"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "Completions and JP per year",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Transcript"}
                            }
                        },
                    },
                    **_ERRORS,
                    "404": {"$ref": "#/components/responses/NotFound"},
                },
            }
        },
    },
    {
        "Course": {
            "type": "object",
            "required": ["slug", "title", "jp", "iri"],
            "properties": {
                "slug": {"type": "string"},
                "title": {"type": "string"},
                "summary": {"type": "string"},
                "topic": {"type": "string"},
                "level": {"type": "string", "enum": ["dasar", "menengah", "lanjut"]},
                "language": {"type": "string"},
                "jp": {"type": "number"},
                "version": {"type": "integer"},
                "iri": {"type": "string", "format": "iri"},
                "competencies": {"type": "array", "items": _TARGET},
                "modules": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string"},
                            "title": {"type": "string"},
                            "kind": {"type": "string"},
                            "iri": {"type": "string", "format": "iri"},
                        },
                    },
                },
                "quizzes": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string"},
                            "title": {"type": "string"},
                            "iri": {"type": "string", "format": "iri"},
                            "pass_mark": {"type": "number"},
                            "questions": {
                                "type": "array",
                                "items": {"type": "string", "format": "iri"},
                            },
                        },
                    },
                },
            },
        },
        "Transcript": {
            "type": "object",
            "properties": {
                "nip": {"type": "string"},
                "name": {"type": "string"},
                "jp_target_per_year": {"type": "number"},
                "jp_by_year": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"year": {"type": "integer"}, "jp": {"type": "number"}},
                    },
                },
                "jp_this_year": {"type": "number"},
                "records": {
                    "type": "array",
                    "description": "Every JP-earning record (courses, offline training, "
                    "verified submissions, other platforms).",
                    "items": {
                        "type": "object",
                        "properties": {
                            "completed_at": {"type": "string", "format": "date-time"},
                            "title": {"type": "string"},
                            "kind": {"type": "string"},
                            "provider": {"type": "string"},
                            "jp": {"type": "number"},
                            "status": {"type": "string"},
                            "certificate_number": {"type": ["string", "null"]},
                        },
                    },
                },
                "completions": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "course": {"type": "string"},
                            "title": {"type": "string"},
                            "course_iri": {"type": "string"},
                            "version": {"type": "integer"},
                            "jp": {"type": "number"},
                            "completed_at": {"type": "string", "format": "date-time"},
                            "certificate_number": {"type": "string"},
                            "verify_url": {"type": "string"},
                            "competencies": {"type": "array", "items": _TARGET},
                        },
                    },
                },
            },
        },
    },
)
