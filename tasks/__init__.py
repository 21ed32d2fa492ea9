"""Data generators for the five tasks of the Neural Turing Machine paper.

Graves, Wayne and Danihelka (2014), "Neural Turing Machines", section 4
(arXiv:1410.5401). One module per task:

    copy                 CopyTask               4.1  copy a sequence
    repeat-copy          RepeatCopyTask         4.2  copy it R times, then stop
    associative-recall   AssociativeRecallTask  4.3  item after the queried one
    ngrams               NGramsTask             4.4  predict bits of an N-gram
    priority-sort        PrioritySortTask       4.5  best vectors, best first

Every task is a frozen dataclass whose fields are its sizes (defaults and
``paper()`` give the paper's training sizes), with ``input_size``,
``output_size``, ``train_lengths()`` and ``sample(rng, batch_size,
length=None)``. `sample` returns a `Batch` of time-major arrays:

    inputs   (T, B, X)   X = task.input_size
    targets  (T, B, Y)   Y = task.output_size
    mask     (T, B)      1.0 where the output is scored, else 0.0

where T is time steps and B sequences. Shorter sequences are zero-padded at
the end with mask 0. All randomness comes from the ``rng`` argument, so a
seed reproduces a batch exactly. Each module docstring draws its encoding.

>>> import numpy as np
>>> task = make_task("copy", max_length=5)
>>> batch = task.sample(np.random.default_rng(0), batch_size=4, length=5)
>>> batch.inputs.shape, batch.targets.shape, batch.mask.sum(axis=0)
((12, 4, 10), (12, 4, 8), array([5., 5., 5., 5.]))
"""

from dataclasses import fields

from tasks.associative_recall import AssociativeRecallTask
from tasks.batch import Batch, pad_and_stack
from tasks.copy import CopyTask
from tasks.ngrams import NGramsTask
from tasks.priority_sort import PrioritySortTask
from tasks.repeat_copy import RepeatCopyTask

TASKS: dict[str, type] = {
    task.name: task
    for task in (
        CopyTask,
        RepeatCopyTask,
        AssociativeRecallTask,
        NGramsTask,
        PrioritySortTask,
    )
}


def make_task(name, **sizes):
    """Build the task called `name` (a key of `TASKS`) with the given sizes.

    Sizes not given keep the paper's defaults, e.g.
    ``make_task("repeat-copy", max_repeats=5)``.
    """
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose from {', '.join(TASKS)}")

    task = TASKS[name]
    known = [field.name for field in fields(task)]
    for size in sizes:
        if size not in known:
            raise ValueError(
                f"task {name!r} has no size {size!r}; sizes are {', '.join(known)}"
            )
    return task(**sizes)


__all__ = [
    "TASKS",
    "AssociativeRecallTask",
    "Batch",
    "CopyTask",
    "NGramsTask",
    "PrioritySortTask",
    "RepeatCopyTask",
    "make_task",
    "pad_and_stack",
]
