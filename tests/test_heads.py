"""Heads: the raw controller outputs squashed into valid addressing parameters."""

import numpy as np
import pytest

from diffmem.activations import sigmoid, softplus
from diffmem.heads import erase_and_add, head_parameters, head_width

EXACT = 1e-15
"""Float64 rounding of one squashing function of a number of order 1."""

SIGMOID_ABSOLUTE = 1e-15
"""sigmoid is computed as (1 + tanh(x / 2)) / 2, exact to rounding in absolute
terms but not relatively in its far negative tail (1e-13 carries a relative
error near 1e-4 at x = -30), which is harmless for gates in [0, 1]."""


def head_params(K, W, H, M, S, scale, seed=0):
    """Random head and erase/add parameters; `scale` pushes the raw outputs far
    into the flat ends of the squashing functions."""
    rng = np.random.default_rng(seed)
    P = head_width(M, S)
    return {
        "head_weights": scale * rng.normal(size=(K, H, P)),
        "head_bias": scale * rng.normal(size=(K, P)),
        "erase_weights": scale * rng.normal(size=(W, H, M)),
        "erase_bias": scale * rng.normal(size=(W, M)),
        "add_weights": scale * rng.normal(size=(W, H, M)),
        "add_bias": scale * rng.normal(size=(W, M)),
    }


def test_head_width_counts_key_beta_gate_shift_and_gamma():
    assert head_width(20, 1) == 20 + 1 + 1 + 3 + 1
    assert head_width(4, 0) == 4 + 1 + 1 + 1 + 1


@pytest.mark.parametrize("scale", [1.0, 100.0])
@pytest.mark.parametrize("K, S", [(1, 0), (2, 1), (3, 2), (4, 3)])
def test_head_parameters_have_their_shapes_and_ranges(K, S, scale):
    B, H, M = 3, 5, 4
    params = head_params(K, 1, H, M, S, scale)
    hidden = np.random.default_rng(1).uniform(-1, 1, size=(B, H))
    heads = head_parameters(params, hidden, M)

    assert heads.key.shape == (K, B, M)
    assert heads.shift.shape == (K, B, 2 * S + 1)
    assert heads.raw.shape == (K, B, head_width(M, S))
    for scalar in (heads.beta, heads.gate, heads.gamma):
        assert scalar.shape == (K, B)

    arrays = (heads.key, heads.beta, heads.gate, heads.shift, heads.gamma)
    assert all(np.all(np.isfinite(array)) for array in arrays)
    assert np.all(np.abs(heads.key) <= 1.0)
    assert np.all(heads.beta >= 0.0)
    assert np.all((heads.gate >= 0.0) & (heads.gate <= 1.0))
    assert np.all(heads.shift >= 0.0)
    np.testing.assert_allclose(heads.shift.sum(axis=-1), 1.0, atol=1e-12)
    assert np.all(heads.gamma >= 1.0)


def test_head_parameters_squash_each_column_by_hand():
    M = 2  # and S = 1, so P = M + 2S + 4 = 8
    raw = np.array([0.5, -2.0, 1.5, 0.0, 1.0, 0.0, -1.0, 3.0])
    params = {"head_weights": np.zeros((1, 3, 8)), "head_bias": raw[None, :]}
    heads = head_parameters(params, np.ones((1, 3)), M)

    np.testing.assert_allclose(heads.key[0, 0], np.tanh([0.5, -2.0]), atol=EXACT)
    assert heads.beta[0, 0] == pytest.approx(np.log(1 + np.exp(1.5)), abs=EXACT)
    assert heads.gate[0, 0] == pytest.approx(0.5, abs=EXACT)
    shift = np.exp([1.0, 0.0, -1.0]) / np.sum(np.exp([1.0, 0.0, -1.0]))
    np.testing.assert_allclose(heads.shift[0, 0], shift, atol=EXACT)
    assert heads.gamma[0, 0] == pytest.approx(1 + np.log(1 + np.exp(3.0)), abs=EXACT)


def test_each_head_uses_its_own_row_of_parameters():
    params = head_params(3, 1, 4, 3, 1, 1.0)
    hidden = np.random.default_rng(2).normal(size=(2, 4))
    before = head_parameters(params, hidden, 3)
    params["head_weights"][1] += 1.0
    after = head_parameters(params, hidden, 3)
    np.testing.assert_array_equal(after.raw[[0, 2]], before.raw[[0, 2]])
    assert not np.allclose(after.raw[1], before.raw[1])


@pytest.mark.parametrize("scale", [1.0, 100.0])
@pytest.mark.parametrize("W", [0, 1, 3])
def test_erase_and_add_have_their_shapes_and_ranges(W, scale):
    B, H, M = 2, 5, 4
    params = head_params(1, W, H, M, 1, scale)
    hidden = np.random.default_rng(3).uniform(-1, 1, size=(B, H))
    erase, add = erase_and_add(params, hidden)
    assert erase.shape == add.shape == (W, B, M)
    assert np.all((erase >= 0.0) & (erase <= 1.0))
    assert np.all((add >= -1.0) & (add <= 1.0))


def test_erase_and_add_squash_by_hand():
    params = {
        "erase_weights": np.zeros((1, 2, 2)),
        "erase_bias": np.array([[0.0, 2.0]]),
        "add_weights": np.zeros((1, 2, 2)),
        "add_bias": np.array([[0.5, -1.0]]),
    }
    erase, add = erase_and_add(params, np.ones((1, 2)))
    np.testing.assert_allclose(erase[0, 0], [0.5, 1 / (1 + np.exp(-2.0))], atol=EXACT)
    np.testing.assert_allclose(add[0, 0], np.tanh([0.5, -1.0]), atol=EXACT)


def test_squashing_functions_do_not_overflow():
    x = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    with np.errstate(over="raise"):
        s = sigmoid(x)
        p = softplus(x)
    np.testing.assert_allclose(
        s,
        [0.0, 1 / (1 + np.exp(30.0)), 0.5, 1 / (1 + np.exp(-30.0)), 1.0],
        rtol=0,
        atol=SIGMOID_ABSOLUTE,
    )
    np.testing.assert_allclose(
        p,
        [
            0.0,
            np.log1p(np.exp(-30.0)),
            np.log(2.0),
            30.0 + np.log1p(np.exp(-30.0)),
            1000.0,
        ],
        rtol=1e-12,
    )
