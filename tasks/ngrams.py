"""Dynamic N-grams task (Graves et al. 2014, section 4.4).

Each sequence comes from its own random binary N-gram model, and the model
must predict every next bit, so it has to learn the transition statistics
anew within each sequence. The paper uses N = 6 and 200-bit sequences.

Drawing a sequence of n bits for ``order=N``:

1. a lookup table of 2^(N-1) probabilities, one per (N-1)-bit context,
   each independently from Beta(1/2, 1/2);
2. bits 0 .. N-2 uniformly at random (too little context for the table);
3. each later bit is 1 with the table's probability for the N - 1 bits
   before it.

The context is read as a binary number, oldest bit first: for N = 3 the
context (b[t-2], b[t-1]) = (1, 0) selects table entry 2.

Encoding, for ``order=3`` and the 5-bit sequence 0 1 1 0 1 (T = n steps,
one input and one output channel)::

    step t          0  1  2  3  4
    input   bit     0  0  1  1  0      0, then bits 0 .. n-2
    target  bit     0  1  1  0  1      bits 0 .. n-1
    mask            1  1  1  1  1

Step t shows bit t - 1 and asks for bit t, so the model predicts every bit
from the bits before it; step 0 shows 0 as a stand-in, which costs nothing
because the first N - 1 bits are fair coins whatever came before. Every
step is scored, first bits included: with this choice the optimal predictor
below averages about 133.5 bits per 200-bit sequence (60,000 sequences,
standard error 0.15), and the "Optimal Estimator" curve of the paper's
Figure 13 sits at about 133. Scoring only the 199 predictions made after a
real bit would give about 132.5, and only the 195 bits drawn from the table
about 128.5, so the paper most likely scored all 200.

The Bayes-optimal predictor (paper Eq. 10; Murphy 2012) knows the recipe but
not the table. After seeing N1 ones and N0 zeros follow context c so far in
the same sequence it predicts

    P(next bit = 1 | N1, N0, c) = (N1 + 1/2) / (N1 + N0 + 1).

`NGramsTask.optimal_cost_bits` scores it in the model's loss unit: binary
cross-entropy in bits, summed over the scored steps, averaged over sequences.
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from tasks.batch import Batch, check_at_least, check_not_above


@dataclass(frozen=True)
class NGramsTask:
    """Predict each next bit of a sequence from a fresh random N-gram model.

    Attributes
    ----------
    order : int
        N, the n-gram order; each bit depends on the N - 1 bits before it
        (6 in the paper, a table of 32 probabilities).
    sequence_length : int
        Bits per sequence, n (200 in the paper). At least `order`, so that
        some bit is drawn from the table.
    """

    name: ClassVar[str] = "ngrams"

    order: int = 6
    sequence_length: int = 200

    def __post_init__(self):
        check_at_least("order", self.order, 1)
        check_at_least("sequence_length", self.sequence_length, 1)
        check_not_above("order", self.order, "sequence_length", self.sequence_length)

    @classmethod
    def paper(cls):
        """The paper's sizes: 6-grams, 200-bit sequences."""
        return cls(order=6, sequence_length=200)

    @property
    def input_size(self) -> int:
        return 1

    @property
    def output_size(self) -> int:
        return 1

    def train_lengths(self) -> range:
        """The single trained sequence length, as a range."""
        return range(self.sequence_length, self.sequence_length + 1)

    def one_size(self, rng: np.random.Generator) -> dict:
        """Nothing to draw: every sequence of a batch already has one length."""
        return {}

    def sample(
        self, rng: np.random.Generator, batch_size: int, length: int | None = None
    ) -> Batch:
        """Draw a batch of sequences, each from its own random table.

        Parameters
        ----------
        rng : numpy.random.Generator
        batch_size : int
            Number of sequences B.
        length : int or None
            If given, the number of bits n per sequence instead of
            `sequence_length`; at least `order`.

        Returns
        -------
        Batch
            inputs (n, B, 1), targets (n, B, 1), mask (n, B), all steps scored.
        """
        check_at_least("batch_size", batch_size, 1)
        n = self.sequence_length
        if length is not None:
            check_at_least("length", length, self.order)
            n = length

        # a fresh table per sequence, then the bits it generates
        tables = rng.beta(0.5, 0.5, size=(batch_size, 2 ** (self.order - 1)))
        bits = draw_bits(rng, tables, n, self.order)  # (n, B)
        return self.encode(bits)

    def encode(self, bits):
        """Lay out sequences of bits as in the module docstring.

        Parameters
        ----------
        bits : (n, B) array of 0/1

        Returns
        -------
        Batch
            inputs (n, B, 1), targets (n, B, 1), mask (n, B) of ones.
        """
        bits = np.asarray(bits, dtype=float)  # (T, B)
        inputs = np.zeros_like(bits)  # (T, B)
        inputs[1:] = bits[:-1]
        return Batch(
            inputs=inputs[:, :, None],  # (T, B, 1)
            targets=bits[:, :, None],  # (T, B, 1)
            mask=np.ones_like(bits),  # (T, B)
        )

    def optimal_cost_bits(self, batch: Batch) -> float:
        """Mean cost per sequence, in bits, of the Bayes-optimal predictor.

        Sums -log2 P(target) over the steps where ``batch.mask`` is 1, with P
        from `optimal_predictions`, and averages over the B sequences.
        """
        p_one = optimal_predictions(batch.inputs, batch.targets, self.order)  # (T, B)
        target = batch.targets[:, :, 0]  # (T, B)
        p_target = np.where(target == 1.0, p_one, 1.0 - p_one)  # (T, B)
        cost = -np.log2(p_target) * batch.mask  # (T, B)
        return float(cost.sum(axis=0).mean())


