"""Addressing, Eq. (5)-(9): hand-worked cases, invariants and safe corners."""

import itertools

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from diffmem.addressing import (
    NORM_EPSILON,
    address,
    circular_shift,
    content_weights,
    cosine_similarity,
    interpolate,
    sharpen,
    shift_offsets,
    softmax,
)

EXACT = 1e-15
"""Float64 rounding of a handful of multiplications and additions."""

SHARPEN_IDENTITY = 1e-12
"""gamma = 1 gives (w + 1e-20) / sum(w + 1e-20) through a log and an exp, so it
equals w up to a few ulps of each step, well under 1e-12."""

COSINE_TOLERANCE = 1e-7
"""NORM_EPSILON = 1e-8 is added to each squared norm, which moves the cosine of
vectors of norm >= 1 by at most about 1e-8; 1e-7 leaves a margin."""

SUM_TO_ONE = 1e-12
"""A weighting sums to 1 up to the rounding of N additions and a division."""

EXAMPLES = 60
"""Hypothesis examples per property: enough variety, a second or two each."""


def one_hot(size, index):
    vector = np.zeros(size)
    vector[index] = 1.0
    return vector


def shift_weighting(shift_range, offset):
    """A one-hot s over offsets -S..S that puts all mass on `offset`."""
    return one_hot(2 * shift_range + 1, offset + shift_range)


# circular shift, Eq. (8)


def test_shift_offsets_run_from_minus_s_to_s():
    assert list(shift_offsets(2)) == [-2, -1, 0, 1, 2]
    assert list(shift_offsets(0)) == [0]


def test_shift_by_plus_one_moves_each_weight_one_row_down():
    gated = np.array([0.5, 0.2, 0.1, 0.0, 0.2])
    shifted = circular_shift(gated, shift_weighting(1, +1))
    np.testing.assert_array_equal(shifted, [0.2, 0.5, 0.2, 0.1, 0.0])


def test_shift_by_minus_one_moves_each_weight_one_row_up():
    gated = np.array([0.5, 0.2, 0.1, 0.0, 0.2])
    shifted = circular_shift(gated, shift_weighting(1, -1))
    np.testing.assert_array_equal(shifted, [0.2, 0.1, 0.0, 0.2, 0.5])


def test_shift_wraps_around():
    last = one_hot(4, 3)
    np.testing.assert_array_equal(
        circular_shift(last, shift_weighting(1, +1)), one_hot(4, 0)
    )
    first = one_hot(4, 0)
    np.testing.assert_array_equal(
        circular_shift(first, shift_weighting(1, -1)), one_hot(4, 3)
    )


def test_shift_by_zero_is_the_identity():
    gated = np.array([0.5, 0.2, 0.1, 0.0, 0.2])
    np.testing.assert_array_equal(circular_shift(gated, shift_weighting(2, 0)), gated)


def test_shift_range_zero_is_the_identity():
    gated = np.array([[0.6, 0.3, 0.1], [0.0, 0.0, 1.0]])
    s = np.ones((2, 1))  # S = 0: the only offset is 0
    np.testing.assert_array_equal(circular_shift(gated, s), gated)


def test_shift_by_plus_two_wraps_the_last_two_rows():
    gated = np.array([0.1, 0.2, 0.3, 0.0, 0.4])
    shifted = circular_shift(gated, shift_weighting(2, +2))
    np.testing.assert_array_equal(shifted, [0.0, 0.4, 0.1, 0.2, 0.3])


def test_shift_mixture_spreads_a_one_hot_weighting():
    gated = one_hot(5, 2)
    s = np.array([0.25, 0.5, 0.25])  # offsets -1, 0, +1
    shifted = circular_shift(gated, s)
    np.testing.assert_allclose(shifted, [0.0, 0.25, 0.5, 0.25, 0.0], atol=EXACT)


