"""diffmem: a reference Neural Turing Machine in autograd.numpy.

Graves, Wayne and Danihelka (2014), "Neural Turing Machines", arXiv:1410.5401.
The forward pass is written once (`diffmem.ntm.forward`); HIPS autograd
differentiates it, and `diffmem.manual_grads` is a hand-derived backward pass
for the same forward, checked against autograd by the tests.

Shape letters used in every docstring and comment:

    T  time steps           B  batch (sequences)
    X  input width          Y  output width
    N  memory rows          M  memory row width (word size)
    H  controller units     D  controller input width, X + R M
    R  read heads           W  write heads
    K  all heads, R + W     S  shift range (shifts -S..S)
    P  raw outputs per head, M + 2S + 4

Arrays are time-major: inputs (T, B, X), targets (T, B, Y), mask (T, B).

Example::

    import numpy as np
    from diffmem import NTMConfig, init_params, loss_and_gradients
    config = NTMConfig(input_size=10, output_size=8)
    params = init_params(config, np.random.default_rng(0))
    result = loss_and_gradients(params, config, inputs, targets, mask)
"""

from diffmem.gradients import BACKENDS, loss, loss_and_gradients
from diffmem.loss import bit_errors, cost_bits
from diffmem.ntm import NTMConfig, forward, init_params

__all__ = [
    "BACKENDS",
    "NTMConfig",
    "bit_errors",
    "cost_bits",
    "forward",
    "init_params",
    "loss",
    "loss_and_gradients",
]
