"""The hand-derived backward pass of the NTM: the "manual" gradient backend.

`loss_and_gradients` runs the one forward pass, `ntm.forward(record=True)`,
and walks its StepRecords from the last step to the first. Each forward
function has one backward function here, placed in the order the forward
modules define them (controller, heads, addressing Eq. (5)-(9), memory
Eq. (2)-(4), output, loss); `backward_step` calls them in reverse.
docs/gradients.md derives every rule.

Conventions:

- `d<name>` is d loss / d <name> and has the shape of <name>.
- Backward functions read the forward's intermediates from the records by
  name. They recompute only cheap local quantities (a norm, a log, a sigmoid).
- Weights and biases are shared by all time steps. Inside the loop the
  backward functions return gradients with respect to pre-activations, and
  after the loop `parameter_gradients` sums inputs^T gradients over all steps
  and sequences at once (`sum_of_products`).

Shape letters are those of the package docstring.
"""

from typing import NamedTuple

import numpy as np

from diffmem.activations import sigmoid
from diffmem.addressing import SHARPEN_EPSILON, shift_sources, stable_norm
from diffmem.loss import LN2, LossAndGradients, cost_bits
from diffmem.ntm import State, forward

BLOCK_ROWS = 64
"""Rows (steps times sequences) per matrix product of `sum_of_products`. So
small a product runs on one BLAS thread, whereas one product over all T B rows
is split between threads, and on a busy machine a split product waits for a
free core: at B = 32, with the load average at 4 on 2 cores, the weight
gradients took 20 to 70 ms as single products and 3 ms in blocks."""


class FeedforwardGradients(NamedTuple):
    """What `backward_feedforward` hands back."""

    dcontroller_input: object  # (B, D)
    dpre_activations: tuple  # L arrays of (B, H), layer 1 first


class LSTMGradients(NamedTuple):
    """What `backward_lstm` hands back."""

    dcontroller_input: object  # (B, D)
    dhidden_prev: object  # (B, H)
    dcell_prev: object  # (B, H)
    dpre_activation: object  # (B, 4H), blocks i, f, o, z


class AddressGradients(NamedTuple):
    """What `backward_address` hands back: one gradient per input of `address`."""

    dmemory: object  # (B, N, M)
    dw_prev: object  # (K, B, N)
    dkey: object  # (K, B, M)
    dbeta: object  # (K, B)
    dgate: object  # (K, B)
    dshift: object  # (K, B, 2S + 1)
    dgamma: object  # (K, B)


class WriteGradients(NamedTuple):
    """What `backward_write` hands back."""

    dmemory: object  # (B, N, M)
    dwrite_weights: object  # (W, B, N)
    derase: object  # (W, B, M)
    dadd: object  # (W, B, M)


class StepGradients(NamedTuple):
    """The pre-activation gradients of one step, for `parameter_gradients`."""

    dcontroller: object  # FeedforwardGradients or LSTMGradients
    dhead_raw: object  # (K, B, P)
    derase_raw: object  # (W, B, M)
    dadd_raw: object  # (W, B, M)


def sum_of_products(inputs, gradients):
    """inputs^T gradients, the gradient of a weight used on every row, summed
    over the rows in blocks of BLOCK_ROWS.

    inputs : (rows, I); gradients : (..., rows, O). Returns (..., I, O).
    """
    total = 0.0
    for start in range(0, inputs.shape[0], BLOCK_ROWS):
        block = slice(start, start + BLOCK_ROWS)
        total = total + inputs[block].T @ gradients[..., block, :]
    return total


def softmax_backward(y, dy):
    """Backward of y = softmax(z) along the last axis: dz = y (dy - sum y dy)."""
    return y * (dy - (y * dy).sum(axis=-1, keepdims=True))


# controller.py