def test_shift_applies_each_rows_own_shift_weighting():
    gated = np.array([one_hot(4, 1), one_hot(4, 1)])  # (B=2, N=4)
    s = np.array([shift_weighting(1, -1), shift_weighting(1, +1)])  # (2, 3)
    np.testing.assert_array_equal(
        circular_shift(gated, s), [one_hot(4, 0), one_hot(4, 2)]
    )


# sharpening, Eq. (9)


def test_sharpen_with_gamma_one_is_the_identity():
    shifted = np.array([[0.1, 0.2, 0.3, 0.4], [0.97, 0.01, 0.01, 0.01]])
    sharpened = sharpen(shifted, np.ones(2))
    np.testing.assert_allclose(sharpened, shifted, rtol=0, atol=SHARPEN_IDENTITY)


def test_sharpen_with_gamma_two_squares_and_renormalises():
    shifted = np.array([0.5, 0.25, 0.25])
    # 0.25, 0.0625, 0.0625 over their sum 0.375
    expected = [2 / 3, 1 / 6, 1 / 6]
    np.testing.assert_allclose(sharpen(shifted, np.array(2.0)), expected, atol=EXACT)


def test_larger_gamma_concentrates_mass_on_the_maximum():
    shifted = np.array([0.1, 0.35, 0.3, 0.25])
    peaks = [sharpen(shifted, np.array(gamma))[1] for gamma in (1.0, 2.0, 5.0, 50.0)]
    assert peaks[0] == pytest.approx(0.35)
    assert all(later > earlier for earlier, later in itertools.pairwise(peaks))
    assert peaks[-1] > 0.999


def test_sharpen_keeps_exact_zeros_at_zero_and_finite():
    shifted = np.array([0.0, 0.7, 0.0, 0.3])
    sharpened = sharpen(shifted, np.array(3.0))
    assert np.all(np.isfinite(sharpened))
    assert sharpened[0] < 1e-40 and sharpened[2] < 1e-40
    np.testing.assert_allclose(sharpened[[1, 3]], np.array([343, 27]) / 370, atol=EXACT)


# interpolation, Eq. (7)


def test_interpolation_gate_one_gives_content_and_zero_gives_previous():
    content = np.array([[0.7, 0.2, 0.1], [0.7, 0.2, 0.1], [0.7, 0.2, 0.1]])
    w_prev = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    gated = interpolate(content, w_prev, np.array([1.0, 0.0, 0.25]))
    np.testing.assert_array_equal(gated[0], content[0])
    np.testing.assert_array_equal(gated[1], w_prev[1])
    np.testing.assert_allclose(gated[2], [0.175, 0.05, 0.775], atol=EXACT)


# content weights, Eq. (5)


def test_content_weights_with_beta_zero_are_uniform():
    similarity = np.array([[0.9, -0.5, 0.1, 0.0, 0.3]])
    np.testing.assert_allclose(
        content_weights(similarity, np.zeros(1)), np.full((1, 5), 0.2), atol=EXACT
    )


def test_content_weights_are_a_softmax_of_beta_times_similarity():
    similarity = np.array([1.0, 0.0, -1.0])
    beta = np.array(2.0)
    expected = np.exp([2.0, 0.0, -2.0]) / np.sum(np.exp([2.0, 0.0, -2.0]))
    np.testing.assert_allclose(content_weights(similarity, beta), expected, atol=EXACT)


def test_softmax_of_huge_inputs_is_finite():
    weights = softmax(np.array([1000.0, 0.0, -1000.0]))
    np.testing.assert_array_equal(weights, [1.0, 0.0, 0.0])


# cosine similarity, Eq. (6)


def test_cosine_similarity_of_parallel_antiparallel_and_orthogonal_vectors():
    key = np.array([[1.0, 2.0, 0.0]])  # (B=1, M=3)
    memory = np.array(
        [
            [
                [2.0, 4.0, 0.0],  # parallel
                [-1.0, -2.0, 0.0],  # antiparallel
                [-2.0, 1.0, 5.0],
            ]
        ]
    )  # orthogonal
    similarity = cosine_similarity(memory, key)
    np.testing.assert_allclose(similarity, [[1.0, -1.0, 0.0]], atol=COSINE_TOLERANCE)


