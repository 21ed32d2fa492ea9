"""The whole NTM: configuration, parameters, initial state and forward pass."""

import numpy as np
import pytest

from diffmem import NTMConfig, forward, init_params, loss, loss_and_gradients
from diffmem.ntm import INITIAL_FOCUS, initial_state

REORDERED = 1e-12
"""Relative change of a loss when the same sums and products run in another
order: rounding only, a few ulps per step over a handful of steps."""

FLOAT32_AGREEMENT = 1e-4
"""A float32 forward pass of a few steps agrees with float64 to about 1e-6
relative; 1e-4 leaves room while still catching a wrong computation."""

SATURATED = 1000.0
"""A raw head output this large puts its squashing function exactly at its
limit in float64 (tanh(500) == 1, exp(-1000) == 0)."""


# configuration


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"input_size": 0}, "input_size"),
        ({"output_size": -1}, "output_size"),
        ({"memory_size": 0}, "memory_size"),
        ({"word_size": -2}, "word_size"),
        ({"hidden_size": 0}, "hidden_size"),
        ({"hidden_size": 2.5}, "hidden_size"),
        ({"controller_layers": 0}, "controller_layers"),
        ({"read_heads": -1}, "read_heads"),
        ({"write_heads": -1}, "write_heads"),
        ({"shift_range": -1}, "shift_range"),
        ({"memory_size": 4, "shift_range": 2}, "shift_range"),
        ({"controller": "gru"}, "controller"),
        ({"memory_init": "zeros"}, "memory_init"),
        ({"dtype": "float16"}, "dtype"),
        ({"controller": "lstm", "controller_layers": 2}, "controller_layers"),
        ({"read_heads": 0, "write_heads": 0}, "head"),
    ],
)
def test_invalid_config_raises_value_error_naming_the_field(overrides, field):
    arguments = {"input_size": 3, "output_size": 2, **overrides}
    with pytest.raises(ValueError, match=field):
        NTMConfig(**arguments)


def test_shift_range_may_fill_the_memory_exactly():
    config = NTMConfig(input_size=1, output_size=1, memory_size=5, shift_range=2)
    assert config.shift_range == 2


def test_config_derived_sizes():
    config = NTMConfig(
        input_size=3, output_size=2, word_size=4, read_heads=2, write_heads=3
    )
    assert config.num_heads == 5
    assert config.controller_input_size == 3 + 2 * 4


# parameters


def expected_shapes(c):
    """Parameter shapes written out from the docstrings, independently of
    init_params: D = X + R M, K = R + W, P = M + 2S + 4."""
    D = c.input_size + c.read_heads * c.word_size
    K, P = c.read_heads + c.write_heads, c.word_size + 2 * c.shift_range + 4
    H, M, W = c.hidden_size, c.word_size, c.write_heads
    shapes = {}
    if c.controller == "feedforward":
        shapes.update(
            {
                "controller_input_weights": (D, H),
                "controller_input_bias": (H,),
                "controller_hidden_weights": (c.controller_layers - 1, H, H),
                "controller_hidden_bias": (c.controller_layers - 1, H),
            }
        )
    else:
        shapes.update(
            {
                "lstm_input_weights": (D, 4 * H),
                "lstm_recurrent_weights": (H, 4 * H),
                "lstm_bias": (4 * H,),
            }
        )
    shapes.update(
        {
            "head_weights": (K, H, P),
            "head_bias": (K, P),
            "erase_weights": (W, H, M),
            "erase_bias": (W, M),
            "add_weights": (W, H, M),
            "add_bias": (W, M),
            "output_weights": (H + c.read_heads * M, c.output_size),
            "output_bias": (c.output_size,),
            "initial_reads": (c.read_heads, M),
            "initial_weight_logits": (K, c.memory_size),
        }
    )
    if c.memory_init == "learned":
        shapes["initial_memory"] = (c.memory_size, M)
    return shapes