def backward_feedforward(params, record, dhidden):
    """Backward of `controller.feedforward`, h_l = tanh(h_{l-1} W_l + b_l).

    Parameters
    ----------
    record : FeedforwardRecord, the L layer outputs (B, H).
    dhidden : (B, H), the gradient of the last layer (the controller output).

    Returns
    -------
    FeedforwardGradients
    """
    layers = record.layers
    hidden_weights = params["controller_hidden_weights"]  # (L - 1, H, H)
    dpre_activations = [None] * len(layers)

    # down the stack: tanh' = 1 - h^2, then back through the layer's weights
    for layer in reversed(range(len(layers))):
        dpre_activation = dhidden * (1.0 - layers[layer] ** 2)  # (B, H)
        dpre_activations[layer] = dpre_activation
        if layer > 0:
            dhidden = dpre_activation @ hidden_weights[layer - 1].T  # (B, H)

    dcontroller_input = dpre_activation @ params["controller_input_weights"].T
    return FeedforwardGradients(dcontroller_input, tuple(dpre_activations))


def backward_lstm(params, record, cell_prev, dhidden, dcell):
    """Backward of `controller.lstm`: c_t = f c_{t-1} + i z, h_t = o tanh(c_t).

    Parameters
    ----------
    record : LSTMRecord of this step; cell_prev : (B, H), c_{t-1}.
    dhidden : (B, H), the gradient of h_t from every use at this step and the
        next; dcell : (B, H), the gradient of c_t from the next step.

    Returns
    -------
    LSTMGradients
    """
    input_gate, forget_gate = record.input_gate, record.forget_gate
    output_gate, candidate = record.output_gate, record.candidate

    # h_t = o tanh(c_t)
    doutput_gate = dhidden * record.cell_tanh  # (B, H)
    dcell = dcell + dhidden * output_gate * (1.0 - record.cell_tanh**2)  # (B, H)

    # c_t = f c_{t-1} + i z
    dforget_gate = dcell * cell_prev
    dinput_gate = dcell * candidate
    dcandidate = dcell * input_gate
    dcell_prev = dcell * forget_gate

    # through the squashing functions to the four pre-activation blocks
    dpre_activation = np.concatenate(
        [
            dinput_gate * input_gate * (1.0 - input_gate),
            dforget_gate * forget_gate * (1.0 - forget_gate),
            doutput_gate * output_gate * (1.0 - output_gate),
            dcandidate * (1.0 - candidate**2),
        ],
        axis=1,
    )  # (B, 4H)

    dcontroller_input = dpre_activation @ params["lstm_input_weights"].T  # (B, D)
    dhidden_prev = dpre_activation @ params["lstm_recurrent_weights"].T  # (B, H)
    return LSTMGradients(dcontroller_input, dhidden_prev, dcell_prev, dpre_activation)


# heads.py


def backward_head_parameters(params, heads, daddress):
    """Backward of `heads.head_parameters`: raw = h W_head + b_head, squashed.

    key = tanh, beta = softplus, g = sigmoid, s = softmax, gamma = 1 + softplus;
    softplus' = sigmoid.

    Parameters
    ----------
    heads : HeadParameters of this step.
    daddress : AddressGradients, carrying dkey, dbeta, dgate, dshift, dgamma.

    Returns
    -------
    dhidden : (B, H); dhead_raw : (K, B, P).
    """
    raw = heads.raw  # (K, B, P)
    M = heads.key.shape[-1]
    dhead_raw = np.empty_like(raw)

    dhead_raw[..., :M] = daddress.dkey * (1.0 - heads.key**2)
    dhead_raw[..., M] = daddress.dbeta * sigmoid(raw[..., M])
    dhead_raw[..., M + 1] = daddress.dgate * heads.gate * (1.0 - heads.gate)
    dhead_raw[..., M + 2 : -1] = softmax_backward(heads.shift, daddress.dshift)
    dhead_raw[..., -1] = daddress.dgamma * sigmoid(raw[..., -1])

    dhidden = (dhead_raw @ params["head_weights"].swapaxes(1, 2)).sum(axis=0)
    return dhidden, dhead_raw


