"""The ``lti`` statement consumer: results of learners who came through a platform link
become score posts for that platform's gradebook.

- ``passed`` for a quiz (or module) some platform links to: the score of the attempt
  (``result.score``: raw/max, else scaled x 100);
- ``completed`` for a course (or a lesson) some platform links to: 100 of 100.

Only learners who launched that link get a post (a :class:`LtiBinding` says who they are
on the platform). Posts are keyed by (link, user, statement), so a replay of the
statements adds nothing; sent posts stay sent (the platform's gradebook is outside what a
replay can undo). Voiding a statement cancels its posts that were not sent yet.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from lms.db import among, get_session
from lms.lti import ags
from lms.lti.models import LtiBinding, LtiResourceLink
from lms.xapi.consumers import StatementConsumer, StoredStatement

PASSED = "http://adlnet.gov/expapi/verbs/passed"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


def _when(data: dict[str, Any], stored: dt.datetime | None) -> dt.datetime:
    value = data.get("timestamp")
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        except ValueError:
            pass
    return stored or dt.datetime.now(dt.UTC)


def _score(verb: str, kind: str, result: dict[str, Any]) -> tuple[float, float] | None:
    """``(given, maximum)`` for the platform, or None when this result is not reported."""
    if verb == COMPLETED:
        # A course or lesson done; a quiz reports through ``passed`` instead.
        return (100.0, 100.0) if kind in ("course", "module") else None
    if kind != "quiz":
        return None
    score = result.get("score") if isinstance(result, dict) else None
    if isinstance(score, dict):
        raw, top = score.get("raw"), score.get("max")
        if isinstance(raw, int | float) and isinstance(top, int | float) and top > 0:
            return max(0.0, min(float(raw), float(top))), float(top)
        scaled = score.get("scaled")
        if isinstance(scaled, int | float):
            return round(max(0.0, min(1.0, float(scaled))) * 100, 4), 100.0
    return 100.0, 100.0


class GradeConsumer(StatementConsumer):
    """Queues score posts (see the module docstring)."""

    name = "lti"
    shares_statements = True  # reads statements, never changes them

    def relevant(self, statements: list[StoredStatement]) -> list[StoredStatement]:
        from lms.xapi.consumers import about_known_activities

        return about_known_activities(
            statements, (PASSED, COMPLETED),
            lambda ids: get_session().scalars(
                sa.select(LtiResourceLink.activity_iri)
                .where(among(LtiResourceLink.activity_iri, ids))))

    def handle(self, statement: StoredStatement) -> None:
        if statement.verb_id not in (PASSED, COMPLETED) or not statement.activity_id:
            return
        session = get_session()
        links = list(session.scalars(sa.select(LtiResourceLink).where(
            LtiResourceLink.activity_iri == statement.activity_id)))
        if not links:
            return
        from lms.xapi.actors import user_for_actor
        from lms.xapi.launch import outside_launch

        data = statement.data
        if outside_launch(data):
            return  # a cmi5 launch credential may not award what it was not launched for
        user = user_for_actor(data.get("actor"))
        if user is None:
            return
        bindings = {b.resource_link_id: b for b in session.scalars(
            sa.select(LtiBinding).where(LtiBinding.user_id == user.id,
                                        LtiBinding.resource_link_id.in_([k.id for k in links])))}
        when = _when(data, statement.stored)
        for link in links:
            binding = bindings.get(link.id)
            if binding is None:
                continue
            score = _score(statement.verb_id, link.target_kind, data.get("result") or {})
            if score is None:
                continue
            ags.queue_score(link, user.id, binding.sub, statement.id,
                            score_given=score[0], score_maximum=score[1], timestamp=when)

    def handle_voiding(self, voided_id: str, voiding: StoredStatement) -> None:
        ags.cancel_for_statement(voided_id)
