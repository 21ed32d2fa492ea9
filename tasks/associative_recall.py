"""Associative recall task (Graves et al. 2014, section 4.3).

The model reads a list of items, each a short run of random binary vectors,
then a query that repeats one of the items, and must answer with the item
that came right after the query in the list. The paper uses items of three
6-bit vectors and lists of 2 to 6 items, and tests on up to 20 items
(Figure 11).

The paper bounds every item "on the left and right by delimiter symbols"
and gives the query its own delimiter (rows 7 and 8 of Figure 12). Here each
list item is preceded by an item delimiter, so the next item's delimiter (or
the query delimiter, for the last item) closes it, and the query item sits
between two query delimiters.

Encoding, for ``item_length=2``, ``vector_size=2``, the two items
(10, 01) and (11, 10), queried with item 0 ('.' is 0; K = item_length,
V = vector_size, n = number of items, T = n(K + 1) + 2K + 2 steps)::

    step t          0  1  2  3  4  5  6  7  8  9 10 11
    input   bit 0   .  1  .  .  1  1  .  1  .  .  .  .
            bit 1   .  .  1  .  1  .  .  .  1  .  .  .
            item    1  .  .  1  .  .  .  .  .  .  .  .     channel V
            query   .  .  .  .  .  .  1  .  .  1  .  .     channel V + 1
    target  bit 0   .  .  .  .  .  .  .  .  .  .  1  1
            bit 1   .  .  .  .  .  .  .  .  .  .  1  .
    mask            .  .  .  .  .  .  .  .  .  .  1  1

The query is drawn uniformly from items 0 .. n - 2 (every item but the last,
which has no successor), and the target is the item that follows it.
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
)


@dataclass(frozen=True)
class AssociativeRecallTask:
    """Recall the item that followed a queried item in a list (4.3).

    Attributes
    ----------
    item_length : int
        Vectors per item, K (3 in the paper).
    vector_size : int
        Bits per vector, V (6 in the paper).
    min_items, max_items : int
        Trained range of the number of items in the list, both ends included
        (2 and 6). At least 2, so that some item has a successor.
    """

    name: ClassVar[str] = "associative-recall"

    item_length: int = 3
    vector_size: int = 6
    min_items: int = 2
    max_items: int = 6

    def __post_init__(self):
        check_at_least("item_length", self.item_length, 1)
        check_at_least("vector_size", self.vector_size, 1)
        check_at_least("min_items", self.min_items, 2)
        check_at_least("max_items", self.max_items, 2)
        check_not_above("min_items", self.min_items, "max_items", self.max_items)

    @classmethod
    def paper(cls):
        """The paper's training sizes: items of three 6-bit vectors, 2-6 items."""
        return cls(item_length=3, vector_size=6, min_items=2, max_items=6)

    @property
    def input_size(self) -> int:
        """Data bits plus the item and query delimiter channels."""
        return self.vector_size + 2

    @property
    def output_size(self) -> int:
        return self.vector_size

    def train_lengths(self) -> range:
        """Trained range of the number of items."""
        return range(self.min_items, self.max_items + 1)

    def one_size(self, rng: np.random.Generator) -> dict:
        """A number of items for a whole batch, uniform in the trained range.

        Returns the keyword arguments of `sample` that give every list of a
        batch this many items (see `Run.one_size_batches`).
        """
        return {"length": int(rng.integers(self.min_items, self.max_items + 1))}

    def sample(
        self, rng: np.random.Generator, batch_size: int, length: int | None = None
    ) -> Batch:
        """Draw a batch; the number of items uniform in the trained range.

        Parameters
        ----------
        rng : numpy.random.Generator
        batch_size : int
            Number of sequences B.
        length : int or None
            If given, every list has this many items (at least 2).

        Returns
        -------
        Batch
            inputs (T, B, V + 2), targets (T, B, V), mask (T, B) with
            T = n(K + 1) + 2K + 2 for the longest list of n items.
        """
        counts = draw_sizes(
            rng, batch_size, self.min_items, self.max_items, length, minimum=2
        )
        sequences = []
        for n in counts:
            items = rng.integers(0, 2, size=(n, self.item_length, self.vector_size))
            query = rng.integers(0, n - 1)
            sequences.append(self.encode(items, query))
        return pad_and_stack(sequences)

    def encode(self, items, query):
        """Lay out one list and query as in the module docstring.

        Parameters
        ----------
        items : (n, K, V) array of 0/1
        query : int
            Index of the queried item, 0 <= query <= n - 2.

        Returns
        -------
        inputs (T, V + 2), targets (T, V), mask (T,), T = n(K + 1) + 2K + 2
        """
        n, k, v = items.shape
        t = n * (k + 1) + 2 * k + 2
        inputs = np.zeros((t, v + 2))  # (T, X)
        targets = np.zeros((t, v))  # (T, Y)
        mask = np.zeros(t)  # (T,)

        # the list: each item after its delimiter, in blocks of K + 1 steps
        blocks = inputs[: n * (k + 1)].reshape(n, k + 1, v + 2)  # (n, K + 1, X)
        blocks[:, 0, v] = 1.0
        blocks[:, 1:, :v] = items

        # the query between two query delimiters
        start = n * (k + 1)
        inputs[start, v + 1] = 1.0
        inputs[start + 1 : start + 1 + k, :v] = items[query]
        inputs[start + 1 + k, v + 1] = 1.0

        # the answer: the item after the query, on blank inputs
        targets[start + 2 + k :] = items[query + 1]
        mask[start + 2 + k :] = 1.0
        return inputs, targets, mask
