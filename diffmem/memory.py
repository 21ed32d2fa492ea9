"""Memory: reading and writing an N x M matrix through weightings.

Section 3.1 and 3.2 of Graves et al. (2014), equations (2) to (4).

Order within a time step: every head is addressed against the memory left by
the previous step, the read heads read that same memory, and only then do the
write heads change it. So a read at step t never sees step t's writes; it sees
them at step t + 1. docs/choices.md gives the reasons.
"""


def read(memory, read_weights):
    """Eq. (2): r = sum_i w(i) M(i), for every read head.

    Parameters
    ----------
    memory : (B, N, M)
    read_weights : (R, B, N)

    Returns
    -------
    reads : (B, R, M)
    """
    return read_weights.swapaxes(0, 1) @ memory  # (B, R, N) @ (B, N, M)


def write(memory, write_weights, erase, add):
    """Eq. (3) then (4): erase, then add, for all write heads together.

    M~(i) = M(i) prod_k [1 - w_k(i) e_k]    (erases multiply)
    M'(i) = M~(i) + sum_k w_k(i) a_k         (adds sum)

    Both the product and the sum are unchanged by reordering the heads, so the
    result does not depend on head order, as section 3.2 of the paper asks of
    several write heads.

    Parameters
    ----------
    memory : (B, N, M)
    write_weights : (W, B, N)
    erase : (W, B, M), each entry in [0, 1]
    add : (W, B, M)

    Returns
    -------
    new_memory : (B, N, M)
    """
    new_memory = memory * retention(write_weights, erase)  # (B, N, M)
    for head in range(write_weights.shape[0]):
        weights = write_weights[head][:, :, None]  # (B, N, 1)
        new_memory = new_memory + weights * add[head][:, None, :]  # (B, N, M)
    return new_memory


def retention(write_weights, erase):
    """The fraction of each memory entry that survives the erases of Eq. (3).

    prod_k [1 - w_k(i) e_k(j)], shape (B, N, M). A Python loop over heads
    rather than np.prod, whose gradient divides by each factor and so fails
    when one head erases an entry completely.
    """
    kept = 1.0
    for head in range(write_weights.shape[0]):
        weights = write_weights[head][:, :, None]  # (B, N, 1)
        factor = 1.0 - weights * erase[head][:, None, :]  # (B, N, M)
        kept = factor if head == 0 else kept * factor
    return kept
