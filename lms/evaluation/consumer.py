"""The statement consumer that offers evaluations when a course or training is completed."""

from __future__ import annotations

import sqlalchemy as sa

from lms.db import get_session
from lms.evaluation import service
from lms.evaluation.models import CANCELLED, SCHEDULED, Evaluation
from lms.xapi.consumers import StatementConsumer, StoredStatement
from lms.xapi.launch import outside_launch
from lms.xapi.validation.common import statement_time

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PASSED = "http://adlnet.gov/expapi/verbs/passed"


class EvaluationConsumer(StatementConsumer):
    """A ``completed`` statement (or ``passed`` with completion) about a Lentera course or
    a training HR recorded creates the learner's reaction survey and schedules the
    supervisor's follow-up; the first completion per person and activity counts. Voiding
    it cancels what nobody answered yet. Replays keep the answered ones."""

    name = "evaluation"
    shares_statements = True  # reads statements, never changes them

    def relevant(self, statements: list[StoredStatement]) -> list[StoredStatement]:
        from lms.reports.training import completable_iri
        from lms.xapi.consumers import with_verbs
        from lms.xapi.validation.verbs import VOIDED

        # handle: a course itself or a recorded training, read from the indexed column.
        return [s for s in with_verbs(statements, (COMPLETED, PASSED))
                if s.verb_id == VOIDED or completable_iri(s.activity_id)]

    def handle(self, statement: StoredStatement) -> None:
        data = statement.data
        verb = (data.get("verb") or {}).get("id")
        result = data.get("result") or {}
        if not (verb == COMPLETED or (verb == PASSED and result.get("completion"))):
            return
        obj = data.get("object") or {}
        if obj.get("objectType", "Activity") != "Activity" or outside_launch(data):
            return
        subj = service.subject_for_iri(str(obj.get("id") or ""))
        if subj is None:
            return
        from lms.xapi.actors import user_for_actor

        user = user_for_actor(data.get("actor"))
        if user is None:
            return
        when = statement_time(data.get("timestamp"), statement.stored)
        service.record_completion(user, subj, when, statement.id)

    def handle_voiding(self, voided_id: str, voiding: StoredStatement) -> None:
        service.withdraw(voided_id)

    def reset(self) -> None:
        # Answers, open questionnaires and sent reminders stay: a replay recreates only
        # what is missing (creation is idempotent per person, level and activity).
        get_session().execute(sa.delete(Evaluation).where(
            Evaluation.status.in_((SCHEDULED, CANCELLED))))
