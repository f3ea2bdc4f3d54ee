"""Question types: how each is shown, read back from a form, graded and described in xAPI.

Every type is a :class:`QuestionType` registered by its short name (the ``type`` of a
question in a quiz file). Grading runs on the server only: :meth:`QuestionType.public`
is the ONLY view of a question that reaches a template, and it never holds the key.

Choice-like answers travel through per-attempt random tokens (the attempt's *layout*), so
neither item ids nor their order in the page say anything about the answer.
"""

from __future__ import annotations

import math
import random
import re
import secrets
from collections.abc import Callable
from typing import Any

from lms.plugins import registry

#: The xAPI interaction types (xAPI 1.0.3, 9.4.2 / cmi.interaction) used here.
INTERACTION_ACTIVITY_TYPE = "http://adlnet.gov/expapi/activities/cmi.interaction"

Getter = Callable[[str], list[str]]  # name -> values sent by the form


def _token() -> str:
    return secrets.token_hex(4)


def _lang_map(text: str, lang: str) -> dict[str, str]:
    return {lang: text}


def normalise_text(value: str, case_sensitive: bool, normalize_space: bool) -> str:
    """The fill-in comparison form of ``value`` under the question's rules."""
    if normalize_space:
        value = re.sub(r"\s+", " ", value).strip()
    return value if case_sensitive else value.casefold()


class QuestionType:
    """Base class of question types; subclasses set ``name`` and ``interaction_type``."""

    name = ""
    interaction_type = ""

    # --- per attempt -------------------------------------------------------------------
    def layout(self, q: dict[str, Any], rng: random.Random, shuffle: bool) -> dict[str, Any]:
        """Per-attempt presentation state (tokens, order); stored with the attempt."""
        return {}

    def public(self, q: dict[str, Any], layout: dict[str, Any]) -> dict[str, Any]:
        """What the page may show: the prompt and the options, never the key."""
        return {"id": q["id"], "type": self.name, "prompt": q["prompt"], "points": q["points"]}

    def parse(self, q: dict[str, Any], layout: dict[str, Any], get: Getter) -> Any:
        """The learner's response from the submitted form, in terms of item ids."""
        raise NotImplementedError

    def grade(self, q: dict[str, Any], response: Any) -> float:
        """The fraction of the question's points earned by ``response`` (0 to 1)."""
        raise NotImplementedError

    def fields(self, q: dict[str, Any], layout: dict[str, Any]) -> list[str] | None:
        """The names of the question's form fields in this attempt (saving an answer
        accepts only these); None: ``q-<id>`` and ``q-<id>-<suffix>`` (plugin types)."""
        return None

    def wrong_parts(self, q: dict[str, Any], response: Any) -> list[str]:
        """What was wrong in a response that did not earn full points, in words, for the
        item analysis. By default the whole response; types whose answers have parts
        (several choices, pairs) name only the parts that are wrong, so a correct option
        is never listed as a wrong answer."""
        return [self.describe(q, response)]

    # --- xAPI --------------------------------------------------------------------------
    def interaction(self, q: dict[str, Any], lang: str) -> dict[str, Any]:
        """Activity definition of the question (server side: it holds the key)."""
        return {
            "type": INTERACTION_ACTIVITY_TYPE,
            "interactionType": self.interaction_type,
            "description": _lang_map(_plain(q["prompt"]), lang),
        }

    def xapi_response(self, q: dict[str, Any], response: Any) -> str:
        """The response in the xAPI format of the interaction type."""
        raise NotImplementedError

    def describe(self, q: dict[str, Any], response: Any) -> str:
        """The response in words, for the learner's review page."""
        return self.xapi_response(q, response)


def _plain(markdown: str) -> str:
    return re.sub(r"[*_`#>]", "", markdown).strip()


