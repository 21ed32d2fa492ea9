"""Addressing: how a head turns its parameters into a weighting over memory rows.

Section 3.3 of Graves et al. (2014), equations (5) to (9), in the order a head
applies them:

    similarity = K(k, M(i))                           Eq. (6), cosine similarity
    content    = softmax_i(beta * similarity)         Eq. (5), content weighting
    gated      = g * content + (1 - g) * w_prev       Eq. (7), interpolation
    shifted(i) = sum_j gated(i - j) s(j)              Eq. (8), circular convolution
    w(i)       = shifted(i)^gamma / sum_j shifted(j)^gamma   Eq. (9), sharpening

Every function works on any number of leading axes, written `...` below; in the
model they are (heads, B). The last axis is the memory row axis (N).
"""

from functools import cache
from typing import NamedTuple

import autograd.numpy as np
import numpy

NORM_EPSILON = 1e-8
"""Added to squared norms in Eq. (6), so an all-zero row or key has similarity 0
(and a finite gradient) instead of 0 / 0."""

SHARPEN_EPSILON = 1e-20
"""Added to each weight before Eq. (9) raises it to gamma, so a weight that is
exactly 0 gives a finite log and gradient. It changes the result by about
N * 1e-20 relative, far below float64 precision of the weights themselves."""


def softmax(x, axis=-1):
    """Normalised exponentials along `axis`, shifted by the maximum for range."""
    shifted = x - x.max(axis=axis, keepdims=True)
    exps = np.exp(shifted)
    return exps / exps.sum(axis=axis, keepdims=True)


def stable_norm(x):
    """sqrt(sum x^2 + NORM_EPSILON) over the last axis: a Euclidean norm that is
    smooth at zero."""
    return np.sqrt(np.einsum("...m,...m->...", x, x) + NORM_EPSILON)


def cosine_similarity(memory, key):
    """Eq. (6): K(k, M(i)) = k . M(i) / (||k|| ||M(i)||), for every row i.

    Both norms are `stable_norm`s, so zero keys and zero rows are safe.

    Parameters
    ----------
    memory : (B, N, M)
    key : (..., B, M)

    Returns
    -------
    similarity : (..., B, N), each in (-1, 1)
    """
    dot = (key[..., None, :] @ memory.swapaxes(-1, -2))[..., 0, :]  # (..., B, N)
    key_norm = stable_norm(key)[..., None]  # (..., B, 1)
    row_norm = stable_norm(memory)  # (B, N)
    return dot / (key_norm * row_norm)


def content_weights(similarity, beta):
    """Eq. (5): w^c(i) = exp(beta K(i)) / sum_j exp(beta K(j)).

    similarity : (..., N); beta : (...,), the key strength, >= 0.
    Returns (..., N), non-negative, summing to 1 over N.
    """
    return softmax(beta[..., None] * similarity)


def interpolate(content, w_prev, g):
    """Eq. (7): w^g = g w^c + (1 - g) w_{t-1}.

    content, w_prev : (..., N); g : (...,), the gate in [0, 1].
    """
    gate = g[..., None]  # (..., 1)
    return gate * content + (1.0 - gate) * w_prev


def shift_offsets(shift_range):
    """The integer shifts -S..S that the 2S + 1 entries of s stand for."""
    return range(-shift_range, shift_range + 1)


@cache
def shift_sources(memory_size, shift_range):
    """Integer array (2S + 1, N): entry [j, i] is (i - offset_j) mod N, the row
    whose weight shift offset j moves to row i."""
    offsets = numpy.array(shift_offsets(shift_range))[:, None]  # (2S + 1, 1)
    sources = (numpy.arange(memory_size) - offsets) % memory_size
    sources.setflags(write=False)
    return sources


def circular_shift(gated, s):
    """Eq. (8): w~(i) = sum_j w^g(i - j) s(j), indices taken modulo N.

    Entry j of the last axis of `s` is the probability of shifting by
    `shift_offsets(S)[j]`. A one-hot s at offset +1 moves every weight one row
    down (row i goes to row i + 1, the last row to row 0).

    gated : (..., N); s : (..., 2S + 1), non-negative, summing to 1.
    """
    sources = shift_sources(gated.shape[-1], (s.shape[-1] - 1) // 2)
    rolled = gated[..., sources]  # (..., 2S + 1, N), rolled[j, i] = gated(i - o_j)
    return (s[..., None, :] @ rolled)[..., 0, :]


def sharpen(shifted, gamma):
    """Eq. (9): w(i) = w~(i)^gamma / sum_j w~(j)^gamma, with gamma >= 1.

    Computed as softmax(gamma * log(w~ + SHARPEN_EPSILON)), which is the same
    ratio but finite, with a finite gradient, when some w~(i) are exactly 0.

    shifted : (..., N); gamma : (...,).
    """
    log_weights = np.log(shifted + SHARPEN_EPSILON)  # (..., N)
    return softmax(gamma[..., None] * log_weights)


class Addressing(NamedTuple):
    """Every intermediate weighting of Eq. (5)-(9), each (..., N)."""

    similarity: object  # Eq. (6)
    content: object  # Eq. (5)
    gated: object  # Eq. (7)
    shifted: object  # Eq. (8)
    weights: object  # Eq. (9), the head's weighting w_t


def address(memory, w_prev, key, beta, gate, shift, gamma):
    """Eq. (5)-(9) in order: the weighting a head puts on each memory row.

    Parameters
    ----------
    memory : (B, N, M)
    w_prev : (..., B, N), the head's weighting at the previous step.
    key : (..., B, M); beta, gate, gamma : (..., B); shift : (..., B, 2S + 1).

    Returns
    -------
    Addressing; its `weights` (..., B, N) are non-negative and sum to 1.
    """
    similarity = cosine_similarity(memory, key)
    content = content_weights(similarity, beta)
    gated = interpolate(content, w_prev, gate)
    shifted = circular_shift(gated, shift)
    weights = sharpen(shifted, gamma)
    return Addressing(similarity, content, gated, shifted, weights)
