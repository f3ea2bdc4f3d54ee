"""The LRS's statement operations: store (with voiding; the steps are in
:mod:`lms.xapi.store`), fetch and query.

Plain values in, plain values out; nothing here knows Flask's request. Functions flush
and never commit: the caller (a view, a CLI command, another module's service) commits
once, so a batch is stored whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from lms.db import get_session
from lms.xapi.models import Activity, Attachment, Statement, StatementActivity, StatementAgent
from lms.xapi.store import PENDING_FLAG, AttachmentPart, lentera_authority, store_statements

__all__ = ["PENDING_FLAG", "AttachmentPart", "lentera_authority", "store_statements"]

#: The most statements one query page returns (a client's ``limit`` is capped to it).
MAX_PAGE = 500


# --- reading -----------------------------------------------------------------------------


def get_statement(statement_id: str) -> dict[str, Any] | None:
    """The stored statement with this id (voided or not), or None."""
    data = get_session().scalar(sa.select(Statement.data)
                                .where(Statement.statement_id == statement_id.lower()))
    return data


def get_statement_row(statement_id: str) -> Statement | None:
    """The stored row with this id, or None."""
    return get_session().scalar(sa.select(Statement)
                                .where(Statement.statement_id == statement_id.lower()))


@dataclass
class StatementQuery:
    """The filters of a statement query (Part Three §2.1.3 / 2.0 §4.1.6.1 GET)."""

    agent: str | None = None
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    limit: int = 0
    ascending: bool = False
    #: Paging: continue after this seq (exclusive), and never past ``upto`` (inclusive).
    after: int | None = None
    upto: int | None = None
    #: Restrict to statements of this authority (statements/read/mine).
    authority: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def query_statements(query: StatementQuery, *, raw: bool = False,
                     ) -> tuple[list[Any], int | None, int]:
    """One page of statements matching ``query``, newest first unless ``ascending``.

    ``raw=True`` returns each statement as its stored JSON text (no parsing or
    re-serialising: the fast path for ``format=exact``); else as dicts.

    Returns (statements, seq to continue after or None when this is the last page, the
    highest seq the query may see). Paging is stable: later pages never include
    statements stored after the first page was read.

    Statements whose object is a StatementRef to a statement matching the agent, verb,
    activity and registration filters are returned too, even when that target is voided
    (1.0.3 Part Three §2.1.3 "Filter Conditions for StatementRefs"); ``since``, ``until``
    and paging apply to the referencing statement itself.
    """
    session = get_session()
    if session.get_bind().dialect.name == "postgresql":
        # These are LIMIT queries over index ranges: a parallel plan only adds the
        # 10-20 ms of starting workers (measured at 1M statements).
        session.execute(sa.text("SET LOCAL max_parallel_workers_per_gather = 0"))
    s = Statement
    upto = query.upto
    if upto is None:
        upto = session.scalar(sa.select(sa.func.max(s.seq))) or 0
    limit = min(query.limit or MAX_PAGE, MAX_PAGE)
    window = [s.voided.is_(False), s.seq <= upto, *_time_conditions(s, query)]
    if query.after is not None:
        window.append(s.seq > query.after if query.ascending else s.seq < query.after)
    order = s.seq.asc() if query.ascending else s.seq.desc()
    column = sa.cast(s.data, sa.Text) if raw else s.data
    rows = session.execute(sa.select(s.seq, column)
                           .where(*window, *_target_conditions(s, query))
                           .order_by(order).limit(limit + 1)).all()
    if any(getattr(query, name) for name in ("agent", "verb", "activity", "registration")):
        target = orm.aliased(Statement)
        refs = session.execute(
            sa.select(s.seq, column).join(target, target.statement_id == s.ref_id)
            .where(s.ref_id.is_not(None), *window, *_target_conditions(target, query))
            .order_by(order).limit(limit + 1)).all()
        if refs:
            merged = {row[0]: row for row in rows}
            merged.update({row[0]: row for row in refs})
            rows = sorted(merged.values(), key=lambda r: r[0], reverse=not query.ascending)
            rows = rows[:limit + 1]
    more = rows[limit - 1][0] if len(rows) > limit else None
    return [row[1] for row in rows[:limit]], more, upto


def _time_conditions(s: Any, query: StatementQuery) -> list[Any]:
    conditions = []
    if query.since:
        conditions.append(s.stored > query.since)
    if query.until:
        conditions.append(s.stored <= query.until)
    if query.authority:
        conditions.append(s.authority_key == query.authority)
    return conditions


def _target_conditions(s: Any, query: StatementQuery) -> list[Any]:
    """The agent, verb, activity and registration filters, on statement alias ``s``."""
    conditions: list[Any] = []
    if query.agent:
        if query.related_agents:
            conditions.append(s.seq.in_(sa.select(StatementAgent.seq)
                                        .where(StatementAgent.agent_key == query.agent)))
        else:
            conditions.append(sa.or_(s.actor_key == query.agent,
                                     s.object_agent_key == query.agent))
    if query.verb:
        conditions.append(s.verb_id == query.verb)
    if query.activity:
        if query.related_activities:
            conditions.append(s.seq.in_(sa.select(StatementActivity.seq)
                                        .where(StatementActivity.activity_id == query.activity)))
        else:
            conditions.append(s.activity_id == query.activity)
    if query.registration:
        conditions.append(s.registration == query.registration.lower())
    return conditions


def registration_activities(registration: str, verbs: Iterable[str]) -> set[tuple[str, str]]:
    """(verb id, object activity id) of the statements of ``registration`` with one of
    ``verbs`` that are not voided: what a learner has done in one enrolment.

    One indexed query returning two short columns; :func:`query_statements` would add
    the paging bounds, the StatementRef pass and every statement's whole JSON. Statements
    whose object is not an Activity, and statements written with a launch credential, are
    left out.
    """
    verbs = list(verbs)
    if not verbs or not registration:
        return set()
    from lms.xapi.launch import launch_home_page

    s = Statement
    rows = get_session().execute(
        sa.select(s.verb_id, s.activity_id).where(
            s.registration == registration.lower(), s.verb_id.in_(verbs),
            s.voided.is_(False), s.activity_id.is_not(None),
            # Not what launched content wrote with its credential (the learner's browser
            # holds it): a course's progress counts what Lentera itself recorded.
            sa.or_(s.authority_key.is_(None), ~s.authority_key.startswith(
                f"account:{launch_home_page()}|", autoescape=True)))).all()
    return {(verb, activity) for verb, activity in rows}


def get_attachment_contents(statements: list[dict[str, Any]]) -> dict[str, Attachment]:
    """The stored attachment contents the given statements refer to, by SHA-2."""
    wanted = {a["sha2"].lower() for st in statements for a in st.get("attachments", [])}
    if not wanted:
        return {}
    return {a.sha2: a for a in get_session().scalars(
        sa.select(Attachment).where(Attachment.sha2.in_(list(wanted))))}


def get_activity(activity_id: str) -> dict[str, Any]:
    """The Activity object with its merged definition (Part Three §2.5)."""
    definition = get_session().scalar(sa.select(Activity.definition)
                                      .where(Activity.activity_id == activity_id))
    activity: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    if definition:
        activity["definition"] = definition
    return activity


def statement_json(statement: dict[str, Any]) -> str:
    return json.dumps(statement, separators=(",", ":"), ensure_ascii=False)