class _ChoiceBase(QuestionType):
    items_key = "choices"
    text_key = "text"

    def layout(self, q: dict[str, Any], rng: random.Random, shuffle: bool) -> dict[str, Any]:
        items = [item["id"] for item in q[self.items_key]]
        if shuffle:
            rng.shuffle(items)
        return {"tokens": [[_token(), item_id] for item_id in items]}

    def _texts(self, q: dict[str, Any]) -> dict[str, str]:
        return {item["id"]: item[self.text_key] for item in q[self.items_key]}

    def public(self, q: dict[str, Any], layout: dict[str, Any]) -> dict[str, Any]:
        texts = self._texts(q)
        return {
            **super().public(q, layout),
            "options": [
                {"value": token, "text": texts[item_id]} for token, item_id in layout["tokens"]
            ],
        }

    def _by_token(self, layout: dict[str, Any]) -> dict[str, str]:
        return {token: item_id for token, item_id in layout["tokens"]}

    def fields(self, q: dict[str, Any], layout: dict[str, Any]) -> list[str] | None:
        return [f"q-{q['id']}"]

    def interaction(self, q: dict[str, Any], lang: str) -> dict[str, Any]:
        definition = super().interaction(q, lang)
        definition["choices"] = [
            {"id": item["id"], "description": _lang_map(item[self.text_key], lang)}
            for item in q[self.items_key]
        ]
        return definition


class SingleChoice(_ChoiceBase):
    name = "single"
    interaction_type = "choice"

    def parse(self, q: dict[str, Any], layout: dict[str, Any], get: Getter) -> Any:
        values = get(f"q-{q['id']}")
        return self._by_token(layout).get(values[0]) if values else None

    def grade(self, q: dict[str, Any], response: Any) -> float:
        return 1.0 if any(c["correct"] and c["id"] == response for c in q["choices"]) else 0.0

    def interaction(self, q: dict[str, Any], lang: str) -> dict[str, Any]:
        definition = super().interaction(q, lang)
        definition["correctResponsesPattern"] = [c["id"] for c in q["choices"] if c["correct"]]
        return definition

    def xapi_response(self, q: dict[str, Any], response: Any) -> str:
        return response or ""

    def describe(self, q: dict[str, Any], response: Any) -> str:
        return self._texts(q).get(response or "", "")


class MultipleChoice(_ChoiceBase):
    name = "multiple"
    interaction_type = "choice"

    def parse(self, q: dict[str, Any], layout: dict[str, Any], get: Getter) -> Any:
        by_token = self._by_token(layout)
        return sorted({by_token[v] for v in get(f"q-{q['id']}") if v in by_token})

    def grade(self, q: dict[str, Any], response: Any) -> float:
        correct = sorted(c["id"] for c in q["choices"] if c["correct"])
        return 1.0 if sorted(response or []) == correct else 0.0

    def interaction(self, q: dict[str, Any], lang: str) -> dict[str, Any]:
        definition = super().interaction(q, lang)
        definition["correctResponsesPattern"] = [
            "[,]".join(c["id"] for c in q["choices"] if c["correct"])
        ]
        return definition

    def xapi_response(self, q: dict[str, Any], response: Any) -> str:
        return "[,]".join(response or [])

    def describe(self, q: dict[str, Any], response: Any) -> str:
        texts = self._texts(q)
        return "; ".join(texts[r] for r in response or [] if r in texts)

    def wrong_parts(self, q: dict[str, Any], response: Any) -> list[str]:
        """The wrong options chosen; a response that chose no wrong option but left out a
        correct one is counted as incomplete, without naming the correct option."""
        from flask_babel import gettext as _

        chosen = set(response or [])
        wrong = [c["text"] for c in q["choices"] if c["id"] in chosen and not c["correct"]]
        if wrong:
            return wrong
        return [_("Not every correct option chosen")]


class _SingleField(QuestionType):
    def fields(self, q: dict[str, Any], layout: dict[str, Any]) -> list[str] | None:
        return [f"q-{q['id']}"]


