"""The Neural Turing Machine: configuration, parameters and the forward pass.

Section 3 of Graves, Wayne and Danihelka (2014), arXiv:1410.5401. One time step
(`step`) runs, in order:

1. controller input: x_t and every read vector of step t - 1      (B, X + R M)
2. controller: feedforward or LSTM                                (B, H)
3. heads: key, beta, g, s, gamma for each head; e, a for writers  heads.py
4. addressing, Eq. (5)-(9), of every head against M_{t-1}        (K, B, N)
5. reads, Eq. (2), from M_{t-1}                                   (B, R, M)
6. writes, Eq. (3)-(4), giving M_t                                (B, N, M)
7. output logits from the controller output and this step's reads (B, Y)

`forward` loops `step` over time. It is the only forward pass in diffmem: the
autograd backend differentiates it, and the manual backend runs it with
`record=True` and walks the records backwards.
"""

from dataclasses import dataclass
from typing import NamedTuple

import autograd.numpy as np
import numpy

from diffmem.addressing import address, softmax
from diffmem.controller import feedforward, lstm
from diffmem.heads import erase_and_add, head_parameters, head_width
from diffmem.memory import read, write

CONTROLLERS = ("feedforward", "lstm")
MEMORY_INITS = ("constant", "learned", "random")
DTYPES = ("float64", "float32")

RANDOM_MEMORY_STD = 0.5
"""Standard deviation of the `random` memory initialisation, drawn afresh for
every sequence and clipped to [-1, 1]."""

INITIAL_FOCUS = 10.0
"""Initial logit of row 0 in every head's learned initial weighting (the other
rows start at 0), so heads begin focused near row 0. A uniform start would
never break the symmetry between rows of a constant memory."""


@dataclass(frozen=True)
class NTMConfig:
    """Sizes and options of an NTM. Defaults are those of the paper's copy task.

    Attributes
    ----------
    input_size, output_size : X and Y, set by the task.
    memory_size : N, the number of memory rows.
    word_size : M, the width of each row.
    hidden_size : H, units per controller layer.
    controller : "feedforward" (tanh layers) or "lstm" (one LSTM layer).
    controller_layers : number of tanh layers; must be 1 for "lstm".
    read_heads : R. write_heads : W. Both may be 0 or more, R + W >= 1.
    shift_range : S; heads may shift by -S..S rows, 2S + 1 <= N.
    memory_init : "constant" (every entry `memory_init_value`), "learned"
        (a parameter `initial_memory`) or "random" (drawn per sequence).
    memory_init_value : the constant of the "constant" init.
    dtype : "float64" (default, used by every gradient check) or "float32".
    """

    input_size: int
    output_size: int
    memory_size: int = 128
    word_size: int = 20
    hidden_size: int = 100
    controller: str = "feedforward"
    controller_layers: int = 2
    read_heads: int = 1
    write_heads: int = 1
    shift_range: int = 1
    memory_init: str = "constant"
    memory_init_value: float = 1e-6
    dtype: str = "float64"

    def __post_init__(self):
        for name in (
            "input_size",
            "output_size",
            "memory_size",
            "word_size",
            "hidden_size",
            "controller_layers",
        ):
            value = getattr(self, name)
            if not _is_integer(value) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        for name in ("read_heads", "write_heads", "shift_range"):
            value = getattr(self, name)
            if not _is_integer(value) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        if self.read_heads + self.write_heads < 1:
            raise ValueError(
                "read_heads + write_heads must be >= 1, got 0 read and 0 write heads"
            )
        if 2 * self.shift_range + 1 > self.memory_size:
            raise ValueError(
                f"shift_range {self.shift_range} is too wide for memory_size "
                f"{self.memory_size}: need 2 * shift_range + 1 <= memory_size"
            )
        if self.controller not in CONTROLLERS:
            raise ValueError(
                f"controller must be one of {', '.join(CONTROLLERS)}, "
                f"got {self.controller!r}"
            )
        if self.controller == "lstm" and self.controller_layers != 1:
            raise ValueError(
                "the lstm controller has exactly one layer, "
                f"got controller_layers={self.controller_layers}"
            )
        if self.memory_init not in MEMORY_INITS:
            raise ValueError(
                f"memory_init must be one of {', '.join(MEMORY_INITS)}, "
                f"got {self.memory_init!r}"
            )
        if self.dtype not in DTYPES:
            raise ValueError(
                f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}"
            )

    @property
    def num_heads(self):
        """K = R + W, read heads first."""
        return self.read_heads + self.write_heads

    @property
    def controller_input_size(self):
        """D = X + R M: the input plus every read vector of the last step."""
        return self.input_size + self.read_heads * self.word_size


