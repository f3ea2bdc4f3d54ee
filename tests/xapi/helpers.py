"""Statement builders for the LRS tests."""

from __future__ import annotations

import uuid
from typing import Any

ACTIVITY = "http://lentera.test/activities/course/etika-asn"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def agent(n: int = 1) -> dict[str, Any]:
    return {"objectType": "Agent", "name": f"Pegawai {n}", "mbox": f"mailto:pegawai{n}@x.go.id"}


def make_statement(**overrides: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "actor": agent(),
        "verb": {"id": COMPLETED, "display": {"en-US": "completed"}},
        "object": {"objectType": "Activity", "id": ACTIVITY,
                   "definition": {"name": {"id-ID": "Etika ASN"}}},
    }
    statement.update(overrides)
    return statement


def voiding(target: str, **overrides: Any) -> dict[str, Any]:
    return make_statement(verb={"id": VOIDED, "display": {"en-US": "voided"}},
                          object={"objectType": "StatementRef", "id": target}, **overrides)


def new_id() -> str:
    return str(uuid.uuid4())
