"""Question types: grading rules, xAPI response formats, and what the page may see."""

from __future__ import annotations

import json
import random

from lms.quizzes.grading import QUESTION_TYPES, normalise_text, question_type

SINGLE = {
    "id": "q",
    "type": "single",
    "prompt": "?",
    "points": 1,
    "choices": [
        {"id": "a", "text": "A", "correct": True},
        {"id": "b", "text": "B", "correct": False},
    ],
}
FILL = {
    "id": "f",
    "type": "fill_in",
    "prompt": "?",
    "points": 1,
    "answers": ["Dinas  Kominfo"],
    "case_sensitive": False,
    "normalize_space": True,
}
NUMERIC = {
    "id": "n",
    "type": "numeric",
    "prompt": "?",
    "points": 1,
    "answer": 85.0,
    "tolerance": 0.5,
    "min": None,
    "max": None,
    "unit": None,
}
ORDER = {
    "id": "o",
    "type": "ordering",
    "prompt": "?",
    "points": 1,
    "items": [{"id": "x", "text": "X"}, {"id": "y", "text": "Y"}, {"id": "z", "text": "Z"}],
}
MATCH = {
    "id": "m",
    "type": "matching",
    "prompt": "?",
    "points": 2,
    "pairs": [
        {"id": "p", "source": "S1", "target": "T1"},
        {"id": "r", "source": "S2", "target": "T2"},
    ],
}


def test_all_seven_types_are_registered():
    # Installed plugins (e.g. examples/lentera-likert) may add more.
    assert set(QUESTION_TYPES) >= {
        "single",
        "multiple",
        "true_false",
        "fill_in",
        "matching",
        "ordering",
        "numeric",
    }


def test_fill_in_follows_case_and_space_rules():
    qt = question_type("fill_in")
    assert qt.grade(FILL, " dinas kominfo ") == 1.0
    assert qt.grade(FILL, "dinaskominfo") == 0.0
    assert qt.grade({**FILL, "case_sensitive": True}, "dinas kominfo") == 0.0
    assert qt.grade({**FILL, "normalize_space": False}, "Dinas Kominfo") == 0.0
    assert normalise_text("  A\tB  ", False, True) == "a b"


def test_numeric_accepts_the_range_and_decimal_commas():
    qt = question_type("numeric")
    assert qt.parse(NUMERIC, {}, lambda name: ["85,4"]) == 85.4
    assert qt.grade(NUMERIC, 85.4) == 1.0 and qt.grade(NUMERIC, 85.6) == 0.0
    assert qt.parse(NUMERIC, {}, lambda name: ["nan"]) is None
    assert qt.interaction(NUMERIC, "id-ID")["correctResponsesPattern"] == ["84.5[:]85.5"]


def test_ordering_needs_each_position_once():
    qt = question_type("ordering")
    layout = qt.layout(ORDER, random.Random(1), True)
    assert [i for _t, i in layout["tokens"]] != ["x", "y", "z"]  # never shown in order
    tokens = {item: tok for tok, item in layout["tokens"]}
    form = {f"q-o-{tokens['x']}": ["1"], f"q-o-{tokens['y']}": ["2"], f"q-o-{tokens['z']}": ["3"]}
    response = qt.parse(ORDER, layout, lambda name: form.get(name, []))
    assert response == ["x", "y", "z"] and qt.grade(ORDER, response) == 1.0
    form[f"q-o-{tokens['z']}"] = ["2"]
    assert qt.parse(ORDER, layout, lambda name: form.get(name, [])) == []
    assert qt.xapi_response(ORDER, ["y", "x", "z"]) == "y[,]x[,]z"


def test_matching_gives_partial_credit():
    qt = question_type("matching")
    assert qt.grade(MATCH, {"p": "p", "r": "p"}) == 0.5
    assert qt.xapi_response(MATCH, {"p": "p", "r": "r"}) == "p[.]t-p[,]r[.]t-r"


def test_public_view_never_holds_the_key():
    rng = random.Random(3)
    for q in (SINGLE, FILL, NUMERIC, ORDER, MATCH):
        qt = question_type(q["type"])
        public = json.dumps(qt.public(q, qt.layout(q, rng, True)))
        for secret in ("correct", "answer", "Dinas", '"x"', '"p"', "tolerance"):
            assert secret not in public, (q["type"], secret)


def test_single_choice_unknown_token_is_no_answer():
    qt = question_type("single")
    layout = qt.layout(SINGLE, random.Random(0), False)
    assert qt.parse(SINGLE, layout, lambda name: ["forged"]) is None
    assert qt.grade(SINGLE, None) == 0.0