def test_cosine_similarity_matches_a_hand_value():
    key = np.array([[1.0, 0.0]])
    memory = np.array([[[1.0, 1.0], [3.0, 4.0]]])
    similarity = cosine_similarity(memory, key)
    np.testing.assert_allclose(
        similarity, [[1 / np.sqrt(2), 3 / 5]], atol=COSINE_TOLERANCE
    )


def test_cosine_similarity_of_zero_rows_and_zero_keys_is_zero():
    memory = np.array([[[0.0, 0.0], [1.0, -2.0]]])  # row 0 is zero
    keys = np.array([[[0.0, 0.0]], [[3.0, 1.0]]])  # (2 heads, B=1, M=2)
    similarity = cosine_similarity(memory, keys)
    assert np.all(np.isfinite(similarity))
    np.testing.assert_array_equal(similarity[0], [[0.0, 0.0]])  # zero key
    assert similarity[1, 0, 0] == 0.0  # zero row
    np.testing.assert_allclose(
        similarity[1, 0, 1], 1 / np.sqrt(50), atol=COSINE_TOLERANCE
    )


def test_cosine_similarity_has_a_finite_gradient_at_zero():
    memory = np.zeros((1, 3, 2))

    def total(key):
        return anp.sum(cosine_similarity(memory, key))

    gradient = autograd.grad(total)(np.zeros((1, 2)))
    assert np.all(np.isfinite(gradient))


def test_cosine_similarity_stays_within_one():
    rng = np.random.default_rng(0)
    memory = rng.normal(size=(2, 7, 3)) * 1e3
    similarity = cosine_similarity(memory, memory[:, 4, :])  # key = row 4
    assert np.all(np.abs(similarity) <= 1.0)
    np.testing.assert_allclose(similarity[:, 4], 1.0, atol=NORM_EPSILON)


# the whole pipeline, Eq. (5)-(9)


def reference_address(memory, w_prev, key, beta, g, s, gamma):
    """Eq. (5)-(9) for one head and one sequence, in loops of plain numpy."""
    N = memory.shape[0]
    S = (len(s) - 1) // 2
    key_norm = np.sqrt(key @ key + NORM_EPSILON)
    similarity = np.array(
        [key @ row / (key_norm * np.sqrt(row @ row + NORM_EPSILON)) for row in memory]
    )
    content = np.exp(beta * similarity) / np.sum(np.exp(beta * similarity))
    gated = g * content + (1 - g) * w_prev
    shifted = np.array(
        [sum(gated[(i - j) % N] * s[j + S] for j in range(-S, S + 1)) for i in range(N)]
    )
    powered = shifted**gamma
    return powered / powered.sum()


def test_address_matches_a_loop_implementation_of_the_paper():
    rng = np.random.default_rng(3)
    K, B, N, M, S = 2, 3, 7, 4, 2
    memory = rng.normal(size=(B, N, M))
    w_prev = softmax(rng.normal(size=(K, B, N)))
    key = rng.normal(size=(K, B, M))
    beta = rng.uniform(0, 5, size=(K, B))
    g = rng.uniform(0, 1, size=(K, B))
    s = softmax(rng.normal(size=(K, B, 2 * S + 1)))
    gamma = rng.uniform(1, 4, size=(K, B))

    weights = address(memory, w_prev, key, beta, g, s, gamma).weights
    for k in range(K):
        for b in range(B):
            expected = reference_address(
                memory[b],
                w_prev[k, b],
                key[k, b],
                beta[k, b],
                g[k, b],
                s[k, b],
                gamma[k, b],
            )
            np.testing.assert_allclose(weights[k, b], expected, rtol=1e-10, atol=EXACT)


