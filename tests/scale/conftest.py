"""A learning history to feed consumers: employees, an evidence rule, JP-bearing statements."""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from lms.db import get_session
from tests import factories

BASE = "http://lentera.test"
ADL = "http://adlnet.gov/expapi/verbs/"
EXTERNAL = "https://moodle.example.go.id/course/"


@pytest.fixture
def history(app: Any) -> dict[str, Any]:
    """Twenty employees and a rule: completing an external course is evidence of M.06."""
    from lms.competency import service

    service.load_shipped_frameworks()
    get_session().commit()
    codes = {c.code: c for c in service.all_competencies()}
    service.create_rule(service.RuleSpec(
        name="Moodle", activity_iri=EXTERNAL, match="prefix", criterion="completed",
        competency_id=codes["M.06"].id, level=2, weight=0.5, source="external"))
    people = [factories.make_user(roles=["learner"]) for _ in range(20)]
    get_session().commit()
    return {"nips": [p.nip for p in people]}


def completed(nip: str, course: int, jp: int = 2) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()),
            "actor": {"objectType": "Agent", "account": {"homePage": BASE, "name": nip}},
            "verb": {"id": ADL + "completed", "display": {"en-US": "completed"}},
            "object": {"objectType": "Activity", "id": f"{EXTERNAL}{course}",
                       "definition": {"name": {"id-ID": f"Kursus {course}"}}},
            "result": {"completion": True,
                       "extensions": {f"{BASE}/xapi/extensions/jp": jp}}}


def voiding(statement_id: str) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()),
            "actor": {"objectType": "Agent", "mbox": "mailto:hr@lentera.test"},
            "verb": {"id": ADL + "voided", "display": {"en-US": "voided"}},
            "object": {"objectType": "StatementRef", "id": statement_id}}


def workload(nips: list[str], batches: int, seed: int = 7) -> list[list[dict[str, Any]]]:
    """Batches of statements: completions (several per person and course) and voids."""
    rng = random.Random(seed)
    out: list[list[dict[str, Any]]] = []
    sent: list[str] = []
    for _ in range(batches):
        batch = [completed(rng.choice(nips), rng.randrange(15), rng.randint(1, 8))
                 for _ in range(rng.randint(3, 12))]
        sent += [s["id"] for s in batch]
        if len(sent) > 20 and rng.random() < 0.3:
            out.append([voiding(sent.pop(rng.randrange(len(sent) - 10)))])
        out.append(batch)
    return out


def derived() -> dict[str, Any]:
    """Everything the consumers derived, without surrogate ids: profiles, evidence, JP."""
    from lms.competency.service import profile_dump
    from lms.reports.models import JpCredit

    session = get_session()
    session.expire_all()
    jp = sorted((r.user_id, r.activity_iri, r.jp, r.statement_id) for r in
                session.execute(sa.select(JpCredit.user_id, JpCredit.activity_iri,
                                          JpCredit.jp, JpCredit.statement_id)))
    session.commit()
    return {"profiles": profile_dump(), "jp": jp}


def rebuild_everything() -> None:
    """`lms profiles rebuild` and a replay of the JP ledger."""
    from lms.competency.service import rebuild_profiles
    from lms.xapi.consumers import replay

    rebuild_profiles()
    replay("jp-credits")
    get_session().commit()
