"""Repeat copy task (Graves et al. 2014, section 4.2).

The model reads a sequence of random binary vectors and then a repeat count
R, and must write the sequence R times in a row and then raise an
end-of-output marker. The paper trains on 8-bit vectors with both the length
and the count drawn from 1 to 10, and tests on doubled lengths and counts
(Figure 8).

Encoding, for ``vector_size=2``, the length-2 sequence 10, 11 and R = 2
('.' is 0; V = vector_size, L = length, T = L + 3 + R * L steps)::

    step t          0  1  2  3  4  5  6  7  8
    input   bit 0   .  1  1  .  .  .  .  .  .
            bit 1   .  .  1  .  .  .  .  .  .
            start   1  .  .  .  .  .  .  .  .     channel V
            count   .  .  .  r  .  .  .  .  .     channel V + 1
    target  bit 0   .  .  .  .  1  1  1  1  .
            bit 1   .  .  .  .  .  1  .  1  .
            end     .  .  .  .  .  .  .  .  1     channel V
    mask            .  .  .  .  1  1  1  1  1

Step 0 carries the start marker, steps 1..L the bits, and step L + 1 the
normalised count r on its own channel. From step L + 2 the input is blank;
the targets are the R copies followed by one step with only the end marker.
The mask covers the R * L copy steps and the end-marker step.

Normalising the count: the paper says only that "the input representing the
repeat number was normalised to have mean zero and variance one". We read
this as standardising over the training distribution of the count, which is
uniform on the integers ``min_repeats..max_repeats``::

    r = (R - mean) / std,   mean = (lo + hi) / 2,
                            std  = sqrt(((hi - lo + 1)**2 - 1) / 12)

For the paper's 1..10 that is mean 5.5 and std 2.872, so R = 2 gives
r = -1.219 and the trained values span [-1.567, 1.567]. The constants depend
only on the task's training range, never on the batch, so evaluating with
R = 20 gives r = 5.048, outside anything seen in training; that is the
paper's generalisation test. If ``min_repeats == max_repeats`` the std is 0
and we divide by 1 instead.

Known wrinkle: when ``lo + hi`` is even, the count equal to the mean is
encoded as r = 0, so step L + 1 looks blank and nothing marks the end of the
input. The paper's range 1..10 never hits this; keep ``lo + hi`` odd when
choosing other ranges.

A second wrinkle, inherent in the paper's layout: a data vector of all
zeros looks exactly like the blank inputs that follow the count, so only
the arrival of the count, one step later, says the data had not ended. With
8 bits, 1 vector in 256 is all zeros, too rare for training to punish the
shortcut "a blank input ends the data"; models that take it copy every
sequence with a blank last vector wrongly (about 1 sequence in 256 at the
paper's sizes). `sample(blank_rate=...)` makes blank vectors more common in
training batches; evaluation keeps the paper's distribution.
"""

