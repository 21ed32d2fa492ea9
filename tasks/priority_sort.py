"""Priority sort task (Graves et al. 2014, section 4.5).

The model reads random binary vectors, each with a scalar priority drawn
uniformly from [-1, 1], and must then write out the highest-priority vectors
sorted by priority. The paper uses 20 input vectors and scores the 16
highest-priority ones (a heap of depth 4, its footnote 5). The text does not
give the vector width; we use 8 bits, as in the copy tasks.

Order: the highest priority comes first. The paper only says "sorted
according to their priorities"; we emit them the way a priority queue is
served, and so that the first output step always holds the single best
vector however many outputs are asked for.

Encoding, for ``vector_size=2``, ``num_inputs=3``, ``num_outputs=2`` and the
vectors 10, 01, 11 with priorities -0.5, 0.8, 0.2 ('.' is 0; V =
vector_size, n = num_inputs, m = num_outputs, T = n + 1 + m steps)::

    step t           0    1    2    3    4    5
    input   bit 0    1    .    1    .    .    .
            bit 1    .    1    1    .    .    .
            prio   -.5   .8   .2    .    .    .     channel V
            delim    .    .    .    1    .    .     channel V + 1
    target  bit 0    .    .    .    .    .    1
            bit 1    .    .    .    .    1    1
    mask             .    .    .    .    1    1

Steps 0 .. n-1 carry the vectors and their priorities, step n the delimiter,
and steps n + 1 .. n + m are blank inputs whose targets are the m vectors of
highest priority, highest first (01, then 11; 10 is dropped).
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from tasks.batch import Batch, check_at_least, check_not_above


@dataclass(frozen=True)
class PrioritySortTask:
    """Output the highest-priority input vectors, highest first (4.5).

    Attributes
    ----------
    vector_size : int
        Bits per vector, V (8 here; not stated in the paper).
    num_inputs : int
        Vectors per input sequence, n (20 in the paper).
    num_outputs : int
        Highest-priority vectors to emit, m <= n (16 in the paper).
    """

    name: ClassVar[str] = "priority-sort"

    vector_size: int = 8
    num_inputs: int = 20
    num_outputs: int = 16

    def __post_init__(self):
        check_at_least("vector_size", self.vector_size, 1)
        check_at_least("num_inputs", self.num_inputs, 1)
        check_at_least("num_outputs", self.num_outputs, 1)
        check_not_above("num_outputs", self.num_outputs, "num_inputs", self.num_inputs)

    @classmethod
    def paper(cls):
        """The paper's sizes: 20 inputs, 16 sorted outputs (8-bit vectors)."""
        return cls(vector_size=8, num_inputs=20, num_outputs=16)

    @property
    def input_size(self) -> int:
        """Data bits plus the priority and delimiter channels."""
        return self.vector_size + 2

    @property
    def output_size(self) -> int:
        return self.vector_size

    def train_lengths(self) -> range:
        """The single trained number of inputs, as a range."""
        return range(self.num_inputs, self.num_inputs + 1)

    def one_size(self, rng: np.random.Generator) -> dict:
        """Nothing to draw: every sequence of a batch already has one length."""
        return {}

    def sample(
        self, rng: np.random.Generator, batch_size: int, length: int | None = None
    ) -> Batch:
        """Draw a batch of vectors and priorities.

        Parameters
        ----------
        rng : numpy.random.Generator
        batch_size : int
            Number of sequences B.
        length : int or None
            If given, the number of input vectors n instead of `num_inputs`;
            it must be at least `num_outputs`.

        Returns
        -------
        Batch
            inputs (T, B, V + 2), targets (T, B, V), mask (T, B) with
            T = n + 1 + num_outputs.
        """
        check_at_least("batch_size", batch_size, 1)
        n = self.num_inputs
        if length is not None:
            check_at_least("length", length, 1)
            check_not_above("num_outputs", self.num_outputs, "length", length)
            n = length

        bits = rng.integers(0, 2, size=(n, batch_size, self.vector_size))
        priorities = rng.uniform(-1.0, 1.0, size=(n, batch_size))
        return self.encode(bits, priorities)

    def encode(self, bits, priorities):
        """Lay out sequences as in the module docstring.

        Parameters
        ----------
        bits : (n, B, V) array of 0/1
        priorities : (n, B) array

        Returns
        -------
        Batch
            inputs (T, B, V + 2), targets (T, B, V), mask (T, B) with
            T = n + 1 + num_outputs.
        """
        n, b, v = bits.shape
        m = self.num_outputs
        inputs = np.zeros((n + 1 + m, b, v + 2))  # (T, B, X)
        targets = np.zeros((n + 1 + m, b, v))  # (T, B, Y)
        mask = np.zeros((n + 1 + m, b))  # (T, B)

        # input phase: vectors with their priorities, then the delimiter
        inputs[:n, :, :v] = bits
        inputs[:n, :, v] = priorities
        inputs[n, :, v + 1] = 1.0

        # output phase: the m best vectors, highest priority first
        order = np.argsort(-priorities, axis=0, kind="stable")[:m]  # (m, B)
        targets[n + 1 :] = np.take_along_axis(bits, order[:, :, None], axis=0)
        mask[n + 1 :] = 1.0
        return Batch(inputs, targets, mask)
