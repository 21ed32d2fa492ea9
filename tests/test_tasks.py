"""Checks shared by every task: the registry, `Batch`, padding, validation."""

import doctest

import numpy as np
import pytest

import tasks
from tasks import (
    TASKS,
    AssociativeRecallTask,
    Batch,
    CopyTask,
    NGramsTask,
    PrioritySortTask,
    RepeatCopyTask,
    make_task,
    pad_and_stack,
)

SMALL = {
    "copy": CopyTask(vector_size=3, min_length=1, max_length=5),
    "repeat-copy": RepeatCopyTask(vector_size=3, max_length=4, max_repeats=3),
    "associative-recall": AssociativeRecallTask(item_length=2, vector_size=3),
    "ngrams": NGramsTask(order=3, sequence_length=30),
    "priority-sort": PrioritySortTask(vector_size=3, num_inputs=6, num_outputs=4),
}


def test_registry_lists_the_five_tasks_in_paper_order():
    assert list(TASKS) == [
        "copy",
        "repeat-copy",
        "associative-recall",
        "ngrams",
        "priority-sort",
    ]
    assert TASKS["repeat-copy"] is RepeatCopyTask
    assert all(TASKS[name].name == name for name in TASKS)


def test_make_task_passes_sizes():
    assert make_task("copy", max_length=5) == CopyTask(8, 1, 5)
    assert make_task("ngrams") == NGramsTask(order=6, sequence_length=200)


def test_make_task_rejects_unknown_name():
    with pytest.raises(ValueError) as info:
        make_task("xyz")
    assert str(info.value) == (
        "unknown task 'xyz'; choose from copy, repeat-copy, associative-recall, "
        "ngrams, priority-sort"
    )


def test_make_task_rejects_unknown_size():
    with pytest.raises(ValueError, match="task 'copy' has no size 'repeats'"):
        make_task("copy", repeats=3)


def test_paper_sizes():
    assert CopyTask.paper() == CopyTask(8, 1, 20)
    assert RepeatCopyTask.paper() == RepeatCopyTask(8, 1, 10, 1, 10)
    assert AssociativeRecallTask.paper() == AssociativeRecallTask(3, 6, 2, 6)
    assert NGramsTask.paper() == NGramsTask(6, 200)
    assert PrioritySortTask.paper() == PrioritySortTask(8, 20, 16)


def test_tasks_are_frozen():
    with pytest.raises(AttributeError):
        CopyTask().max_length = 3


@pytest.mark.parametrize("name", list(SMALL))
def test_sample_shapes_and_types(name):
    task = SMALL[name]
    batch = task.sample(np.random.default_rng(0), batch_size=5)
    t = batch.mask.shape[0]

    assert isinstance(batch, Batch)
    assert batch.inputs.shape == (t, 5, task.input_size)
    assert batch.targets.shape == (t, 5, task.output_size)
    assert batch.mask.shape == (t, 5)
    for array in batch:
        assert array.dtype == np.float64
    assert set(np.unique(batch.mask)) <= {0.0, 1.0}
    assert batch.mask.sum(axis=0).min() >= 1


@pytest.mark.parametrize("name", list(SMALL))
def test_targets_are_zero_where_not_scored(name):
    batch = SMALL[name].sample(np.random.default_rng(1), batch_size=8)

    assert np.all(batch.targets[batch.mask == 0.0] == 0.0)


@pytest.mark.parametrize("name", list(SMALL))
def test_same_seed_same_batch(name):
    task = SMALL[name]
    first = task.sample(np.random.default_rng(7), batch_size=6)
    np.random.seed(123)  # the global state must not matter
    second = task.sample(np.random.default_rng(7), batch_size=6)
    other = task.sample(np.random.default_rng(8), batch_size=6)

    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert first.inputs.shape != other.inputs.shape or not np.array_equal(
        first.inputs, other.inputs
    )


