"""Autograd gradients of the whole model against finite differences, and the
numerical safety of the loss and its gradient in extreme corners.

Every parameter of every configuration is checked; a large parameter is
checked on a fixed random sample of its entries (`ENTRIES_PER_PARAM`).
"""

import numpy as np
import pytest

from diffmem import forward, loss, loss_and_gradients
from diffmem.numerical import (
    FD_TOLERANCE,
    finite_difference_gradients,
    relative_error,
    sample_indices,
)

ENTRIES_PER_PARAM = 64
"""Entries checked per parameter; smaller parameters are checked in full."""

MEMORY_SEED = 11
"""Seed of the Generator drawing the "random" initial memory, fresh for every
evaluation of the loss so that all of them see the same memory."""

# name, config overrides, sequence lengths (None: every step scored)
GRADIENT_CASES = [
    (
        "feedforward-2-layers-constant-mixed-lengths",
        {
            "controller_layers": 2,
            "read_heads": 2,
            "write_heads": 2,
            "shift_range": 2,
            "memory_init": "constant",
        },
        [5, 3],
    ),
    (
        "lstm-learned-memory",
        {
            "controller": "lstm",
            "controller_layers": 1,
            "read_heads": 2,
            "write_heads": 2,
            "shift_range": 2,
            "memory_init": "learned",
        },
        None,
    ),
    (
        "feedforward-1-layer-random-memory",
        {"controller_layers": 1, "memory_init": "random"},
        None,
    ),
    (
        "lstm-random-memory-mixed-lengths",
        {
            "controller": "lstm",
            "controller_layers": 1,
            "read_heads": 1,
            "write_heads": 2,
            "shift_range": 1,
            "memory_init": "random",
        },
        [2, 5],
    ),
    (
        "feedforward-zero-memory-no-read-heads",
        {
            "controller_layers": 2,
            "read_heads": 0,
            "write_heads": 1,
            "shift_range": 0,
            "memory_init": "constant",
            "memory_init_value": 0.0,
        },
        None,
    ),
    (
        "feedforward-3-layers-learned-no-write-heads",
        {
            "controller_layers": 3,
            "read_heads": 2,
            "write_heads": 0,
            "memory_init": "learned",
            "memory_size": 8,
            "word_size": 3,
        },
        [4, 5],
    ),
]


def memory_rng():
    return np.random.default_rng(MEMORY_SEED)


@pytest.mark.parametrize(
    "overrides, lengths",
    [case[1:] for case in GRADIENT_CASES],
    ids=[case[0] for case in GRADIENT_CASES],
)
def test_autograd_matches_finite_differences_on_every_parameter(
    small_config, noisy_params, random_batch, overrides, lengths
):
    config = small_config(**overrides)
    params = noisy_params(config, seed=3)
    inputs, targets, mask = random_batch(
        config, steps=5, batch_size=2, lengths=lengths, seed=4
    )

    result = loss_and_gradients(params, config, inputs, targets, mask, memory_rng())
    assert result.gradients.keys() == params.keys()

    def loss_fn(p):
        return loss(p, config, inputs, targets, mask, memory_rng())

    sampler = np.random.default_rng(0)
    indices = {
        name: sample_indices(value.shape, ENTRIES_PER_PARAM, sampler)
        for name, value in params.items()
    }
    estimates = finite_difference_gradients(loss_fn, params, indices)

    for name, value in params.items():
        gradient = result.gradients[name]
        assert gradient.shape == value.shape, name
        chosen = indices[name]
        assert len(chosen) == min(value.size, ENTRIES_PER_PARAM), name
        got = gradient.reshape(-1)[chosen]
        want = estimates[name].reshape(-1)[chosen]
        errors = relative_error(got, want)
        worst = int(np.argmax(errors)) if errors.size else 0
        assert np.all(errors < FD_TOLERANCE), (
            f"{name}[{chosen[worst]}]: autograd {got[worst]:.10g}, "
            f"finite differences {want[worst]:.10g}, relative error "
            f"{errors[worst]:.2e} > {FD_TOLERANCE}"
        )