class TrueFalse(_SingleField):
    name = "true_false"
    interaction_type = "true-false"

    def parse(self, q: dict[str, Any], layout: dict[str, Any], get: Getter) -> Any:
        values = get(f"q-{q['id']}")
        return {"true": True, "false": False}.get(values[0]) if values else None

    def grade(self, q: dict[str, Any], response: Any) -> float:
        return 1.0 if response is not None and response == q["answer"] else 0.0

    def interaction(self, q: dict[str, Any], lang: str) -> dict[str, Any]:
        definition = super().interaction(q, lang)
        definition["correctResponsesPattern"] = ["true" if q["answer"] else "false"]
        return definition

    def xapi_response(self, q: dict[str, Any], response: Any) -> str:
        return "" if response is None else ("true" if response else "false")

    def describe(self, q: dict[str, Any], response: Any) -> str:
        """In words of the page's language, never the raw ``true``/``false``."""
        from flask_babel import gettext as _

        return "" if response is None else (_("True") if response else _("False"))


class FillIn(_SingleField):
    name = "fill_in"
    interaction_type = "fill-in"

    def parse(self, q: dict[str, Any], layout: dict[str, Any], get: Getter) -> Any:
        values = get(f"q-{q['id']}")
        return (values[0] if values else "")[:500]

    def grade(self, q: dict[str, Any], response: Any) -> float:
        rules = (q["case_sensitive"], q["normalize_space"])
        given = normalise_text(response or "", *rules)
        return (
            1.0 if given and any(normalise_text(a, *rules) == given for a in q["answers"]) else 0.0
        )

    def interaction(self, q: dict[str, Any], lang: str) -> dict[str, Any]:
        definition = super().interaction(q, lang)
        case = "true" if q["case_sensitive"] else "false"
        definition["correctResponsesPattern"] = [
            f"{{case_matters={case}}}{a}" for a in q["answers"]
        ]
        return definition

    def xapi_response(self, q: dict[str, Any], response: Any) -> str:
        return response or ""


class Matching(QuestionType):
    name = "matching"
    interaction_type = "matching"

    def layout(self, q: dict[str, Any], rng: random.Random, shuffle: bool) -> dict[str, Any]:
        sources = [p["id"] for p in q["pairs"]]
        targets = [p["id"] for p in q["pairs"]]
        if shuffle:
            rng.shuffle(sources)
        rng.shuffle(targets)  # targets are always mixed: in file order they would be the key
        return {
            "sources": [[_token(), s] for s in sources],
            "targets": [[_token(), t] for t in targets],
        }

    def public(self, q: dict[str, Any], layout: dict[str, Any]) -> dict[str, Any]:
        pairs = {p["id"]: p for p in q["pairs"]}
        return {
            **super().public(q, layout),
            "sources": [
                {"value": tok, "text": pairs[sid]["source"]} for tok, sid in layout["sources"]
            ],
            "targets": [
                {"value": tok, "text": pairs[tid]["target"]} for tok, tid in layout["targets"]
            ],
        }

    def fields(self, q: dict[str, Any], layout: dict[str, Any]) -> list[str] | None:
        return [f"q-{q['id']}-{tok}" for tok, _sid in layout["sources"]]

    def parse(self, q: dict[str, Any], layout: dict[str, Any], get: Getter) -> Any:
        targets = {tok: tid for tok, tid in layout["targets"]}
        result: dict[str, str] = {}
        for tok, sid in layout["sources"]:
            values = get(f"q-{q['id']}-{tok}")
            if values and values[0] in targets:
                result[sid] = targets[values[0]]
        return result

    def grade(self, q: dict[str, Any], response: Any) -> float:
        response = response or {}
        right = sum(1 for p in q["pairs"] if response.get(p["id"]) == p["id"])
        return right / len(q["pairs"])

    def interaction(self, q: dict[str, Any], lang: str) -> dict[str, Any]:
        definition = super().interaction(q, lang)
        definition["source"] = [
            {"id": p["id"], "description": _lang_map(p["source"], lang)} for p in q["pairs"]
        ]
        definition["target"] = [
            {"id": f"t-{p['id']}", "description": _lang_map(p["target"], lang)} for p in q["pairs"]
        ]
        definition["correctResponsesPattern"] = [
            "[,]".join(f"{p['id']}[.]t-{p['id']}" for p in q["pairs"])
        ]
        return definition

    def xapi_response(self, q: dict[str, Any], response: Any) -> str:
        return "[,]".join(f"{s}[.]t-{t}" for s, t in sorted((response or {}).items()))

    def describe(self, q: dict[str, Any], response: Any) -> str:
        pairs = {p["id"]: p for p in q["pairs"]}
        response = response or {}
        return "; ".join(
            f"{pairs[s]['source']} → {pairs[t]['target']}"
            for s, t in response.items()
            if s in pairs and t in pairs
        )

    def wrong_parts(self, q: dict[str, Any], response: Any) -> list[str]:
        """The wrong pairs (a right pair is not a wrong answer)."""
        from flask_babel import gettext as _

        pairs = {p["id"]: p for p in q["pairs"]}
        response = response or {}
        wrong = [f"{pairs[s]['source']} → {pairs[t]['target']}"
                 for s, t in sorted(response.items()) if s != t and s in pairs and t in pairs]
        return wrong or [_("Not every item matched")]


