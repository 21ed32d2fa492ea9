"""Dynamic N-grams task (section 4.4): layout, tables, optimal predictor."""

import math

import numpy as np
import pytest

from tasks import NGramsTask
from tasks.ngrams import draw_bits, optimal_predictions


def test_encode_matches_the_drawing():
    bits = np.array([[0], [1], [1], [0], [1]])

    batch = NGramsTask(order=3, sequence_length=5).encode(bits)

    np.testing.assert_array_equal(batch.inputs[:, 0, 0], [0, 0, 1, 1, 0])
    np.testing.assert_array_equal(batch.targets[:, 0, 0], [0, 1, 1, 0, 1])
    np.testing.assert_array_equal(batch.mask[:, 0], [1, 1, 1, 1, 1])


def test_optimal_cost_by_hand():
    # order 2: the context is the previous bit.
    # 0 1 1 0 1: steps 0-2 predict 1/2 (no context, then unseen contexts);
    #   step 3 context 1 has N1=1, N0=0: P(1) = 1.5 / 2, the bit is 0 -> 2 bits;
    #   step 4 context 0 has N1=1, N0=0: P(1) = 3/4, the bit is 1 -> log2(4/3).
    # 0 0 0 0 0: steps 0-1 cost 1 bit each; context 0 then has N0 = 1, 2, 3,
    #   so P(0) = 3/4, 5/6, 7/8.
    task = NGramsTask(order=2, sequence_length=5)
    batch = task.encode(np.array([[0, 1, 1, 0, 1], [0, 0, 0, 0, 0]]).T)
    first = 3 + 2 + math.log2(4 / 3)
    second = 2 + math.log2(4 / 3) + math.log2(6 / 5) + math.log2(8 / 7)

    assert task.optimal_cost_bits(batch) == pytest.approx((first + second) / 2)

    p_one = optimal_predictions(batch.inputs, batch.targets, order=2)
    np.testing.assert_allclose(p_one[:, 0], [0.5, 0.5, 0.5, 0.75, 0.75])
    np.testing.assert_allclose(p_one[:, 1], [0.5, 0.5, 0.25, 1 / 6, 1 / 8])


def test_optimal_cost_counts_only_masked_steps():
    task = NGramsTask(order=2, sequence_length=5)
    batch = task.encode(np.array([[0, 1, 1, 0, 1]]).T)
    mask = batch.mask.copy()
    mask[3] = 0.0

    cost = task.optimal_cost_bits(batch._replace(mask=mask))

    assert cost == pytest.approx(3 + math.log2(4 / 3))


def test_context_is_read_oldest_bit_first():
    # order 3, the table says 1 only after the context (1, 0) = entry 2
    tables = np.zeros((50, 4))
    tables[:, 2] = 1.0

    bits = draw_bits(np.random.default_rng(0), tables, n=12, order=3)  # (n, B)

    for b in range(50):
        for t in range(2, 12):
            after_one_zero = bits[t - 2, b] == 1 and bits[t - 1, b] == 0
            assert bits[t, b] == after_one_zero


def test_first_bits_are_fair_coins_then_the_table_rules():
    tables = np.ones((4000, 4))

    bits = draw_bits(np.random.default_rng(0), tables, n=6, order=3)

    assert abs(bits[:2].mean() - 0.5) < 0.02
    np.testing.assert_array_equal(bits[2:], 1)


def test_each_sequence_gets_its_own_table():
    # with one shared table, every sequence of order 1 would share P(1)
    task = NGramsTask(order=1, sequence_length=400)
    batch = task.sample(np.random.default_rng(0), batch_size=20)
    rates = batch.targets[:, :, 0].mean(axis=0)

    assert rates.min() < 0.2 and rates.max() > 0.8


def test_paper_sizes_reach_the_papers_optimal_cost():
    # Figure 13 puts the optimal estimator at about 133 bits per sequence
    task = NGramsTask.paper()
    batch = task.sample(np.random.default_rng(0), batch_size=4000)

    assert batch.inputs.shape == (200, 4000, 1)
    assert 131.5 < task.optimal_cost_bits(batch) < 135.5


def test_length_overrides_sequence_length():
    batch = NGramsTask().sample(np.random.default_rng(0), batch_size=2, length=50)

    assert batch.inputs.shape == (50, 2, 1)
    assert batch.mask.sum() == 100


@pytest.mark.parametrize(
    "sizes, message",
    [
        ({"order": 0}, "order must be >= 1, got 0"),
        ({"sequence_length": 0}, "sequence_length must be >= 1, got 0"),
        ({"order": 6, "sequence_length": 3}, r"order \(6\) must be <= sequence_length"),
    ],
)
def test_bad_sizes_are_rejected(sizes, message):
    with pytest.raises(ValueError, match=message):
        NGramsTask(**sizes)


def test_sample_length_must_reach_the_order():
    with pytest.raises(ValueError, match="^length must be >= 6, got 3$"):
        NGramsTask().sample(np.random.default_rng(0), batch_size=1, length=3)
