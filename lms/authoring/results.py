"""A trainer's results: enrolments, completions and scores per course, and item analysis.

Item analysis (classical test theory) over every graded attempt of a quiz; in an attempt
the time limit ended, the questions with no saved answer (not reached) are left out:

- difficulty: the share of attempts that got the question fully right (p; 0.3–0.8 is
  the usual comfortable range);
- discrimination: the point-biserial correlation between the question's score and the
  rest of the attempt's score (corrected item–total correlation; below 0.2 the question
  hardly separates stronger from weaker learners, below 0 it points the wrong way);
- the wrong answers learners chose most often, in words: for questions whose answers
  have parts (several choices, pairs) the wrong parts only, so a correct option is never
  listed as a wrong answer.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from lms.courses import service as courses
from lms.courses.models import Completion, Course, CourseProgress, CourseVersion, Enrollment
from lms.db import get_session
from lms.people.models import User
from lms.quizzes.grading import question_type
from lms.quizzes.models import QuizAttempt


@dataclass
class ItemStats:
    quiz_id: str
    quiz_title: str
    question_id: str
    type: str
    prompt: str
    answered: int = 0
    correct: int = 0
    difficulty: float | None = None
    discrimination: float | None = None
    wrong_answers: list[tuple[str, int]] = field(default_factory=list)

    @property
    def flag(self) -> str:
        """"hard", "easy", "weak" or "" — what a trainer may want to look at."""
        if self.answered < 2 or self.difficulty is None:
            return ""
        if self.discrimination is not None and self.discrimination < 0.2:
            return "weak"
        if self.difficulty < 0.3:
            return "hard"
        if self.difficulty > 0.9:
            return "easy"
        return ""


def _pearson(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 3:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return sxy / math.sqrt(sxx * syy)


def _versions(course: Course) -> dict[int, dict[str, Any]]:
    rows = get_session().scalars(
        sa.select(CourseVersion).where(CourseVersion.course_id == course.id))
    return {v.id: courses.definition_of(v) for v in rows}


def item_analysis(course: Course) -> list[ItemStats]:
    """Statistics per question of every quiz in the current version, from the attempts."""
    version = courses.current_version(course)
    definition = courses.definition_of(version)
    definitions = _versions(course)
    attempts = list(get_session().scalars(
        sa.select(QuizAttempt).where(QuizAttempt.course_id == course.id,
                                     QuizAttempt.submitted_at.is_not(None))))
    out: list[ItemStats] = []
    for module in definition["modules"]:
        if module["kind"] != "quiz":
            continue
        quiz = module["quiz"]
        mine = [a for a in attempts if a.quiz_id == quiz["id"]]
        for q in quiz["questions"]:
            stats = ItemStats(quiz["id"], quiz["title"], q["id"], q["type"], q["prompt"])
            item_scores, rest_scores = [], []
            wrong: Counter[str] = Counter()
            for attempt in mine:
                results = attempt.results or {}
                if q["id"] not in results:
                    continue
                if attempt.timed_out and q["id"] not in (attempt.responses or {}):
                    continue  # time ran out before the question was reached
                fraction = float(results[q["id"]])
                stats.answered += 1
                stats.correct += fraction >= 1
                points = q["points"]
                item_scores.append(fraction)
                rest_scores.append((attempt.score_raw or 0.0) - fraction * points)
                if fraction < 1:
                    for part in _wrong_parts(definitions, attempt, quiz["id"], q,
                                             attempt.responses):
                        wrong[part] += 1
            if stats.answered:
                stats.difficulty = stats.correct / stats.answered
                stats.discrimination = _pearson(item_scores, rest_scores)
            stats.wrong_answers = [(text, n) for text, n in wrong.most_common(3)]
            out.append(stats)
    return out


def _wrong_parts(definitions: dict[int, dict[str, Any]], attempt: QuizAttempt, quiz_id: str,
                 current: dict[str, Any], responses: dict[str, Any] | None) -> list[str]:
    """The wrong parts of a response, in the wording of the version it answered."""
    response = (responses or {}).get(current["id"])
    if response in (None, "", [], {}):
        return [_("(no answer)")]
    definition = definitions.get(attempt.course_version_id)
    q = current
    if definition is not None:  # describe with the wording of the version answered
        for module in definition["modules"]:
            if module["kind"] == "quiz" and module["id"] == quiz_id:
                q = next((x for x in module["quiz"]["questions"] if x["id"] == current["id"]),
                         current)
    try:
        return question_type(q["type"]).wrong_parts(q, response) or [str(response)]
    except (KeyError, TypeError, ValueError, StopIteration):
        return [str(response)]


def learners(course: Course) -> list[dict[str, Any]]:
    """One row per enrolled learner: enrolment, progress, completion and best quiz scores."""
    session = get_session()
    rows = session.execute(
        sa.select(Enrollment, User).join(User, User.id == Enrollment.user_id)
        .where(Enrollment.course_id == course.id).order_by(User.name)).all()
    progress = {p.user_id: p for p in session.scalars(
        sa.select(CourseProgress).where(CourseProgress.course_id == course.id))}
    completions = {c.user_id: c for c in session.scalars(
        sa.select(Completion).where(Completion.course_id == course.id))}
    best: dict[tuple[int, str], float] = {}
    for attempt in session.scalars(sa.select(QuizAttempt).where(
            QuizAttempt.course_id == course.id, QuizAttempt.submitted_at.is_not(None))):
        key = (attempt.user_id, attempt.quiz_id)
        best[key] = max(best.get(key, 0.0), attempt.scaled or 0.0)
    out = []
    for enrollment, user in rows:
        p = progress.get(user.id)
        c = completions.get(user.id)
        out.append({
            "user": user, "enrolled_at": enrollment.enrolled_at,
            "progress": 100.0 if c else (p.progress if p else 0.0),
            "completed_at": c.completed_at if c else None,
            "scores": {quiz: value for (uid, quiz), value in best.items() if uid == user.id},
        })
    return out


def summary(course: Course) -> dict[str, Any]:
    rows = learners(course)
    completed = sum(1 for r in rows if r["completed_at"])
    scores = [max(r["scores"].values()) for r in rows if r["scores"]]
    return {
        "enrolled": len(rows),
        "completed": completed,
        "completion_rate": (completed / len(rows)) if rows else None,
        "mean_best_score": (sum(scores) / len(scores)) if scores else None,
    }


def quiz_ids(course: Course) -> list[tuple[str, str]]:
    definition = courses.definition_of(courses.current_version(course))
    return [(m["id"], m["title"]) for m in definition["modules"] if m["kind"] == "quiz"]


def _local_time(value: Any) -> str:
    """A moment as the Pemda's local date and time (YYYY-MM-DD HH:MM), empty for none."""
    from lms.i18n import local_datetime

    local = local_datetime(value)
    return local.strftime("%Y-%m-%d %H:%M") if local else ""


