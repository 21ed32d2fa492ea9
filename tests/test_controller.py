"""Controllers: the tanh stack and the LSTM, against plain-numpy equations."""

import numpy as np
import pytest

from diffmem.controller import feedforward, lstm
from diffmem.ntm import init_params

AGREEMENT = 1e-12
"""Two float64 evaluations of the same equations in a different order agree to
a few ulps of values of order 1."""


def plain_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_feedforward_has_one_output_per_layer(small_config, layers):
    config = small_config(controller_layers=layers, hidden_size=7)
    params = init_params(config, np.random.default_rng(0))
    controller_input = np.random.default_rng(1).normal(
        size=(4, config.controller_input_size)
    )
    record = feedforward(params, controller_input)
    assert len(record.layers) == layers
    for output in record.layers:
        assert output.shape == (4, 7)
        assert np.all(np.abs(output) < 1.0)


def test_feedforward_matches_stacked_tanh_layers(small_config, noisy_params):
    config = small_config(controller_layers=3)
    params = noisy_params(config)
    x = np.random.default_rng(2).normal(size=(3, config.controller_input_size))

    expected = np.tanh(
        x @ params["controller_input_weights"] + params["controller_input_bias"]
    )
    layers = [expected]
    for weights, bias in zip(
        params["controller_hidden_weights"], params["controller_hidden_bias"]
    ):
        layers.append(np.tanh(layers[-1] @ weights + bias))

    record = feedforward(params, x)
    for got, want in zip(record.layers, layers, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=AGREEMENT)


def reference_lstm(x, h, c, input_weights, recurrent_weights, bias):
    """One LSTM step, gate blocks in the order input, forget, output, candidate."""
    H = h.shape[1]
    z = x @ input_weights + h @ recurrent_weights + bias  # (B, 4H)
    i = plain_sigmoid(z[:, :H])
    f = plain_sigmoid(z[:, H : 2 * H])
    o = plain_sigmoid(z[:, 2 * H : 3 * H])
    candidate = np.tanh(z[:, 3 * H :])
    c = f * c + i * candidate
    h = o * np.tanh(c)
    return h, c


def test_lstm_matches_a_plain_numpy_lstm_over_several_steps(small_config, noisy_params):
    config = small_config(controller="lstm", controller_layers=1, hidden_size=6)
    params = noisy_params(config, noise=0.5)
    rng = np.random.default_rng(4)
    B, H, D = 3, 6, config.controller_input_size

    hidden = reference_hidden = np.zeros((B, H))
    cell = reference_cell = np.zeros((B, H))
    for _ in range(4):
        x = rng.normal(size=(B, D))
        record = lstm(params, x, hidden, cell)
        hidden, cell = record.hidden, record.cell
        reference_hidden, reference_cell = reference_lstm(
            x,
            reference_hidden,
            reference_cell,
            params["lstm_input_weights"],
            params["lstm_recurrent_weights"],
            params["lstm_bias"],
        )
        np.testing.assert_allclose(hidden, reference_hidden, rtol=0, atol=AGREEMENT)
        np.testing.assert_allclose(cell, reference_cell, rtol=0, atol=AGREEMENT)
    assert np.any(np.abs(hidden) > 0.05)  # the comparison was not of zeros


def test_lstm_record_fields_have_their_ranges_and_shapes(small_config, noisy_params):
    config = small_config(controller="lstm", controller_layers=1, hidden_size=6)
    params = noisy_params(config, noise=2.0)
    rng = np.random.default_rng(5)
    x = 5 * rng.normal(size=(2, config.controller_input_size))
    record = lstm(params, x, rng.normal(size=(2, 6)), rng.normal(size=(2, 6)))

    for gate in (record.input_gate, record.forget_gate, record.output_gate):
        assert gate.shape == (2, 6)
        assert np.all((gate >= 0.0) & (gate <= 1.0))
    for squashed in (record.candidate, record.cell_tanh, record.hidden):
        assert squashed.shape == (2, 6)
        assert np.all(np.abs(squashed) <= 1.0)
    np.testing.assert_allclose(record.cell_tanh, np.tanh(record.cell), atol=AGREEMENT)
    np.testing.assert_allclose(
        record.hidden, record.output_gate * record.cell_tanh, atol=AGREEMENT
    )


def test_lstm_forget_gate_starts_open(small_config):
    config = small_config(controller="lstm", controller_layers=1, hidden_size=4)
    params = init_params(config, np.random.default_rng(0))
    np.testing.assert_array_equal(params["lstm_bias"], [0] * 4 + [1] * 4 + [0] * 8)
