"""Repeat copy task (section 4.2): layout, end marker, count normalisation."""

import math

import numpy as np
import pytest

from tasks import RepeatCopyTask

# mean and std of a count uniform on 1..10: 5.5 and sqrt(99 / 12)
PAPER_STD = math.sqrt(8.25)


def test_count_is_standardised_over_the_training_range():
    task = RepeatCopyTask.paper()

    assert task.normalise_repeats(1) == pytest.approx(-4.5 / PAPER_STD)
    assert task.normalise_repeats(10) == pytest.approx(1.5667, abs=1e-4)
    assert task.normalise_repeats(20) == pytest.approx(5.0482, abs=1e-4)
    trained = task.normalise_repeats(np.arange(1, 11))
    assert trained.mean() == pytest.approx(0.0)
    assert trained.var() == pytest.approx(1.0)


def test_count_normalisation_depends_on_the_range_not_the_batch():
    narrow = RepeatCopyTask(min_repeats=2, max_repeats=3)

    assert narrow.normalise_repeats(2) == pytest.approx(-1.0)
    assert narrow.normalise_repeats(7) == pytest.approx(9.0)
    assert RepeatCopyTask(min_repeats=3, max_repeats=3).normalise_repeats(4) == 1.0


def test_encode_matches_the_drawing():
    bits = np.array([[1, 0], [1, 1]])
    r = (2 - 5.5) / PAPER_STD

    inputs, targets, mask = RepeatCopyTask(vector_size=2).encode(bits, 2)

    # input columns: bit 0, bit 1, start, count; target: bit 0, bit 1, end
    expected_inputs = [
        [0, 0, 1, 0],
        [1, 0, 0, 0],
        [1, 1, 0, 0],
        [0, 0, 0, r],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
    ]
    expected_targets = [
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
        [1, 0, 0],
        [1, 1, 0],
        [1, 0, 0],
        [1, 1, 0],
        [0, 0, 1],
    ]
    np.testing.assert_allclose(inputs, expected_inputs)
    np.testing.assert_array_equal(targets, expected_targets)
    np.testing.assert_array_equal(mask, [0, 0, 0, 0, 1, 1, 1, 1, 1])


def test_fixed_length_and_repeats():
    task = RepeatCopyTask()
    batch = task.sample(np.random.default_rng(0), batch_size=4, length=3, repeats=4)
    bits = batch.inputs[1:4, :, :8]  # (L, B, V)

    assert batch.inputs.shape == (3 + 3 + 12, 4, 10)
    assert batch.targets.shape == (18, 4, 9)
    np.testing.assert_array_equal(batch.inputs[0, :, 8], 1.0)
    np.testing.assert_allclose(batch.inputs[4, :, 9], (4 - 5.5) / PAPER_STD)
    for k in range(4):
        np.testing.assert_array_equal(batch.targets[5 + 3 * k : 8 + 3 * k, :, :8], bits)
    np.testing.assert_array_equal(batch.targets[:17, :, 8], 0.0)
    np.testing.assert_array_equal(batch.targets[17, :, 8], 1.0)
    np.testing.assert_array_equal(batch.targets[17, :, :8], 0.0)
    np.testing.assert_array_equal(batch.mask[:5], 0.0)
    np.testing.assert_array_equal(batch.mask[5:], 1.0)


def test_repeats_beyond_training_fall_outside_the_trained_values():
    batch = RepeatCopyTask().sample(
        np.random.default_rng(0), batch_size=2, length=2, repeats=20
    )

    np.testing.assert_allclose(batch.inputs[3, :, 9], 14.5 / PAPER_STD)
    assert batch.mask.sum(axis=0).tolist() == [41.0, 41.0]


def test_mixed_lengths_and_repeats():
    task = RepeatCopyTask(vector_size=3, max_length=4, max_repeats=4)
    batch = task.sample(np.random.default_rng(5), batch_size=40)
    count_step, b_index = np.nonzero(batch.inputs[:, :, 4])
    lengths = count_step[np.argsort(b_index)] - 1  # count sits at step L + 1
    scored = batch.mask.sum(axis=0).astype(int)

    assert len(set(lengths)) > 1
    for b, n in enumerate(lengths):
        r = (scored[b] - 1) // n
        assert scored[b] == r * n + 1
        assert 1 <= r <= 4
        assert batch.inputs[n + 1, b, 4] == pytest.approx(task.normalise_repeats(r))
        end = n + 2 + r * n
        assert batch.targets[end, b, 3] == 1.0
        assert batch.targets[:, b, 3].sum() == 1.0
        np.testing.assert_array_equal(batch.mask[n + 2 : end + 1, b], 1.0)
        np.testing.assert_array_equal(batch.mask[end + 1 :, b], 0.0)
        np.testing.assert_array_equal(batch.inputs[n + 2 :, b], 0.0)


@pytest.mark.parametrize(
    "sizes, message",
    [
        ({"min_length": 0}, "min_length must be >= 1, got 0"),
        ({"min_repeats": 0}, "min_repeats must be >= 1, got 0"),
        ({"max_repeats": 0}, "max_repeats must be >= 1, got 0"),
        ({"min_repeats": 4, "max_repeats": 2}, r"min_repeats \(4\) must be <="),
        ({"min_length": 9, "max_length": 2}, r"min_length \(9\) must be <="),
    ],
)
def test_bad_sizes_are_rejected(sizes, message):
    with pytest.raises(ValueError, match=message):
        RepeatCopyTask(**sizes)


def test_sample_rejects_bad_repeats():
    with pytest.raises(ValueError, match="^repeats must be >= 1, got 0$"):
        RepeatCopyTask().sample(np.random.default_rng(0), batch_size=1, repeats=0)


def test_blank_rate_blanks_whole_vectors_in_inputs_and_every_copy():
    task = RepeatCopyTask(vector_size=4, max_length=5, max_repeats=3)
    data = slice(0, 4)

    plain = task.sample(np.random.default_rng(2), 50)
    again = task.sample(np.random.default_rng(2), 50, blank_rate=0.0)
    for a, b in zip(plain, again):
        np.testing.assert_array_equal(a, b)

    # every data step of the input is blank, yet the mask, the end marker and
    # the count are unchanged, and the copies are blank too
    blank = task.sample(np.random.default_rng(2), 50, blank_rate=1.0)
    assert not blank.inputs[:, :, data].any()
    assert not blank.targets[:, :, data].any()
    assert blank.targets[:, :, 4].sum() == 50
    np.testing.assert_array_equal(blank.inputs[:, :, 4:], plain.inputs[:, :, 4:])


def test_blank_rate_blanks_about_that_share_of_vectors():
    task = RepeatCopyTask(vector_size=8, min_length=10, max_length=10)
    batch = task.sample(np.random.default_rng(5), 400, blank_rate=0.25)
    vectors = batch.inputs[1:11, :, :8]  # (10, 400, 8)

    share = np.mean(~vectors.any(axis=-1))
    assert share == pytest.approx(0.25 + 0.75 / 256, abs=0.02)


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_blank_rate_out_of_range_is_rejected(rate):
    with pytest.raises(ValueError, match=r"^blank_rate must be in \[0, 1\]"):
        RepeatCopyTask().sample(np.random.default_rng(0), 2, blank_rate=rate)