def backward_erase_and_add(params, erase, add, derase, dadd):
    """Backward of `heads.erase_and_add`: e = sigmoid(h W_e + b_e),
    a = tanh(h W_a + b_a).

    Parameters
    ----------
    erase, add, derase, dadd : (W, B, M)

    Returns
    -------
    dhidden : (B, H); derase_raw, dadd_raw : (W, B, M), before the squashing.
    """
    derase_raw = derase * erase * (1.0 - erase)  # (W, B, M)
    dadd_raw = dadd * (1.0 - add**2)  # (W, B, M)

    dhidden = (derase_raw @ params["erase_weights"].swapaxes(1, 2)).sum(axis=0)
    dhidden = dhidden + (dadd_raw @ params["add_weights"].swapaxes(1, 2)).sum(axis=0)
    return dhidden, derase_raw, dadd_raw


# addressing.py, Eq. (5)-(9)


def backward_cosine_similarity(memory, key, similarity, dsimilarity):
    """Backward of Eq. (6), cosine similarity K = k . M(i) / (|k| |M(i)|).

    With |x| = sqrt(x . x + NORM_EPSILON), d|x| / dx = x / |x|, so

        dk    = sum_i dK(i) [M(i) / (|k| |M(i)|) - K(i) k / |k|^2]
        dM(i) = sum over heads of dK(i) [k / (|k| |M(i)|) - K(i) M(i) / |M(i)|^2]

    Parameters
    ----------
    memory : (B, N, M); key : (K, B, M); similarity, dsimilarity : (K, B, N).

    Returns
    -------
    dmemory : (B, N, M); dkey : (K, B, M).
    """
    key_norm = stable_norm(key)  # (K, B)
    row_norm = stable_norm(memory)  # (B, N)
    ddot = dsimilarity / (key_norm[..., None] * row_norm)  # (K, B, N)
    dsim_sim = dsimilarity * similarity  # (K, B, N)

    # through the dot product k . M(i)
    dkey = (ddot[..., None, :] @ memory)[..., 0, :]  # (K, B, M)
    dmemory = ddot.transpose(1, 2, 0) @ key.swapaxes(0, 1)  # (B, N, M)

    # through the norms
    dkey -= (dsim_sim.sum(axis=-1) / key_norm**2)[..., None] * key
    dmemory -= (dsim_sim.sum(axis=0) / row_norm**2)[..., None] * memory
    return dmemory, dkey


def backward_content_weights(similarity, beta, content, dcontent):
    """Backward of Eq. (5), content weighting w^c = softmax(beta K).

    Parameters
    ----------
    similarity, content, dcontent : (K, B, N); beta : (K, B).

    Returns
    -------
    dsimilarity : (K, B, N); dbeta : (K, B).
    """
    dlogits = softmax_backward(content, dcontent)  # (K, B, N)
    dbeta = (dlogits * similarity).sum(axis=-1)  # (K, B)
    dsimilarity = dlogits * beta[..., None]  # (K, B, N)
    return dsimilarity, dbeta


def backward_interpolate(content, w_prev, gate, dgated):
    """Backward of Eq. (7), interpolation w^g = g w^c + (1 - g) w_{t-1}.

    Parameters
    ----------
    content, w_prev, dgated : (K, B, N); gate : (K, B).

    Returns
    -------
    dcontent, dw_prev : (K, B, N); dgate : (K, B).
    """
    g = gate[..., None]  # (K, B, 1)
    dcontent = g * dgated
    dw_prev = (1.0 - g) * dgated
    dgate = (dgated * (content - w_prev)).sum(axis=-1)  # (K, B)
    return dcontent, dw_prev, dgate


