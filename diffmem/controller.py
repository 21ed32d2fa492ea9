"""Controllers: the network that reads the input and the last reads, and drives
the heads (section 3 of Graves et al. 2014; the paper leaves its form open and
tries both of these).

- `feedforward`: a stack of tanh layers. Its only memory is the NTM memory.
- `lstm`: one LSTM layer (Hochreiter and Schmidhuber 1997, with a forget gate),
  whose hidden and cell state are carried between steps as well.

The input at step t is x_t followed by every read vector of step t - 1,
(B, X + R * M), built by `ntm.step`.
"""

from typing import NamedTuple

import autograd.numpy as np

from diffmem.activations import sigmoid


class FeedforwardRecord(NamedTuple):
    """What a feedforward step computed: the output of every layer, in order."""

    layers: tuple  # L arrays of (B, H); the last is the controller output


class LSTMRecord(NamedTuple):
    """What an LSTM step computed, for the manual backward pass."""

    input_gate: object  # (B, H)
    forget_gate: object  # (B, H)
    output_gate: object  # (B, H)
    candidate: object  # (B, H)
    cell: object  # (B, H)
    cell_tanh: object  # (B, H)
    hidden: object  # (B, H), the controller output


def feedforward(params, controller_input):
    """h_1 = tanh(x W_in + b_in), then h_l = tanh(h_{l-1} W_l + b_l) for l >= 2.

    Parameters
    ----------
    params : dict with `controller_input_weights` (D, H), `controller_input_bias`
        (H,), `controller_hidden_weights` (L - 1, H, H) and
        `controller_hidden_bias` (L - 1, H).
    controller_input : (B, D)

    Returns
    -------
    FeedforwardRecord; its last layer (B, H) is the controller output.
    """
    pre_activation = controller_input @ params["controller_input_weights"]
    hidden = np.tanh(pre_activation + params["controller_input_bias"])  # (B, H)
    layers = [hidden]

    hidden_weights = params["controller_hidden_weights"]  # (L - 1, H, H)
    for layer in range(hidden_weights.shape[0]):
        pre_activation = hidden @ hidden_weights[layer]
        hidden = np.tanh(pre_activation + params["controller_hidden_bias"][layer])
        layers.append(hidden)

    return FeedforwardRecord(tuple(layers))


def lstm(params, controller_input, hidden_prev, cell_prev):
    """One LSTM step with input, forget and output gates.

    [i, f, o, z] = x W_x + h_{t-1} W_h + b      (split into four (B, H) blocks)
    c_t = sigmoid(f) c_{t-1} + sigmoid(i) tanh(z)
    h_t = sigmoid(o) tanh(c_t)

    Parameters
    ----------
    params : dict with `lstm_input_weights` (D, 4H), `lstm_recurrent_weights`
        (H, 4H) and `lstm_bias` (4H,).
    controller_input : (B, D)
    hidden_prev, cell_prev : (B, H)

    Returns
    -------
    LSTMRecord; `hidden` (B, H) is the controller output, `cell` the new cell.
    """
    size = hidden_prev.shape[-1]
    pre_activation = (
        controller_input @ params["lstm_input_weights"]
        + hidden_prev @ params["lstm_recurrent_weights"]
        + params["lstm_bias"]
    )  # (B, 4H)

    input_gate = sigmoid(pre_activation[:, :size])
    forget_gate = sigmoid(pre_activation[:, size : 2 * size])
    output_gate = sigmoid(pre_activation[:, 2 * size : 3 * size])
    candidate = np.tanh(pre_activation[:, 3 * size :])

    cell = forget_gate * cell_prev + input_gate * candidate  # (B, H)
    cell_tanh = np.tanh(cell)
    hidden = output_gate * cell_tanh  # (B, H)

    return LSTMRecord(
        input_gate, forget_gate, output_gate, candidate, cell, cell_tanh, hidden
    )
