"""Shared helpers for the tests of the forward pass and its gradients.

Three plain functions, each also offered as a fixture of the same name without
the `make_` prefix (the fixture returns the function, so a test can call it
with its own arguments):

    make_small_config(**overrides) -> NTMConfig      fixture `small_config`
    make_batch(config, ...) -> (inputs, targets, mask)  fixture `random_batch`
    make_params(config, ...) -> params dict           fixture `noisy_params`

Everything is seeded, so two calls with the same arguments give equal arrays.
Other test files may rely on these names and signatures; extend them with new
keyword arguments only.
"""

import numpy as np
import pytest

from diffmem import NTMConfig, init_params

SMALL_SIZES = {
    "input_size": 3,
    "output_size": 2,
    "memory_size": 6,
    "word_size": 4,
    "hidden_size": 5,
}
"""Sizes of `make_small_config`: small enough that a loss takes about 1 ms."""

PARAM_NOISE = 0.1
"""Default standard deviation of the noise `make_params` adds to a fresh
initialisation, so no entry sits at a symmetric point (zero biases, equal
rows of `initial_weight_logits`) where a wrong gradient could hide."""


def make_small_config(**overrides):
    """An NTMConfig with `SMALL_SIZES`, updated by `overrides`."""
    return NTMConfig(**{**SMALL_SIZES, **overrides})


def make_batch(config, steps=5, batch_size=2, lengths=None, seed=0):
    """A random batch for `config`: inputs (T, B, X), targets (T, B, Y), mask (T, B).

    Inputs are standard normal, targets random bits. `lengths` (one per
    sequence) pads each sequence at the end: the mask is 0 and the inputs are
    0 from step `lengths[b]` on. Arrays have the config's dtype.
    """
    T, B = steps, batch_size
    rng = np.random.default_rng(seed)
    inputs = rng.normal(size=(T, B, config.input_size))
    targets = (rng.random((T, B, config.output_size)) < 0.5).astype(float)
    mask = np.ones((T, B))
    if lengths is not None:
        if len(lengths) != B:
            raise ValueError(f"lengths needs {B} entries, got {len(lengths)}")
        mask = (np.arange(T)[:, None] < np.asarray(lengths)[None, :]).astype(float)
        inputs = inputs * mask[:, :, None]

    dtype = config.dtype
    return inputs.astype(dtype), targets.astype(dtype), mask.astype(dtype)


def make_params(config, seed=0, noise=PARAM_NOISE):
    """`init_params(config, default_rng(seed))` plus normal noise of std `noise`.

    The noise is drawn from a second generator, so `noise=0` gives exactly
    the initialisation. Arrays keep the config's dtype.
    """
    params = init_params(config, np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 1)
    return {
        name: (value + noise * rng.normal(size=value.shape)).astype(value.dtype)
        for name, value in params.items()
    }


@pytest.fixture
def small_config():
    """The function `make_small_config`."""
    return make_small_config


@pytest.fixture
def random_batch():
    """The function `make_batch`."""
    return make_batch


@pytest.fixture
def noisy_params():
    """The function `make_params`."""
    return make_params