def _is_integer(value):
    """True for Python and numpy integers, False for bools and everything else."""
    return isinstance(value, (int, numpy.integer)) and not isinstance(value, bool)


class State(NamedTuple):
    """What one step hands to the next."""

    memory: object  # (B, N, M)
    reads: object  # (B, R, M)
    weights: object  # (K, B, N), every head's last weighting
    hidden: object  # (B, H) for the lstm controller, else None
    cell: object  # (B, H) for the lstm controller, else None


class StepRecord(NamedTuple):
    """Everything one step computed, in the order it computed it.

    The manual backend reads these by name; a visualisation stacks them.
    """

    previous: State
    controller_input: object  # (B, D)
    controller: object  # FeedforwardRecord or LSTMRecord
    hidden: object  # (B, H), the controller output
    heads: object  # HeadParameters
    addressing: object  # Addressing, each field (K, B, N)
    erase: object  # (W, B, M)
    add: object  # (W, B, M)
    state: State
    output_input: object  # (B, H + R M)
    logits: object  # (B, Y)


def init_params(config, rng):
    """Fresh parameters for `config`, drawn from the numpy Generator `rng`.

    Weights are normal with standard deviation 1 / sqrt(fan in) and biases 0,
    so a seed reproduces them exactly. Returns a dict of named arrays; the
    shapes use D = X + R M, K = R + W and P = M + 2S + 4.
    """
    Y = config.output_size
    N, M, H = config.memory_size, config.word_size, config.hidden_size
    R, W, K = config.read_heads, config.write_heads, config.num_heads
    D, P = config.controller_input_size, head_width(M, config.shift_range)

    def weights(*shape):
        return rng.normal(0.0, 1.0 / numpy.sqrt(shape[-2]), size=shape)

    params = {}
    if config.controller == "feedforward":
        L = config.controller_layers
        params["controller_input_weights"] = weights(D, H)
        params["controller_input_bias"] = numpy.zeros(H)
        params["controller_hidden_weights"] = weights(L - 1, H, H)
        params["controller_hidden_bias"] = numpy.zeros((L - 1, H))
    else:
        params["lstm_input_weights"] = weights(D, 4 * H)
        params["lstm_recurrent_weights"] = weights(H, 4 * H)
        params["lstm_bias"] = numpy.zeros(4 * H)
        params["lstm_bias"][H : 2 * H] = 1.0  # forget gate starts open

    params["head_weights"] = weights(K, H, P)
    params["head_bias"] = numpy.zeros((K, P))
    params["erase_weights"] = weights(W, H, M)
    params["erase_bias"] = numpy.zeros((W, M))
    params["add_weights"] = weights(W, H, M)
    params["add_bias"] = numpy.zeros((W, M))
    params["output_weights"] = weights(H + R * M, Y)
    params["output_bias"] = numpy.zeros(Y)

    params["initial_reads"] = rng.normal(0.0, 0.1, size=(R, M))
    params["initial_weight_logits"] = numpy.zeros((K, N))
    params["initial_weight_logits"][:, 0] = INITIAL_FOCUS
    if config.memory_init == "learned":
        params["initial_memory"] = numpy.full((N, M), config.memory_init_value)

    return {name: value.astype(config.dtype) for name, value in params.items()}