class Ordering(_ChoiceBase):
    name = "ordering"
    interaction_type = "sequencing"
    items_key = "items"

    def layout(self, q: dict[str, Any], rng: random.Random, shuffle: bool) -> dict[str, Any]:
        items = [item["id"] for item in q["items"]]
        # Always mixed, and never shown in the correct order.
        for _ in range(10):
            rng.shuffle(items)
            if items != [item["id"] for item in q["items"]]:
                break
        return {"tokens": [[_token(), item_id] for item_id in items]}

    def public(self, q: dict[str, Any], layout: dict[str, Any]) -> dict[str, Any]:
        data = super().public(q, layout)
        data["positions"] = list(range(1, len(q["items"]) + 1))
        return data

    def fields(self, q: dict[str, Any], layout: dict[str, Any]) -> list[str] | None:
        return [f"q-{q['id']}-{tok}" for tok, _iid in layout["tokens"]]

    def parse(self, q: dict[str, Any], layout: dict[str, Any], get: Getter) -> Any:
        ranked: list[tuple[int, str]] = []
        for token, item_id in layout["tokens"]:
            values = get(f"q-{q['id']}-{token}")
            try:
                ranked.append((int(values[0]), item_id))
            except (IndexError, ValueError):
                return []
        positions = [p for p, _i in ranked]
        if sorted(positions) != list(range(1, len(ranked) + 1)):
            return []  # each position exactly once, or no answer
        return [item_id for _p, item_id in sorted(ranked)]

    def grade(self, q: dict[str, Any], response: Any) -> float:
        return 1.0 if list(response or []) == [item["id"] for item in q["items"]] else 0.0

    def interaction(self, q: dict[str, Any], lang: str) -> dict[str, Any]:
        definition = super().interaction(q, lang)
        definition["correctResponsesPattern"] = ["[,]".join(item["id"] for item in q["items"])]
        return definition

    def xapi_response(self, q: dict[str, Any], response: Any) -> str:
        return "[,]".join(response or [])

    def describe(self, q: dict[str, Any], response: Any) -> str:
        texts = self._texts(q)
        return " → ".join(texts[r] for r in response or [] if r in texts)


