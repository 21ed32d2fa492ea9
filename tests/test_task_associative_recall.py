"""Associative recall task (section 4.3): layout, query choice, answers."""

import numpy as np
import pytest

from tasks import AssociativeRecallTask


def test_encode_matches_the_drawing():
    items = np.array([[[1, 0], [0, 1]], [[1, 1], [1, 0]]])
    task = AssociativeRecallTask(item_length=2, vector_size=2)

    inputs, targets, mask = task.encode(items, query=0)

    # columns: bit 0, bit 1, item delimiter, query delimiter
    expected_inputs = [
        [0, 0, 1, 0],
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 1, 0],
        [1, 1, 0, 0],
        [1, 0, 0, 0],
        [0, 0, 0, 1],
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 0, 1],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
    ]
    expected_targets = np.zeros((12, 2))
    expected_targets[10:] = [[1, 1], [1, 0]]
    np.testing.assert_array_equal(inputs, expected_inputs)
    np.testing.assert_array_equal(targets, expected_targets)
    np.testing.assert_array_equal(mask, [0] * 10 + [1, 1])


def test_paper_sizes_give_32_steps_for_six_items():
    task = AssociativeRecallTask.paper()
    batch = task.sample(np.random.default_rng(0), batch_size=3, length=6)

    assert batch.inputs.shape == (32, 3, 8)
    assert batch.targets.shape == (32, 3, 6)
    np.testing.assert_array_equal(batch.mask[29:], 1.0)
    assert batch.mask.sum() == 9


def test_target_is_the_item_after_the_query():
    k, v = 3, 6
    task = AssociativeRecallTask(item_length=k, vector_size=v, max_items=5)
    batch = task.sample(np.random.default_rng(2), batch_size=30)

    for b in range(30):
        delimiters = np.flatnonzero(batch.inputs[:, b, v])
        n = len(delimiters)
        np.testing.assert_array_equal(delimiters, np.arange(n) * (k + 1))
        items = [batch.inputs[d + 1 : d + 1 + k, b, :v] for d in delimiters]
        start = n * (k + 1)
        np.testing.assert_array_equal(
            np.flatnonzero(batch.inputs[:, b, v + 1]), [start, start + k + 1]
        )
        query = batch.inputs[start + 1 : start + 1 + k, b, :v]
        answer = batch.targets[start + k + 2 : start + 2 * k + 2, b]
        followers = [
            items[i + 1] for i in range(n - 1) if np.array_equal(items[i], query)
        ]
        assert any(np.array_equal(answer, item) for item in followers)
        assert batch.mask[:, b].sum() == k
        np.testing.assert_array_equal(
            batch.mask[start + k + 2 : start + 2 * k + 2, b], 1
        )


def test_query_is_never_the_last_item():
    task = AssociativeRecallTask(item_length=1, vector_size=12)
    asked = []
    rng = np.random.default_rng(4)
    for _ in range(60):
        batch = task.sample(rng, batch_size=1, length=3)
        items = batch.inputs[[1, 3, 5], 0, :12]
        query = batch.inputs[7, 0, :12]
        asked += [i for i in range(3) if np.array_equal(items[i], query)]

    assert set(asked) == {0, 1}


def test_mixed_item_counts_are_padded():
    task = AssociativeRecallTask(item_length=2, vector_size=3, min_items=2, max_items=5)
    batch = task.sample(np.random.default_rng(1), batch_size=40)
    counts = batch.inputs[:, :, 3].sum(axis=0).astype(int)

    assert set(counts) == {2, 3, 4, 5}
    assert batch.inputs.shape[0] == 5 * 3 + 2 * 2 + 2
    for b, n in enumerate(counts):
        end = n * 3 + 2 * 2 + 2
        np.testing.assert_array_equal(batch.mask[end - 2 : end, b], 1.0)
        np.testing.assert_array_equal(batch.mask[end:, b], 0.0)
        np.testing.assert_array_equal(batch.inputs[end:, b], 0.0)


@pytest.mark.parametrize(
    "sizes, message",
    [
        ({"min_items": 1}, "min_items must be >= 2, got 1"),
        ({"max_items": 1}, "max_items must be >= 2, got 1"),
        ({"item_length": 0}, "item_length must be >= 1, got 0"),
        ({"vector_size": 0}, "vector_size must be >= 1, got 0"),
        ({"min_items": 5, "max_items": 3}, r"min_items \(5\) must be <= max_items"),
    ],
)
def test_bad_sizes_are_rejected(sizes, message):
    with pytest.raises(ValueError, match=message):
        AssociativeRecallTask(**sizes)


def test_sample_needs_two_items():
    with pytest.raises(ValueError, match="^length must be >= 2, got 1$"):
        AssociativeRecallTask().sample(np.random.default_rng(0), 1, length=1)
