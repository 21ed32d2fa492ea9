"""The hand-derived backward pass against autograd: each backward function on
its own forward function (so a failure points at one equation), then the whole
loss on every parameter of configurations covering every option, then safe
corners (zero memory, exact 0/1 weights, huge logits, long sequences)."""

import ast
import inspect

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from conftest import make_batch, make_params, make_small_config
from hypothesis import given, settings
from hypothesis import strategies as st

from diffmem import manual_grads
from diffmem.addressing import (
    address,
    circular_shift,
    content_weights,
    cosine_similarity,
    interpolate,
    sharpen,
    softmax,
)
from diffmem.controller import feedforward, lstm
from diffmem.crosscheck import BACKEND_FLOOR, BACKEND_TOLERANCE
from diffmem.gradients import loss_and_gradients
from diffmem.heads import HeadParameters, erase_and_add, head_parameters
from diffmem.loss import cost_bits
from diffmem.memory import read, retention, write
from diffmem.ntm import State, forward, initial_state, step
from diffmem.numerical import relative_error

TOLERANCE = BACKEND_TOLERANCE
"""1e-9 relative: both backends evaluate the same float64 expressions in a
different order, so they may differ by rounding only."""

FLOOR = BACKEND_FLOOR
"""1e-6: entries below it may differ by 1e-15 absolute, a few ulps of the
order-1 terms that a gradient entry sums (diffmem.crosscheck explains)."""

FLOAT32_TOLERANCE = 1e-4
FLOAT32_FLOOR = 1e-2
"""float32 rounds at 6e-8 relative; two summation orders over a few steps
differ by up to about 1e-5 of the largest terms. The floor lets entries below
1e-2 differ by 1e-6 absolute, about ten float32 ulps of an order-1 term."""

MEMORY_SEED = 5
"""Seed of the Generator that draws the "random" initial memory; both
backends get a fresh one so they see the same memory."""


