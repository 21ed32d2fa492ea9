"""The cost in bits per sequence and the bit-error count."""

import autograd
import numpy as np
import pytest

from diffmem.loss import bit_errors, cost_bits

EXACT = 1e-12
"""A handful of logs and exps of numbers of order 1 agree to rounding."""


def test_cost_bits_matches_a_hand_computation():
    logits = np.array([[[0.0, 2.0]], [[-1.0, 3.0]]])  # (T=2, B=1, Y=2)
    targets = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])
    mask = np.ones((2, 1))
    sigmoid = 1 / (1 + np.exp(-logits))
    # -log2 p for target 1, -log2 (1 - p) for target 0
    expected = (
        -np.log2(sigmoid[0, 0, 0])  # = 1 bit exactly
        - np.log2(1 - sigmoid[0, 0, 1])
        - np.log2(1 - sigmoid[1, 0, 0])
        - np.log2(sigmoid[1, 0, 1])
    )
    assert -np.log2(sigmoid[0, 0, 0]) == 1.0
    assert cost_bits(logits, targets, mask) == pytest.approx(expected, rel=EXACT)


def test_cost_bits_averages_over_the_batch():
    logits = np.zeros((3, 2, 4))  # every output is 0.5: one bit per output
    targets = np.ones((3, 2, 4))
    mask = np.ones((3, 2))
    assert cost_bits(logits, targets, mask) == pytest.approx(12.0, rel=EXACT)
    mask[:, 1] = 0.0  # sequence 1 scores nothing; still divided by B = 2
    assert cost_bits(logits, targets, mask) == pytest.approx(6.0, rel=EXACT)


def test_masked_steps_contribute_nothing():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(5, 2, 3))
    targets = (rng.random((5, 2, 3)) > 0.5).astype(float)
    mask = np.ones((5, 2))
    mask[3:, 0] = 0.0
    mask[:2, 1] = 0.0
    expected = cost_bits(logits, targets, mask)

    changed_logits, changed_targets = logits.copy(), targets.copy()
    changed_logits[3:, 0] = 1000.0
    changed_logits[:2, 1] = -1000.0
    changed_targets[mask == 0] = 1.0 - changed_targets[mask == 0]
    assert cost_bits(changed_logits, changed_targets, mask) == expected

    gradient = autograd.grad(cost_bits)(logits, targets, mask)
    np.testing.assert_array_equal(gradient[mask == 0], 0.0)


def test_cost_bits_gradient_is_sigmoid_minus_target():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(4, 3, 2))
    targets = (rng.random((4, 3, 2)) > 0.5).astype(float)
    mask = np.ones((4, 3))
    gradient = autograd.grad(cost_bits)(logits, targets, mask)
    expected = (1 / (1 + np.exp(-logits)) - targets) / (3 * np.log(2))
    np.testing.assert_allclose(gradient, expected, rtol=EXACT)


def test_extreme_logits_give_finite_loss_and_gradient():
    logits = np.array([[[1000.0, -1000.0, 1000.0, -1000.0]]])
    targets = np.array([[[1.0, 0.0, 0.0, 1.0]]])  # right, right, wrong, wrong
    mask = np.ones((1, 1))
    cost = cost_bits(logits, targets, mask)
    # the right answers cost 0 bits, each wrong one 1000 / ln 2
    assert cost == pytest.approx(2000 / np.log(2), rel=EXACT)
    gradient = autograd.grad(cost_bits)(logits, targets, mask)
    assert np.all(np.isfinite(gradient))
    np.testing.assert_allclose(
        gradient[0, 0], np.array([0, 0, 1, -1]) / np.log(2), atol=EXACT
    )


def test_bit_errors_counts_wrong_bits_per_sequence():
    logits = np.array(
        [[[2.0, -1.0], [0.5, 0.5]], [[-3.0, 4.0], [-0.1, -0.2]]]
    )  # (T=2, B=2, Y=2)
    targets = np.array([[[1.0, 1.0], [0.0, 1.0]], [[0.0, 1.0], [1.0, 1.0]]])
    # wrong: (0,0,1), (0,1,0), (1,1,0), (1,1,1): 4 over B = 2 sequences
    assert bit_errors(logits, targets, np.ones((2, 2))) == 2.0
    mask = np.array([[1.0, 1.0], [1.0, 0.0]])  # drops the last two
    assert bit_errors(logits, targets, mask) == 1.0


def test_bit_errors_is_zero_for_perfect_predictions():
    targets = (np.random.default_rng(2).random((4, 3, 5)) > 0.5).astype(float)
    logits = 6.0 * (2 * targets - 1)
    assert bit_errors(logits, targets, np.ones((4, 3))) == 0.0
    assert bit_errors(-logits, targets, np.ones((4, 3))) == targets.size / 3
