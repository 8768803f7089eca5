import pytest

from hamburger_train.segment import segment, size_histogram, tau_from_confidence


def test_low_entropy_tokens_join_the_open_group():
    assert segment([2.0, 0.1, 0.2, 3.0, 0.1], tau=0.5, max_steps=4) == [3, 2]


def test_first_token_always_opens_a_group():
    assert segment([0.0, 0.0], tau=0.5, max_steps=4) == [2]


def test_groups_are_capped_at_K():
    assert segment([0.0] * 9, tau=0.5, max_steps=4) == [4, 4, 1]


def test_threshold_is_strict_and_sizes_sum_to_length():
    ent = [1.0, 0.5, 0.49, 0.7, 0.2, 0.2, 0.2, 0.2]
    sizes = segment(ent, tau=0.5, max_steps=3)
    assert sizes == [1, 2, 3, 2]
    assert sum(sizes) == len(ent)


def test_tau_one_token_groups_when_zero():
    assert segment([0.0, 0.0, 0.0], tau=0.0, max_steps=4) == [1, 1, 1]


def test_tau_from_confidence_is_monotone():
    assert tau_from_confidence(0.9, 100) < tau_from_confidence(0.7, 100)
    with pytest.raises(ValueError):
        tau_from_confidence(1.0, 100)


def test_histogram():
    h = size_histogram([[1, 2], [4]], 4)
    assert h["groups"] == 3 and h["tokens"] == 7
    assert h["fraction_by_size"][1] == pytest.approx(1 / 3)
