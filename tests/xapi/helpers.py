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


#: The activity (a cmi5 AU) and session the launch credentials of the tests are issued for.
LAUNCHED_AU = "https://example.org/cmi5/au-1"
LAUNCH_SESSION = "5f0c7d9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"


def launch_header(actor: dict[str, Any], registration: str, **kw: Any) -> str:
    """A launch credential for ``actor`` and ``registration``, launched for LAUNCHED_AU."""
    from lms.xapi import auth

    kw.setdefault("activity_id", LAUNCHED_AU)
    kw.setdefault("session_id", LAUNCH_SESSION)
    return auth.issue_launch_credentials(actor, registration, **kw)


def launched_statement(registration: str, **overrides: Any) -> dict[str, Any]:
    """A statement the launched AU may write: about the AU, in its registration and
    session."""
    context = {"registration": registration,
               "extensions": {"https://w3id.org/xapi/cmi5/context/extensions/sessionid":
                              LAUNCH_SESSION}}
    return make_statement(object={"objectType": "Activity", "id": LAUNCHED_AU},
                          context=context, **overrides)
