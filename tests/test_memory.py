"""Reading and writing, Eq. (2)-(4): hand-worked cases and head order."""

import itertools

import autograd
import autograd.numpy as anp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from diffmem.memory import read, retention, write

EXACT = 1e-15
"""Float64 rounding of a few multiplications and additions of numbers <= 10."""

REORDERED = 1e-13
"""Reordering the write heads reorders a product and a sum, which changes the
result only by rounding (a few ulps per head)."""


def one_hot(size, index):
    vector = np.zeros(size)
    vector[index] = 1.0
    return vector


def random_memory(seed=0, shape=(2, 5, 3)):
    return np.random.default_rng(seed).normal(size=shape)


# read, Eq. (2)


def test_read_with_a_one_hot_weighting_returns_that_row():
    memory = random_memory()  # (B=2, N=5, M=3)
    weights = np.array([[one_hot(5, 3), one_hot(5, 0)]])  # (R=1, B=2, N=5)
    reads = read(memory, weights)  # (B, R, M)
    np.testing.assert_array_equal(reads[0, 0], memory[0, 3])
    np.testing.assert_array_equal(reads[1, 0], memory[1, 0])


def test_read_is_the_weighted_sum_of_rows():
    memory = np.array([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]])  # (1, 3, 2)
    weights = np.array([[[0.5, 0.5, 0.0]], [[0.2, 0.0, 0.8]]])  # (R=2, 1, 3)
    reads = read(memory, weights)
    np.testing.assert_allclose(reads, [[[2.0, 3.0], [4.2, 5.2]]], atol=EXACT)


# write, Eq. (3)-(4)


def test_full_erase_then_add_writes_exactly_a_into_the_row():
    memory = random_memory()
    weights = one_hot(5, 2)[None, None, :] * np.ones((1, 2, 1))  # (W=1, B=2, N)
    erase = np.ones((1, 2, 3))
    add = np.array([[[0.3, -0.7, 0.9], [-1.0, 0.0, 0.5]]])
    new_memory = write(memory, weights, erase, add)
    np.testing.assert_array_equal(new_memory[:, 2], add[0])
    untouched = [0, 1, 3, 4]
    np.testing.assert_array_equal(new_memory[:, untouched], memory[:, untouched])


def test_erase_zero_and_add_zero_keep_memory():
    memory = random_memory()
    rng = np.random.default_rng(1)
    weights = rng.dirichlet(np.ones(5), size=(2, 2))  # (W=2, B=2, N=5)
    zeros = np.zeros((2, 2, 3))
    np.testing.assert_array_equal(write(memory, weights, zeros, zeros), memory)


def test_write_matches_a_hand_computation():
    memory = np.array([[[1.0, 2.0], [3.0, 4.0]]])  # (1, 2, 2)
    weights = np.array([[[0.5, 0.5]]])
    erase = np.array([[[1.0, 0.0]]])  # erase column 0 only
    add = np.array([[[0.0, 1.0]]])
    # row 0: [1 * (1 - 0.5), 2] + [0, 0.5]; row 1: [3 * 0.5, 4] + [0, 0.5]
    expected = [[[0.5, 2.5], [1.5, 4.5]]]
    np.testing.assert_allclose(write(memory, weights, erase, add), expected, atol=EXACT)


def test_erases_of_two_heads_multiply_and_adds_sum():
    memory = np.full((1, 2, 1), 8.0)
    weights = np.array([[[1.0, 0.0]], [[0.5, 0.5]]])  # (W=2, B=1, N=2)
    erase = np.array([[[0.5]], [[0.5]]])
    add = np.array([[[1.0]], [[-2.0]]])
    # row 0: 8 (1 - 0.5)(1 - 0.25) + 1 - 1 = 3; row 1: 8 (1 - 0.25) - 1 = 5
    expected = [[[3.0], [5.0]]]
    np.testing.assert_allclose(write(memory, weights, erase, add), expected, atol=EXACT)


def test_retention_is_the_product_over_heads():
    rng = np.random.default_rng(2)
    weights = rng.dirichlet(np.ones(4), size=(3, 2))  # (W=3, B=2, N=4)
    erase = rng.uniform(size=(3, 2, 5))  # (W, B, M)
    expected = np.ones((2, 4, 5))
    for k in range(3):
        for b in range(2):
            expected[b] *= 1.0 - np.outer(weights[k, b], erase[k, b])
    np.testing.assert_allclose(retention(weights, erase), expected, atol=EXACT)


def test_write_with_no_write_heads_keeps_memory():
    memory = random_memory()
    empty = np.zeros((0, 2, 5))
    np.testing.assert_array_equal(
        write(memory, empty, np.zeros((0, 2, 3)), np.zeros((0, 2, 3))), memory
    )


def test_permuting_write_heads_gives_the_same_memory():
    rng = np.random.default_rng(3)
    W, B, N, M = 3, 2, 6, 4
    memory = rng.normal(size=(B, N, M))
    weights = rng.dirichlet(np.ones(N), size=(W, B))
    erase = rng.uniform(size=(W, B, M))
    add = rng.uniform(-1, 1, size=(W, B, M))
    expected = write(memory, weights, erase, add)
    for order in itertools.permutations(range(W)):
        order = list(order)
        permuted = write(memory, weights[order], erase[order], add[order])
        np.testing.assert_allclose(permuted, expected, rtol=0, atol=REORDERED)


def test_complete_erase_has_a_finite_gradient():
    memory = random_memory(shape=(1, 3, 2))
    weights = np.array([[one_hot(3, 1)], [one_hot(3, 1)]])  # both heads on row 1
    add = np.zeros((2, 1, 2))

    def total(erase):
        return anp.sum(write(memory, weights, erase, add))

    gradient = autograd.grad(total)(np.ones((2, 1, 2)))
    assert np.all(np.isfinite(gradient))
    # d/de_1 of sum_j M(1, j)(1 - e_1j)(1 - e_2j) is -M(1, j)(1 - e_2j) = 0 here
    np.testing.assert_array_equal(gradient, np.zeros((2, 1, 2)))


@settings(max_examples=40, deadline=None)
@given(data=st.data(), W=st.integers(1, 3), N=st.integers(1, 5), M=st.integers(1, 3))
def test_retention_is_a_fraction_and_adds_are_bounded(data, W, N, M):
    """With weights and erases in [0, 1], every entry keeps a fraction in [0, 1]
    of itself, and W adds in [-1, 1] move it by at most W on top of that."""
    unit = st.floats(0.0, 1.0)
    memory = data.draw(arrays(np.float64, (1, N, M), elements=st.floats(-1.0, 1.0)))
    raw = data.draw(arrays(np.float64, (W, 1, N), elements=unit))
    weights = raw / np.maximum(raw.sum(axis=-1, keepdims=True), 1.0)
    erase = data.draw(arrays(np.float64, (W, 1, M), elements=unit))
    add = data.draw(arrays(np.float64, (W, 1, M), elements=st.floats(-1.0, 1.0)))
    new_memory = write(memory, weights, erase, add)
    kept = retention(weights, erase)
    assert np.all((kept >= 0.0) & (kept <= 1.0))
    assert np.all(np.abs(new_memory - memory * kept) <= W + EXACT)
