"""Copy task (section 4.1): hand-drawn layout, delimiters, mask, padding."""

import numpy as np
import pytest

from tasks import CopyTask


def test_encode_matches_the_drawing():
    bits = np.array([[1, 0, 1], [0, 1, 1]])

    inputs, targets, mask = CopyTask(vector_size=3).encode(bits)

    # columns: bit 0, bit 1, bit 2, start, end
    expected_inputs = [
        [0, 0, 0, 1, 0],
        [1, 0, 1, 0, 0],
        [0, 1, 1, 0, 0],
        [0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
    ]
    expected_targets = [
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
        [1, 0, 1],
        [0, 1, 1],
    ]
    np.testing.assert_array_equal(inputs, expected_inputs)
    np.testing.assert_array_equal(targets, expected_targets)
    np.testing.assert_array_equal(mask, [0, 0, 0, 0, 1, 1])


def test_length_twenty_takes_42_steps():
    task = CopyTask()
    batch = task.sample(np.random.default_rng(0), batch_size=3, length=20)
    v = task.vector_size

    assert batch.inputs.shape == (42, 3, 10)
    assert batch.targets.shape == (42, 3, 8)
    np.testing.assert_array_equal(batch.inputs[0, :, v], 1.0)
    np.testing.assert_array_equal(batch.inputs[21, :, v + 1], 1.0)
    assert batch.inputs[:, :, v].sum() == 3
    assert batch.inputs[:, :, v + 1].sum() == 3
    np.testing.assert_array_equal(batch.targets[22:], batch.inputs[1:21, :, :v])
    np.testing.assert_array_equal(batch.inputs[22:], 0.0)
    np.testing.assert_array_equal(batch.mask[:22], 0.0)
    np.testing.assert_array_equal(batch.mask[22:], 1.0)


def test_mixed_lengths_are_padded_at_the_end():
    task = CopyTask(vector_size=4, min_length=1, max_length=6)
    batch = task.sample(np.random.default_rng(3), batch_size=40)
    lengths = batch.mask.sum(axis=0).astype(int)

    assert len(set(lengths)) > 1
    assert batch.inputs.shape[0] == 2 * lengths.max() + 2
    for b, n in enumerate(lengths):
        assert batch.inputs[n + 1, b, 5] == 1.0
        np.testing.assert_array_equal(
            batch.targets[n + 2 : 2 * n + 2, b], batch.inputs[1 : n + 1, b, :4]
        )
        np.testing.assert_array_equal(batch.mask[n + 2 : 2 * n + 2, b], 1.0)
        np.testing.assert_array_equal(batch.inputs[2 * n + 2 :, b], 0.0)
        np.testing.assert_array_equal(batch.mask[2 * n + 2 :, b], 0.0)


def test_lengths_cover_the_trained_range():
    task = CopyTask(min_length=2, max_length=4)
    batch = task.sample(np.random.default_rng(0), batch_size=200)

    assert set(batch.mask.sum(axis=0).astype(int)) == {2, 3, 4}
    assert task.train_lengths() == range(2, 5)


def test_bits_are_fair_coins():
    batch = CopyTask().sample(np.random.default_rng(0), batch_size=50, length=20)

    assert set(np.unique(batch.inputs)) == {0.0, 1.0}
    assert abs(batch.targets[22:].mean() - 0.5) < 0.02


@pytest.mark.parametrize(
    "sizes, message",
    [
        ({"min_length": 0}, "min_length must be >= 1, got 0"),
        ({"max_length": 0}, "max_length must be >= 1, got 0"),
        ({"vector_size": 0}, "vector_size must be >= 1, got 0"),
        ({"min_length": 5, "max_length": 3}, r"min_length \(5\) must be <= max_length"),
    ],
)
def test_bad_sizes_are_rejected(sizes, message):
    with pytest.raises(ValueError, match=message):
        CopyTask(**sizes)


def test_blank_rate_blanks_whole_vectors_in_inputs_and_targets():
    task = CopyTask(vector_size=4, max_length=6)
    data = slice(0, 4)

    plain = task.sample(np.random.default_rng(2), 50)
    again = task.sample(np.random.default_rng(2), 50, blank_rate=0.0)
    for a, b in zip(plain, again):
        np.testing.assert_array_equal(a, b)

    # every data vector is blank; delimiters and mask are unchanged
    blank = task.sample(np.random.default_rng(2), 50, blank_rate=1.0)
    assert not blank.inputs[:, :, data].any()
    assert not blank.targets.any()
    np.testing.assert_array_equal(blank.inputs[:, :, 4:], plain.inputs[:, :, 4:])
    np.testing.assert_array_equal(blank.mask, plain.mask)


def test_blank_rate_blanks_about_that_share_of_vectors():
    task = CopyTask(vector_size=8, min_length=10, max_length=10)
    batch = task.sample(np.random.default_rng(5), 400, blank_rate=0.1)
    vectors = batch.inputs[1:11, :, :8]  # (10, 400, 8)

    # a vector is blank if blanked, or if all 8 of its bits came out 0
    share = np.mean(~vectors.any(axis=-1))
    assert share == pytest.approx(0.1 + 0.9 / 256, abs=0.015)


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_blank_rate_out_of_range_is_rejected(rate):
    with pytest.raises(ValueError, match=r"^blank_rate must be in \[0, 1\]"):
        CopyTask().sample(np.random.default_rng(0), 2, blank_rate=rate)
