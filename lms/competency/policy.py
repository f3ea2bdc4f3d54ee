"""Aggregation policies: how a competency's evidence combines into a level.

Pure functions over plain values (no database, no Flask), so the engine, the rebuild and
the explanation on the profile page all use exactly the same arithmetic. A framework's
``policy`` dict chooses:

``method``
    ``highest``: the highest level whose evidence weights (evidence *at or above* that
    level) add up to 1; ``mastery``: the same, but the weights must add up to
    ``mastery_count`` (n-times mastery); ``latest``: the level of the most recent evidence
    of full weight (a later, lower result lowers the level); ``decay``: the average of
    evidence levels weighted by weight and by age (halved every ``half_life_days`` before
    the newest evidence), rounded down, once the weights add up to 1.
``precedence``
    ``combine``: evidence of every counted source feeds the method together;
    ``rank``: the method is applied per source, in ``source_order``, and the first source
    that yields a level decides (an assessment-centre rating outranks course results).
``counted_sources``
    Sources that count at all; others (by default self-assessment) are shown, not counted.
``supervisor_validation``
    When true, a supervisor's assessment rating counts only once HR has validated it: the
    assessment module holds its statement back until then (docs/assessment.md).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lms.competency.models import MAX_LEVEL

METHODS = ("highest", "latest", "mastery", "decay")
PRECEDENCES = ("combine", "rank")
SOURCES = ("assessment", "supervisor", "course", "external", "self")
_EPS = 1e-9

DEFAULT_POLICY: dict[str, Any] = {
    "method": "highest",
    "mastery_count": 2,
    "half_life_days": 365,
    "precedence": "combine",
    "source_order": list(SOURCES),
    "counted_sources": ["assessment", "supervisor", "course", "external"],
    "supervisor_validation": False,
}


@dataclass(frozen=True)
class EvidenceItem:
    """One piece of active evidence, as the policy sees it."""

    level: int
    weight: float
    source: str
    seq: int
    occurred: dt.datetime
    statement_id: str = ""
    evidence_id: int | None = None


@dataclass
class Outcome:
    """The level a policy gives, progress toward the next one, and why."""

    level: int = 0
    #: Progress toward ``level + 1`` in percent (100 at the top level).
    progress: int = 0
    #: The evidence that brought the current level (None at level 0).
    decisive: EvidenceItem | None = None
    #: Evidence that counted toward the current level.
    supporting: list[EvidenceItem] = field(default_factory=list)


def normalize_policy(policy: dict[str, Any] | None) -> dict[str, Any]:
    """A complete, checked policy dict (unknown values fall back to the defaults)."""
    merged = dict(DEFAULT_POLICY)
    merged.update({k: v for k, v in (policy or {}).items() if k in DEFAULT_POLICY})
    if merged["method"] not in METHODS:
        merged["method"] = DEFAULT_POLICY["method"]
    if merged["precedence"] not in PRECEDENCES:
        merged["precedence"] = DEFAULT_POLICY["precedence"]
    try:
        merged["mastery_count"] = max(1, int(merged["mastery_count"]))
    except (TypeError, ValueError):
        merged["mastery_count"] = DEFAULT_POLICY["mastery_count"]
    try:
        merged["half_life_days"] = max(1, int(merged["half_life_days"]))
    except (TypeError, ValueError):
        merged["half_life_days"] = DEFAULT_POLICY["half_life_days"]
    order = [s for s in merged["source_order"] if s in SOURCES]
    merged["source_order"] = order + [s for s in SOURCES if s not in order]
    merged["counted_sources"] = [s for s in merged["source_order"]
                                 if s in set(merged["counted_sources"] or [])]
    merged["supervisor_validation"] = merged["supervisor_validation"] is True
    return merged


def _percent(fraction: float) -> int:
    return max(0, min(100, math.floor(fraction * 100 + _EPS)))


def _ordered(items: Iterable[EvidenceItem]) -> list[EvidenceItem]:
    return sorted(items, key=lambda e: (e.seq, e.evidence_id or 0, e.level))


def _threshold(items: Sequence[EvidenceItem], need: float) -> Outcome:
    """``highest`` (need 1) and ``mastery`` (need n): weights at or above a level."""
    items = _ordered(items)
    outcome = Outcome()
    for level in range(MAX_LEVEL, 0, -1):
        total, reached_by, support = 0.0, None, []
        for item in items:
            if item.level >= level:
                total += item.weight
                support.append(item)
                if reached_by is None and total >= need - _EPS:
                    reached_by = item
        if reached_by is not None:
            outcome = Outcome(level=level, decisive=reached_by, supporting=support)
            break
    if outcome.level >= MAX_LEVEL:
        outcome.progress = 100
    else:
        above = sum(i.weight for i in items if i.level > outcome.level)
        outcome.progress = _percent(above / need)
    return outcome


def _latest(items: Sequence[EvidenceItem]) -> Outcome:
    items = sorted(items, key=lambda e: (e.occurred, e.seq, e.evidence_id or 0))
    decisive = None
    for item in items:
        if item.weight >= 1 - _EPS:
            decisive = item
    if decisive is None:
        outcome = Outcome()
        later = items
    else:
        outcome = Outcome(level=decisive.level, decisive=decisive, supporting=[decisive])
        later = items[items.index(decisive) + 1:]
    if outcome.level >= MAX_LEVEL:
        outcome.progress = 100
    else:
        outcome.progress = _percent(sum(i.weight for i in later if i.level > outcome.level))
    return outcome


def _decay(items: Sequence[EvidenceItem], half_life_days: int) -> Outcome:
    items = _ordered(items)
    if not items:
        return Outcome()
    newest = max(i.occurred for i in items)
    weights = []
    for item in items:
        age_days = (newest - item.occurred).total_seconds() / 86400
        weights.append(item.weight * 0.5 ** (age_days / half_life_days))
    total_weight = sum(i.weight for i in items)
    if total_weight < 1 - _EPS:
        return Outcome(progress=_percent(total_weight))
    average = sum(i.level * w for i, w in zip(items, weights, strict=True)) / sum(weights)
    level = min(MAX_LEVEL, math.floor(average + _EPS))
    decisive = max(items, key=lambda e: (e.occurred, e.seq))
    progress = 100 if level >= MAX_LEVEL else _percent(average - level)
    return Outcome(level=level, progress=progress, decisive=decisive, supporting=list(items))


def _apply_method(items: Sequence[EvidenceItem], policy: dict[str, Any]) -> Outcome:
    method = policy["method"]
    if method == "latest":
        return _latest(items)
    if method == "decay":
        return _decay(items, policy["half_life_days"])
    need = float(policy["mastery_count"]) if method == "mastery" else 1.0
    return _threshold(items, need)


def aggregate(items: Iterable[EvidenceItem], policy: dict[str, Any] | None) -> Outcome:
    """The level that ``items`` (active evidence of one employee and one competency) give
    under ``policy`` (a framework's policy dict)."""
    policy = normalize_policy(policy)
    counted = set(policy["counted_sources"])
    items = [i for i in items if i.source in counted]
    if policy["precedence"] == "rank":
        fallback = Outcome()
        for source in policy["source_order"]:
            mine = [i for i in items if i.source == source]
            if not mine:
                continue
            outcome = _apply_method(mine, policy)
            if outcome.level > 0:
                return outcome
            if fallback.progress == 0:
                fallback = outcome
        return fallback
    return _apply_method(items, policy)


def band_level(bands: Sequence[Sequence[float]] | None, scaled: float) -> int:
    """The level of the highest band whose minimum ``scaled`` reaches (0: none)."""
    level = 0
    for minimum, band in sorted((float(b[0]), int(b[1])) for b in bands or ()):
        if scaled >= minimum - _EPS:
            level = max(level, band)
    return level