def backward_circular_shift(gated, shift, dshifted):
    """Backward of Eq. (8), circular convolution w~(i) = sum_j w^g(i - o_j) s(j).

    ds(j)     = sum_i dw~(i) w^g(i - o_j)
    dw^g(i)   = sum_j s(j) dw~(i + o_j)

    Row i + o_j is row i gathered with offset -o_j, which is offset o_{2S - j}:
    the same index table as the forward, its rows reversed.

    Parameters
    ----------
    gated, dshifted : (K, B, N); shift : (K, B, 2S + 1).

    Returns
    -------
    dgated : (K, B, N); dshift : (K, B, 2S + 1).
    """
    sources = shift_sources(gated.shape[-1], (shift.shape[-1] - 1) // 2)
    rolled = gated[..., sources]  # (K, B, 2S + 1, N), w^g(i - o_j)
    dshift = (rolled @ dshifted[..., None])[..., 0]  # (K, B, 2S + 1)

    drolled = dshifted[..., sources[::-1]]  # (K, B, 2S + 1, N), dw~(i + o_j)
    dgated = (shift[..., None, :] @ drolled)[..., 0, :]  # (K, B, N)
    return dgated, dshift


def backward_sharpen(shifted, gamma, weights, dweights):
    """Backward of Eq. (9), sharpening w = softmax(gamma log(w~ + eps)).

    dz = softmax_backward; dgamma = sum_i dz_i log(w~_i + eps);
    dw~ = dz gamma / (w~ + eps). The quotient is finite since dz carries a
    factor w_i, of order (w~_i + eps)^gamma with gamma >= 1.

    Parameters
    ----------
    shifted, weights, dweights : (K, B, N); gamma : (K, B).

    Returns
    -------
    dshifted : (K, B, N); dgamma : (K, B).
    """
    shifted = shifted + SHARPEN_EPSILON  # (K, B, N)
    dlogits = softmax_backward(weights, dweights)  # (K, B, N)
    dgamma = (dlogits * np.log(shifted)).sum(axis=-1)  # (K, B)
    dshifted = dlogits * gamma[..., None] / shifted  # (K, B, N)
    return dshifted, dgamma


def backward_address(memory, w_prev, heads, addressing, dweights):
    """Backward of `addressing.address`: Eq. (9), (8), (7), (5), (6) in turn.

    Parameters
    ----------
    memory : (B, N, M), the memory the heads addressed.
    w_prev : (K, B, N); heads : HeadParameters; addressing : Addressing.
    dweights : (K, B, N), the gradient of every head's weighting w_t.

    Returns
    -------
    AddressGradients
    """
    dshifted, dgamma = backward_sharpen(
        addressing.shifted, heads.gamma, addressing.weights, dweights
    )
    dgated, dshift = backward_circular_shift(addressing.gated, heads.shift, dshifted)
    dcontent, dw_prev, dgate = backward_interpolate(
        addressing.content, w_prev, heads.gate, dgated
    )
    dsimilarity, dbeta = backward_content_weights(
        addressing.similarity, heads.beta, addressing.content, dcontent
    )
    dmemory, dkey = backward_cosine_similarity(
        memory, heads.key, addressing.similarity, dsimilarity
    )
    return AddressGradients(dmemory, dw_prev, dkey, dbeta, dgate, dshift, dgamma)


# memory.py, Eq. (2)-(4)


def backward_read(memory, read_weights, dreads):
    """Backward of Eq. (2), reading r = sum_i w(i) M(i).

    Parameters
    ----------
    memory : (B, N, M); read_weights : (R, B, N); dreads : (B, R, M).

    Returns
    -------
    dmemory : (B, N, M); dread_weights : (R, B, N).
    """
    dread_weights = (dreads @ memory.swapaxes(1, 2)).swapaxes(0, 1)  # (R, B, N)
    dmemory = read_weights.transpose(1, 2, 0) @ dreads  # (B, N, M)
    return dmemory, dread_weights


def others_product(factors):
    """prod_{j != k} factors[j] for every k, by prefix and suffix products.

    No division, so a factor that is exactly 0 (a complete erase) is safe.
    factors : (W, B, N, M) with W >= 2; returns the same shape.
    """
    others = np.ones_like(factors)
    for head in range(1, len(factors)):
        others[head] = others[head - 1] * factors[head - 1]  # prefix
    suffix = 1.0
    for head in reversed(range(len(factors) - 1)):
        suffix = suffix * factors[head + 1]
        others[head] *= suffix
    return others


def backward_write(memory, write_weights, erase, add, dnew_memory):
    """Backward of Eq. (3)-(4), M' = M prod_k (1 - w_k e_k) + sum_k w_k a_k.

    With F_k = 1 - w_k e_k (an outer product, (B, N, M)) and
    dF_k = dM' M prod_{j != k} F_j:

        dM   = dM' prod_k F_k
        dw_k = dM' a_k - dF_k e_k      (summed over the word axis)
        de_k = -w_k . dF_k             (summed over rows)
        da_k = w_k . dM'

    Parameters
    ----------
    memory, dnew_memory : (B, N, M); write_weights : (W, B, N);
    erase, add : (W, B, M).

    Returns
    -------
    WriteGradients; its dmemory is a new array.
    """
    W = write_weights.shape[0]
    factors = 1.0 - write_weights[..., None] * erase[:, :, None, :]  # (W, B, N, M)
    dkept = dnew_memory * memory  # (B, N, M)

    # Eq. (3), the erase; one head is the common case, with no other factors
    if W == 0:
        dmemory, dfactors = dnew_memory.copy(), factors
    elif W == 1:
        dmemory, dfactors = dnew_memory * factors[0], dkept[None]
    else:
        others = others_product(factors)  # (W, B, N, M)
        dmemory = dnew_memory * (others[0] * factors[0])
        dfactors = dkept * others  # (W, B, N, M)
    derase = -(write_weights[..., None, :] @ dfactors)[..., 0, :]  # (W, B, M)

    # Eq. (4), the add
    dadd = (write_weights[..., None, :] @ dnew_memory)[..., 0, :]  # (W, B, M)
    dwrite_weights = (dnew_memory @ add[..., None])[..., 0]  # (W, B, N)
    dwrite_weights -= (dfactors @ erase[..., None])[..., 0]
    return WriteGradients(dmemory, dwrite_weights, derase, dadd)


# ntm.py


def backward_output(params, output_inputs, dlogits):
    """Backward of the output layer, logits = [h, r] W_out + b_out, all steps.

    Parameters
    ----------
    output_inputs : (T, B, H + R M), every step's `output_input`.
    dlogits : (T, B, Y)

    Returns
    -------
    doutput_inputs : (T, B, H + R M); doutput_weights : (H + R M, Y);
    doutput_bias : (Y,).
    """
    T, B, Y = dlogits.shape
    doutput_inputs = dlogits @ params["output_weights"].T  # (T, B, H + R M)
    flat_inputs = output_inputs.reshape(T * B, -1)  # (T B, H + R M)
    doutput_weights = sum_of_products(flat_inputs, dlogits.reshape(T * B, Y))
    doutput_bias = dlogits.sum(axis=(0, 1))
    return doutput_inputs, doutput_weights, doutput_bias


def backward_step(params, config, record, dstate, doutput_input):
    """Backward of `ntm.step`: its seven stages, last first.

    Parameters
    ----------
    record : StepRecord of step t.
    dstate : State of gradients with respect to `record.state`, from step
        t + 1 (zeros after the last step; hidden and cell None unless lstm).
    doutput_input : (B, H + R M), from `backward_output`.

    Returns
    -------
    dstate_prev : State of gradients with respect to `record.previous`.
    StepGradients of this step.
    """
    H, R, M = config.hidden_size, config.read_heads, config.word_size
    B = doutput_input.shape[0]
    previous, heads, addressing = record.previous, record.heads, record.addressing

    # 7. output: logits read the controller output and this step's reads
    dhidden = doutput_input[:, :H]  # (B, H)
    if dstate.hidden is not None:
        dhidden = dhidden + dstate.hidden
    dreads = dstate.reads + doutput_input[:, H:].reshape(B, R, M)  # (B, R, M)

    # 6. write, Eq. (3)-(4), and the erase and add vectors
    write = backward_write(
        previous.memory,
        addressing.weights[R:],
        record.erase,
        record.add,
        dstate.memory,
    )
    dhidden_write, derase_raw, dadd_raw = backward_erase_and_add(
        params, record.erase, record.add, write.derase, write.dadd
    )

    # 5. read, Eq. (2)
    dmemory_read, dread_weights = backward_read(
        previous.memory, addressing.weights[:R], dreads
    )

    # 4. addressing, Eq. (5)-(9), of every head
    dweights = np.concatenate([dread_weights, write.dwrite_weights]) + dstate.weights
    address = backward_address(
        previous.memory, previous.weights, heads, addressing, dweights
    )
    dmemory = address.dmemory  # (B, N, M), a new array: accumulate in place
    dmemory += write.dmemory
    dmemory += dmemory_read

    # 3. heads
    dhidden_heads, dhead_raw = backward_head_parameters(params, heads, address)
    dhidden = dhidden + dhidden_write + dhidden_heads  # (B, H)

    # 2. controller
    if config.controller == "feedforward":
        dcontroller = backward_feedforward(params, record.controller, dhidden)
        dhidden_prev = dcell_prev = None
    else:
        dcontroller = backward_lstm(
            params, record.controller, previous.cell, dhidden, dstate.cell
        )
        dhidden_prev, dcell_prev = dcontroller.dhidden_prev, dcontroller.dcell_prev

    # 1. controller input: x_t, then the reads of step t - 1
    dreads_prev = dcontroller.dcontroller_input[:, config.input_size :]
    dreads_prev = dreads_prev.reshape(B, R, M)  # (B, R, M)

    dstate_prev = State(dmemory, dreads_prev, address.dw_prev, dhidden_prev, dcell_prev)
    return dstate_prev, StepGradients(dcontroller, dhead_raw, derase_raw, dadd_raw)


def backward_initial_state(config, first_weights, dstate):
    """Backward of `ntm.initial_state`: every sequence starts from the same
    learned reads, weightings and (memory_init="learned") memory, so their
    gradients sum over the batch; w_0 = softmax(initial_weight_logits).

    Parameters
    ----------
    first_weights : (K, N), w_0 of every head.
    dstate : State of gradients with respect to the initial state.

    Returns
    -------
    dict of the gradients of `initial_reads`, `initial_weight_logits` and,
    if learned, `initial_memory`.
    """
    gradients = {
        "initial_reads": dstate.reads.sum(axis=0),  # (R, M)
        "initial_weight_logits": softmax_backward(
            first_weights, dstate.weights.sum(axis=1)
        ),  # (K, N)
    }
    if config.memory_init == "learned":
        gradients["initial_memory"] = dstate.memory.sum(axis=0)  # (N, M)
    return gradients


def parameter_gradients(config, records, steps):
    """Gradients of the weights and biases used at every step, summed over
    time and batch in one product each.

    Parameters
    ----------
    records : the T StepRecords; steps : the T StepGradients, in time order.

    Returns
    -------
    dict of the controller, head, erase and add weight and bias gradients.
    """
    T, B = len(records), records[0].hidden.shape[0]

    def flat(arrays):
        """Stack T arrays (B, ...) into (T B, ...)."""
        stacked = np.stack(arrays)  # (T, B, ...)
        return stacked.reshape(T * B, *stacked.shape[2:])

    def by_head(arrays):
        """Stack T arrays (K, B, C) into (K, T B, C)."""
        stacked = np.stack(arrays, axis=1)  # (K, T, B, C)
        return stacked.reshape(stacked.shape[0], T * B, stacked.shape[-1])

    gradients = {}
    hidden = flat([record.hidden for record in records])  # (T B, H)
    controller_input = flat([record.controller_input for record in records])

    # heads, erase and add vectors: raw = h W + b
    for name, field in (
        ("head", "dhead_raw"),
        ("erase", "derase_raw"),
        ("add", "dadd_raw"),
    ):
        draw = by_head([getattr(step, field) for step in steps])  # (K, T B, C)
        gradients[f"{name}_weights"] = sum_of_products(hidden, draw)  # (K, H, C)
        gradients[f"{name}_bias"] = draw.sum(axis=1)  # (K, C)

    # controller
    if config.controller == "feedforward":
        L, H = config.controller_layers, config.hidden_size
        dpre = [
            flat([step.dcontroller.dpre_activations[layer] for step in steps])
            for layer in range(L)
        ]  # L arrays (T B, H)
        gradients["controller_input_weights"] = sum_of_products(
            controller_input, dpre[0]
        )  # (D, H)
        gradients["controller_input_bias"] = dpre[0].sum(axis=0)

        hidden_weights, hidden_bias = np.zeros((L - 1, H, H)), np.zeros((L - 1, H))
        for layer in range(1, L):  # layer l + 1 reads the output of layer l
            layer_input = flat(
                [record.controller.layers[layer - 1] for record in records]
            )  # (T B, H)
            hidden_weights[layer - 1] = sum_of_products(layer_input, dpre[layer])
            hidden_bias[layer - 1] = dpre[layer].sum(axis=0)
        gradients["controller_hidden_weights"] = hidden_weights
        gradients["controller_hidden_bias"] = hidden_bias
    else:
        dpre = flat([step.dcontroller.dpre_activation for step in steps])
        hidden_prev = flat([record.previous.hidden for record in records])
        gradients["lstm_input_weights"] = sum_of_products(controller_input, dpre)
        gradients["lstm_recurrent_weights"] = sum_of_products(hidden_prev, dpre)
        gradients["lstm_bias"] = dpre.sum(axis=0)  # (4H,)

    return gradients


def backward_cost_bits(logits, targets, mask):
    """Backward of `loss.cost_bits`, sum m (softplus(z) - y z) / (B ln 2):
    dz = m (sigmoid(z) - y) / (B ln 2).

    logits, targets : (T, B, Y); mask : (T, B). Returns dlogits (T, B, Y).
    """
    scale = mask[:, :, None] / (logits.shape[1] * LN2)  # (T, B, 1)
    return (sigmoid(logits) - targets) * scale


def loss_and_gradients(params, config, inputs, targets, mask, rng=None):
    """The loss, the gradient of every parameter and the logits, by running the
    forward pass once and the hand-derived backward pass of this module.

    Same arguments and result as `gradients.loss_and_gradients`: inputs
    (T, B, X), targets (T, B, Y), mask (T, B); `rng` draws the initial memory
    when memory_init="random". Gradients have the names, shapes and dtype of
    `params`.
    """
    dtype = config.dtype
    logits, records = forward(params, config, inputs, rng, record=True)
    targets = targets.astype(dtype, copy=False)
    loss = cost_bits(logits, targets, mask)

    # loss and output layer, every step at once
    dlogits = backward_cost_bits(logits, targets, mask.astype(dtype, copy=False))
    output_inputs = np.stack([record.output_input for record in records])
    doutput_inputs, doutput_weights, doutput_bias = backward_output(
        params, output_inputs, dlogits
    )

    # the recurrence, last step first
    dstate = zero_state_gradients(records[-1].state)
    steps = [None] * len(records)
    for t in reversed(range(len(records))):
        dstate, steps[t] = backward_step(
            params, config, records[t], dstate, doutput_inputs[t]
        )

    # parameters shared over time, and the initial state
    gradients = parameter_gradients(config, records, steps)
    gradients["output_weights"] = doutput_weights
    gradients["output_bias"] = doutput_bias
    first_weights = records[0].previous.weights[:, 0]  # (K, N)
    gradients.update(backward_initial_state(config, first_weights, dstate))

    return LossAndGradients(float(loss), match_params(gradients, params), logits)


def zero_state_gradients(state):
    """The gradient of the loss with respect to the state after the last step:
    zero, since nothing reads it."""
    return State(*(None if value is None else np.zeros_like(value) for value in state))


def match_params(gradients, params):
    """`gradients` in the order, shapes and dtypes of `params`; a parameter this
    backend does not know is a NotImplementedError naming it."""
    unknown = sorted(set(params) - set(gradients))
    if unknown:
        raise NotImplementedError(
            f"the manual backend has no gradient for {', '.join(unknown)}"
        )
    return {
        name: np.asarray(gradients[name], dtype=value.dtype).reshape(value.shape)
        for name, value in params.items()
    }
