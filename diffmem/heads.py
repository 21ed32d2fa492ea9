"""Heads: from the controller output to each head's addressing parameters and,
for write heads, its erase and add vectors (section 3.3.1 of Graves et al. 2014).

Heads are stacked along a leading axis of length K = R + W: the R read heads
first, then the W write heads. Each head has its own weights, so

    raw = h W_head + b_head                                  (K, B, P)

with P = M + 2S + 4 columns, split and squashed into

    key   k = tanh(raw[:M])                   (K, B, M)      any direction
    beta    = softplus(raw[M])                (K, B)         >= 0
    g       = sigmoid(raw[M + 1])             (K, B)         in [0, 1]
    s       = softmax(raw[M + 2 : M + 2S + 3])  (K, B, 2S + 1) a distribution
    gamma   = 1 + softplus(raw[-1])           (K, B)         >= 1

Write heads also emit e = sigmoid(h W_erase + b_erase) in [0, 1] and
a = tanh(h W_add + b_add), each (W, B, M).
"""

from typing import NamedTuple

import autograd.numpy as np

from diffmem.activations import sigmoid, softplus
from diffmem.addressing import softmax


class HeadParameters(NamedTuple):
    """The squashed parameters of every head at one step (read heads first)."""

    key: object  # (K, B, M)
    beta: object  # (K, B), key strength
    gate: object  # (K, B), interpolation gate g
    shift: object  # (K, B, 2S + 1), shift weighting s
    gamma: object  # (K, B), sharpening exponent
    raw: object  # (K, B, P), before squashing


def head_width(word_size, shift_range):
    """P, the number of raw outputs per head: M + 1 + 1 + (2S + 1) + 1."""
    return word_size + 2 * shift_range + 4


def head_parameters(params, hidden, word_size):
    """Emit every head's key, beta, g, s and gamma from the controller output.

    Parameters
    ----------
    params : dict with `head_weights` (K, H, P) and `head_bias` (K, P).
    hidden : (B, H), the controller output.
    word_size : M.

    Returns
    -------
    HeadParameters
    """
    raw = hidden @ params["head_weights"] + params["head_bias"][:, None, :]  # (K, B, P)

    key = np.tanh(raw[..., :word_size])
    beta = softplus(raw[..., word_size])
    gate = sigmoid(raw[..., word_size + 1])
    shift = softmax(raw[..., word_size + 2 : -1])
    gamma = 1.0 + softplus(raw[..., -1])

    return HeadParameters(key, beta, gate, shift, gamma, raw)


def erase_and_add(params, hidden):
    """Eq. (3)-(4) inputs: each write head's erase vector e and add vector a.

    Parameters
    ----------
    params : dict with `erase_weights`, `add_weights` (W, H, M) and
        `erase_bias`, `add_bias` (W, M).
    hidden : (B, H)

    Returns
    -------
    erase, add : (W, B, M) each; erase in [0, 1], add in [-1, 1].
    """
    erase_raw = hidden @ params["erase_weights"]  # (W, B, M)
    erase = sigmoid(erase_raw + params["erase_bias"][:, None, :])

    add_raw = hidden @ params["add_weights"]  # (W, B, M)
    add = np.tanh(add_raw + params["add_bias"][:, None, :])

    return erase, add
