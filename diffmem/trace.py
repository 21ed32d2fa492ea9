"""What the memory did: the forward pass's records stacked over time.

For pictures (`diffmem show`, `diffmem report`) and for the curious. Every
array is stacked along a leading time axis T and taken for one sequence of the
batch, so there is no batch axis.
"""

import numpy as np

from diffmem.activations import sigmoid
from diffmem.ntm import forward


def trace(params, config, inputs, rng=None, sequence=0):
    """Run the NTM on `inputs` (T, B, X) and return one sequence's history.

    Returns
    -------
    dict of numpy arrays (R read heads, W write heads):

    - inputs (T, X), outputs (T, Y): the sigmoid of the logits
    - read_weights (T, R, N), write_weights (T, W, N): Eq. (9) weightings
    - content_weights (T, K, N): Eq. (5), before gating, shift and sharpening
    - keys (T, K, M), key_strengths, gates, sharpenings (T, K): beta, g, gamma
    - shifts (T, K, 2S + 1): the shift weighting s
    - erases, adds (T, W, M): Eq. (3)-(4) vectors
    - reads (T, R, M): Eq. (2) read vectors
    - memory (T + 1, N, M): before step 1, then after each step's writes
    """
    _, records = forward(params, config, inputs, rng, record=True)
    R = config.read_heads

    def stacked(values):
        return np.stack([np.asarray(value) for value in values])

    def per_head(values):
        return stacked(values)[:, :, sequence]  # drop the batch axis

    weights = per_head(r.addressing.weights for r in records)  # (T, K, N)
    memory_before = np.asarray(records[0].previous.memory)[sequence][None]
    memory_after = stacked(r.state.memory for r in records)[:, sequence]

    return {
        "inputs": np.asarray(inputs)[:, sequence],
        "outputs": sigmoid(stacked(r.logits for r in records)[:, sequence]),
        "read_weights": weights[:, :R],
        "write_weights": weights[:, R:],
        "content_weights": per_head(r.addressing.content for r in records),
        "keys": per_head(r.heads.key for r in records),
        "key_strengths": per_head(r.heads.beta for r in records),
        "gates": per_head(r.heads.gate for r in records),
        "shifts": per_head(r.heads.shift for r in records),
        "sharpenings": per_head(r.heads.gamma for r in records),
        "erases": per_head(r.erase for r in records),
        "adds": per_head(r.add for r in records),
        "reads": stacked(r.state.reads for r in records)[:, sequence],
        "memory": np.concatenate([memory_before, memory_after]),
    }