def initial_state(params, config, batch_size, rng=None):
    """The state before step 1, for a batch of `batch_size` sequences.

    Memory follows `config.memory_init`; "random" draws it from `rng` (a numpy
    Generator, required then) independently for every sequence. Read vectors
    and weightings are learned (`initial_reads`, softmax of
    `initial_weight_logits`) and shared by the batch. LSTM state starts at 0.
    """
    B, N, M = batch_size, config.memory_size, config.word_size
    dtype = config.dtype

    if config.memory_init == "constant":
        memory = numpy.full((B, N, M), config.memory_init_value, dtype=dtype)
    elif config.memory_init == "learned":
        memory = numpy.zeros((B, 1, 1), dtype=dtype) + params["initial_memory"]
    else:
        if rng is None:
            raise ValueError("memory_init='random' needs an rng (numpy Generator)")
        noise = rng.normal(0.0, RANDOM_MEMORY_STD, size=(B, N, M))
        memory = numpy.clip(noise, -1.0, 1.0).astype(dtype)

    reads = numpy.ones((B, 1, 1), dtype=dtype) * params["initial_reads"]  # (B, R, M)
    first_weights = softmax(params["initial_weight_logits"])[:, None, :]  # (K, 1, N)
    weights = numpy.ones((1, B, 1), dtype=dtype) * first_weights  # (K, B, N)

    hidden = cell = None
    if config.controller == "lstm":
        hidden = numpy.zeros((B, config.hidden_size), dtype=dtype)
        cell = numpy.zeros((B, config.hidden_size), dtype=dtype)

    return State(memory, reads, weights, hidden, cell)


def step(params, config, state, x):
    """One time step of the NTM (the seven stages of the module docstring).

    Parameters
    ----------
    state : State after step t - 1.
    x : (B, X), the input at step t.

    Returns
    -------
    StepRecord, whose `state` goes to step t + 1 and `logits` (B, Y) are the
    output before the sigmoid.
    """
    B = x.shape[0]
    R, M = config.read_heads, config.word_size

    # controller
    controller_input = np.concatenate([x, state.reads.reshape((B, R * M))], 1)
    if config.controller == "feedforward":
        controller = feedforward(params, controller_input)
        hidden, cell = controller.layers[-1], None
    else:
        controller = lstm(params, controller_input, state.hidden, state.cell)
        hidden, cell = controller.hidden, controller.cell

    # heads and addressing, all against the memory before this step's writes
    heads = head_parameters(params, hidden, M)
    addressing = address(
        state.memory,
        state.weights,
        heads.key,
        heads.beta,
        heads.gate,
        heads.shift,
        heads.gamma,
    )  # each field (K, B, N)

    # read, then write
    reads = read(state.memory, addressing.weights[:R])  # (B, R, M)
    erase, add = erase_and_add(params, hidden)  # (W, B, M) each
    memory = write(state.memory, addressing.weights[R:], erase, add)  # (B, N, M)

    # output from the controller output and this step's reads
    output_input = np.concatenate([hidden, reads.reshape((B, R * M))], 1)
    logits = output_input @ params["output_weights"] + params["output_bias"]

    new_state = State(memory, reads, addressing.weights, hidden, cell)
    return StepRecord(
        state,
        controller_input,
        controller,
        hidden,
        heads,
        addressing,
        erase,
        add,
        new_state,
        output_input,
        logits,
    )


def forward(params, config, inputs, rng=None, record=False):
    """Run the NTM over a batch of sequences.

    Parameters
    ----------
    inputs : (T, B, X), time-major, padded at the end where sequences differ.
    rng : numpy Generator, needed only for memory_init="random".
    record : also return the list of T StepRecords.

    Returns
    -------
    logits : (T, B, Y), the outputs before the sigmoid;
    and the records, if `record`.
    """
    T, B, _ = inputs.shape
    inputs = inputs.astype(config.dtype, copy=False)
    state = initial_state(params, config, B, rng)

    logits, records = [], []
    for t in range(T):
        step_record = step(params, config, state, inputs[t])
        state = step_record.state
        logits.append(step_record.logits)
        if record:
            records.append(step_record)

    logits = np.stack(logits)  # (T, B, Y)
    return (logits, records) if record else logits