def draw_bits(rng, tables, n, order):
    """Draw n bits per sequence from per-sequence N-gram tables.

    Parameters
    ----------
    rng : numpy.random.Generator
    tables : (B, 2^(N-1)) array
        P(bit = 1 | context) for each sequence and context.
    n : int
        Bits per sequence.
    order : int
        N.

    Returns
    -------
    bits : (n, B) int array of 0/1
    """
    b = len(tables)
    uniforms = rng.random((n, b))  # (n, B)
    bits = np.zeros((n, b), dtype=int)  # (n, B)
    context = np.zeros(b, dtype=int)  # (B,) the last N - 1 bits as a number
    keep = 2 ** (order - 1) - 1

    # the first N - 1 bits are fair coins, the rest come from the table
    for t in range(n):
        p_one = 0.5 if t < order - 1 else tables[np.arange(b), context]  # (B,)
        bits[t] = uniforms[t] < p_one
        context = ((context << 1) | bits[t]) & keep
    return bits


def optimal_predictions(inputs, targets, order):
    """P(next bit = 1) of the Bayes-optimal predictor at every step (Eq. 10).

    Parameters
    ----------
    inputs : (T, B, 1) array
        Bit t - 1 at step t (anything at step 0).
    targets : (T, B, 1) array
        Bit t at step t; counted once step t has been predicted.
    order : int
        N.

    Returns
    -------
    p_one : (T, B) array
        (N1 + 1/2) / (N1 + N0 + 1), with N1 and N0 counted over the earlier
        steps of the same sequence whose context matches the current one;
        0.5 at steps 0 .. N-2, whose bits are fair coins.
    """
    t_max, b = inputs.shape[:2]
    seen = inputs[:, :, 0].astype(int)  # (T, B)
    bit = targets[:, :, 0].astype(int)  # (T, B)
    ones = np.zeros((b, 2 ** (order - 1)))  # (B, contexts) N1 per context
    total = np.zeros((b, 2 ** (order - 1)))  # (B, contexts) N1 + N0
    context = np.zeros(b, dtype=int)  # (B,) the last N - 1 inputs as a number
    keep = 2 ** (order - 1) - 1
    rows = np.arange(b)
    p_one = np.full((t_max, b), 0.5)  # (T, B)

    # predict from the counts for the current context, then count the answer
    for t in range(t_max):
        context = ((context << 1) | seen[t]) & keep
        if t < order - 1:
            continue
        p_one[t] = (ones[rows, context] + 0.5) / (total[rows, context] + 1.0)
        ones[rows, context] += bit[t]
        total[rows, context] += 1.0
    return p_one
