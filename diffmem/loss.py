"""The training objective and the error count, in the paper's units.

Section 4 of Graves et al. (2014) reports cost in bits per sequence: the binary
cross-entropy of the sigmoid outputs, summed over every scored bit of a
sequence, with logarithms to base 2. Bit errors count outputs on the wrong side
of 0.5.
"""

from typing import NamedTuple

import autograd.numpy as np
import numpy

LN2 = numpy.log(2.0)


class LossAndGradients(NamedTuple):
    """The result of one forward and backward pass, from either backend."""

    loss: float  # cost in bits per sequence, averaged over the batch
    gradients: dict  # d loss / d param, same names and shapes as the params
    logits: object  # (T, B, Y), the forward outputs, for error counts


def cost_bits(logits, targets, mask):
    """Binary cross-entropy in bits per sequence, averaged over the batch.

    -[y log2 sigmoid(z) + (1 - y) log2(1 - sigmoid(z))] = (log(1 + e^z) - y z) / ln 2,
    computed with logaddexp so that no logit overflows.

    Parameters
    ----------
    logits, targets : (T, B, Y)
    mask : (T, B), 1 where the output is scored.

    Returns
    -------
    A scalar: the sum over scored steps and channels, divided by B.
    """
    per_bit = np.logaddexp(0.0, logits) - targets * logits  # (T, B, Y)
    batch_size = logits.shape[1]
    return np.sum(per_bit * mask[:, :, None]) / (batch_size * LN2)


def wrong_bits(logits, targets, mask):
    """Which scored outputs are on the wrong side of 0.5, as a (T, B, Y) array.

    Same shapes as `cost_bits`; not differentiable, plain numpy. Summing
    over axes (0, 2) gives each sequence's bit errors.
    """
    predictions = numpy.asarray(logits) > 0.0  # sigmoid(z) > 0.5
    wrong = predictions != (numpy.asarray(targets) > 0.5)  # (T, B, Y)
    return wrong * numpy.asarray(mask)[:, :, None]


def bit_errors(logits, targets, mask):
    """Mean number of wrong bits per sequence (outputs thresholded at 0.5)."""
    return float(numpy.sum(wrong_bits(logits, targets, mask)) / logits.shape[1])