@pytest.mark.parametrize("name", list(SMALL))
def test_sample_rejects_bad_batch_size(name):
    with pytest.raises(ValueError, match="^batch_size must be >= 1, got 0$"):
        SMALL[name].sample(np.random.default_rng(0), batch_size=0)


@pytest.mark.parametrize("name", list(SMALL))
def test_sample_rejects_bad_length(name):
    with pytest.raises(ValueError, match="^length must be >= [0-9]+, got 0$"):
        SMALL[name].sample(np.random.default_rng(0), batch_size=2, length=0)


@pytest.mark.parametrize("name", list(SMALL))
def test_sizes_must_be_integers(name):
    first_field = {
        "copy": "vector_size",
        "repeat-copy": "vector_size",
        "associative-recall": "item_length",
        "ngrams": "order",
        "priority-sort": "vector_size",
    }[name]
    with pytest.raises(TypeError, match=f"^{first_field} must be an integer, got 2.5$"):
        make_task(name, **{first_field: 2.5})


@pytest.mark.parametrize("name", list(SMALL))
def test_sample_at_fixed_length_beyond_training(name):
    task = SMALL[name]
    longest = max(task.train_lengths())
    longer = task.sample(np.random.default_rng(0), batch_size=2, length=2 * longest)
    trained = task.sample(np.random.default_rng(0), batch_size=2, length=longest)

    assert longer.inputs.shape[0] > trained.inputs.shape[0]


@pytest.mark.parametrize("name", list(SMALL))
def test_one_size_gives_every_sequence_of_a_batch_the_same_size(name):
    task = SMALL[name]
    rng = np.random.default_rng(3)
    drawn = set()
    for _ in range(60):
        sizes = task.one_size(rng)
        drawn.add(tuple(sorted(sizes.items())))
        batch = task.sample(rng, batch_size=5, **sizes)

        # no padding: every sequence is scored up to the last step
        assert np.all(batch.mask[-1] == 1.0)
        assert np.all(batch.mask == batch.mask[:, :1])

    # every size of the trained range turns up, and nothing else
    lengths = {dict(size).get("length") for size in drawn}
    if name in ("ngrams", "priority-sort"):
        assert drawn == {()}
    else:
        assert lengths == set(task.train_lengths())
    if name == "repeat-copy":
        counts = {dict(size)["repeats"] for size in drawn}
        assert counts == set(task.train_repeats())


def test_pad_and_stack_pads_at_the_end():
    short = (np.ones((2, 3)), np.full((2, 1), 2.0), np.array([0.0, 1.0]))
    long = (np.ones((4, 3)), np.full((4, 1), 3.0), np.array([0.0, 1.0, 1.0, 1.0]))

    batch = pad_and_stack([short, long])

    assert batch.inputs.shape == (4, 2, 3)
    np.testing.assert_array_equal(batch.inputs[:, 0, 0], [1, 1, 0, 0])
    np.testing.assert_array_equal(batch.targets[:, 0, 0], [2, 2, 0, 0])
    np.testing.assert_array_equal(batch.mask[:, 0], [0, 1, 0, 0])
    np.testing.assert_array_equal(batch.targets[:, 1, 0], [3, 3, 3, 3])
    np.testing.assert_array_equal(batch.mask[:, 1], [0, 1, 1, 1])


def test_pad_and_stack_rejects_bad_input():
    with pytest.raises(ValueError, match="at least one sequence"):
        pad_and_stack([])
    good = (np.ones((2, 3)), np.ones((2, 1)), np.ones(2))
    wide = (np.ones((2, 4)), np.ones((2, 1)), np.ones(2))
    with pytest.raises(ValueError, match="sequence 1 has 4 input"):
        pad_and_stack([good, wide])
    short_mask = (np.ones((2, 3)), np.ones((2, 1)), np.ones(1))
    with pytest.raises(ValueError, match="1 mask steps"):
        pad_and_stack([short_mask])


def test_package_docstring_example():
    result = doctest.testmod(tasks)
    assert result.attempted > 0
    assert result.failed == 0