def test_gradient_check_notices_a_wrong_gradient(
    small_config, noisy_params, random_batch
):
    """The control for the test above: an entry of a gradient that is off by
    1% is caught, so the tolerance is not so loose that anything passes."""
    config = small_config(controller_layers=1)
    params = noisy_params(config)
    inputs, targets, mask = random_batch(config)
    gradient = (
        loss_and_gradients(params, config, inputs, targets, mask)
        .gradients["head_bias"]
        .reshape(-1)
    )
    largest = int(np.argmax(np.abs(gradient)))
    indices = {name: np.array([], dtype=int) for name in params}
    indices["head_bias"] = np.array([largest])
    estimate = finite_difference_gradients(
        lambda p: loss(p, config, inputs, targets, mask), params, indices
    )["head_bias"].reshape(-1)[largest]
    assert relative_error(gradient[largest], estimate) < FD_TOLERANCE
    assert relative_error(1.01 * gradient[largest], estimate) > FD_TOLERANCE


def test_loss_and_gradients_agree_with_loss_and_forward(
    small_config, noisy_params, random_batch
):
    config = small_config(controller="lstm", controller_layers=1, memory_init="random")
    params = noisy_params(config)
    inputs, targets, mask = random_batch(config, lengths=[5, 2])
    result = loss_and_gradients(params, config, inputs, targets, mask, memory_rng())
    assert isinstance(result.loss, float)
    assert result.loss == loss(params, config, inputs, targets, mask, memory_rng())
    np.testing.assert_array_equal(
        result.logits, forward(params, config, inputs, memory_rng())
    )


def test_unknown_backend_is_rejected(small_config, noisy_params, random_batch):
    config = small_config()
    inputs, targets, mask = random_batch(config)
    with pytest.raises(ValueError, match="backend"):
        loss_and_gradients(
            noisy_params(config), config, inputs, targets, mask, backend="symbolic"
        )


# numerical safety


def check_finite(result):
    assert np.isfinite(result.loss)
    for name, gradient in result.gradients.items():
        assert np.all(np.isfinite(gradient)), name


def test_extreme_logits_give_finite_loss_and_gradients(
    small_config, noisy_params, random_batch
):
    config = small_config()
    params = noisy_params(config)
    params["output_weights"] *= 1e4
    inputs, targets, mask = random_batch(config)
    result = loss_and_gradients(params, config, inputs, targets, mask)
    assert np.max(np.abs(result.logits)) > 1000.0  # the corner was reached
    check_finite(result)


def test_zero_memory_and_zero_keys_give_finite_loss_and_gradients(
    small_config, noisy_params, random_batch
):
    config = small_config(
        memory_init="constant", memory_init_value=0.0, read_heads=2, write_heads=1
    )
    params = noisy_params(config)
    M = config.word_size
    params["head_weights"][:, :, :M] = 0.0  # key = tanh(0) = 0
    params["head_bias"][:, :M] = 0.0
    inputs, targets, mask = random_batch(config)

    _, records = forward(params, config, inputs, record=True)
    np.testing.assert_array_equal(records[0].previous.memory, 0.0)
    np.testing.assert_array_equal(records[0].heads.key, 0.0)
    np.testing.assert_array_equal(records[0].addressing.similarity, 0.0)
    check_finite(loss_and_gradients(params, config, inputs, targets, mask))


def test_exactly_zero_weights_give_finite_loss_and_gradients(
    small_config, noisy_params, random_batch
):
    config = small_config(memory_init="learned", shift_range=1)
    params = noisy_params(config, noise=1.0)
    M, S = config.word_size, config.shift_range
    params["head_bias"][:, M] = 1e4  # beta about 1e4: exp(-beta) underflows
    params["head_bias"][:, M + 1] = 100.0  # g = 1: content weights only
    params["head_bias"][:, M + 2 + S] = 1000.0  # shift exactly by 0
    inputs, targets, mask = random_batch(config)

    _, records = forward(params, config, inputs, record=True)
    assert np.any(records[0].addressing.content == 0.0)
    assert np.any(records[0].addressing.shifted == 0.0)
    check_finite(loss_and_gradients(params, config, inputs, targets, mask))


@pytest.mark.slow
def test_a_thousand_step_sequence_gives_finite_loss_and_gradients(
    small_config, noisy_params
):
    config = small_config(
        memory_size=5,
        word_size=3,
        hidden_size=4,
        controller_layers=1,
        input_size=2,
        output_size=2,
    )
    params = noisy_params(config)
    rng = np.random.default_rng(8)
    T = 1000
    inputs = (rng.random((T, 1, 2)) < 0.5).astype(float)
    targets = np.roll(inputs, 1, axis=0)
    mask = np.ones((T, 1))
    result = loss_and_gradients(params, config, inputs, targets, mask)
    check_finite(result)
    assert result.logits.shape == (T, 1, 2)
