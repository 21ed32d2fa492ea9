"""The loss as a pure function of the parameters, and its gradient.

Two backends compute the same gradient of the same forward pass:

- "autograd" (default): HIPS autograd traces `ntm.forward` and reverses it.
- "manual": `diffmem.manual_grads` runs `ntm.forward` with `record=True` and
  applies the hand-derived backward rules of docs/gradients.md. Much faster.
"""

from autograd import make_vjp
from autograd.tracer import getval

from diffmem.loss import LossAndGradients, cost_bits
from diffmem.ntm import forward

BACKENDS = ("autograd", "manual")


def loss(params, config, inputs, targets, mask, rng=None):
    """The training loss: mean cost in bits per sequence (loss.cost_bits).

    inputs (T, B, X), targets (T, B, Y), mask (T, B). `rng` draws the
    initial memory when memory_init="random"; pass a Generator seeded the same
    way to get the same loss twice.
    """
    logits = forward(params, config, inputs, rng)
    return cost_bits(logits, targets.astype(config.dtype, copy=False), mask)


def loss_and_gradients(
    params, config, inputs, targets, mask, rng=None, backend="autograd"
):
    """The loss, its gradient with respect to every parameter, and the logits.

    `backend` is "autograd" or "manual"; both give the same numbers to
    float rounding (tests/test_manual_grads.py checks it).
    """
    if backend == "autograd":
        return _autograd_loss_and_gradients(params, config, inputs, targets, mask, rng)
    if backend == "manual":
        from diffmem import manual_grads

        return manual_grads.loss_and_gradients(
            params, config, inputs, targets, mask, rng
        )
    raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")


def _autograd_loss_and_gradients(params, config, inputs, targets, mask, rng):
    """Reverse-mode autograd through `loss`, keeping the logits on the way."""
    kept = {}

    def loss_keeping_logits(params):
        logits = forward(params, config, inputs, rng)
        kept["logits"] = getval(logits)
        return cost_bits(logits, targets.astype(config.dtype, copy=False), mask)

    vjp, value = make_vjp(loss_keeping_logits)(params)
    gradients = vjp(1.0)
    return LossAndGradients(float(value), dict(gradients), kept["logits"])
