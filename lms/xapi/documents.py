"""State, Activity Profile and Agent Profile documents (xAPI 1.0.3 Part Three §2.3–2.6,
2.0 §4.1.6.2, §4.1.6.5, §4.1.6.6) with ETag concurrency (Part Three §3.1 / 2.0 §4.1.4).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa

from lms.db import get_session
from lms.errors import Conflict, PreconditionFailed, ValidationError
from lms.xapi.models import Document

STATE = "state"
ACTIVITY_PROFILE = "activity_profile"
AGENT_PROFILE = "agent_profile"


@dataclass(frozen=True)
class DocumentKey:
    """Where a document lives: its kind and the activity/agent/registration it belongs to."""

    kind: str
    activity_id: str = ""
    agent_key: str = ""
    registration: str = ""

    def conditions(self) -> list[Any]:
        return [Document.kind == self.kind, Document.activity_id == self.activity_id,
                Document.agent_key == self.agent_key,
                Document.registration == self.registration]


def etag_of(content: bytes) -> str:
    return hashlib.sha1(content).hexdigest()


def _is_json(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == "application/json"


def get_document(key: DocumentKey, document_id: str) -> Document | None:
    """The document with this id, or None."""
    return get_session().scalar(sa.select(Document).where(*key.conditions(),
                                                          Document.document_id == document_id))


def list_document_ids(key: DocumentKey, since: dt.datetime | None = None) -> list[str]:
    """Ids of the documents under ``key``, updated after ``since`` when given."""
    stmt = sa.select(Document.document_id).where(*key.conditions())
    if since is not None:
        stmt = stmt.where(Document.updated > since)
    return list(get_session().scalars(stmt.order_by(Document.document_id)))


def _check_preconditions(existing: Any, if_match: str | None,
                         if_none_match: str | None) -> None:
    """If-Match / If-None-Match (Part Three §3.1): 412 when the precondition fails."""
    if if_match is not None:
        tags = {t.strip().strip('"') for t in if_match.split(",")}
        if existing is None or ("*" not in tags and existing.etag not in tags):
            raise PreconditionFailed("If-Match does not match the document's current ETag: "
                                     "it was changed (or removed) since you read it")
    if if_none_match is not None:
        tags = {t.strip().strip('"') for t in if_none_match.split(",")}
        if existing is not None and ("*" in tags or existing.etag in tags):
            raise PreconditionFailed("If-None-Match: the document exists already")


#: How many times a write is tried again when another writer changed the document between
#: reading and writing it (each try reads the document afresh).
MAX_WRITE_TRIES = 50


@dataclass(frozen=True)
class _Seen:
    """A document as one write attempt read it (plain values: no identity map)."""

    id: int
    etag: str
    content: bytes
    content_type: str


def _read(key: DocumentKey, document_id: str) -> _Seen | None:
    table = cast(sa.Table, Document.__table__).c
    row = get_session().execute(
        sa.select(table.id, table.etag, table.content, table.content_type)
        .where(*key.conditions(), table.document_id == document_id)).first()
    return _Seen(row.id, row.etag, bytes(row.content), row.content_type) if row else None


def _merged(existing: _Seen, content: bytes, content_type: str) -> bytes:
    if not (_is_json(content_type) and _is_json(existing.content_type)):
        raise ValidationError("POST merges JSON documents only: both the stored and the "
                              "sent document must be application/json objects; use PUT "
                              "to replace it")
    try:
        old = json.loads(existing.content)
        new = json.loads(content)
    except (ValueError, RecursionError):
        raise ValidationError("POST merges JSON documents only, and one of them is not "
                              "valid JSON") from None
    if not isinstance(old, dict) or not isinstance(new, dict):
        raise ValidationError("POST merges JSON objects only; use PUT to replace a "
                              "document that is not a JSON object")
    old.update(new)
    return json.dumps(old, separators=(",", ":"), ensure_ascii=False).encode()


def save_document(key: DocumentKey, document_id: str, content: bytes, content_type: str, *,
                  merge: bool, if_match: str | None = None, if_none_match: str | None = None,
                  require_precondition: bool = False) -> str:
    """Store a document (PUT replaces; POST merges JSON objects); return its new ETag.

    POST merge (Part Three §2.2.2 / 2.0 §4.1.6.2): when both the stored and the sent
    document are JSON objects, the top-level properties of the sent one overwrite the
    stored ones; anything else is a 400. ``require_precondition``: a PUT of a profile
    that exists, with neither If-Match nor If-None-Match, is a 409.

    Atomic against concurrent writers of the same document: the write is a compare-and-set
    on the ETag that was read (an UPDATE ... WHERE etag = read etag, or an INSERT that does
    nothing when the document appeared meanwhile); when another writer got there first,
    the document is read again and the preconditions and the merge are applied to what
    that writer stored. So If-Match lets one of two writers through and the other gets 412,
    concurrent merges lose no key, and concurrent creates with If-None-Match: * give one
    204 and 412s, never a 500.
    """
    if len(document_id) > 2048:
        raise ValidationError("the document id may have at most 2048 characters")
    session = get_session()
    table = cast(sa.Table, Document.__table__)
    content_type = content_type or "application/octet-stream"
    if merge and _is_json(content_type):
        try:
            if not isinstance(json.loads(content), dict):
                raise ValueError
        except (ValueError, RecursionError):
            raise ValidationError("a POSTed application/json document must be a JSON "
                                  "object") from None
    for _try in range(MAX_WRITE_TRIES):
        existing = _read(key, document_id)
        _check_preconditions(existing, if_match, if_none_match)
        if require_precondition and existing is not None and if_match is None \
                and if_none_match is None:
            raise Conflict("this document exists already: send If-Match with its ETag (or "
                           "If-None-Match: * to create only) so changes are not lost")
        body, body_type = content, content_type
        if merge and existing is not None:
            body, body_type = _merged(existing, content, content_type), "application/json"
        values = {"content": body, "content_type": body_type, "etag": etag_of(body),
                  "updated": dt.datetime.now(dt.UTC)}
        if existing is None:
            from lms.xapi.store.write import dialect_insert as _dialect_insert

            inserted = session.execute(
                _dialect_insert(session)(table).values(
                    kind=key.kind, activity_id=key.activity_id, agent_key=key.agent_key,
                    registration=key.registration, document_id=document_id, **values)
                .on_conflict_do_nothing().returning(table.c.id)).first()
            if inserted is not None:
                return str(values["etag"])
        else:
            changed = cast(sa.CursorResult[Any], session.execute(
                sa.update(table).where(table.c.id == existing.id,
                                       table.c.etag == existing.etag).values(**values)))
            if changed.rowcount == 1:
                return str(values["etag"])
        # Another writer stored or changed the document since it was read: read again.
    raise Conflict("the document is being changed by many writers at once; send the "
                   "request again")


def delete_document(key: DocumentKey, document_id: str, *, if_match: str | None = None,
                    if_none_match: str | None = None) -> None:
    """Delete one document (silently nothing when absent, unless If-Match says it exists);
    atomic like :func:`save_document` (the delete happens only to the version checked)."""
    table = cast(sa.Table, Document.__table__)
    for _try in range(MAX_WRITE_TRIES):
        existing = _read(key, document_id)
        _check_preconditions(existing, if_match, if_none_match)
        if existing is None:
            return
        deleted = cast(sa.CursorResult[Any], get_session().execute(sa.delete(table).where(
            table.c.id == existing.id, table.c.etag == existing.etag)))
        if deleted.rowcount == 1:
            return
    raise Conflict("the document is being changed by many writers at once; send the "
                   "request again")


def delete_documents(key: DocumentKey) -> int:
    """Delete every document under ``key`` (State DELETE without stateId)."""
    result = get_session().execute(sa.delete(Document).where(*key.conditions()))
    return int(getattr(result, "rowcount", 0) or 0)
