"""Copy task (Graves et al. 2014, section 4.1).

The model reads a sequence of random binary vectors framed by a start and an
end delimiter, then must write the same vectors back, in order, while its
input is blank. The paper trains on 8-bit vectors and lengths 1 to 20, and
tests generalisation on longer sequences (Figure 4 goes up to 120).

Encoding, for ``vector_size=3`` and the length-2 sequence 101, 011
('.' is 0; V = vector_size, L = length, T = 2L + 2 steps)::

    step t          0  1  2  3  4  5
    input   bit 0   .  1  .  .  .  .
            bit 1   .  .  1  .  .  .
            bit 2   .  1  1  .  .  .
            start   1  .  .  .  .  .     channel V
            end     .  .  .  1  .  .     channel V + 1
    target  bit 0   .  .  .  .  1  .
            bit 1   .  .  .  .  .  1
            bit 2   .  .  .  .  1  1
    mask            .  .  .  .  1  1

Step 0 carries the start marker, steps 1..L the bits, step L + 1 the end
marker, and steps L + 2 .. 2L + 1 are blank inputs whose targets are the L
vectors (mask 1). A length-20 sequence therefore takes 42 steps.

A wrinkle of this layout: a data vector of all zeros is the same input as
the blank steps of the output phase, so a feedforward controller can tell
them apart only by what it reads from memory. With 8 bits, 1 vector in 256
is all zeros: rare enough that a model can do well without handling them,
and then fail every sequence that holds one (about 4 sequences in 100 at
the paper's lengths). When those sequences turn up in a training batch,
their large gradient can knock a nearly trained model off its solution.
`sample(blank_rate=...)` makes blank vectors common in training batches, so
they are learned early; evaluation keeps the paper's distribution.
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from tasks.batch import (
    Batch,
    check_at_least,
    check_not_above,
    draw_sizes,
    pad_and_stack,
    random_vectors,
)


@dataclass(frozen=True)
class CopyTask:
    """Copy a sequence of random binary vectors (section 4.1).

    Attributes
    ----------
    vector_size : int
        Bits per vector (8 in the paper).
    min_length, max_length : int
        Trained range of the sequence length, both ends included (1 and 20).
    """

    name: ClassVar[str] = "copy"

    vector_size: int = 8
    min_length: int = 1
    max_length: int = 20

    def __post_init__(self):
        check_at_least("vector_size", self.vector_size, 1)
        check_at_least("min_length", self.min_length, 1)
        check_at_least("max_length", self.max_length, 1)
        check_not_above("min_length", self.min_length, "max_length", self.max_length)

    @classmethod
    def paper(cls):
        """The paper's training sizes: 8-bit vectors, lengths 1 to 20."""
        return cls(vector_size=8, min_length=1, max_length=20)

    @property
    def input_size(self) -> int:
        """Data bits plus the start and end delimiter channels."""
        return self.vector_size + 2

    @property
    def output_size(self) -> int:
        return self.vector_size

    def train_lengths(self) -> range:
        return range(self.min_length, self.max_length + 1)

    def one_size(self, rng: np.random.Generator) -> dict:
        """A length for a whole batch, uniform in the trained range.

        Returns the keyword arguments of `sample` that give every sequence
        of a batch this length (see `Run.one_size_batches`).
        """
        return {"length": int(rng.integers(self.min_length, self.max_length + 1))}

    def sample(
        self,
        rng: np.random.Generator,
        batch_size: int,
        length: int | None = None,
        blank_rate: float = 0.0,
    ) -> Batch:
        """Draw a batch; each length uniform in the trained range unless fixed.

        Parameters
        ----------
        rng : numpy.random.Generator
        batch_size : int
            Number of sequences B.
        length : int or None
            If given, every sequence has this many vectors (may exceed
            `max_length`).
        blank_rate : float in [0, 1]
            The chance that a vector is set to all zeros after drawing its
            bits (see the module docstring); 0 is the paper's task.

        Returns
        -------
        Batch
            inputs (T, B, V + 2), targets (T, B, V), mask (T, B) with
            T = 2 * (longest length) + 2.
        """
        lengths = draw_sizes(rng, batch_size, self.min_length, self.max_length, length)
        sequences = [
            self.encode(random_vectors(rng, n, self.vector_size, blank_rate))
            for n in lengths
        ]
        return pad_and_stack(sequences)

    def encode(self, bits):
        """Lay out one sequence as in the module docstring.

        Parameters
        ----------
        bits : (L, V) array of 0/1

        Returns
        -------
        inputs (2L + 2, V + 2), targets (2L + 2, V), mask (2L + 2,)
        """
        n, v = bits.shape
        inputs = np.zeros((2 * n + 2, v + 2))  # (T, X)
        targets = np.zeros((2 * n + 2, v))  # (T, Y)
        mask = np.zeros(2 * n + 2)  # (T,)

        # input phase: start marker, the bits, end marker
        inputs[0, v] = 1.0
        inputs[1 : n + 1, :v] = bits
        inputs[n + 1, v + 1] = 1.0

        # output phase: blank inputs, the same bits as targets
        targets[n + 2 :] = bits
        mask[n + 2 :] = 1.0
        return inputs, targets, mask