def test_huge_beta_gives_exact_zeros_with_finite_gradients():
    memory = np.array([[[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.5, 0.5]]])
    w_prev = np.full((1, 1, 4), 0.25)
    key = np.array([[[1.0, 0.0]]])
    s = np.array([[[0.0, 1.0, 0.0]]])

    def addressing(beta):
        beta = anp.reshape(beta, (1, 1))
        return address(
            memory, w_prev, key, beta, np.ones((1, 1)), s, 2.0 * np.ones((1, 1))
        )

    result = addressing(np.array(1e4))
    # exp(-1e4) underflows: content and shifted weights are exactly 0 off row 0
    np.testing.assert_array_equal(result.content[0, 0], [1.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(result.shifted[0, 0], [1.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(result.weights[0, 0], [1.0, 0.0, 0.0, 0.0], atol=EXACT)

    def first_weight(beta):
        return addressing(beta).weights[0, 0, 0]

    def spread(beta):
        return anp.sum(addressing(beta).weights[0, 0, 1:] ** 2)

    for function in (first_weight, spread):
        assert np.isfinite(autograd.grad(function)(np.array(1e4)))


def check_is_weighting(weights):
    assert np.all(np.isfinite(weights))
    assert np.all(weights >= 0.0)
    np.testing.assert_allclose(np.sum(weights, axis=-1), 1.0, atol=SUM_TO_ONE)


def test_every_stage_is_a_weighting_for_random_inputs():
    rng = np.random.default_rng(7)
    K, B, N, M, S = 3, 4, 8, 5, 3
    for _ in range(20):
        result = address(
            rng.normal(size=(B, N, M)),
            softmax(3 * rng.normal(size=(K, B, N))),
            rng.normal(size=(K, B, M)),
            rng.exponential(10.0, size=(K, B)),
            rng.uniform(0, 1, size=(K, B)),
            softmax(3 * rng.normal(size=(K, B, 2 * S + 1))),
            1 + rng.exponential(10.0, size=(K, B)),
        )
        for stage in (result.content, result.gated, result.shifted, result.weights):
            check_is_weighting(stage)


def distributions(shape):
    """Hypothesis strategy: non-negative arrays of `shape`, each last-axis row
    normalised to sum to 1 (all-zero rows become uniform)."""
    raw = arrays(np.float64, shape, elements=st.floats(0.0, 1.0))

    def normalise(x):
        total = x.sum(axis=-1, keepdims=True)
        uniform = np.full_like(x, 1.0 / shape[-1])
        return np.where(total > 0, x / np.where(total > 0, total, 1.0), uniform)

    return raw.map(normalise)


@settings(max_examples=EXAMPLES, deadline=None)
@given(data=st.data(), N=st.integers(1, 8), M=st.integers(1, 4), B=st.integers(1, 3))
def test_address_always_returns_a_weighting(data, N, M, B):
    S = data.draw(st.integers(0, (N - 1) // 2))
    values = st.floats(-10.0, 10.0)
    memory = data.draw(arrays(np.float64, (B, N, M), elements=values))
    key = data.draw(arrays(np.float64, (B, M), elements=values))
    w_prev = data.draw(distributions((B, N)))
    s = data.draw(distributions((B, 2 * S + 1)))
    beta = data.draw(arrays(np.float64, (B,), elements=st.floats(0.0, 1e3)))
    g = data.draw(arrays(np.float64, (B,), elements=st.floats(0.0, 1.0)))
    gamma = data.draw(arrays(np.float64, (B,), elements=st.floats(1.0, 50.0)))

    result = address(memory, w_prev, key, beta, g, s, gamma)
    assert np.all(np.abs(result.similarity) <= 1.0)
    for stage in (result.content, result.gated, result.shifted, result.weights):
        check_is_weighting(stage)


@settings(max_examples=EXAMPLES, deadline=None)
@given(data=st.data(), N=st.integers(1, 9))
def test_one_hot_shift_rolls_any_weighting(data, N):
    S = data.draw(st.integers(0, (N - 1) // 2))
    offset = data.draw(st.integers(-S, S))
    gated = data.draw(distributions((N,)))
    shifted = circular_shift(gated, shift_weighting(S, offset))
    expected = [gated[(i - offset) % N] for i in range(N)]  # Eq. (8), one-hot s
    np.testing.assert_array_equal(shifted, expected)
