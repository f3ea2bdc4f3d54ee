"""The xAPI statements the learner's journey produces, and the IRIs of course activities.

Activity IRIs are stable under ``LMS_BASE_URL``:
``{BASE}/courses/{slug}``, ``{BASE}/courses/{slug}/modules/{module}``,
``{BASE}/courses/{slug}/quizzes/{quiz}`` and ``{quiz IRI}/questions/{question}``.
Every statement carries the enrolment's registration, the platform, the language and
context activities: ``parent`` (the course, or the quiz for a question), ``grouping``
(the course) and ``category`` (Lentera's course profile).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask import current_app

from lms.db import utcnow

PLATFORM = "Lentera"
PROGRESS_EXTENSION = "https://w3id.org/xapi/cmi5/result/extensions/progress"

ADL = "http://adlnet.gov/expapi/verbs/"
VERBS: dict[str, tuple[str, str, str]] = {
    # name: (IRI, en-US display, id-ID display)
    "registered": (ADL + "registered", "registered", "mendaftar"),
    "launched": (ADL + "launched", "launched", "meluncurkan"),
    "initialized": (ADL + "initialized", "initialized", "memulai"),
    "experienced": (ADL + "experienced", "experienced", "mempelajari"),
    "progressed": (ADL + "progressed", "progressed", "maju"),
    "attempted": (ADL + "attempted", "attempted", "mencoba"),
    "answered": (ADL + "answered", "answered", "menjawab"),
    "passed": (ADL + "passed", "passed", "lulus"),
    "failed": (ADL + "failed", "failed", "tidak lulus"),
    "completed": (ADL + "completed", "completed", "menyelesaikan"),
    "terminated": (ADL + "terminated", "terminated", "mengakhiri"),
}
VERB_NAMES = {iri: name for name, (iri, _en, _id) in VERBS.items()}

ACTIVITY_TYPES = {
    "course": "http://adlnet.gov/expapi/activities/course",
    "lesson": "http://adlnet.gov/expapi/activities/lesson",
    "video": "https://w3id.org/xapi/video/activity-type/video",
    "embed": "http://adlnet.gov/expapi/activities/media",
    "quiz": "http://adlnet.gov/expapi/activities/assessment",
}


def base_url() -> str:
    return current_app.config["BASE_URL"]


def courses_prefix() -> str:
    """What every course activity's IRI starts with."""
    return f"{base_url()}/courses/"


def course_iri(slug: str) -> str:
    return f"{courses_prefix()}{slug}"


def module_iri(slug: str, module: dict[str, Any]) -> str:
    """The IRI of a lesson (``/modules/``) or quiz (``/quizzes/``) of course ``slug``."""
    kind = "quizzes" if module["kind"] == "quiz" else "modules"
    return f"{course_iri(slug)}/{kind}/{module['id']}"


def question_iri(slug: str, quiz_id: str, question_id: str) -> str:
    return f"{course_iri(slug)}/quizzes/{quiz_id}/questions/{question_id}"


def category_iri() -> str:
    return f"{base_url()}/xapi/profiles/course"


def version_extension() -> str:
    return f"{base_url()}/xapi/extensions/course-version"


def parse_activity_iri(iri: str) -> tuple[str, str | None, str | None] | None:
    """``(slug, "modules"|"quizzes"|None, id)`` for an IRI of a course activity, else None.

    Question IRIs give None: they are not modules of their own.
    """
    if not isinstance(iri, str) or "/courses/" not in iri:
        return None  # (most statements a consumer sees: no need to read the config)
    prefix = courses_prefix()
    if not iri.startswith(prefix):
        return None
    parts = iri[len(prefix) :].split("/")
    if len(parts) == 1 and parts[0]:
        return parts[0], None, None
    if len(parts) == 3 and parts[1] in ("modules", "quizzes") and parts[2]:
        return parts[0], parts[1], parts[2]
    return None


def language_tag(language: str) -> str:
    return "id-ID" if language == "id" else language


def course_activity(definition: dict[str, Any]) -> dict[str, Any]:
    lang = language_tag(definition.get("language", "id"))
    return {
        "objectType": "Activity",
        "id": course_iri(definition["slug"]),
        "definition": {
            "type": ACTIVITY_TYPES["course"],
            "name": {lang: definition["title"]},
            "description": {lang: definition["summary"]},
        },
    }


def module_activity(definition: dict[str, Any], module: dict[str, Any]) -> dict[str, Any]:
    lang = language_tag(definition.get("language", "id"))
    return {
        "objectType": "Activity",
        "id": module_iri(definition["slug"], module),
        "definition": {
            "type": ACTIVITY_TYPES.get(module["kind"], ACTIVITY_TYPES["lesson"]),
            "name": {lang: module["title"]},
        },
    }


def make_statement(
    actor: dict[str, Any],
    verb: str,
    obj: dict[str, Any],
    *,
    definition: dict[str, Any],
    version: int,
    registration: str,
    parent: dict[str, Any] | None = None,
    result: dict[str, Any] | None = None,
    timestamp: dt.datetime | None = None,
) -> dict[str, Any]:
    """One statement with the context every journey statement shares."""
    iri, en, indonesian = VERBS[verb]
    course = course_activity(definition)
    context: dict[str, Any] = {
        "registration": registration,
        "platform": PLATFORM,
        "language": language_tag(definition.get("language", "id")),
        "contextActivities": {
            "grouping": [
                {"objectType": "Activity", "id": course["id"], "definition": course["definition"]}
            ],
            "category": [
                {
                    "objectType": "Activity",
                    "id": category_iri(),
                    "definition": {"type": "http://adlnet.gov/expapi/activities/profile"},
                }
            ],
        },
        "extensions": {version_extension(): version},
    }
    if parent is not None:
        context["contextActivities"]["parent"] = [{"objectType": "Activity", "id": parent["id"]}]
    statement: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": actor,
        "verb": {"id": iri, "display": {"en-US": en, "id-ID": indonesian}},
        "object": obj,
        "context": context,
        "timestamp": (timestamp or utcnow()).isoformat().replace("+00:00", "Z"),
    }
    if result is not None:
        statement["result"] = result
    return statement


def iso_duration(seconds: float) -> str:
    """An ISO 8601 duration such as ``PT1M5.25S`` (xAPI result.duration)."""
    seconds = max(0.0, round(seconds, 2))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    out = "PT"
    if hours:
        out += f"{hours}H"
    if minutes:
        out += f"{minutes}M"
    return out + f"{secs:g}S"


def score(raw: float, maximum: float) -> dict[str, float]:
    scaled = round(raw / maximum, 4) if maximum else 0.0
    return {"scaled": scaled, "raw": round(raw, 4), "min": 0, "max": round(maximum, 4)}


def send(statements: list[dict[str, Any]]) -> list[str]:
    """Store ``statements`` in the LRS inside the caller's transaction (the caller commits)."""
    from lms.xapi.service import store_statements

    return store_statements(statements)
