"""Optimisers: RMSProp in Graves' form and Adam, plus gradient clipping.

An optimiser is a small frozen dataclass holding its settings. Its state is a
flat dict of named numpy arrays, so it can go straight into a checkpoint's
.npz, and `update` is pure: it returns new parameters and a new state and
changes neither argument.

    optimizer = Adam(learning_rate=1e-3)
    state = optimizer.init(params)
    for batch in batches:
        gradients = clip_gradients(gradients_of(params, batch), 10.0)
        params, state = optimizer.update(params, gradients, state)

State keys are "<slot>.<parameter name>" (for example "n.head_weights"),
plus "step" for Adam's bias correction.
"""

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class RMSProp:
    """RMSProp with momentum, as in Graves (2013), Eq. (38)-(41).

    For each parameter theta with gradient g (elementwise):

        n     = decay n + (1 - decay) g^2
        gbar  = decay gbar + (1 - decay) g
        delta = momentum delta - learning_rate g / sqrt(n - gbar^2 + epsilon)
        theta = theta + delta

    n - gbar^2 estimates the variance of g, so steps are scaled by the
    gradient's spread rather than its size. The defaults are Graves' values
    (aleph = 0.95, beth = 0.9, gimel = 1e-4, daleth = 1e-4); the NTM paper
    (section 4) uses the same form with momentum 0.9 and learning rates
    1e-4 or 3e-5.

    References
    ----------
    A. Graves, "Generating sequences with recurrent neural networks",
    arXiv:1308.0850 (2013), section 4.2.
    """

    learning_rate: float = 1e-4
    decay: float = 0.95
    momentum: float = 0.9
    epsilon: float = 1e-4

    name = "rmsprop"

    def init(self, params):
        """Zero n, gbar and delta for every parameter."""
        state = {}
        for slot in ("n", "gbar", "delta"):
            for key, value in params.items():
                state[f"{slot}.{key}"] = np.zeros_like(value)
        return state

    def update(self, params, gradients, state):
        """One step; returns (new params, new state)."""
        rho, lr, eps = self.decay, self.learning_rate, self.epsilon
        new_params, new_state = {}, {}
        for key, theta in params.items():
            g = gradients[key]

            # running moments of the gradient, Eq. (38)-(39)
            n = rho * state[f"n.{key}"] + (1 - rho) * g * g
            gbar = rho * state[f"gbar.{key}"] + (1 - rho) * g

            # momentum step scaled by the gradient's spread, Eq. (40)-(41)
            delta = self.momentum * state[f"delta.{key}"] - lr * g / np.sqrt(
                n - gbar * gbar + eps
            )
            new_params[key] = theta + delta
            new_state.update(
                {f"n.{key}": n, f"gbar.{key}": gbar, f"delta.{key}": delta}
            )
        return new_params, new_state


@dataclass(frozen=True)
class Adam:
    """Adam (Kingma and Ba 2015, Algorithm 1).

    With t the step number (from 1) and g the gradient:

        m     = beta1 m + (1 - beta1) g
        v     = beta2 v + (1 - beta2) g^2
        theta = theta - learning_rate m_hat / (sqrt(v_hat) + epsilon)

    where m_hat = m / (1 - beta1^t) and v_hat = v / (1 - beta2^t).

    References
    ----------
    D. P. Kingma and J. Ba, "Adam: a method for stochastic optimization",
    arXiv:1412.6980, ICLR 2015.
    """

    learning_rate: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8

    name = "adam"

    def init(self, params):
        """Zero moments for every parameter and step 0."""
        state = {"step": np.zeros((), dtype=np.int64)}
        for slot in ("m", "v"):
            for key, value in params.items():
                state[f"{slot}.{key}"] = np.zeros_like(value)
        return state

    def update(self, params, gradients, state):
        """One step; returns (new params, new state)."""
        b1, b2 = self.beta1, self.beta2
        t = int(state["step"]) + 1
        new_params, new_state = {}, {"step": np.asarray(t, dtype=np.int64)}

        # Python floats keep float32 parameters float32
        correction1, correction2 = 1 - b1**t, 1 - b2**t
        for key, theta in params.items():
            g = gradients[key]
            m = b1 * state[f"m.{key}"] + (1 - b1) * g
            v = b2 * state[f"v.{key}"] + (1 - b2) * g * g
            m_hat, v_hat = m / correction1, v / correction2
            step = self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)
            new_params[key] = theta - step
            new_state.update({f"m.{key}": m, f"v.{key}": v})
        return new_params, new_state


OPTIMIZERS = {optimizer.name: optimizer for optimizer in (Adam, RMSProp)}


def make_optimizer(name, **settings):
    """The optimiser called `name` ("adam" or "rmsprop") with `settings`.

    Settings not given keep their defaults; `optimizer_settings` gives them
    back as a dict, for a checkpoint.
    """
    if name not in OPTIMIZERS:
        raise ValueError(
            f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {name!r}"
        )
    optimizer = OPTIMIZERS[name](**settings)
    if not optimizer.learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0, got {optimizer.learning_rate!r}")
    return optimizer


def optimizer_settings(optimizer):
    """The optimiser's settings as a plain dict of floats."""
    return {key: float(value) for key, value in asdict(optimizer).items()}


def clip_gradients(gradients, limit):
    """Clip every gradient elementwise to [-limit, limit]; `None` clips nothing.

    Returns a new dict. NaN stays NaN, so a bad step is still detected.
    """
    if limit is None:
        return dict(gradients)
    if not limit > 0:
        raise ValueError(f"clip limit must be > 0, got {limit!r}")
    return {key: np.clip(g, -limit, limit) for key, g in gradients.items()}
