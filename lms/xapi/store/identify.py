"""Step 2, identify: what the LRS sets on each statement (Part Two §2.4) and the columns
queries filter on.

Sets ``id`` (when absent; given ids lower-cased), ``stored``, ``timestamp`` (when
absent; else normalised to UTC with millisecond precision), ``authority`` and ``version``,
and computes each statement's row: the actor's key (:func:`agent_key`), verb, object
activity, object agent, StatementRef target, registration.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from lms.xapi.validation import Context
from lms.xapi.validation.agents import agent_key
from lms.xapi.validation.common import format_timestamp, parse_timestamp
from lms.xapi.validation.verbs import VOIDED


@dataclass
class Batch:
    """The statements of one request, identified, with their rows."""

    statements: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    #: Voiding statements: target id -> voiding statement id.
    voids: dict[str, str] = field(default_factory=dict)
    #: Statements the client dated itself (a re-sent one is compared on timestamp too).
    dated: set[str] = field(default_factory=set)


def now_ms() -> dt.datetime:
    """Now, truncated to milliseconds: ``stored`` is returned with ms precision, so the
    column must hold the same value for ``since``/``until`` to compare exactly."""
    now = dt.datetime.now(dt.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def identify(statements: list[dict[str, Any]], authority: dict[str, Any],
             ctx: Context) -> Batch:
    """Stamp ``statements`` in place and build their rows (in request order)."""
    authority_id = agent_key(authority)
    stored = now_ms()
    stored_text = format_timestamp(stored)
    stamp_version = "2.0.0" if ctx.is_v2 else "1.0.0"
    batch = Batch(statements, [])
    for statement in statements:
        if "id" in statement:
            statement["id"] = statement["id"].lower()
        else:
            statement["id"] = str(uuid.uuid4())
        statement["stored"] = stored_text
        if "timestamp" in statement:
            batch.dated.add(statement["id"])
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
            batch.voids[obj["id"].lower()] = statement["id"]
        batch.rows.append({
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
    return batch
