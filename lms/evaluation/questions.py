"""The questionnaires: statements answered on a 1-5 Likert scale, plus a comment."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

#: Level 1, asked of the learner at the end of a course or training.
REACTION_QUESTIONS = [
    ("relevance", _l("The content is relevant to my work.")),
    ("objectives", _l("The learning objectives were met.")),
    ("materials", _l("The materials and activities helped me learn.")),
    ("delivery", _l("The course or trainer explained things clearly.")),
    ("intent", _l("I intend to use what I learned in my work.")),
    ("overall", _l("Overall, I am satisfied with this learning.")),
]

#: Level 3, asked of the supervisor some weeks after the completion.
BEHAVIOUR_QUESTIONS = [
    ("applies", _l("The employee applies what was learned in their work.")),
    ("performance", _l("The employee's performance in this area has improved.")),
    ("opportunity", _l("The employee has had the opportunity to use it at work.")),
    ("support", _l("The work unit supports using it (time, tools, procedures).")),
]

SCALE = [
    (1, _l("Strongly disagree")),
    (2, _l("Disagree")),
    (3, _l("Neutral")),
    (4, _l("Agree")),
    (5, _l("Strongly agree")),
]


def questions(level: int) -> list[tuple[str, object]]:
    return REACTION_QUESTIONS if level == 1 else BEHAVIOUR_QUESTIONS
