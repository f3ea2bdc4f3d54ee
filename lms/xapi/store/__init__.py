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

from lms.db import get_session
from lms.xapi.store.definitions import merge_definitions, store_attachment_content
from lms.xapi.store.identify import identify
from lms.xapi.store.validate import AttachmentPart, validate
from lms.xapi.store.void import apply_voiding
from lms.xapi.store.write import write
from lms.xapi.validation import Context

#: Session flag set when statements were stored: consumers run after the commit.
PENDING_FLAG = "xapi_statements_stored"

__all__ = ["PENDING_FLAG", "AttachmentPart", "store_statements"]


def lentera_authority() -> dict[str, Any]:
    """The authority of statements Lentera writes itself."""
    return {"objectType": "Agent", "name": "Lentera",
            "account": {"homePage": current_app.config["BASE_URL"], "name": "lentera"}}


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
    ctx = Context(version=version)
    checked, parts = validate(statements, ctx, attachments, copy_input=copy_input)
    batch = identify(checked, authority or lentera_authority(), ctx)
    session = get_session()
    seq_of = write(session, batch)
    apply_voiding(session, batch.voids, seq_of)
    inserted = [st for st in batch.statements if st["id"] in seq_of]
    if define:
        merge_definitions(session, inserted)
    store_attachment_content(session, parts)
    if inserted:
        # The app whose consumers run after this session commits.
        session.info[PENDING_FLAG] = current_app._get_current_object()  # type: ignore[attr-defined]
    return [st["id"] for st in batch.statements]