class Numeric(_SingleField):
    name = "numeric"
    interaction_type = "numeric"

    def public(self, q: dict[str, Any], layout: dict[str, Any]) -> dict[str, Any]:
        return {**super().public(q, layout), "unit": q.get("unit")}

    def parse(self, q: dict[str, Any], layout: dict[str, Any], get: Getter) -> Any:
        values = get(f"q-{q['id']}")
        if not values:
            return None
        text = values[0].strip().replace(" ", "")
        # Indonesian writing uses a decimal comma; accept both.
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None

    def _bounds(self, q: dict[str, Any]) -> tuple[float, float]:
        if q.get("answer") is not None:
            return q["answer"] - q["tolerance"], q["answer"] + q["tolerance"]
        return q["min"], q["max"]

    def grade(self, q: dict[str, Any], response: Any) -> float:
        low, high = self._bounds(q)
        return 1.0 if response is not None and low - 1e-9 <= response <= high + 1e-9 else 0.0

    def interaction(self, q: dict[str, Any], lang: str) -> dict[str, Any]:
        definition = super().interaction(q, lang)
        low, high = self._bounds(q)
        definition["correctResponsesPattern"] = [
            _num(low) if low == high else f"{_num(low)}[:]{_num(high)}"
        ]
        return definition

    def xapi_response(self, q: dict[str, Any], response: Any) -> str:
        return "" if response is None else _num(response)

    def describe(self, q: dict[str, Any], response: Any) -> str:
        """The number as the locale writes it (a decimal comma in Indonesian), with the
        unit."""
        from flask_babel import format_decimal

        if response is None:
            return ""
        text = str(format_decimal(response, "#,##0.######"))
        return f"{text} {q['unit']}" if q.get("unit") else text


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


#: Question types by name: the ``question_types`` registry of lms.plugins.registry.
QUESTION_TYPES: dict[str, QuestionType] = registry.QUESTION_TYPES


def register_question_type(question_type: QuestionType) -> None:
    """Add a question type; a second type with the same name is an error."""
    registry.QUESTION_TYPES.add(question_type.name, question_type)


#: Lentera's own types; like plugins they register through the ``lms.question_types``
#: entry-point group (see pyproject.toml and lms.plugins).
BUILTIN_QUESTION_TYPES = ("single", "multiple", "true_false", "fill_in", "matching",
                          "ordering", "numeric")


_loaded = False


def _own(ep: Any) -> bool:
    return str(ep.value).startswith(__name__ + ":")


def _load_question_types(own: bool = False) -> None:
    """Register the ``lms.question_types`` entry points: Lentera's own when this module is
    imported, the plugins' on first use (a plugin module imports this one)."""
    global _loaded
    if _loaded:
        return
    from lms.plugins import PluginError, load_group

    if own:
        found = load_group("lms.question_types", only=_own)
    else:
        _loaded = True
        try:
            found = load_group("lms.question_types",
                               only=lambda ep: not _own(ep) and ep.name not in QUESTION_TYPES)
        except Exception:
            _loaded = False
            raise
    for name, qt in found.items():
        if not isinstance(qt, QuestionType) or qt.name != name:
            raise PluginError(f"question type {name!r} must be a QuestionType named {name!r}")
        register_question_type(qt)
    missing = [name for name in BUILTIN_QUESTION_TYPES if name not in QUESTION_TYPES]
    if own and missing:
        raise PluginError(f"the built-in question types {missing} are not declared: the "
                          "package metadata is stale; run: pip install -e .")


class MissingQuestionType(QuestionType):
    """Stands in for a type whose plugin is gone: the quiz still loads and shows the
    prompt; nothing can be answered and it earns nothing."""

    interaction_type = "other"

    def __init__(self, name: str):
        self.name = name

    def public(self, q: dict[str, Any], layout: dict[str, Any]) -> dict[str, Any]:
        return {**super().public(q, layout), "missing": True}

    def parse(self, q: dict[str, Any], layout: dict[str, Any], get: Getter) -> Any:
        return None

    def grade(self, q: dict[str, Any], response: Any) -> float:
        return 0.0

    def xapi_response(self, q: dict[str, Any], response: Any) -> str:
        return ""


_load_question_types(own=True)


def question_types() -> dict[str, QuestionType]:
    """Every registered question type by name (built-in and plugin)."""
    _load_question_types()
    return dict(QUESTION_TYPES)


def question_type(name: str) -> QuestionType:
    """The registered type ``name``; a type whose plugin is not installed gets the
    :class:`MissingQuestionType` fallback."""
    _load_question_types()
    found = QUESTION_TYPES.get(name)
    return found if found is not None else MissingQuestionType(name)


def plugin_question_types() -> dict[str, QuestionType]:
    """The registered question types that are not Lentera's own."""
    return {name: qt for name, qt in question_types().items()
            if name not in BUILTIN_QUESTION_TYPES}
