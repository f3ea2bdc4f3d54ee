"""The LRS's statement operations: store (with voiding), fetch and query.

Plain values in, plain values out; nothing here knows Flask's request. Functions flush
and never commit: the caller (a view, a CLI command, another module's service) commits
once, so a batch is stored whole or not at all.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import orm

from lms.db import after_commit, get_session
from lms.errors import Conflict, ValidationError
from lms.xapi.models import Activity, Attachment, Statement, StatementActivity, StatementAgent
from lms.xapi.validation import Context, check_statement
from lms.xapi.validation.agents import agent_key
from lms.xapi.validation.attachments import SIGNATURE_USAGE
from lms.xapi.validation.common import format_timestamp, parse_timestamp
from lms.xapi.validation.verbs import VOIDED

#: The most statements one query page returns (a client's ``limit`` is capped to it).
MAX_PAGE = 500


def lentera_authority() -> dict[str, Any]:
    """The authority of statements Lentera writes itself."""
    return {"objectType": "Agent", "name": "Lentera",
            "account": {"homePage": current_app.config["BASE_URL"], "name": "lentera"}}


@dataclass
class AttachmentPart:
    """The raw content of an attachment sent in a multipart/mixed request."""

    content_type: str
    content: bytes


# --- storing -----------------------------------------------------------------------------


def _now_ms() -> dt.datetime:
    """Now, truncated to milliseconds: ``stored`` is returned with ms precision, so the
    column must hold the same value for ``since``/``until`` to compare exactly."""
    now = dt.datetime.now(dt.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _comparable(statement: dict[str, Any]) -> dict[str, Any]:
    """A statement without the properties the LRS sets, for the immutability check."""
    return {k: v for k, v in statement.items()
            if k not in ("authority", "stored", "version", "timestamp", "id")}


def _same_statement(received: dict[str, Any], stored: dict[str, Any]) -> bool:
    """Whether a re-sent statement matches the stored one (Part Three §2.1.2, PUT)."""
    if _comparable(received) != _comparable(stored):
        return False
    if "timestamp" in received:
        try:
            a = parse_timestamp(received["timestamp"], "timestamp")
            b = parse_timestamp(stored["timestamp"], "timestamp")
        except ValidationError:
            return False
        return a == b
    return True


def _walk_activities(statement: dict[str, Any]) -> Iterable[dict[str, Any]]:
    """Every Activity object in a statement: object, context activities, sub-statement."""
    for part in (statement, statement.get("object") if isinstance(statement.get("object"), dict)
                 and statement["object"].get("objectType") == "SubStatement" else None):
        if not part:
            continue
        obj = part.get("object")
        if isinstance(obj, dict) and obj.get("objectType", "Activity") == "Activity":
            yield obj
        for items in (part.get("context") or {}).get("contextActivities", {}).values():
            yield from items


def _walk_agents(statement: dict[str, Any]) -> Iterable[dict[str, Any]]:
    """Every Agent/Group a statement names, for ``related_agents`` (§2.5, agent filter)."""
    parts = [statement]
    obj = statement.get("object")
    if isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
        parts.append(obj)
    for part in parts:
        yield part["actor"]
        obj = part.get("object")
        if isinstance(obj, dict) and obj.get("objectType") in ("Agent", "Group"):
            yield obj
        context = part.get("context") or {}
        for key in ("instructor", "team"):
            if key in context:
                yield context[key]
        for item in context.get("contextAgents", []):
            yield item["agent"]
        for item in context.get("contextGroups", []):
            yield item["group"]
    if "authority" in statement:
        yield statement["authority"]


def _agent_keys(statement: dict[str, Any]) -> set[str]:
    keys = set()
    for agent in _walk_agents(statement):
        key = agent_key(agent)
        if key:
            keys.add(key)
        for member in agent.get("member", []) if isinstance(agent, dict) else []:
            key = agent_key(member)
            if key:
                keys.add(key)
    return keys


def _merge_definitions(session: Any, statements: list[dict[str, Any]]) -> None:
    """Keep the Activities resource's merged definitions (Part Three §2.5, activities).

    Language maps merge by language, other properties take the newest value.
    """
    incoming: dict[str, dict[str, Any]] = {}
    for statement in statements:
        for activity in _walk_activities(statement):
            definition = activity.get("definition")
            if definition:
                incoming[activity["id"]] = _merge(incoming.get(activity["id"], {}), definition)
    if not incoming:
        return
    # Most statements repeat a definition the LRS has already merged: skip those without
    # a query (a per-process cache of what was last seen stored).
    incoming = {k: v for k, v in incoming.items()
                if _definition_cache.get(k) != _fingerprint(v)}
    if not incoming:
        return
    existing = dict(session.execute(
        sa.select(Activity.activity_id, Activity.definition)
        .where(Activity.activity_id.in_(list(incoming)))).all())
    now = dt.datetime.now(dt.UTC)
    rows = []
    for activity_id, definition in incoming.items():
        old = existing.get(activity_id)
        merged = _merge(old, definition) if old else definition
        if merged != old:
            rows.append({"activity_id": activity_id, "definition": merged, "updated": now})
        else:
            _definition_cache[activity_id] = _fingerprint(definition)
    if rows:
        # An upsert: concurrent requests may define the same new activity at once.
        stmt = _dialect_insert(session)(Activity.__table__)
        stmt = stmt.on_conflict_do_update(
            index_elements=["activity_id"],
            set_={"definition": stmt.excluded.definition, "updated": stmt.excluded.updated})
        session.execute(stmt, rows)


#: activity id -> fingerprint of the definition last seen merged (bounded, per process).
_definition_cache: dict[str, str] = {}
_DEFINITION_CACHE_SIZE = 50_000


def _fingerprint(definition: dict[str, Any]) -> str:
    if len(_definition_cache) > _DEFINITION_CACHE_SIZE:
        _definition_cache.clear()
    return json.dumps(definition, sort_keys=True, separators=(",", ":"))


def _merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    merged = dict(old)
    for key, value in new.items():
        if key in ("name", "description") and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _check_attachments(statements: list[dict[str, Any]],
                       parts: dict[str, AttachmentPart]) -> dict[str, AttachmentPart]:
    """Every attachment without a fileUrl must come as a part with matching SHA-2, and
    every part must belong to an attachment (Part Three §1.5.2 / 2.0 §4.1.2.3)."""
    from lms.xapi.validation import signatures

    needed: dict[str, dict[str, Any]] = {}
    for i, statement in enumerate(statements):
        for j, attachment in enumerate(statement.get("attachments", [])):
            sha2 = attachment["sha2"].lower()
            if sha2 in parts:
                needed[sha2] = attachment
            elif "fileUrl" not in attachment:
                raise ValidationError(
                    f"statements[{i}].attachments[{j}]: has no fileUrl, so its content must "
                    f"be sent as a part of a multipart/mixed request with "
                    f"X-Experience-API-Hash {attachment['sha2']}",
                    field=f"statements[{i}].attachments[{j}]")
            if attachment["usageType"] == SIGNATURE_USAGE:
                if sha2 not in parts:
                    raise ValidationError(
                        f"statements[{i}].attachments[{j}]: a signature attachment must be "
                        "sent as a part of the request", field="attachments")
                signatures.check_signature(statement, parts[sha2].content,
                                           f"statements[{i}].attachments[{j}]")
    for sha2 in parts:
        if sha2 not in needed:
            raise ValidationError(
                f"the request has an attachment part with X-Experience-API-Hash {sha2} that "
                "no statement's attachments list (sha2)", field="attachments")
    return parts


def store_statements(statements: list[dict[str, Any]], authority: dict[str, Any] | None = None,
                     *, version: str = "1.0.3",
                     attachments: dict[str, AttachmentPart] | None = None,
                     copy_input: bool = True, define: bool = True) -> list[str]:
    """Validate and store statements as one unit; return their ids in order.

    Sets ``id`` (when absent), ``stored``, ``timestamp`` (when absent), ``authority`` and
    ``version`` (Part Two §2.4). A statement whose id is stored already must match it
    (else :class:`~lms.errors.Conflict`) and is not stored twice. Voiding statements
    mark their target voided. Any invalid statement raises
    :class:`~lms.errors.ValidationError` naming the property and stores nothing.
    Flushes only; the caller commits. The given dicts are not changed unless
    ``copy_input=False`` (the LRS views pass that: they parsed the body for this call).
    ``define=False`` (a client without the ``define`` scope) stores the statements but
    leaves the Activities resource's definitions as they were (Part Two §4.2, scopes).
    """
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise ValidationError("statements: send one statement object or a non-empty list "
                              "of them", field="statements")
    ctx = Context(version=version)
    many = len(statements) > 1
    checked: list[dict[str, Any]] = []
    for i, statement in enumerate(statements):
        if copy_input:
            statement = _json_copy(statement)
        check_statement(statement, f"statements[{i}]" if many else "statement", ctx)
        checked.append(statement)
    parts = _check_attachments(checked, {k.lower(): v for k, v in (attachments or {}).items()})

    session = get_session()
    given = [s["id"].lower() for s in checked if "id" in s]
    if len(set(given)) != len(given):
        raise ValidationError("statements: the same statement id is used twice in one "
                              "request", field="id")
    authority = authority or lentera_authority()
    authority_id = agent_key(authority)
    stored = _now_ms()
    stored_text = format_timestamp(stored)
    stamp_version = "2.0.0" if ctx.is_v2 else "1.0.0"
    ids: list[str] = []
    rows: list[dict[str, Any]] = []
    new: list[dict[str, Any]] = []
    voids: dict[str, str] = {}
    #: Statements the client dated itself (a re-sent one is compared on timestamp too).
    dated: set[str] = set()
    for statement in checked:
        if "id" in statement:
            statement["id"] = statement["id"].lower()
        else:
            statement["id"] = str(uuid.uuid4())
        statement["stored"] = stored_text
        if "timestamp" in statement:
            dated.add(statement["id"])
            # Returned in UTC with millisecond precision (2.0 §4.2.7; 1.0.3 §4.5 allows it).
            timestamp = parse_timestamp(statement["timestamp"], "timestamp")
            statement["timestamp"] = format_timestamp(timestamp)
            timestamp = timestamp.astimezone(dt.UTC)
        else:
            timestamp = stored
            statement["timestamp"] = stored_text
        statement["authority"] = authority
        statement.setdefault("version", stamp_version)
        obj = statement["object"]
        kind = obj.get("objectType", "Activity")
        registration = (statement.get("context") or {}).get("registration")
        if statement["verb"]["id"] == VOIDED:
            voids[obj["id"].lower()] = statement["id"]
        rows.append({
            "statement_id": statement["id"],
            "actor_key": agent_key(statement["actor"]),
            "verb_id": statement["verb"]["id"],
            "activity_id": obj["id"] if kind == "Activity" else None,
            "object_agent_key": agent_key(obj) if kind in ("Agent", "Group") else None,
            "ref_id": obj["id"].lower() if kind == "StatementRef" else None,
            "registration": registration.lower() if registration else None,
            "authority_key": authority_id,
            "timestamp": timestamp,
            "stored": stored,
            "voided": False,
            "data": statement,
        })
        new.append(statement)
        ids.append(statement["id"])

    if not rows:
        return ids
    # Core inserts (the table, not the ORM entity): no unit-of-work overhead per row. A
    # statement id stored already is skipped by the database (one round trip for the
    # common case) and then compared with what is stored.
    table = Statement.__table__
    insert = _dialect_insert(session)
    result = session.execute(
        insert(table).on_conflict_do_nothing(index_elements=["statement_id"])
        .returning(table.c.seq, table.c.statement_id), rows)
    seq_of = {row[1]: row[0] for row in result}
    if len(seq_of) < len(rows):
        _check_resent(session, [st for st in new if st["id"] not in seq_of], dated)
    voids = {target: sid for target, sid in voids.items() if sid in seq_of}
    if voids:
        _apply_voiding(session, voids, set(seq_of))
    activity_rows = []
    agent_rows = []
    inserted = [st for st in new if st["id"] in seq_of]
    for statement in inserted:
        seq = seq_of[statement["id"]]
        for activity_id in {a["id"] for a in _walk_activities(statement)}:
            activity_rows.append({"activity_id": activity_id, "seq": seq})
        for key in _agent_keys(statement):
            agent_rows.append({"agent_key": key, "seq": seq})
    if activity_rows:
        session.execute(sa.insert(StatementActivity), activity_rows)
    if agent_rows:
        session.execute(sa.insert(StatementAgent), agent_rows)
    if define:
        _merge_definitions(session, inserted)
    _store_attachment_content(session, parts)
    if inserted:
        # The consumers and forwarding follow the commit (lms.db.after_commit).
        after_commit("statements", session=session)
    return ids


def _json_copy(value: Any) -> Any:
    """A copy of parsed JSON (dicts, lists, scalars): several times cheaper than
    ``copy.deepcopy``, which the learner's every action paid for."""
    if isinstance(value, dict):
        return {k: _json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_copy(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return copy.deepcopy(value)


def _dialect_insert(session: Any) -> Any:
    """The INSERT construct with ON CONFLICT support for the session's database."""
    from sqlalchemy.dialects import postgresql, sqlite

    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert


def _check_resent(session: Any, statements: list[dict[str, Any]], dated: set[str]) -> None:
    """Statements whose id is stored already must be the same statement (Part Three
    §2.1.1/§2.1.2): then nothing changes; otherwise :class:`Conflict` (409)."""
    stored = dict(session.execute(
        sa.select(Statement.statement_id, Statement.data)
        .where(Statement.statement_id.in_([st["id"] for st in statements]))).all())
    for statement in statements:
        previous = stored.get(statement["id"])
        received = statement if statement["id"] in dated else \
            {k: v for k, v in statement.items() if k != "timestamp"}
        if previous is None or not _same_statement(received, previous):
            raise Conflict(f"statement {statement['id']} is stored already with different "
                           "content; statements cannot be changed (send a new statement, "
                           "and void the old one if it was wrong)", field="id")


def _apply_voiding(session: Any, voids: dict[str, str], batch_ids: set[str]) -> None:
    """Mark voided targets (Part Two §2.3.2). A voiding statement cannot be voided."""
    targets = list(voids)
    for target in targets:
        if target in batch_ids:
            raise ValidationError(f"statement {voids[target]}: cannot void a statement sent "
                                  "in the same request", field="object.id")
    rows = session.execute(sa.select(Statement.statement_id, Statement.verb_id)
                           .where(Statement.statement_id.in_(targets))).all()
    for statement_id, verb_id in rows:
        if verb_id == VOIDED:
            raise ValidationError(f"statement {voids[statement_id]}: its object "
                                  f"{statement_id} is itself a voiding statement, and voiding "
                                  "statements cannot be voided", field="object.id")
    if rows:
        session.execute(sa.update(Statement).where(Statement.statement_id.in_(targets))
                        .values(voided=True))


def _store_attachment_content(session: Any, parts: dict[str, AttachmentPart]) -> None:
    if not parts:
        return
    have = set(session.scalars(sa.select(Attachment.sha2)
                               .where(Attachment.sha2.in_(list(parts)))))
    for sha2, part in parts.items():
        if sha2 not in have:
            session.add(Attachment(sha2=sha2, content_type=part.content_type,
                                   content=part.content))
    session.flush()


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