def assert_close(actual, expected, name="", tolerance=TOLERANCE, floor=FLOOR):
    """Every entry within `tolerance` relative (against at least `floor`)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (name, actual.shape, expected.shape)
    if actual.size == 0:
        return
    errors = relative_error(actual, expected, floor)
    worst = np.unravel_index(np.argmax(errors), errors.shape)
    assert np.all(errors <= tolerance), (
        f"{name}: relative error {errors[worst]:.3g} at {worst}: "
        f"manual {actual[worst]!r}, autograd {expected[worst]!r}"
    )


def vjp(function, args, argnum, upstream):
    """sum(upstream * d function(*args) / d args[argnum]), by autograd."""

    def objective(*values):
        return anp.sum(function(*values) * upstream)

    return autograd.grad(objective, argnum)(*args)


def rng_for(seed):
    return np.random.default_rng(seed)


def weightings(rng, shape):
    """Random weightings over the last axis: non-negative, summing to 1."""
    return rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])


# softmax, used by Eq. (5), (9), the shift weighting and the initial weights


def test_softmax_backward_matches_autograd():
    rng = rng_for(0)
    z, dy = rng.normal(size=(3, 2, 7)), rng.normal(size=(3, 2, 7))
    expected = vjp(softmax, (z,), 0, dy)
    assert_close(manual_grads.softmax_backward(softmax(z), dy), expected)


# controller.py


@pytest.mark.parametrize("layers", [1, 3])
def test_backward_feedforward_matches_autograd(small_config, noisy_params, layers):
    config = small_config(controller_layers=layers)
    params = noisy_params(config)
    rng = rng_for(1)
    x = rng.normal(size=(3, config.controller_input_size))  # (B, D)
    dhidden = rng.normal(size=(3, config.hidden_size))

    def objective(x, params):
        return anp.sum(feedforward(params, x).layers[-1] * dhidden)

    expected_dx, expected = autograd.grad(objective, (0, 1))(x, params)
    record = feedforward(params, x)
    result = manual_grads.backward_feedforward(params, record, dhidden)

    assert_close(result.dcontroller_input, expected_dx, "controller_input")
    dpre = result.dpre_activations
    assert_close(x.T @ dpre[0], expected["controller_input_weights"])
    assert_close(dpre[0].sum(axis=0), expected["controller_input_bias"])
    for layer in range(1, layers):
        assert_close(
            record.layers[layer - 1].T @ dpre[layer],
            expected["controller_hidden_weights"][layer - 1],
        )
        assert_close(
            dpre[layer].sum(axis=0), expected["controller_hidden_bias"][layer - 1]
        )


def test_backward_lstm_matches_autograd(small_config, noisy_params):
    config = small_config(controller="lstm", controller_layers=1)
    params = noisy_params(config)
    rng = rng_for(2)
    B, H = 3, config.hidden_size
    x = rng.normal(size=(B, config.controller_input_size))
    hidden_prev, cell_prev = rng.normal(size=(B, H)), rng.normal(size=(B, H))
    dhidden, dcell = rng.normal(size=(B, H)), rng.normal(size=(B, H))

    def objective(x, hidden_prev, cell_prev, params):
        record = lstm(params, x, hidden_prev, cell_prev)
        return anp.sum(record.hidden * dhidden) + anp.sum(record.cell * dcell)

    expected = autograd.grad(objective, (0, 1, 2, 3))(x, hidden_prev, cell_prev, params)
    record = lstm(params, x, hidden_prev, cell_prev)
    result = manual_grads.backward_lstm(params, record, cell_prev, dhidden, dcell)

    assert_close(result.dcontroller_input, expected[0], "controller_input")
    assert_close(result.dhidden_prev, expected[1], "hidden_prev")
    assert_close(result.dcell_prev, expected[2], "cell_prev")
    dpre = result.dpre_activation
    assert_close(x.T @ dpre, expected[3]["lstm_input_weights"])
    assert_close(hidden_prev.T @ dpre, expected[3]["lstm_recurrent_weights"])
    assert_close(dpre.sum(axis=0), expected[3]["lstm_bias"])


# heads.py


@pytest.mark.parametrize("shift_range", [0, 2])
def test_backward_head_parameters_matches_autograd(
    small_config, noisy_params, shift_range
):
    config = small_config(read_heads=2, write_heads=1, shift_range=shift_range)
    params = noisy_params(config, noise=1.0)
    rng = rng_for(3)
    hidden = rng.normal(size=(3, config.hidden_size))
    heads = head_parameters(params, hidden, config.word_size)
    upstream = [rng.normal(size=np.shape(field)) for field in heads[:5]]

    def objective(hidden, params):
        fields = head_parameters(params, hidden, config.word_size)[:5]
        return sum(anp.sum(field * up) for field, up in zip(fields, upstream))

    expected_dhidden, expected = autograd.grad(objective, (0, 1))(hidden, params)
    daddress = manual_grads.AddressGradients(None, None, *upstream)
    dhidden, dhead_raw = manual_grads.backward_head_parameters(params, heads, daddress)

    assert_close(dhidden, expected_dhidden, "hidden")
    assert_close(dhead_raw.sum(axis=1), expected["head_bias"], "head_bias")
    assert_close(
        np.einsum("bh,kbp->khp", hidden, dhead_raw),
        expected["head_weights"],
        "head_weights",
    )


def test_backward_erase_and_add_matches_autograd(small_config, noisy_params):
    config = small_config(write_heads=2)
    params = noisy_params(config, noise=1.0)
    rng = rng_for(4)
    hidden = rng.normal(size=(3, config.hidden_size))
    derase, dadd = rng.normal(size=(2, 2, 3, config.word_size))

    def objective(hidden, params):
        erase, add = erase_and_add(params, hidden)
        return anp.sum(erase * derase) + anp.sum(add * dadd)

    expected_dhidden, expected = autograd.grad(objective, (0, 1))(hidden, params)
    erase, add = erase_and_add(params, hidden)
    dhidden, derase_raw, dadd_raw = manual_grads.backward_erase_and_add(
        params, erase, add, derase, dadd
    )

    assert_close(dhidden, expected_dhidden, "hidden")
    assert_close(derase_raw.sum(axis=1), expected["erase_bias"], "erase_bias")
    assert_close(dadd_raw.sum(axis=1), expected["add_bias"], "add_bias")
    assert_close(
        np.einsum("bh,wbm->whm", hidden, dadd_raw),
        expected["add_weights"],
        "add_weights",
    )


# addressing.py, Eq. (5)-(9)


@pytest.mark.parametrize("zero", [None, "row", "key"])
def test_backward_cosine_similarity_matches_autograd(zero):
    rng = rng_for(5)
    memory, key = rng.normal(size=(2, 6, 4)), rng.normal(size=(3, 2, 4))
    if zero == "row":
        memory[1, 2] = 0.0
    if zero == "key":
        key[0, 1] = 0.0
    dsimilarity = rng.normal(size=(3, 2, 6))

    similarity = cosine_similarity(memory, key)
    dmemory, dkey = manual_grads.backward_cosine_similarity(
        memory, key, similarity, dsimilarity
    )
    assert_close(dmemory, vjp(cosine_similarity, (memory, key), 0, dsimilarity))
    assert_close(dkey, vjp(cosine_similarity, (memory, key), 1, dsimilarity))


def test_backward_content_weights_matches_autograd():
    rng = rng_for(6)
    similarity = rng.uniform(-1, 1, size=(3, 2, 6))
    beta, dcontent = rng.uniform(0, 20, size=(3, 2)), rng.normal(size=(3, 2, 6))

    content = content_weights(similarity, beta)
    dsimilarity, dbeta = manual_grads.backward_content_weights(
        similarity, beta, content, dcontent
    )
    args = (similarity, beta)
    assert_close(dsimilarity, vjp(content_weights, args, 0, dcontent))
    assert_close(dbeta, vjp(content_weights, args, 1, dcontent))


@pytest.mark.parametrize("gate_value", [None, 0.0, 1.0])
def test_backward_interpolate_matches_autograd(gate_value):
    rng = rng_for(7)
    content, w_prev = weightings(rng, (3, 2, 6)), weightings(rng, (3, 2, 6))
    gate = rng.uniform(size=(3, 2))
    if gate_value is not None:  # g exactly 0 or 1
        gate[:] = gate_value
    dgated = rng.normal(size=(3, 2, 6))

    dcontent, dw_prev, dgate = manual_grads.backward_interpolate(
        content, w_prev, gate, dgated
    )
    args = (content, w_prev, gate)
    assert_close(dcontent, vjp(interpolate, args, 0, dgated))
    assert_close(dw_prev, vjp(interpolate, args, 1, dgated))
    assert_close(dgate, vjp(interpolate, args, 2, dgated))


@pytest.mark.parametrize("rows, shift_range", [(1, 0), (6, 0), (6, 1), (5, 2), (7, 2)])
def test_backward_circular_shift_matches_autograd(rows, shift_range):
    rng = rng_for(8)
    gated = weightings(rng, (3, 2, rows))
    shift = weightings(rng, (3, 2, 2 * shift_range + 1))
    dshifted = rng.normal(size=(3, 2, rows))

    dgated, dshift = manual_grads.backward_circular_shift(gated, shift, dshifted)
    assert_close(dgated, vjp(circular_shift, (gated, shift), 0, dshifted))
    assert_close(dshift, vjp(circular_shift, (gated, shift), 1, dshifted))


@pytest.mark.parametrize(
    "gamma_value, zeros", [(None, False), (50.0, False), (1.0, True), (7.5, True)]
)
def test_backward_sharpen_matches_autograd(gamma_value, zeros):
    rng = rng_for(9)
    shifted = weightings(rng, (3, 2, 6))
    if zeros:  # exactly-zero weights, as a one-hot shift of a sparse weighting gives
        shifted[:, :, :2] = 0.0
        shifted /= shifted.sum(axis=-1, keepdims=True)
    gamma = (
        1.0 + rng.exponential(size=(3, 2))
        if gamma_value is None
        else np.full((3, 2), gamma_value)
    )
    dweights = rng.normal(size=(3, 2, 6))

    weights = sharpen(shifted, gamma)
    dshifted, dgamma = manual_grads.backward_sharpen(shifted, gamma, weights, dweights)
    assert np.all(np.isfinite(dshifted)) and np.all(np.isfinite(dgamma))
    assert_close(dshifted, vjp(sharpen, (shifted, gamma), 0, dweights))
    assert_close(dgamma, vjp(sharpen, (shifted, gamma), 1, dweights))


def test_backward_address_matches_autograd():
    rng = rng_for(10)
    K, B, N, M, S = 3, 2, 7, 4, 1
    memory, w_prev = rng.normal(size=(B, N, M)), weightings(rng, (K, B, N))
    key = rng.uniform(-1, 1, size=(K, B, M))
    beta, gate = rng.uniform(0, 10, size=(K, B)), rng.uniform(size=(K, B))
    shift, gamma = weightings(rng, (K, B, 2 * S + 1)), 1 + rng.exponential(size=(K, B))
    dweights = rng.normal(size=(K, B, N))
    args = (memory, w_prev, key, beta, gate, shift, gamma)

    def weights_only(*args):
        return address(*args).weights

    addressing = address(*args)
    heads = HeadParameters(key, beta, gate, shift, gamma, None)
    result = manual_grads.backward_address(memory, w_prev, heads, addressing, dweights)
    for argnum, name in enumerate(
        ("dmemory", "dw_prev", "dkey", "dbeta", "dgate", "dshift", "dgamma")
    ):
        expected = vjp(weights_only, args, argnum, dweights)
        assert_close(getattr(result, name), expected, name)


# memory.py, Eq. (2)-(4)


@pytest.mark.parametrize("read_heads", [0, 1, 3])
def test_backward_read_matches_autograd(read_heads):
    rng = rng_for(11)
    memory, weights = rng.normal(size=(2, 6, 4)), weightings(rng, (read_heads, 2, 6))
    dreads = rng.normal(size=(2, read_heads, 4))

    dmemory, dread_weights = manual_grads.backward_read(memory, weights, dreads)
    assert_close(dmemory, vjp(read, (memory, weights), 0, dreads))
    assert_close(dread_weights, vjp(read, (memory, weights), 1, dreads))


def test_others_product_is_the_product_of_the_other_factors_even_with_zeros():
    rng = rng_for(12)
    factors = rng.uniform(size=(4, 2, 3, 5))
    factors[1, 0, 2] = 0.0  # one complete erase
    factors[3, 1, 0, 1] = 0.0
    others = manual_grads.others_product(factors)
    for head in range(4):
        expected = np.prod(np.delete(factors, head, axis=0), axis=0)
        np.testing.assert_allclose(others[head], expected, rtol=1e-14, atol=0)


@pytest.mark.filterwarnings("ignore:Output seems independent of input")
@pytest.mark.parametrize(
    "write_heads, complete_erase",
    [(0, False), (1, False), (1, True), (3, False), (3, True)],
)
def test_backward_write_matches_autograd(write_heads, complete_erase):
    rng = rng_for(13)
    W, B, N, M = write_heads, 2, 6, 4
    memory, weights = rng.normal(size=(B, N, M)), weightings(rng, (W, B, N))
    erase, add = rng.uniform(size=(W, B, M)), rng.uniform(-1, 1, size=(W, B, M))
    if complete_erase:  # a factor 1 - w e that is exactly 0
        weights[0, 0] = np.eye(N)[2]
        erase[0, 0] = 1.0
    dnew_memory = rng.normal(size=(B, N, M))
    args = (memory, weights, erase, add)

    result = manual_grads.backward_write(*args, dnew_memory)
    for argnum, name in enumerate(("dmemory", "dwrite_weights", "derase", "dadd")):
        expected = vjp(write, args, argnum, dnew_memory)
        assert np.all(np.isfinite(getattr(result, name))), name
        assert_close(getattr(result, name), expected, name)
    if complete_erase:
        np.testing.assert_array_equal(retention(weights, erase)[0, 2], 0.0)


# ntm.py: output layer, loss, initial state and a whole step


def test_backward_output_matches_autograd():
    rng = rng_for(14)
    T, B, I, Y = 4, 3, 7, 2
    output_inputs, dlogits = rng.normal(size=(T, B, I)), rng.normal(size=(T, B, Y))
    params = {
        "output_weights": rng.normal(size=(I, Y)),
        "output_bias": rng.normal(size=Y),
    }

    def logits(output_inputs, weights, bias):
        return output_inputs @ weights + bias

    result = manual_grads.backward_output(params, output_inputs, dlogits)
    args = (output_inputs, params["output_weights"], params["output_bias"])
    for argnum, gradient in enumerate(result):
        assert_close(gradient, vjp(logits, args, argnum, dlogits))


def test_backward_cost_bits_matches_autograd_even_for_huge_logits():
    rng = rng_for(15)
    logits = rng.normal(scale=3.0, size=(4, 3, 2))
    logits[0, 0] = [1000.0, -1000.0]
    targets = (rng.random((4, 3, 2)) < 0.5).astype(float)
    mask = (rng.random((4, 3)) < 0.7).astype(float)

    dlogits = manual_grads.backward_cost_bits(logits, targets, mask)
    expected = autograd.grad(cost_bits)(logits, targets, mask)
    assert np.all(np.isfinite(dlogits))
    assert_close(dlogits, expected)


def test_backward_initial_state_matches_autograd(small_config, noisy_params):
    config = small_config(memory_init="learned", read_heads=2)
    params = noisy_params(config)
    B = 3
    rng = rng_for(16)
    upstream = State(
        *(
            rng.normal(size=np.shape(value)) if value is not None else None
            for value in initial_state(params, config, B)
        )
    )

    def objective(params):
        state = initial_state(params, config, B)
        return sum(
            anp.sum(value * up)
            for value, up in zip(state, upstream)
            if value is not None
        )

    expected = autograd.grad(objective)(params)
    first_weights = initial_state(params, config, B).weights[:, 0]
    result = manual_grads.backward_initial_state(config, first_weights, upstream)
    for name, gradient in result.items():
        assert_close(gradient, expected[name], name)


@pytest.mark.parametrize(
    "overrides",
    [
        {"controller_layers": 2, "read_heads": 2, "write_heads": 2, "shift_range": 2},
        {"controller": "lstm", "controller_layers": 1, "write_heads": 2},
    ],
    ids=["feedforward", "lstm"],
)
def test_backward_step_matches_autograd(small_config, noisy_params, overrides):
    config = small_config(**overrides)
    params = noisy_params(config, noise=0.5)
    B, H = 2, config.hidden_size
    rng = rng_for(17)
    previous = initial_state(params, config, B)
    previous = previous._replace(
        memory=rng.normal(size=previous.memory.shape),
        reads=rng.normal(size=previous.reads.shape),
        weights=weightings(rng, previous.weights.shape),
    )
    if config.controller == "lstm":
        previous = previous._replace(
            hidden=rng.normal(size=(B, H)), cell=rng.normal(size=(B, H))
        )
    x = rng.normal(size=(B, config.input_size))
    record = step(params, config, previous, x)
    dstate = State(
        *(
            None if value is None else rng.normal(size=value.shape)
            for value in record.state
        )
    )
    dlogits = rng.normal(size=record.logits.shape)

    present = [index for index, value in enumerate(previous) if value is not None]

    def objective(params, *values):
        state = list(previous)
        for index, value in zip(present, values):
            state[index] = value
        after = step(params, config, State(*state), x)
        total = anp.sum(after.logits * dlogits)
        for value, up in zip(after.state, dstate):
            if up is not None:
                total = total + anp.sum(value * up)
        return total

    argnums = tuple(range(len(present) + 1))
    expected, *expected_previous = autograd.grad(objective, argnums)(
        params, *(previous[index] for index in present)
    )
    doutput_input = dlogits @ params["output_weights"].T
    dprevious, gradients = manual_grads.backward_step(
        params, config, record, dstate, doutput_input
    )
    for index, value in zip(present, expected_previous):
        assert_close(dprevious[index], value, State._fields[index])
    shared = manual_grads.parameter_gradients(config, [record], [gradients])
    for name, gradient in shared.items():
        assert_close(gradient, expected[name], name)


# the whole loss, every parameter

CASES = {
    "feedforward-1-layer": ({"controller_layers": 1}, None),
    "feedforward-3-layers": ({"controller_layers": 3}, None),
    "lstm": ({"controller": "lstm", "controller_layers": 1}, None),
    "2-read-2-write-heads": ({"read_heads": 2, "write_heads": 2}, None),
    "no-read-heads": ({"read_heads": 0, "write_heads": 2}, None),
    "no-write-heads": ({"read_heads": 2, "write_heads": 0}, None),
    "shift-range-0": ({"shift_range": 0}, None),
    "shift-range-1": ({"shift_range": 1}, None),
    "shift-range-2": ({"shift_range": 2}, None),
    "constant-memory": ({"memory_init": "constant"}, None),
    "learned-memory": ({"memory_init": "learned"}, None),
    "random-memory": ({"memory_init": "random"}, None),
    "zero-memory": ({"memory_init": "constant", "memory_init_value": 0.0}, None),
    "one-memory-row": ({"memory_size": 1, "shift_range": 0}, None),
    "mixed-lengths-with-mask": ({"read_heads": 2}, [6, 2, 4]),
    "lstm-learned-mixed-lengths": (
        {
            "controller": "lstm",
            "controller_layers": 1,
            "memory_init": "learned",
            "write_heads": 2,
        },
        [3, 6],
    ),
}


def both_backends(config, params, inputs, targets, mask):
    """The autograd and manual results, each with a fresh memory Generator."""
    return [
        loss_and_gradients(
            params,
            config,
            inputs,
            targets,
            mask,
            np.random.default_rng(MEMORY_SEED),
            backend=backend,
        )
        for backend in ("autograd", "manual")
    ]


def assert_backends_agree(
    config, params, inputs, targets, mask, tolerance=TOLERANCE, floor=FLOOR
):
    expected, result = both_backends(config, params, inputs, targets, mask)
    assert result.loss == pytest.approx(expected.loss, rel=tolerance)
    np.testing.assert_array_equal(result.logits, expected.logits)
    assert list(result.gradients) == list(params)
    for name, value in params.items():
        gradient = result.gradients[name]
        assert gradient.dtype == value.dtype, name
        assert np.all(np.isfinite(gradient)), name
        assert_close(gradient, expected.gradients[name], name, tolerance, floor)
    return result


@pytest.mark.parametrize("overrides, lengths", list(CASES.values()), ids=list(CASES))
def test_manual_matches_autograd_on_every_parameter(
    small_config, noisy_params, random_batch, overrides, lengths
):
    config = small_config(**overrides)
    params = noisy_params(config, seed=1)
    steps = 6 if lengths is None else max(lengths)
    batch_size = 2 if lengths is None else len(lengths)
    inputs, targets, mask = random_batch(
        config, steps=steps, batch_size=batch_size, lengths=lengths, seed=2
    )
    assert_backends_agree(config, params, inputs, targets, mask)


def test_manual_matches_autograd_with_large_gamma(
    small_config, noisy_params, random_batch
):
    config = small_config(read_heads=2, write_heads=2)
    params = noisy_params(config, seed=3)
    params["head_bias"][:, -1] = 49.0  # gamma = 1 + softplus(49) ~ 50
    inputs, targets, mask = random_batch(config, steps=6, seed=4)

    _, records = forward(params, config, inputs, record=True)
    assert np.all(records[0].heads.gamma > 49.0)
    assert_backends_agree(config, params, inputs, targets, mask)


def test_manual_matches_autograd_with_extreme_logits(
    small_config, noisy_params, random_batch
):
    config = small_config()
    params = noisy_params(config, seed=5)
    params["output_bias"][:] = [1000.0, -1000.0]
    inputs, targets, mask = random_batch(config, steps=6, seed=6)

    result = assert_backends_agree(config, params, inputs, targets, mask)
    assert np.min(np.abs(result.logits)) > 990.0  # the corner was reached


def test_manual_matches_autograd_in_float32(small_config, noisy_params, random_batch):
    config = small_config(
        dtype="float32", controller="lstm", controller_layers=1, write_heads=2
    )
    params = noisy_params(config, seed=7)
    inputs, targets, mask = random_batch(config, steps=6, lengths=[6, 3], seed=8)
    assert_backends_agree(
        config, params, inputs, targets, mask, FLOAT32_TOLERANCE, FLOAT32_FLOOR
    )


def test_manual_matches_autograd_over_a_hundred_steps(
    small_config, noisy_params, random_batch
):
    config = small_config(controller="lstm", controller_layers=1, memory_init="learned")
    params = noisy_params(config, seed=9)
    inputs, targets, mask = random_batch(config, steps=100, batch_size=1, seed=10)
    assert_backends_agree(config, params, inputs, targets, mask)


@settings(max_examples=25, deadline=None)
@given(
    controller=st.sampled_from(["feedforward", "lstm"]),
    layers=st.integers(1, 3),
    heads=st.sampled_from([(0, 1), (1, 0), (1, 1), (2, 1), (1, 2)]),
    rows=st.integers(1, 6),
    data=st.data(),
    memory_init=st.sampled_from(["constant", "learned", "random"]),
    lengths=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    seed=st.integers(0, 2**16),
)
def test_manual_matches_autograd_on_random_small_configs(
    controller, layers, heads, rows, data, memory_init, lengths, seed
):
    shift_range = data.draw(st.integers(0, (rows - 1) // 2), label="shift_range")
    config = make_small_config(
        controller=controller,
        controller_layers=1 if controller == "lstm" else layers,
        read_heads=heads[0],
        write_heads=heads[1],
        memory_size=rows,
        shift_range=shift_range,
        memory_init=memory_init,
    )
    params = make_params(config, seed=seed, noise=0.5)
    inputs, targets, mask = make_batch(
        config, steps=max(lengths), batch_size=len(lengths), lengths=lengths, seed=seed
    )
    assert_backends_agree(config, params, inputs, targets, mask)


# numerical safety, the manual backend alone


def manual(config, params, inputs, targets, mask):
    result = manual_grads.loss_and_gradients(
        params, config, inputs, targets, mask, np.random.default_rng(MEMORY_SEED)
    )
    assert np.isfinite(result.loss)
    for name, gradient in result.gradients.items():
        assert np.all(np.isfinite(gradient)), name
    return result


def test_zero_memory_and_zero_keys_give_finite_gradients(
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
    np.testing.assert_array_equal(records[0].heads.key, 0.0)
    manual(config, params, inputs, targets, mask)
    assert_backends_agree(config, params, inputs, targets, mask)


def test_weights_of_exactly_zero_and_one_give_finite_gradients(
    small_config, noisy_params, random_batch
):
    config = small_config(write_heads=2, memory_init="learned")
    params = noisy_params(config)
    M, S = config.word_size, config.shift_range
    params["head_bias"][:, M] = 1e4  # beta ~ 1e4: content weights exactly one-hot
    params["head_bias"][:, M + 1] = 1000.0  # g = 1 exactly
    params["head_bias"][:, M + 2 + S] = 1000.0  # shift exactly by 0
    params["head_bias"][:, -1] = 1000.0  # gamma ~ 1000
    params["erase_bias"][:] = 1000.0  # e = 1: complete erases
    inputs, targets, mask = random_batch(config)

    _, records = forward(params, config, inputs, record=True)
    weights = records[1].addressing.weights
    assert np.all(np.isin(weights, [0.0, 1.0]))  # the corner was reached
    assert np.all(records[1].erase == 1.0)
    manual(config, params, inputs, targets, mask)


def test_a_thousand_step_sequence_gives_finite_gradients(small_config, noisy_params):
    config = small_config(controller="lstm", controller_layers=1, write_heads=2)
    params = noisy_params(config)
    rng = rng_for(18)
    T = 1000
    inputs = (rng.random((T, 2, config.input_size)) < 0.5).astype(float)
    targets = (rng.random((T, 2, config.output_size)) < 0.5).astype(float)
    result = manual(config, params, inputs, targets, np.ones((T, 2)))
    assert result.logits.shape == (T, 2, config.output_size)


# the contract of the backend


def test_gradients_have_the_names_shapes_and_dtype_of_the_params(
    small_config, noisy_params, random_batch
):
    config = small_config(dtype="float32", controller_layers=1)
    params = noisy_params(config)
    result = manual(config, params, *random_batch(config))
    assert list(result.gradients) == list(params)
    for name, value in params.items():
        assert result.gradients[name].shape == value.shape, name
        assert result.gradients[name].dtype == np.float32, name
    assert params["controller_hidden_weights"].shape == (0, 5, 5)


def test_an_unknown_parameter_is_not_implemented(
    small_config, noisy_params, random_batch
):
    config = small_config()
    params = {**noisy_params(config), "peephole_weights": np.zeros(3)}
    with pytest.raises(NotImplementedError, match="peephole_weights"):
        manual(config, params, *random_batch(config))


def test_the_manual_backend_uses_neither_autograd_nor_finite_differences():
    tree = ast.parse(inspect.getsource(manual_grads))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
    assert not any(name.startswith("autograd") for name in imported), imported
    assert not any("numerical" in name for name in imported), imported