def learners_csv(course: Course) -> str:
    quizzes = quiz_ids(course)
    out = io.StringIO()
    writer = csv.writer(out)
    # Headers in the UI language, times in the Pemda's time zone (as the page shows them).
    writer.writerow(["NIP", _("Name"), _("Enrolled"), _("Progress (%)"), _("Completed"),
                     *[_("Score: %(quiz)s (%%)", quiz=title) for _qid, title in quizzes]])
    for r in learners(course):
        writer.writerow([
            r["user"].nip or "", r["user"].name, _local_time(r["enrolled_at"]),
            f"{r['progress']:.0f}",
            _local_time(r["completed_at"]),
            *[f"{r['scores'][qid] * 100:.0f}" if qid in r["scores"] else ""
              for qid, _t in quizzes],
        ])
    return out.getvalue()


def items_csv(course: Course) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    from flask_babel import format_decimal

    from lms.quizzes.editor import question_type_labels

    labels = question_type_labels()

    writer.writerow([_("Quiz"), _("Question"), _("Question type"), _("Answered"),
                     _("Correct"), _("Difficulty"), _("Discrimination"),
                     _("Most chosen wrong answers")])
    for s in item_analysis(course):
        writer.writerow([
            s.quiz_id, s.question_id, str(labels.get(s.type, s.type)), s.answered,
            s.correct,
            "" if s.difficulty is None else format_decimal(s.difficulty, "0.00"),
            "" if s.discrimination is None else format_decimal(s.discrimination, "0.00"),
            "; ".join(f"{text} ({n})" for text, n in s.wrong_answers),
        ])
    return out.getvalue()
