"""Evidence rules in memory: matching statements to rules and judging them (pure).

The engine loads every rule version once per change (rule rows are never updated, only
new versions added, so the highest id is a complete change marker) and matches each
statement's activity against exact IRIs (a dict lookup) and prefixes (a short scan).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lms.competency.models import Criterion
from lms.competency.policy import band_level

ADL = "http://adlnet.gov/expapi/verbs/"
COMPLETED = ADL + "completed"
PASSED = ADL + "passed"
FAILED = ADL + "failed"
ANSWERED = ADL + "answered"
MASTERED = ADL + "mastered"
#: Verbs of a quiz's overall result, which trigger the ``items`` criterion.
QUIZ_RESULT_VERBS = frozenset({PASSED, FAILED})
#: Activities whose candidate rules a :class:`RuleIndex` remembers at most.
_MAX_REMEMBERED = 100_000


@dataclass(frozen=True)
class RuleVersion:
    """An immutable copy of an :class:`~lms.competency.models.EvidenceRule` row."""

    id: int
    key: str
    version: int
    activity_iri: str
    match: str
    criterion: str
    threshold: float | None
    bands: tuple[tuple[float, int], ...]
    items: frozenset[str]
    competency_id: int
    level: int
    weight: float
    source: str
    active: bool
    effective_from: dt.datetime | None

    @classmethod
    def from_row(cls, row: Any) -> RuleVersion:
        return cls(
            id=row.id, key=row.rule_key, version=row.version, activity_iri=row.activity_iri,
            match=row.match, criterion=str(row.criterion), threshold=row.threshold,
            bands=tuple((float(b[0]), int(b[1])) for b in (row.bands or ())),
            items=frozenset(row.items or ()), competency_id=row.competency_id,
            level=row.level, weight=float(row.weight), source=str(row.source),
            active=row.active, effective_from=row.effective_from,
        )

    def matches(self, activity_id: str) -> bool:
        if self.match == "prefix":
            return activity_id.startswith(self.activity_iri)
        return activity_id == self.activity_iri


class RuleIndex:
    """All rule versions, indexed by activity IRI for matching."""

    def __init__(self, versions: Iterable[RuleVersion], marker: Any = None):
        self.marker = marker
        by_key: dict[str, list[RuleVersion]] = defaultdict(list)
        for version in versions:
            by_key[version.key].append(version)
        self.by_key = {k: sorted(v, key=lambda r: r.version, reverse=True)
                       for k, v in by_key.items()}
        self.exact: dict[str, list[str]] = defaultdict(list)
        self.prefixes: list[tuple[str, str]] = []
        #: question IRI -> quiz IRIs whose ``items`` rules (any version) list it.
        self.question_quizzes: dict[str, set[str]] = defaultdict(set)
        self._candidates: dict[str, list[str]] = {}
        for key, versions_of_key in sorted(self.by_key.items()):
            patterns = {(v.match, v.activity_iri) for v in versions_of_key}
            for match, iri in sorted(patterns):
                if match == "prefix":
                    self.prefixes.append((iri, key))
                else:
                    self.exact[iri].append(key)
            for v in versions_of_key:
                if v.criterion == Criterion.ITEMS:
                    for question in v.items:
                        self.question_quizzes[question].add(v.activity_iri)

    def __bool__(self) -> bool:
        return bool(self.by_key)

    def candidates(self, activity_id: str) -> list[str]:
        """Keys of the rules that may match ``activity_id`` (some version's pattern does).
        Remembered per activity: a batch asks about the same few activities again and
        again. Do not change the list returned."""
        keys = self._candidates.get(activity_id)
        if keys is None:
            keys = list(self.exact.get(activity_id, ()))
            for prefix, key in self.prefixes:
                if activity_id.startswith(prefix) and key not in keys:
                    keys.append(key)
            if len(self._candidates) < _MAX_REMEMBERED:
                self._candidates[activity_id] = keys
        return keys

    def version_for(self, key: str, stored: dt.datetime) -> RuleVersion | None:
        """The version of rule ``key`` that judges a statement stored at ``stored``."""
        for version in self.by_key.get(key, ()):
            if version.effective_from is None or version.effective_from <= stored:
                return version
        return None


def scaled_score(result: dict[str, Any] | None) -> float | None:
    """``result.score.scaled``, or raw rescaled by min/max when only those are given."""
    score = (result or {}).get("score")
    if not isinstance(score, dict):
        return None
    scaled = score.get("scaled")
    if isinstance(scaled, int | float) and not isinstance(scaled, bool):
        return float(scaled)
    raw, low, high = score.get("raw"), score.get("min", 0), score.get("max")
    if (isinstance(raw, int | float) and isinstance(low, int | float)
            and isinstance(high, int | float) and high > low):
        return (float(raw) - float(low)) / (float(high) - float(low))
    return None


def judge(rule: RuleVersion, statement: dict[str, Any]) -> tuple[int, float | None] | None:
    """(level proven, score) when ``statement`` meets ``rule``'s criterion, else None.

    ``items`` rules need the answers of the attempt and are judged by the engine.
    """
    verb = statement.get("verb", {}).get("id")
    result = statement.get("result") or {}
    score = scaled_score(result)
    criterion = rule.criterion
    if criterion == Criterion.COMPLETED:
        if verb == COMPLETED or result.get("completion") is True:
            return rule.level, score
    elif criterion == Criterion.PASSED:
        if verb == PASSED or (result.get("success") is True and verb != FAILED):
            return rule.level, score
    elif criterion == Criterion.SCORE_MIN:
        if score is not None and rule.threshold is not None and score >= rule.threshold - 1e-9:
            return rule.level, score
    elif criterion == Criterion.SCORE_BANDS and score is not None:
        level = band_level(rule.bands, score)
        if level:
            return level, score
    return None


def items_level(rule: RuleVersion, answers: dict[str, bool]) -> tuple[int, float] | None:
    """(level, share correct) from the answers (question IRI -> correct) to ``rule``'s items."""
    mine = [ok for question, ok in answers.items() if question in rule.items]
    if not mine:
        return None
    share = sum(1 for ok in mine if ok) / len(mine)
    level = band_level(rule.bands, share)
    return (level, share) if level else None


def default_bands(target_level: int | None) -> list[list[float]]:
    """Score bands for a course quiz's tagged items: 80% proves the course's target level
    and 60% the level below it (an untargeted competency: 60% level 1, 80% level 2)."""
    target = target_level or 2
    if target <= 1:
        return [[0.6, 1]]
    return [[0.6, target - 1], [0.8, target]]
