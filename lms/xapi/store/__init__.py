"""Storing statements, one module per step, as the validation is one module per part of
the specification:

1. :mod:`.validate`: the statements, their attachments, the ids of one request;
2. :mod:`.identify`: what the LRS sets (id, stored, timestamp, authority, version) and
   each statement's row (actor key, verb, object, registration);
3. :mod:`.index`: every activity and agent a statement mentions (related_* filters);
4. :mod:`.write`: rows and index rows in (one SQL statement on PostgreSQL), re-sent
   statements checked;
5. :mod:`.void`: voiding statements mark their targets;

then :mod:`.definitions` (the Activities resource, attachment content). Plain values in,
ids out; nothing here knows Flask's request. Flushes only: the caller commits once, so a
request is stored whole or not at all.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from lms.db import (
    after_commit,
    dispatch,
    get_autocommit_engine,
    get_engine,
    get_session,
    opened_session,
)
from lms.xapi.store.definitions import (
    definitions_merged,
    merge_definitions,
    store_attachment_content,
)
from lms.xapi.store.identify import Batch, identify
from lms.xapi.store.validate import AttachmentPart, validate
from lms.xapi.store.void import apply_voiding
from lms.xapi.store.write import write, write_alone
from lms.xapi.validation import Context

__all__ = ["AttachmentPart", "store_statements"]


def lentera_authority() -> dict[str, Any]:
    """The authority of statements Lentera writes itself."""
    return {"objectType": "Agent", "name": "Lentera",
            "account": {"homePage": current_app.config["BASE_URL"], "name": "lentera"}}


def store_statements(statements: list[dict[str, Any]], authority: dict[str, Any] | None = None,
                     *, version: str = "1.0.3",
                     attachments: dict[str, AttachmentPart] | None = None,
                     copy_input: bool = True, define: bool = True,
                     alone: bool = False) -> list[str]:
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

    ``alone=True``: the caller stores nothing else in this request (the LRS views). A
    request that only inserts statements (no voiding, no attachment, no definition to
    merge, no re-sent id) is then committed here on its own, as one SQL statement on
    PostgreSQL (:func:`~lms.xapi.store.write.write_alone`), unless the app context's
    session has a transaction open (its work must commit with the statements).
    """
    ctx = Context(version=version)
    checked, parts = validate(statements, ctx, attachments, copy_input=copy_input)
    batch = identify(checked, authority or lentera_authority(), ctx)
    if alone and not parts and not batch.voids and _stored_alone(batch, define):
        return [st["id"] for st in batch.statements]
    session = get_session()
    seq_of = write(session, batch)
    apply_voiding(session, batch.voids, seq_of)
    inserted = [st for st in batch.statements if st["id"] in seq_of]
    if define:
        merge_definitions(session, inserted)
    store_attachment_content(session, parts)
    if inserted:
        # The consumers and forwarding follow the commit (lms.db.after_commit).
        after_commit("statements", session=session)
    return [st["id"] for st in batch.statements]


def _stored_alone(batch: Batch, define: bool) -> bool:
    """Store ``batch`` committed on its own when nothing else needs its transaction;
    whether it was (else nothing was written)."""
    session = opened_session()
    if session is not None and session.in_transaction():
        return False
    engine = get_engine()
    if engine.dialect.name != "postgresql":
        return False  # SQLite: a transaction costs no round trip
    if define and not definitions_merged(engine.url, batch.statements):
        return False
    seq_of = write_alone(get_autocommit_engine(), batch)
    if seq_of is None:
        return False
    # Committed: the consumers and forwarding follow, as after a session's commit.
    dispatch(current_app._get_current_object(), {"statements": []})  # type: ignore[attr-defined]
    return True