CONFIGS = [
    {},
    {"controller_layers": 1, "read_heads": 2, "write_heads": 2, "shift_range": 2},
    {"controller": "lstm", "controller_layers": 1, "memory_init": "learned"},
    {"controller_layers": 3, "read_heads": 0, "write_heads": 1, "shift_range": 0},
    {"read_heads": 3, "write_heads": 0, "memory_init": "random"},
]


@pytest.mark.parametrize("overrides", CONFIGS)
def test_param_names_and_shapes(small_config, overrides):
    config = small_config(**overrides)
    params = init_params(config, np.random.default_rng(0))
    shapes = {name: value.shape for name, value in params.items()}
    assert shapes == expected_shapes(config)
    assert all(value.dtype == np.float64 for value in params.values())


def test_init_params_is_reproducible_from_a_seed(small_config):
    config = small_config(controller="lstm", controller_layers=1, memory_init="learned")
    first = init_params(config, np.random.default_rng(42))
    second = init_params(config, np.random.default_rng(42))
    other = init_params(config, np.random.default_rng(43))
    assert first.keys() == second.keys() == other.keys()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])
    random_names = [
        "lstm_input_weights",
        "lstm_recurrent_weights",
        "head_weights",
        "erase_weights",
        "add_weights",
        "output_weights",
        "initial_reads",
    ]
    for name in random_names:
        assert not np.array_equal(first[name], other[name]), name


def test_init_params_starts_biases_at_zero_and_heads_on_row_zero(small_config):
    config = small_config(read_heads=2, write_heads=1)
    params = init_params(config, np.random.default_rng(0))
    for name in (
        "controller_input_bias",
        "head_bias",
        "erase_bias",
        "add_bias",
        "output_bias",
    ):
        np.testing.assert_array_equal(params[name], 0.0)
    logits = params["initial_weight_logits"]
    np.testing.assert_array_equal(logits[:, 0], INITIAL_FOCUS)
    np.testing.assert_array_equal(logits[:, 1:], 0.0)


def test_init_params_follows_the_config_dtype(small_config):
    config = small_config(dtype="float32", memory_init="learned")
    params = init_params(config, np.random.default_rng(0))
    assert all(value.dtype == np.float32 for value in params.values())


# initial state


def test_constant_memory_init_fills_every_entry(small_config):
    config = small_config(memory_init_value=0.25)
    state = initial_state(init_params(config, np.random.default_rng(0)), config, 3)
    assert state.memory.shape == (3, 6, 4)
    np.testing.assert_array_equal(state.memory, 0.25)


def test_learned_memory_init_copies_the_parameter_to_every_sequence(
    small_config, noisy_params
):
    config = small_config(memory_init="learned")
    params = noisy_params(config)
    state = initial_state(params, config, 2)
    for b in range(2):
        np.testing.assert_array_equal(state.memory[b], params["initial_memory"])


def test_random_memory_init_needs_an_rng(small_config, random_batch):
    config = small_config(memory_init="random")
    params = init_params(config, np.random.default_rng(0))
    inputs, _, _ = random_batch(config)
    with pytest.raises(ValueError, match="rng"):
        forward(params, config, inputs)


def test_random_memory_init_is_reproducible_with_a_seeded_rng(small_config):
    config = small_config(memory_init="random")
    params = init_params(config, np.random.default_rng(0))
    first = initial_state(params, config, 2, np.random.default_rng(5)).memory
    again = initial_state(params, config, 2, np.random.default_rng(5)).memory
    other = initial_state(params, config, 2, np.random.default_rng(6)).memory
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert not np.array_equal(first[0], first[1])  # drawn per sequence
    assert np.all(np.abs(first) <= 1.0)


