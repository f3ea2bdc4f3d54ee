"""Every factory makes a valid object of its module."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from lms.db import get_session
from tests import factories


def test_the_factories_make_their_objects(app: Any) -> None:
    competencies = factories.make_frameworks()
    assert "M.01" in competencies
    learner = factories.make_user()
    enrollment = factories.make_enrollment(learner)
    assert enrollment.user_id == learner.id and enrollment.registration
    key, secret = factories.make_client_key()
    assert key and secret
    statement_id = factories.make_statement(learner)
    from lms.xapi.models import Statement

    stored = get_session().scalar(sa.select(Statement).where(
        Statement.statement_id == statement_id))
    assert stored is not None and stored.verb_id.endswith("/completed")
    rater = factories.make_self_assessment(learner, ["M.01"])
    assert rater.round.employee_id == learner.id
    assert factories.make_mail(learner).category == "general"
    assert factories.make_forward_target().endpoint.startswith("http://127.0.0.1")
    assert factories.make_topic().slug
    assert factories.make_lti_key().kid
    assert factories.make_job("courses.transcript").status == "queued"
    assert factories.make_plan(learner, learner).employee_id == learner.id
    get_session().commit()
