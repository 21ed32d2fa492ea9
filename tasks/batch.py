"""The `Batch` every task returns, and small helpers shared by the tasks.

A batch is time-major: T time steps, B sequences, X input channels and Y
output channels. Sequences shorter than T are zero-padded at the end, where
the mask is 0, so a loss summed over ``mask * per_step_loss`` ignores both the
padding and the steps whose outputs are not scored (the input phase).

The helpers turn bad sizes into a one-line `ValueError` that names the field,
the value received and the requirement, e.g. ``min_length must be >= 1, got 0``.
"""

from typing import NamedTuple

import numpy as np


class Batch(NamedTuple):
    """One batch of sequences, time-major and zero-padded at the end.

    Attributes
    ----------
    inputs : (T, B, X) float64
        What the model sees at each step.
    targets : (T, B, Y) float64
        What the model should emit; 0 wherever the mask is 0.
    mask : (T, B) float64
        1.0 at the steps whose outputs are scored, 0.0 elsewhere (including
        padding).
    """

    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray


def pad_and_stack(sequences):
    """Stack single sequences into a `Batch`, zero-padding them at the end.

    Parameters
    ----------
    sequences : list of (inputs (T_i, X), targets (T_i, Y), mask (T_i,))
        One triple per sequence; T_i may differ between sequences.

    Returns
    -------
    Batch
        With T = max T_i; the steps past T_i are 0 in all three arrays.
    """
    if len(sequences) == 0:
        raise ValueError("sequences must hold at least one sequence, got none")

    steps = [len(inputs) for inputs, _, _ in sequences]
    x = sequences[0][0].shape[1]
    y = sequences[0][1].shape[1]
    for i, (inputs, targets, mask) in enumerate(sequences):
        if inputs.shape[1] != x or targets.shape[1] != y:
            raise ValueError(
                f"sequence {i} has {inputs.shape[1]} input and {targets.shape[1]} "
                f"output channels; sequence 0 has {x} and {y}"
            )
        if len(targets) != len(inputs) or len(mask) != len(inputs):
            raise ValueError(
                f"sequence {i} has {len(inputs)} input steps, {len(targets)} "
                f"target steps and {len(mask)} mask steps; they must agree"
            )

    # copy each sequence into the top of its column
    t, b = max(steps), len(sequences)
    batch = Batch(
        inputs=np.zeros((t, b, x)),  # (T, B, X)
        targets=np.zeros((t, b, y)),  # (T, B, Y)
        mask=np.zeros((t, b)),  # (T, B)
    )
    for j, (inputs, targets, mask) in enumerate(sequences):
        batch.inputs[: steps[j], j] = inputs
        batch.targets[: steps[j], j] = targets
        batch.mask[: steps[j], j] = mask
    return batch


def random_vectors(rng, length, vector_size, blank_rate=0.0):
    """`length` random binary vectors, each blanked to all zeros with chance
    `blank_rate` after its bits are drawn.

    Parameters
    ----------
    rng : numpy.random.Generator
    length, vector_size : int
        L vectors of V bits.
    blank_rate : float in [0, 1]
        0 gives the paper's vectors, where a blank one has chance 2^-V.

    Returns
    -------
    bits : (L, V) int array of 0/1
    """
    if not 0.0 <= blank_rate <= 1.0:
        raise ValueError(f"blank_rate must be in [0, 1], got {blank_rate}")
    bits = rng.integers(0, 2, size=(length, vector_size))  # (L, V)
    if blank_rate:
        bits[rng.random(length) < blank_rate] = 0
    return bits


def check_at_least(name, value, minimum):
    """Raise `TypeError` unless `value` is an integer, `ValueError` if < `minimum`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def check_not_above(low_name, low, high_name, high):
    """Raise `ValueError` unless `low <= high`, naming both fields."""
    if low > high:
        raise ValueError(f"{low_name} ({low}) must be <= {high_name} ({high})")


def draw_sizes(rng, batch_size, low, high, fixed=None, name="length", minimum=1):
    """Draw one size per sequence uniformly from ``low..high`` inclusive.

    Parameters
    ----------
    rng : numpy.random.Generator
        The only source of randomness.
    batch_size : int
        Number of sequences B; must be >= 1.
    low, high : int
        The trained range of the size, both ends included.
    fixed : int or None
        If given, every sequence gets this size instead (it may lie outside
        ``low..high``); it must be >= `minimum`.
    name : str
        The argument name used in error messages.
    minimum : int
        The smallest size the task can encode.

    Returns
    -------
    sizes : (B,) int array
    """
    check_at_least("batch_size", batch_size, 1)
    if fixed is not None:
        check_at_least(name, fixed, minimum)
        return np.full(batch_size, fixed)
    return rng.integers(low, high + 1, size=batch_size)
