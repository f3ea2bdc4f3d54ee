"""The question types' editor forms: a question from the quiz builder's form (the
built-in types here, a plugin type through its ``from_form``), checked by the courses
format, with messages that tell a trainer what is wrong and how to fix it. The quiz
builder's pages (lms.authoring) call these with plain values."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from lms.courses.explain import schema_message
from lms.courses.format import Question, QuizFile

#: The built-in types' labels in the builder.
BUILTIN_LABELS = {
    "single": _l("Single choice"),
    "multiple": _l("Multiple choice"),
    "true_false": _l("True or false"),
    "fill_in": _l("Fill in the blank"),
    "matching": _l("Matching"),
    "ordering": _l("Ordering"),
    "numeric": _l("Numeric answer"),
}



def question_type_labels() -> dict[str, Any]:
    """Every type the builder offers: the built-in ones, then each registered plugin type
    with a ``model`` and a ``from_form`` (its label, else its name)."""
    from lms.quizzes.grading import plugin_question_types

    labels: dict[str, Any] = dict(BUILTIN_LABELS)
    for name, qt in plugin_question_types().items():
        if getattr(qt, "model", None) is not None and getattr(qt, "from_form", None):
            labels.setdefault(name, getattr(qt, "label", name))
    return labels


#: What each rule of the courses format means for someone filling the form.
RULE_MESSAGES = {
    "single_choice_one_correct": _l("A single-choice question needs exactly one right answer: "
                                    "tick one choice as correct."),
    "multiple_choice_some_correct": _l("A multiple-choice question needs at least one right "
                                       "answer: tick the correct choices."),
    "matching_distinct_targets": _l("Two pairs have the same right-hand side; each pair needs "
                                    "its own match."),
    "unique_ids": _l("Two entries have the same id."),
    "numeric_range": _l("Give the right number (with an optional tolerance), or both the "
                        "lowest and the highest accepted value (the lowest not above the "
                        "highest)."),
}
FIELD_MESSAGES = {
    "prompt": _l("Write the question text."),
    "choices": _l("Give at least two choices."),
    "pairs": _l("Give at least two complete pairs."),
    "items": _l("Give at least two items, in their correct order."),
    "answers": _l("Give at least one accepted answer."),
    "points": _l("Points must be more than 0 and at most 100."),
    "competency": _l("A competency code looks like M.03, SK.01 or T.KEU."),
    "tolerance": _l("The tolerance cannot be negative."),
}

_question_adapter: TypeAdapter[Any] = TypeAdapter(Question)
_RULE = re.compile(r"\[([a-z_]+)\]\s*$")


def explain(exc: PydanticValidationError) -> list[str]:
    """Readable messages for a question's validation errors (one per problem)."""
    messages: list[str] = []
    for err in exc.errors(include_url=False):
        found = _RULE.search(err["msg"])
        text = None
        if found and found.group(1) in RULE_MESSAGES:
            text = RULE_MESSAGES[found.group(1)]
        else:
            names = [p for p in err["loc"] if isinstance(p, str) and p in FIELD_MESSAGES]
            if names:
                text = FIELD_MESSAGES[names[-1]]
        message = str(text) if text is not None else \
            ".".join(str(p) for p in err["loc"][1:]) + ": " + schema_message(
                err["type"], err.get("ctx"), err["msg"])
        if message not in messages:
            messages.append(message)
    return messages


def _float(value: str | None) -> float | None:
    value = (value or "").strip().replace(",", ".")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return float("nan")


def _ids(values: list[str], count: int, prefix: str) -> list[str]:
    """Keep the ids the form sent back; give new rows a fresh one."""
    out: list[str] = []
    for i in range(count):
        given = values[i].strip() if i < len(values) else ""
        if not given or given in out:
            n = i + 1
            given = f"{prefix}{n}"
            while given in out or given in values:
                n += 1
                given = f"{prefix}{n}"
        out.append(given)
    return out