def test_random_memory_forward_is_reproducible(small_config, random_batch):
    config = small_config(memory_init="random")
    params = init_params(config, np.random.default_rng(0))
    inputs, _, _ = random_batch(config)
    first = forward(params, config, inputs, np.random.default_rng(9))
    again = forward(params, config, inputs, np.random.default_rng(9))
    other = forward(params, config, inputs, np.random.default_rng(10))
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_initial_weightings_are_the_softmax_of_their_logits(small_config):
    config = small_config(read_heads=1, write_heads=1)
    params = init_params(config, np.random.default_rng(0))
    params["initial_weight_logits"][1] = np.log([1.0, 2.0, 3.0, 4.0, 0.5, 0.5])
    weights = initial_state(params, config, 2).weights  # (K, B, N)
    np.testing.assert_allclose(
        weights[1, 1], np.array([1, 2, 3, 4, 0.5, 0.5]) / 11, atol=1e-15
    )


# forward pass


@pytest.mark.parametrize("overrides", CONFIGS)
def test_forward_output_shapes(small_config, random_batch, overrides):
    config = small_config(**overrides)
    params = init_params(config, np.random.default_rng(0))
    inputs, _, _ = random_batch(config, steps=4, batch_size=3)
    logits, records = forward(
        params, config, inputs, np.random.default_rng(1), record=True
    )
    assert logits.shape == (4, 3, config.output_size)
    assert len(records) == 4
    last = records[-1].state
    assert last.memory.shape == (3, config.memory_size, config.word_size)
    assert last.reads.shape == (3, config.read_heads, config.word_size)
    assert last.weights.shape == (config.num_heads, 3, config.memory_size)


def test_padding_at_the_end_does_not_change_earlier_logits(
    small_config, noisy_params, random_batch
):
    config = small_config(controller="lstm", controller_layers=1)
    params = noisy_params(config)
    inputs, _, _ = random_batch(config, steps=7)
    short = forward(params, config, inputs[:4])
    padded = inputs.copy()
    padded[4:] = 100.0  # any padding at all
    np.testing.assert_array_equal(forward(params, config, padded)[:4], short)


def test_masked_padding_does_not_change_the_loss(
    small_config, noisy_params, random_batch
):
    config = small_config()
    params = noisy_params(config)
    inputs, targets, mask = random_batch(config, steps=6, lengths=[6, 3])
    garbage_inputs, garbage_targets = inputs.copy(), targets.copy()
    garbage_inputs[3:, 1] = 7.0
    garbage_targets[3:, 1] = 1.0 - garbage_targets[3:, 1]
    expected = loss(params, config, inputs, targets, mask)
    assert loss(params, config, garbage_inputs, garbage_targets, mask) == expected


def test_sequences_in_a_batch_do_not_interact(small_config, noisy_params, random_batch):
    config = small_config(read_heads=2, write_heads=2)
    params = noisy_params(config)
    inputs, _, _ = random_batch(config, batch_size=3)
    together = forward(params, config, inputs)
    for b in range(3):
        alone = forward(params, config, inputs[:, b : b + 1])
        np.testing.assert_allclose(alone[:, 0], together[:, b], rtol=0, atol=1e-13)


def test_float32_config_runs_and_returns_float32(small_config, random_batch):
    config32 = small_config(dtype="float32", controller="lstm", controller_layers=1)
    config64 = small_config(controller="lstm", controller_layers=1)
    params64 = init_params(config64, np.random.default_rng(0))
    params32 = init_params(config32, np.random.default_rng(0))
    inputs, targets, mask = random_batch(config32)
    assert inputs.dtype == np.float32

    result = loss_and_gradients(params32, config32, inputs, targets, mask)
    assert result.logits.dtype == np.float32
    assert all(g.dtype == np.float32 for g in result.gradients.values())
    assert np.isfinite(result.loss)

    expected = loss(
        params64,
        config64,
        inputs.astype(float),
        targets.astype(float),
        mask.astype(float),
    )
    assert result.loss == pytest.approx(expected, rel=FLOAT32_AGREEMENT)


