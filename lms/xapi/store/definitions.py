"""After the write: the Activities resource's merged definitions (Part Three §2.5,
activities) and the attachments' content (stored once per SHA-2)."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import sqlalchemy as sa

from lms.xapi.models import Activity, Attachment
from lms.xapi.store.index import walk_activities
from lms.xapi.store.validate import AttachmentPart
from lms.xapi.store.write import dialect_insert

#: (database, activity id) -> (fingerprint of the definition last seen merged, when seen):
#: bounded, per process. Another process may merge a different definition meanwhile; an
#: entry is trusted for :data:`_DEFINITION_CACHE_SECONDS` only, so a definition seen
#: again after that is compared with what is stored (the newest value wins again).
_definition_cache: dict[tuple[Any, str], tuple[str, float]] = {}
_DEFINITION_CACHE_SIZE = 50_000
_DEFINITION_CACHE_SECONDS = 60.0
_clock = time.monotonic


def merge_definitions(session: Any, statements: list[dict[str, Any]]) -> None:
    """Keep the Activities resource's merged definitions: language maps merge by
    language, other properties take the newest value."""
    database = session.get_bind().url  # (a URL is hashable; its text is built anew)
    now_seen = _clock()
    incoming, fingerprints = _unseen(database, statements, now_seen)
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
            if len(_definition_cache) >= _DEFINITION_CACHE_SIZE:
                _definition_cache.clear()
            _definition_cache[(database, activity_id)] = (fingerprints[activity_id], now_seen)
    if rows:
        # An upsert: concurrent requests may define the same new activity at once.
        stmt = dialect_insert(session)(Activity.__table__)
        stmt = stmt.on_conflict_do_update(
            index_elements=["activity_id"],
            set_={"definition": stmt.excluded.definition, "updated": stmt.excluded.updated})
        session.execute(stmt, rows)


def definitions_merged(database: Any, statements: list[dict[str, Any]]) -> bool:
    """Whether every definition in ``statements`` is one this process saw merged into the
    Activities resource of ``database`` (the engine's URL) less than a minute ago: storing
    them then changes nothing there."""
    return not _unseen(database, statements, _clock())[0]


def _unseen(database: Any, statements: list[dict[str, Any]], now: float,
            ) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The definitions of ``statements`` by activity id (merged within the request), less
    those seen merged lately, and the fingerprint of each.

    Most statements repeat a definition the LRS has already merged: those are skipped
    without a query (a per-process cache of what was last seen stored, for a minute)."""
    incoming: dict[str, dict[str, Any]] = {}
    for statement in statements:
        for activity in walk_activities(statement):
            definition = activity.get("definition")
            if definition:
                incoming[activity["id"]] = _merge(incoming.get(activity["id"], {}), definition)
    if not incoming:
        return {}, {}
    fingerprints = {k: _fingerprint(v) for k, v in incoming.items()}
    return {k: v for k, v in incoming.items()
            if not _seen_merged(database, k, fingerprints[k], now)}, fingerprints


def _seen_merged(database: Any, activity_id: str, fingerprint: str, now: float) -> bool:
    entry = _definition_cache.get((database, activity_id))
    return entry is not None and entry[0] == fingerprint \
        and now - entry[1] < _DEFINITION_CACHE_SECONDS


def _fingerprint(definition: dict[str, Any]) -> str:
    return json.dumps(definition, sort_keys=True, separators=(",", ":"))


def _merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    merged = dict(old)
    for key, value in new.items():
        if key in ("name", "description") and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def store_attachment_content(session: Any, parts: dict[str, AttachmentPart]) -> None:
    if not parts:
        return
    have = set(session.scalars(sa.select(Attachment.sha2)
                               .where(Attachment.sha2.in_(list(parts)))))
    for sha2, part in parts.items():
        if sha2 not in have:
            session.add(Attachment(sha2=sha2, content_type=part.content_type,
                                   content=part.content))
    session.flush()
