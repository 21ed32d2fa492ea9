"""Squashing functions, each written so that no input overflows.

Used to turn a head's raw outputs into parameters in their valid ranges
(section 3.3.1 of Graves et al. 2014 names the ranges, not the functions).
"""

import autograd.numpy as np


def sigmoid(x):
    """1 / (1 + exp(-x)), computed as (1 + tanh(x / 2)) / 2 so it never overflows."""
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


def softplus(x):
    """log(1 + exp(x)), computed as logaddexp(0, x) so it never overflows."""
    return np.logaddexp(0.0, x)