def saturated_params(config, initial_memory):
    """Parameters under which every head keeps its initial weighting (row 0)
    and each write head erases it completely and adds a vector of ones.

    Zero weights make the heads ignore the controller; the biases pin the key
    to 0, beta to 0, g to 0 (keep w_prev), the shift to 0 and gamma to 1.
    """
    params = init_params(config, np.random.default_rng(0))
    M, S = config.word_size, config.shift_range
    for name in ("head_weights", "erase_weights", "add_weights"):
        params[name][...] = 0.0
    bias = np.zeros(M + 2 * S + 4)
    bias[M] = bias[M + 1] = bias[-1] = -SATURATED  # beta = 0, g = 0, gamma = 1
    bias[M + 2 + S] = SATURATED  # all shift mass on offset 0
    params["head_bias"][...] = bias
    params["erase_bias"][...] = SATURATED  # e = 1
    params["add_bias"][...] = SATURATED  # a = 1
    params["initial_weight_logits"][...] = 0.0
    params["initial_weight_logits"][:, 0] = SATURATED  # one-hot on row 0
    params["initial_memory"][...] = initial_memory
    return params


def test_reads_see_the_memory_before_this_steps_writes(small_config, random_batch):
    config = small_config(memory_init="learned", read_heads=1, write_heads=1)
    initial_memory = np.arange(24.0).reshape(6, 4) / 24.0 - 0.5
    params = saturated_params(config, initial_memory)
    inputs, _, _ = random_batch(config, steps=3, batch_size=1)
    _, records = forward(params, config, inputs, record=True)

    # step 1 reads row 0 as it was; the write of step 1 shows only at step 2
    first_reads = records[0].state.reads[0, 0]
    np.testing.assert_allclose(first_reads, initial_memory[0], atol=1e-15)
    np.testing.assert_allclose(records[0].state.memory[0, 0], 1.0, atol=1e-15)
    np.testing.assert_allclose(records[1].state.reads[0, 0], 1.0, atol=1e-15)


def permute_write_heads(params, config, order):
    """The same machine with its write heads listed in `order`."""
    R = config.read_heads
    permuted = dict(params)
    for name in ("head_weights", "head_bias", "initial_weight_logits"):
        value = params[name]
        permuted[name] = np.concatenate([value[:R], value[R:][order]])
    for name in ("erase_weights", "erase_bias", "add_weights", "add_bias"):
        permuted[name] = params[name][order]
    return permuted


@pytest.mark.parametrize("controller", ["feedforward", "lstm"])
def test_permuting_write_heads_gives_the_same_loss(
    small_config, noisy_params, random_batch, controller
):
    config = small_config(
        controller=controller,
        controller_layers=1,
        read_heads=2,
        write_heads=3,
        shift_range=1,
    )
    params = noisy_params(config, noise=0.5)
    inputs, targets, mask = random_batch(config, steps=6)
    expected = loss(params, config, inputs, targets, mask)
    for order in ([2, 0, 1], [1, 0, 2], [2, 1, 0]):
        permuted = permute_write_heads(params, config, order)
        got = loss(permuted, config, inputs, targets, mask)
        assert got == pytest.approx(expected, rel=REORDERED, abs=0)


def test_permuting_only_part_of_a_write_head_changes_the_loss(
    small_config, noisy_params, random_batch
):
    """The control for the test above: the loss does notice a half-done swap."""
    config = small_config(controller_layers=1, read_heads=2, write_heads=3)
    params = noisy_params(config, noise=0.5)
    inputs, targets, mask = random_batch(config, steps=6)
    expected = loss(params, config, inputs, targets, mask)
    half = dict(params)
    half["erase_weights"] = params["erase_weights"][[2, 0, 1]]
    got = loss(half, config, inputs, targets, mask)
    assert abs(got - expected) > 1e-6 * abs(expected)
