"""xAPI statements of the community: asking, sharing, answering and commenting.

Activity IRIs: ``{BASE}/community/spaces/{slug}`` (a space) and
``{BASE}/community/threads/{id}`` (a thread). A new question is ``asked``, new shared
practice ``shared``; a reply by someone else than the asker of a question is ``answered``,
any other reply ``commented`` — all on the thread activity, with the space as ``parent``
and, in a course space, the course as ``grouping``. The text itself stays out of the LRS:
a moderator may hide or delete a post, and a statement cannot be taken back quietly.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app

from lms.community.models import Space, Thread, ThreadKind
from lms.db import utcnow
from lms.people.models import User
from lms.xapi.actors import actor_for

ADL = "http://adlnet.gov/expapi/verbs/"
VERBS = {
    "asked": (ADL + "asked", "asked", "bertanya"),
    "shared": (ADL + "shared", "shared", "berbagi"),
    "answered": (ADL + "answered", "answered", "menjawab"),
    "commented": (ADL + "commented", "commented", "berkomentar"),
}
DISCUSSION = "http://id.tincanapi.com/activitytype/discussion"
COMMUNITY = "http://id.tincanapi.com/activitytype/community-site"


def base_url() -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/")


def space_iri(space: Space) -> str:
    return f"{base_url()}/community/spaces/{space.slug}"


def thread_iri(thread: Thread) -> str:
    return f"{base_url()}/community/threads/{thread.id}"


def thread_statement(
    user: User, verb: str, thread: Thread, space: Space, course_slug: str | None = None
) -> dict[str, Any]:
    """One statement of ``user`` doing ``verb`` on ``thread`` in ``space``."""
    iri, en, indonesian = VERBS[verb]
    context: dict[str, Any] = {
        "platform": "Lentera",
        "language": "id-ID",
        "contextActivities": {
            "parent": [
                {
                    "objectType": "Activity",
                    "id": space_iri(space),
                    "definition": {"type": COMMUNITY, "name": {"id-ID": space.title}},
                }
            ],
        },
    }
    if course_slug:
        context["contextActivities"]["grouping"] = [
            {"objectType": "Activity", "id": f"{base_url()}/courses/{course_slug}"}
        ]
    return {
        "id": str(uuid.uuid4()),
        "actor": actor_for(user),
        "verb": {"id": iri, "display": {"en-US": en, "id-ID": indonesian}},
        "object": {
            "objectType": "Activity",
            "id": thread_iri(thread),
            "definition": {
                "type": DISCUSSION,
                "name": {"id-ID": thread.title},
                "extensions": {f"{base_url()}/xapi/extensions/thread-kind": str(thread.kind)},
            },
        },
        "context": context,
        "timestamp": utcnow().isoformat().replace("+00:00", "Z"),
    }


def verb_for_new_thread(thread: Thread) -> str:
    return "asked" if thread.kind == ThreadKind.QUESTION else "shared"


def verb_for_reply(thread: Thread, user: User) -> str:
    if thread.kind == ThreadKind.QUESTION and thread.author_id != user.id:
        return "answered"
    return "commented"


def store(statement: dict[str, Any]) -> str:
    """Store one statement in the caller's transaction; its id."""
    from lms.xapi.service import store_statements

    return store_statements([statement])[0]
