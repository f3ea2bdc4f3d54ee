"""A learner's quiz in the course journey as xAPI (the course steps are
:class:`lms.courses.journey.Journey`'s): starting a quiz is ``attempted`` (quiz); sending
it is one ``answered`` per question (interaction definition with its correct responses,
the response, success, score), then ``passed`` or ``failed`` (quiz; score
scaled/raw/min/max, success, completion, duration) and ``progressed`` (course)."""

from __future__ import annotations

from typing import Any

from lms.courses import statements as st
from lms.courses.journey import Journey
from lms.db import utcnow
from lms.quizzes.grading import question_type
from lms.quizzes.models import QuizAttempt
from lms.quizzes.service import GradedQuestion


def question_activity(
    definition: dict[str, Any], quiz: dict[str, Any], question: dict[str, Any]
) -> dict[str, Any]:
    """The question as an interaction activity, WITH its correctResponsesPattern (LRS only)."""
    lang = st.language_tag(definition.get("language", "id"))
    interaction = question_type(question["type"]).interaction(question, lang)
    interaction["name"] = {lang: f"{quiz['title']} – {question['id']}"}
    return {
        "objectType": "Activity",
        "id": st.question_iri(definition["slug"], quiz["id"], question["id"]),
        "definition": interaction,
    }


class QuizJourney(Journey):
    """One learner in one course, with the quiz steps."""

    def quiz_attempted(self, module: dict[str, Any]) -> list[str]:
        return st.send([self._module_statement("attempted", module)])

    def quiz_submitted(
        self, module: dict[str, Any], attempt: QuizAttempt, graded: list[GradedQuestion]
    ) -> list[str]:
        """answered (per question), passed/failed (quiz), progressed, maybe completion."""
        quiz = module["quiz"]
        quiz_activity = st.module_activity(self.definition, module)
        statements = []
        for item in graded:
            q = item.question
            qt = question_type(q["type"])
            result: dict[str, Any] = {
                "success": item.fraction >= 1,
                "score": st.score(item.fraction * q["points"], q["points"]),
            }
            # A timed-out attempt reports the answers saved before its deadline.
            result["response"] = qt.xapi_response(q, item.response)
            statements.append(
                self._statement(
                    "answered",
                    question_activity(self.definition, quiz, q),
                    parent=quiz_activity,
                    result=result,
                )
            )
        seconds = ((attempt.submitted_at or utcnow()) - attempt.started_at).total_seconds()
        result = {
            "score": st.score(attempt.score_raw or 0.0, attempt.score_max or 0.0),
            "success": bool(attempt.passed),
            "completion": True,
            "duration": st.iso_duration(seconds),
        }
        statements.append(
            self._module_statement("passed" if attempt.passed else "failed", module, result)
        )
        if attempt.passed:
            statements += self._after_module_done(module["id"])
        return st.send(statements)
