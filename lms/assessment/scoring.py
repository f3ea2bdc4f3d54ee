"""From answers to a level (pure: no database, no Flask).

Each behaviour indicator of each level of a competency is answered on a four-point scale
of how often the rater sees the behaviour: 0 not shown, 1 sometimes, 2 usually, 3
consistently. A level is *shown* when the average of its indicators is at least 2
(usually). Levels build on each other, so the assessed level is the highest level L such
that every level from 1 to L is shown (0 when level 1 is not).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

SCALE = (0, 1, 2, 3)
#: Average an indicator group must reach for its level to count as shown.
SHOWN_AT = 2.0
MAX_LEVEL = 5


def level_from_answers(answers: Mapping[int, Sequence[int]]) -> int:
    """The assessed level from ``answers`` (level -> the scale values of its indicators).

    A level without indicators counts as shown when the level below it is (a dictionary
    may leave a level without indicators)."""
    level = 0
    for candidate in range(1, MAX_LEVEL + 1):
        values = list(answers.get(candidate) or ())
        if values and sum(values) / len(values) < SHOWN_AT - 1e-9:
            break
        if not values and candidate not in answers:
            break
        level = candidate
    return level


def scaled(level: int) -> float:
    """The scaled score of a level (level / 5), as the xAPI result carries it."""
    return round(level / MAX_LEVEL, 4)


#: Score bands of the evidence rules: scaled level / 5 back to the level.
BANDS = [[round(level / MAX_LEVEL, 4), level] for level in range(1, MAX_LEVEL + 1)]


def mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None
