from lms.assessment.scoring import BANDS, level_from_answers, scaled


def test_levels_build_on_each_other():
    assert level_from_answers({1: [3, 3], 2: [2, 2], 3: [1, 2], 4: [3, 3], 5: [3]}) == 2
    assert level_from_answers({1: [1, 2], 2: [3, 3]}) == 0
    assert level_from_answers({n: [2, 2, 2] for n in range(1, 6)}) == 5
    assert level_from_answers({}) == 0


def test_a_level_without_indicators_follows_the_one_below():
    assert level_from_answers({1: [3], 2: [], 3: [3], 4: [0], 5: [0]}) == 3


def test_scaled_score_maps_back_to_the_level_through_the_bands():
    from lms.competency.policy import band_level

    for level in range(1, 6):
        assert band_level(BANDS, scaled(level)) == level
    assert band_level(BANDS, scaled(0)) == 0
