"""Priority sort task (section 4.5): layout and the order of the outputs."""

import numpy as np
import pytest

from tasks import PrioritySortTask


def test_encode_matches_the_drawing():
    bits = np.array([[1, 0], [0, 1], [1, 1]])[:, None, :]  # (n, B, V)
    priorities = np.array([[-0.5], [0.8], [0.2]])  # (n, B)
    task = PrioritySortTask(vector_size=2, num_inputs=3, num_outputs=2)

    batch = task.encode(bits, priorities)

    # columns: bit 0, bit 1, priority, delimiter
    expected_inputs = [
        [1, 0, -0.5, 0],
        [0, 1, 0.8, 0],
        [1, 1, 0.2, 0],
        [0, 0, 0, 1],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
    ]
    expected_targets = [[0, 0], [0, 0], [0, 0], [0, 0], [0, 1], [1, 1]]
    np.testing.assert_array_equal(batch.inputs[:, 0], expected_inputs)
    np.testing.assert_array_equal(batch.targets[:, 0], expected_targets)
    np.testing.assert_array_equal(batch.mask[:, 0], [0, 0, 0, 0, 1, 1])


def test_outputs_are_the_best_vectors_highest_first():
    task = PrioritySortTask()
    batch = task.sample(np.random.default_rng(0), batch_size=10)

    assert batch.inputs.shape == (20 + 1 + 16, 10, 10)
    for b in range(10):
        pairs = [(batch.inputs[i, b, 8], i) for i in range(20)]
        best = [i for _, i in sorted(pairs, reverse=True)[:16]]
        np.testing.assert_array_equal(batch.targets[21:, b], batch.inputs[best, b, :8])


def test_priorities_are_uniform_on_minus_one_to_one():
    batch = PrioritySortTask().sample(np.random.default_rng(0), batch_size=200)
    priorities = batch.inputs[:20, :, 8]

    assert priorities.min() >= -1.0 and priorities.max() <= 1.0
    assert priorities.min() < -0.99 and priorities.max() > 0.99
    assert abs(priorities.mean()) < 0.03


def test_delimiter_and_mask_positions():
    batch = PrioritySortTask().sample(np.random.default_rng(1), batch_size=3)

    np.testing.assert_array_equal(batch.inputs[20, :, 9], 1.0)
    assert batch.inputs[:, :, 9].sum() == 3
    np.testing.assert_array_equal(batch.inputs[20, :, :9], 0.0)
    np.testing.assert_array_equal(batch.inputs[21:], 0.0)
    np.testing.assert_array_equal(batch.mask[:21], 0.0)
    np.testing.assert_array_equal(batch.mask[21:], 1.0)


def test_length_overrides_num_inputs():
    task = PrioritySortTask(num_inputs=20, num_outputs=4)
    batch = task.sample(np.random.default_rng(0), batch_size=2, length=30)

    assert batch.inputs.shape == (30 + 1 + 4, 2, 10)
    assert task.train_lengths() == range(20, 21)


@pytest.mark.parametrize(
    "sizes, message",
    [
        ({"vector_size": 0}, "vector_size must be >= 1, got 0"),
        ({"num_inputs": 0}, "num_inputs must be >= 1, got 0"),
        ({"num_outputs": 0}, "num_outputs must be >= 1, got 0"),
        ({"num_outputs": 21}, r"num_outputs \(21\) must be <= num_inputs \(20\)"),
    ],
)
def test_bad_sizes_are_rejected(sizes, message):
    with pytest.raises(ValueError, match=message):
        PrioritySortTask(**sizes)


def test_length_below_num_outputs_is_rejected():
    with pytest.raises(
        ValueError, match=r"num_outputs \(16\) must be <= length \(10\)"
    ):
        PrioritySortTask().sample(np.random.default_rng(0), batch_size=1, length=10)