def question_from_form(qtype: str, question_id: str, get: Callable[[str], str | None],
                       getlist: Callable[[str], list[str]]) -> tuple[dict[str, Any], list[str]]:
    """``(question dict, problems)`` from the question editor's fields.

    Problems found before the format's own checks are the ones a form can have and a file
    cannot (a pair with one side left empty, a number that is not a number).
    """
    problems: list[str] = []
    q: dict[str, Any] = {"id": question_id, "type": qtype,
                         "prompt": (get("prompt") or "").strip()}
    points = _float(get("points"))
    q["points"] = 1.0 if points is None else points
    if points is not None and points != points:
        problems.append(str(_l("Points must be a number.")))
        q["points"] = 1.0
    competency = (get("competency") or "").strip().upper()
    if competency:
        q["competency"] = competency
    correct_fb = (get("feedback_correct") or "").strip()
    incorrect_fb = (get("feedback_incorrect") or "").strip()
    if correct_fb or incorrect_fb:
        q["feedback"] = {"correct": correct_fb or None, "incorrect": incorrect_fb or None}
    if qtype in ("single", "multiple"):
        texts = getlist("choice_text")
        feedbacks = getlist("choice_feedback")
        marked = set(getlist("correct"))
        rows = []
        for i, text in enumerate(texts):
            fb = feedbacks[i].strip() if i < len(feedbacks) else ""
            if not text.strip():
                if fb or str(i) in marked:
                    problems.append(str(_l("Choice %(n)s has no text.", n=i + 1)))
                continue
            rows.append((i, text.strip(), str(i) in marked, fb))
        ids = _ids([getlist("choice_id")[i] if i < len(getlist("choice_id")) else ""
                    for i, *_rest in rows], len(rows), "c")
        q["choices"] = [{"id": cid, "text": text, "correct": ok,
                         **({"feedback": fb} if fb else {})}
                        for cid, (_i, text, ok, fb) in zip(ids, rows, strict=True)]
    elif qtype == "true_false":
        answer = get("answer")
        if answer not in ("true", "false"):
            problems.append(str(_l("Choose whether the statement is true or false.")))
        q["answer"] = answer == "true"
    elif qtype == "fill_in":
        q["answers"] = [line.strip() for line in (get("answers") or "").splitlines()
                        if line.strip()]
        q["case_sensitive"] = get("case_sensitive") == "1"
        q["normalize_space"] = get("normalize_space") == "1"
    elif qtype == "matching":
        sources, targets = getlist("pair_source"), getlist("pair_target")
        pairs: list[tuple[str, str]] = []
        shown = []
        for i in range(max(len(sources), len(targets))):
            s = sources[i].strip() if i < len(sources) else ""
            t = targets[i].strip() if i < len(targets) else ""
            if not s and not t:
                continue
            shown.append({"source": s, "target": t})
            if not s or not t:
                problems.append(str(_l("Pair %(n)s is left half empty: give both the item and "
                                       "its match.", n=i + 1)))
                continue
            pairs.append((s, t))
        # Shown again as typed (half-empty pairs too) when the question cannot be saved.
        q["_shown_pairs"] = shown
        ids = _ids(getlist("pair_id"), len(pairs), "p")
        q["pairs"] = [{"id": pid, "source": s, "target": t}
                      for pid, (s, t) in zip(ids, pairs, strict=True)]
    elif qtype == "ordering":
        texts = [t.strip() for t in getlist("item_text") if t.strip()]
        ids = _ids(getlist("item_id"), len(texts), "i")
        q["items"] = [{"id": iid, "text": t} for iid, t in zip(ids, texts, strict=True)]
    elif qtype == "numeric":
        for key in ("answer", "tolerance", "min", "max"):
            value = _float(get(key))
            if value is not None and value != value:
                problems.append(str(_l("%(field)s must be a number.", field=key)))
            elif value is not None:
                q[key] = value
        unit = (get("unit") or "").strip()
        if unit:
            q["unit"] = unit
    else:  # a plugin question type reads its own editor fields
        from lms.quizzes.grading import question_type

        from_form = getattr(question_type(qtype), "from_form", None)
        if from_form is not None:
            q.update(from_form(get, getlist))
    return q, problems


def check_question(q: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    """The question as the format stores it, or the reasons it cannot be stored."""
    q = {k: v for k, v in q.items() if not k.startswith("_")}
    try:
        model = _question_adapter.validate_python(q)
    except PydanticValidationError as exc:
        return None, explain(exc)
    return model.model_dump(mode="json", exclude_none=True), []


def check_quiz(data: dict[str, Any]) -> list[str]:
    try:
        QuizFile.model_validate(data)
    except PydanticValidationError as exc:
        return explain(exc)
    return []