import math
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
class RepeatCopyTask:
    """Copy a sequence a given number of times, then signal the end (4.2).

    Attributes
    ----------
    vector_size : int
        Bits per vector (8 in the paper).
    min_length, max_length : int
        Trained range of the sequence length, both ends included (1 and 10).
    min_repeats, max_repeats : int
        Trained range of the repeat count, both ends included (1 and 10).
        It also fixes the count's normalisation, see the module docstring.
    """

    name: ClassVar[str] = "repeat-copy"

    vector_size: int = 8
    min_length: int = 1
    max_length: int = 10
    min_repeats: int = 1
    max_repeats: int = 10

    def __post_init__(self):
        check_at_least("vector_size", self.vector_size, 1)
        check_at_least("min_length", self.min_length, 1)
        check_at_least("max_length", self.max_length, 1)
        check_not_above("min_length", self.min_length, "max_length", self.max_length)
        check_at_least("min_repeats", self.min_repeats, 1)
        check_at_least("max_repeats", self.max_repeats, 1)
        check_not_above(
            "min_repeats", self.min_repeats, "max_repeats", self.max_repeats
        )

    @classmethod
    def paper(cls):
        """The paper's training sizes: 8-bit vectors, lengths and counts 1-10."""
        return cls(
            vector_size=8, min_length=1, max_length=10, min_repeats=1, max_repeats=10
        )

    @property
    def input_size(self) -> int:
        """Data bits plus the start delimiter and the repeat-count channels."""
        return self.vector_size + 2

    @property
    def output_size(self) -> int:
        """Data bits plus the end-of-output marker channel."""
        return self.vector_size + 1

    def train_lengths(self) -> range:
        return range(self.min_length, self.max_length + 1)

    def train_repeats(self) -> range:
        return range(self.min_repeats, self.max_repeats + 1)

    def normalise_repeats(self, repeats):
        """Map a repeat count R to the value shown on the count channel.

        r = (R - mean) / std over the uniform training range of R; see the
        module docstring. Works elementwise on arrays.
        """
        lo, hi = self.min_repeats, self.max_repeats
        mean = (lo + hi) / 2
        std = math.sqrt(((hi - lo + 1) ** 2 - 1) / 12) or 1.0
        return (np.asarray(repeats, dtype=float) - mean) / std

    def one_size(self, rng: np.random.Generator) -> dict:
        """A length and a count for a whole batch, each uniform in its range.

        Returns the keyword arguments of `sample` that give every sequence
        of a batch this length and count (see `Run.one_size_batches`).
        """
        length = int(rng.integers(self.min_length, self.max_length + 1))
        repeats = int(rng.integers(self.min_repeats, self.max_repeats + 1))
        return {"length": length, "repeats": repeats}

    def sample(
        self,
        rng: np.random.Generator,
        batch_size: int,
        length: int | None = None,
        repeats: int | None = None,
        blank_rate: float = 0.0,
    ) -> Batch:
        """Draw a batch; length and count uniform in the trained ranges.

        Parameters
        ----------
        rng : numpy.random.Generator
        batch_size : int
            Number of sequences B.
        length : int or None
            If given, every sequence has this many vectors.
        repeats : int or None
            If given, every sequence is to be copied this many times.
        blank_rate : float in [0, 1]
            The chance that a vector is set to all zeros after drawing its
            bits (see the module docstring); 0 is the paper's task.

        Returns
        -------
        Batch
            inputs (T, B, V + 2), targets (T, B, V + 1), mask (T, B) with
            T = max over sequences of L + 3 + R * L.
        """
        lengths = draw_sizes(rng, batch_size, self.min_length, self.max_length, length)
        counts = draw_sizes(
            rng, batch_size, self.min_repeats, self.max_repeats, repeats, "repeats"
        )
        sequences = [
            self.encode(random_vectors(rng, n, self.vector_size, blank_rate), r)
            for n, r in zip(lengths, counts)
        ]
        return pad_and_stack(sequences)

    def encode(self, bits, repeats):
        """Lay out one sequence as in the module docstring.

        Parameters
        ----------
        bits : (L, V) array of 0/1
        repeats : int
            The count R.

        Returns
        -------
        inputs (T, V + 2), targets (T, V + 1), mask (T,), T = L + 3 + R * L
        """
        n, v = bits.shape
        out = repeats * n
        t = n + 3 + out
        inputs = np.zeros((t, v + 2))  # (T, X)
        targets = np.zeros((t, v + 1))  # (T, Y)
        mask = np.zeros(t)  # (T,)

        # input phase: start marker, the bits, the normalised count
        inputs[0, v] = 1.0
        inputs[1 : n + 1, :v] = bits
        inputs[n + 1, v + 1] = self.normalise_repeats(repeats)

        # output phase: R copies, then the end marker alone
        targets[n + 2 : n + 2 + out, :v] = np.tile(bits, (repeats, 1))
        targets[n + 2 + out, v] = 1.0
        mask[n + 2 :] = 1.0
        return inputs, targets, mask
