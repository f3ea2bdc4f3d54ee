"""The ``likert`` question type: a statement rated on a scale, scored by the rating."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from lentera_likert import Text
from lms.courses.format import QuestionBase
from lms.quizzes.grading import Getter, QuestionType

DEFAULT_SCALE = ["Sangat tidak setuju", "Tidak setuju", "Netral", "Setuju", "Sangat setuju"]


class LikertQuestion(QuestionBase):
    """A Likert item in a quiz file."""

    type: Literal["likert"]
    scale: list[str] = Field(default_factory=lambda: list(DEFAULT_SCALE), min_length=3,
                             max_length=10, description="Scale points, lowest first")
    reverse: bool = Field(False, description="Reverse-keyed: the lowest point scores highest")

    @model_validator(mode="after")
    def _distinct(self) -> LikertQuestion:
        if any(not s.strip() for s in self.scale) or len(set(self.scale)) != len(self.scale):
            raise ValueError("scale points must be distinct and not empty")
        return self


class LikertQuestionType(QuestionType):
    name = "likert"
    interaction_type = "likert"
    label = Text("label")
    model = LikertQuestion
    template_folder = Path(__file__).parent / "templates"

    def layout(self, q: dict[str, Any], rng: random.Random, shuffle: bool) -> dict[str, Any]:
        # A scale keeps its order; the tokens only hide the point numbers from the form.
        return {"tokens": [[f"{rng.getrandbits(32):08x}", i] for i in range(len(q["scale"]))]}

    def public(self, q: dict[str, Any], layout: dict[str, Any]) -> dict[str, Any]:
        tokens = layout.get("tokens") or [[str(i), i] for i in range(len(q["scale"]))]
        return {**super().public(q, layout),
                "options": [{"value": tok, "text": q["scale"][i]} for tok, i in tokens]}

    def parse(self, q: dict[str, Any], layout: dict[str, Any], get: Getter) -> Any:
        values = get(f"q-{q['id']}")
        by_token = {tok: i for tok, i in layout.get("tokens") or []}
        return by_token.get(values[0]) if values else None

    def grade(self, q: dict[str, Any], response: Any) -> float:
        points = len(q["scale"])
        if not isinstance(response, int) or not 0 <= response < points:
            return 0.0
        share = response / (points - 1)
        return 1.0 - share if q.get("reverse") else share

    def interaction(self, q: dict[str, Any], lang: str) -> dict[str, Any]:
        definition = super().interaction(q, lang)
        definition["scale"] = [{"id": f"s{i + 1}", "description": {lang: label}}
                               for i, label in enumerate(q["scale"])]
        return definition

    def xapi_response(self, q: dict[str, Any], response: Any) -> str:
        return f"s{response + 1}" if isinstance(response, int) else ""

    def describe(self, q: dict[str, Any], response: Any) -> str:
        return q["scale"][response] if isinstance(response, int) and \
            0 <= response < len(q["scale"]) else ""

    def from_form(self, get: Any, getlist: Any) -> dict[str, Any]:
        """The quiz builder's fields (templates/plugins/likert/editor.html)."""
        scale = [line.strip() for line in (get("scale") or "").splitlines() if line.strip()]
        return {"scale": scale or list(DEFAULT_SCALE), "reverse": get("reverse") == "1"}


__all__ = ["LikertQuestion", "LikertQuestionType"]
