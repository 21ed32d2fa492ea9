"""Central finite differences: a gradient checker that trusts neither backend.

The five-point central stencil

    d loss / d theta_i ~ (-L(+2h) + 8 L(+h) - 8 L(-h) + L(-2h)) / (12 h)

where L(+h) is the loss with theta_i moved by +h, has truncation error O(h^4)
and rounding error about eps |L| / h. With h = 1e-3 in float64 both are near
1e-12 for losses of ten bits or so; on small NTMs the largest relative
disagreement with autograd is a few times 1e-6 (tests/test_gradients.py), so
`FD_TOLERANCE` = 1e-5 holds with margin while still catching any wrong
backward rule (usually off by a factor, a sign or a missing term).
"""

import numpy as np

FD_STEP = 1e-3
FD_TOLERANCE = 1e-5
ABSOLUTE_FLOOR = 1e-6
"""Relative errors are taken against at least this magnitude, so an entry of
1e-12 computed as 3e-12 counts as agreement: with `FD_TOLERANCE` it accepts
absolute differences up to 1e-11, the rounding noise of the stencil."""


def relative_error(a, b, floor=ABSOLUTE_FLOOR):
    """|a - b| / max(|a|, |b|, floor), elementwise."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)


def sample_indices(shape, count, rng):
    """Up to `count` distinct flat indices into an array of `shape`.

    All of them when the array is small enough; a random subset otherwise.
    """
    size = int(np.prod(shape))
    if size <= count:
        return np.arange(size)
    return np.sort(rng.choice(size, size=count, replace=False))


def finite_difference_gradients(loss_fn, params, indices=None, step=FD_STEP):
    """Central-difference estimates of d loss_fn(params) / d params.

    Parameters
    ----------
    loss_fn : a function of the params dict returning a scalar. It must be
        deterministic (seed any randomness inside it).
    params : dict of float64 arrays; left unchanged on return.
    indices : optional dict name -> flat indices to estimate; the others stay
        NaN. Default: every entry of every parameter.

    Returns
    -------
    dict name -> array of the parameter's shape.
    """
    estimates = {}
    for name, value in params.items():
        if value.dtype != np.float64:
            raise TypeError(f"finite differences need float64, {name} is {value.dtype}")
        chosen = np.arange(value.size) if indices is None else indices[name]
        estimate = np.full(value.shape, np.nan)

        for index in chosen:
            # index value itself, not a reshape, which copies a non-contiguous array
            position = np.unravel_index(index, value.shape)
            original = value[position]
            losses = []
            for offset in (2 * step, step, -step, -2 * step):
                value[position] = original + offset
                losses.append(loss_fn(params))
            value[position] = original
            far_plus, plus, minus, far_minus = losses
            difference = -far_plus + 8 * plus - 8 * minus + far_minus
            estimate.reshape(-1)[index] = difference / (12 * step)

        estimates[name] = estimate
    return estimates


def compare(reference, candidate, indices=None):
    """Largest absolute and relative disagreement per parameter.

    Compares only `indices` (flat, per name) when given, else every entry.
    Returns dict name -> (max_absolute, max_relative).
    """
    report = {}
    for name, expected in reference.items():
        chosen = slice(None) if indices is None else indices[name]
        a = np.asarray(expected, dtype=float).reshape(-1)[chosen]
        b = np.asarray(candidate[name], dtype=float).reshape(-1)[chosen]
        if a.size == 0:
            report[name] = (0.0, 0.0)
            continue
        largest_absolute = float(np.max(np.abs(a - b)))
        report[name] = (largest_absolute, float(np.max(relative_error(a, b))))
    return report
