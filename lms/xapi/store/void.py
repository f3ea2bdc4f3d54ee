"""Step 5, void: voiding statements mark their targets voided (Part Two §2.3.2)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from lms.errors import ValidationError
from lms.xapi.models import Statement, by_statement_id
from lms.xapi.validation.verbs import VOIDED


def apply_voiding(session: Any, voids: dict[str, str], seq_of: dict[str, int]) -> None:
    """Mark the targets of the voiding statements stored now (``voids``: target id ->
    voiding statement id; ``seq_of``: the statements this request inserted). A voiding
    statement cannot be voided, nor a statement of the same request."""
    voids = {target: sid for target, sid in voids.items() if sid in seq_of}
    if not voids:
        return
    targets = list(voids)
    for target in targets:
        if target in seq_of:
            raise ValidationError(f"statement {voids[target]}: cannot void a statement sent "
                                  "in the same request", field="object.id")
    rows = session.execute(by_statement_id(
        sa.select(Statement.statement_id, Statement.verb_id, Statement.seq, Statement.stored),
        targets)).all()
    for statement_id, verb_id, _seq, _stored in rows:
        if verb_id == VOIDED:
            raise ValidationError(f"statement {voids[statement_id]}: its object "
                                  f"{statement_id} is itself a voiding statement, and voiding "
                                  "statements cannot be voided", field="object.id")
    if rows:
        # By (seq, stored): the stored values name the partitions to touch.
        session.execute(sa.update(Statement)
                        .where(Statement.seq.in_([row.seq for row in rows]),
                               Statement.stored.in_({row.stored for row in rows}))
                        .values(voided=True))
