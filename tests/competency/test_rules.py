"""Rule matching and judging, without a database."""

from __future__ import annotations

import datetime as dt

from lms.competency.rules import (
    RuleIndex,
    RuleVersion,
    default_bands,
    items_level,
    judge,
    scaled_score,
)

ADL = "http://adlnet.gov/expapi/verbs/"
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def rule(key="k", version=1, iri="https://x/course/1", match="exact", criterion="completed",
         effective_from=None, active=True, **kw) -> RuleVersion:
    fields = dict(id=version, key=key, version=version, activity_iri=iri, match=match,
                  criterion=criterion, threshold=None, bands=(), items=frozenset(),
                  competency_id=1, level=2, weight=1.0, source="course", active=active,
                  effective_from=effective_from)
    fields.update(kw)
    return RuleVersion(**fields)


def st(verb: str, **result) -> dict:
    return {"verb": {"id": ADL + verb}, "result": result}


def test_exact_and_prefix_matching():
    index = RuleIndex([rule("a"), rule("b", iri="https://x/", match="prefix")])
    assert index.candidates("https://x/course/1") == ["a", "b"]
    assert index.candidates("https://x/other") == ["b"]
    assert index.candidates("https://y/") == []


def test_the_version_in_force_when_stored_judges():
    later = T0 + dt.timedelta(days=1)
    index = RuleIndex([rule(version=1), rule(version=2, effective_from=later, level=3)])
    assert index.version_for("k", T0).level == 2
    assert index.version_for("k", later).level == 3
    retro = RuleIndex([rule(version=1), rule(version=2, effective_from=later),
                       rule(version=3, level=4)])
    assert retro.version_for("k", T0).level == 4


def test_criteria():
    assert judge(rule(), st("completed")) == (2, None)
    assert judge(rule(), st("experienced", completion=True)) == (2, None)
    assert judge(rule(), st("experienced")) is None
    assert judge(rule(criterion="passed"), st("passed")) == (2, None)
    assert judge(rule(criterion="passed"), st("failed", success=True)) is None
    score_min = rule(criterion="score_min", threshold=0.75)
    assert judge(score_min, st("scored", score={"scaled": 0.8})) == (2, 0.8)
    assert judge(score_min, st("scored", score={"scaled": 0.7})) is None
    bands = rule(criterion="score_bands", bands=((0.6, 2), (0.8, 3)))
    assert judge(bands, st("passed", score={"raw": 45, "min": 0, "max": 50})) == (3, 0.9)
    assert judge(bands, st("passed", score={"scaled": 0.5})) is None


def test_items_level_uses_only_the_rules_questions():
    r = rule(criterion="items", bands=((0.6, 1), (0.8, 2)), items=frozenset({"q1", "q2"}))
    assert items_level(r, {"q1": True, "q2": True, "q3": False}) == (2, 1.0)
    assert items_level(r, {"q1": True, "q2": False}) is None
    assert items_level(r, {"q3": True}) is None


def test_scaled_score_from_raw_and_default_bands():
    assert scaled_score({"score": {"raw": 3, "max": 4}}) == 0.75
    assert scaled_score({"score": {"raw": 3}}) is None
    assert default_bands(3) == [[0.6, 2], [0.8, 3]]
    assert default_bands(1) == [[0.6, 1]]
    assert default_bands(None) == [[0.6, 1], [0.8, 2]]
