"""Aggregation policies: pure arithmetic over evidence."""

from __future__ import annotations

import datetime as dt

from lms.competency.policy import EvidenceItem, aggregate, band_level, normalize_policy

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def ev(level: int, weight: float = 1.0, source: str = "course", seq: int = 1,
       days: int = 0) -> EvidenceItem:
    return EvidenceItem(level=level, weight=weight, source=source, seq=seq,
                        occurred=T0 + dt.timedelta(days=days), statement_id=f"s{seq}")


def test_highest_takes_the_highest_level_with_a_full_weight():
    outcome = aggregate([ev(2, seq=1), ev(4, 0.5, seq=2)], {"method": "highest"})
    assert (outcome.level, outcome.progress) == (2, 50)
    assert outcome.decisive.statement_id == "s1"


def test_two_half_weights_prove_a_level_and_the_second_is_decisive():
    outcome = aggregate([ev(3, 0.5, seq=1), ev(3, 0.5, seq=2)], {"method": "highest"})
    assert outcome.level == 3
    assert outcome.decisive.statement_id == "s2"


def test_higher_evidence_counts_toward_lower_levels():
    outcome = aggregate([ev(2, 0.5, seq=1), ev(4, 0.5, seq=2)], {"method": "highest"})
    assert outcome.level == 2


def test_a_later_weaker_result_does_not_lower_highest_but_lowers_latest():
    items = [ev(3, seq=1, days=0), ev(1, seq=2, days=10)]
    assert aggregate(items, {"method": "highest"}).level == 3
    assert aggregate(items, {"method": "latest"}).level == 1


def test_mastery_needs_the_level_proven_n_times():
    items = [ev(3, seq=1), ev(3, seq=2), ev(4, seq=3)]
    outcome = aggregate(items, {"method": "mastery", "mastery_count": 3})
    assert outcome.level == 3
    assert aggregate(items, {"method": "mastery", "mastery_count": 2}).level == 3
    assert aggregate(items[:1], {"method": "mastery", "mastery_count": 2}).progress == 50


def test_decaying_average_weights_recent_evidence_more():
    old_high, new_low = ev(4, seq=1, days=0), ev(2, seq=2, days=730)
    outcome = aggregate([old_high, new_low], {"method": "decay", "half_life_days": 365})
    # weights 0.25 and 1: (4*0.25 + 2*1) / 1.25 = 2.4
    assert (outcome.level, outcome.progress) == (2, 40)


def test_rank_lets_the_highest_ranked_source_decide():
    items = [ev(2, source="assessment", seq=1), ev(4, source="course", seq=2)]
    assert aggregate(items, {"precedence": "rank"}).level == 2
    assert aggregate(items, {"precedence": "combine"}).level == 4
    order = ["course", "assessment", "supervisor", "external", "self"]
    assert aggregate(items, {"precedence": "rank", "source_order": order}).level == 4


def test_uncounted_sources_are_ignored():
    items = [ev(5, source="self")]
    assert aggregate(items, None).level == 0
    assert aggregate(items, {"counted_sources": ["self"]}).level == 5


def test_top_level_shows_full_progress_and_no_evidence_shows_none():
    assert aggregate([ev(5)], None).progress == 100
    assert (aggregate([], None).level, aggregate([], None).progress) == (0, 0)


def test_normalize_policy_fills_defaults_and_drops_nonsense():
    policy = normalize_policy({"method": "magic", "mastery_count": "x",
                               "source_order": ["self", "bogus"]})
    assert policy["method"] == "highest"
    assert policy["mastery_count"] == 2
    assert policy["source_order"][0] == "self" and "bogus" not in policy["source_order"]


def test_band_level_picks_the_highest_band_reached():
    bands = [[0.6, 2], [0.8, 3]]
    assert [band_level(bands, s) for s in (0.59, 0.6, 0.79, 0.8, 1.0)] == [0, 2, 2, 3, 3]
