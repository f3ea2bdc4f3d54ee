"""The LRS's statement operations: store (with voiding; the steps are in
:mod:`lms.xapi.store`), fetch and query.

Plain values in, plain values out; nothing here knows Flask's request. Functions flush
and never commit: the caller (a view, a CLI command, another module's service) commits
once, so a batch is stored whole or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import orm

from lms.db import get_session
from lms.xapi.models import (
    Activity,
    Attachment,
    Statement,
    StatementActivity,
    StatementAgent,
    StatementId,
    by_statement_id,
)
from lms.xapi.store import AttachmentPart, lentera_authority, store_statements

__all__ = ["AttachmentPart", "lentera_authority", "store_statements"]

#: The most statements one query page returns (a client's ``limit`` is capped to it).
MAX_PAGE = 500


# --- reading -----------------------------------------------------------------------------


def get_statement(statement_id: str) -> dict[str, Any] | None:
    """The stored statement with this id (voided or not), or None."""
    data: dict[str, Any] | None = get_session().scalar(
        by_statement_id(sa.select(Statement.data), [statement_id.lower()]))
    return data


def get_statement_row(statement_id: str) -> Statement | None:
    """The stored row with this id, or None."""
    row: Statement | None = get_session().scalar(
        by_statement_id(sa.select(Statement), [statement_id.lower()]))
    return row


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
        # 10-20 ms of starting workers (measured at 1M statements), and JIT compiling
        # 80-150 ms (the planner's cost of a LIMIT over every monthly partition passes
        # its threshold; the query itself takes a few ms).
        session.execute(sa.text(
            "SELECT set_config('max_parallel_workers_per_gather', '0', true), "
            "set_config('jit', 'off', true)"))
    s = Statement
    upto = query.upto
    if upto is None:
        upto = session.scalar(sa.select(sa.func.max(s.seq))) or 0
    limit = min(query.limit or MAX_PAGE, MAX_PAGE)

    def window(seq: Any, stored: Any) -> list[Any]:
        """Paging and since/until: on the statements and again on the index tables
        joined for related_*, so those are read from the right months (partitions) and
        from the right seq on (ranges on one side of a join are not carried over)."""
        bounds = [seq <= upto, *_stored_bounds(stored, query)]
        if query.after is not None:
            bounds.append(seq > query.after if query.ascending else seq < query.after)
        return bounds

    conditions = [s.voided.is_(False), *window(s.seq, s.stored)]
    if query.authority:
        conditions.append(s.authority_key == query.authority)
    order = s.seq.asc() if query.ascending else s.seq.desc()
    column = sa.cast(s.data, sa.Text) if raw else s.data
    related = _related(query)
    if related and session.get_bind().dialect.name == "postgresql":
        rows = session.execute(_walk_related(related[0], s, column, query, window, conditions)
                               .limit(limit + 1)).all()
    else:
        rows = session.execute(_filtered(sa.select(s.seq, column), s, query, window)
                               .where(*conditions).order_by(order).limit(limit + 1)).all()
    if any(getattr(query, name) for name in ("agent", "verb", "activity", "registration")):
        target = orm.aliased(Statement)
        # The target through the id table: read by (seq, stored), one partition each.
        refs = session.execute(_filtered(
            sa.select(s.seq, column).join(StatementId, StatementId.statement_id == s.ref_id)
            .join(target, sa.and_(target.seq == StatementId.seq,
                                  target.stored == StatementId.stored)), target, query)
            .where(s.ref_id.is_not(None), *conditions)
            .order_by(order).limit(limit + 1)).all()
        if refs:
            merged = {row[0]: row for row in rows}
            merged.update({row[0]: row for row in refs})
            rows = sorted(merged.values(), key=lambda r: r[0], reverse=not query.ascending)
            rows = rows[:limit + 1]
    more = rows[limit - 1][0] if len(rows) > limit else None
    return [row[1] for row in rows[:limit]], more, upto


def _stored_bounds(stored: Any, query: StatementQuery) -> list[Any]:
    """``since``/``until`` on a ``stored`` column: on PostgreSQL they name the monthly
    partitions to read."""
    bounds = []
    if query.since:
        bounds.append(stored > query.since)
    if query.until:
        bounds.append(stored <= query.until)
    return bounds


_Select = TypeVar("_Select", bound="sa.Select[*tuple[Any, ...]]")


def _related(query: StatementQuery) -> list[tuple[Any, str, str]]:
    """(index table, key column, value) of the query's related_agents/related_activities."""
    related: list[tuple[Any, str, str]] = []
    if query.agent and query.related_agents:
        related.append((StatementAgent, "agent_key", query.agent))
    if query.activity and query.related_activities:
        related.append((StatementActivity, "activity_id", query.activity))
    return related


def _walk_related(driver: tuple[Any, str, str], s: Any, column: Any, query: StatementQuery,
                  window: Callable[[Any, Any], list[Any]],
                  conditions: list[Any]) -> sa.Select[Any]:
    """The page of a related_* query on PostgreSQL: walk the index table's rows of the
    key in seq order (its (key, seq, stored) index, backwards for newest first, only the
    months of the window) and fetch each one's statement by (seq, stored), one partition,
    until the page is full.

    The statement is fetched in a LATERAL subquery with LIMIT 1, which the planner cannot
    merge into a join: as a plain join it estimated the (seq, stored) match far too rare
    (the two columns go together) and, at 10M statements, chose to hash-join a scan of
    every statement (17 s) over walking a hundred index rows.
    """
    table, key, value = driver
    index = orm.aliased(table)
    keys = sa.select(index.seq.label("seq"), index.stored.label("stored")).where(
        getattr(index, key) == value, *window(index.seq, index.stored)).subquery("keys")
    statement = (_filtered(sa.select(s.seq, column.label("data")), s, query, window,
                           driven=driver)
                 .where(s.seq == keys.c.seq, s.stored == keys.c.stored, *conditions)
                 .limit(1).lateral("statement"))
    return (sa.select(statement.c.seq, statement.c.data).select_from(keys)
            .join(statement, sa.true())
            .order_by(keys.c.seq.asc() if query.ascending else keys.c.seq.desc()))


def _filtered(select: _Select, s: Any, query: StatementQuery,
              window: Callable[[Any, Any], list[Any]] | None = None,
              driven: tuple[Any, str, str] | None = None) -> _Select:
    """``select`` limited by the agent, verb, activity and registration filters on
    statement alias ``s``.

    ``related_agents``/``related_activities`` join the index table on (seq, stored): one
    row per statement and key, so the join returns each statement once (``driven``: the
    one :func:`_walk_related` walks already). ``window(seq, stored)``: the bounds of the
    statements returned, repeated on the index table so it prunes too (None when ``s``
    is a StatementRef's target, which the window does not bound).
    """
    conditions: list[Any] = []
    if query.agent and not query.related_agents:
        conditions.append(sa.or_(s.actor_key == query.agent,
                                 s.object_agent_key == query.agent))
    if query.verb:
        conditions.append(s.verb_id == query.verb)
    if query.activity and not query.related_activities:
        conditions.append(s.activity_id == query.activity)
    if query.registration:
        conditions.append(s.registration == query.registration.lower())
    for table, key, value in _related(query):
        if driven is not None and table is driven[0]:
            continue
        index = orm.aliased(table)
        select = select.join(index, sa.and_(index.seq == s.seq, index.stored == s.stored))
        conditions.append(getattr(index, key) == value)
        if window is not None:
            conditions.extend(window(index.seq, index.stored))
    return select.where(*conditions)


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
    return {(verb, activity) for verb, activity in rows if activity is not None}


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
