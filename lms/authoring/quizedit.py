"""Moved to :mod:`lms.quizzes.editor` (the quizzes own their question types' forms); this
name stays importable until every caller uses the new one."""

from lms.quizzes.editor import *  # noqa: F403
from lms.quizzes.editor import check_question, check_quiz, explain, question_from_form  # noqa: F401
