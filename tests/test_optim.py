"""Optimisers against steps worked by hand, and gradient clipping."""

import math

import numpy as np
import pytest

from diffmem.optim import (
    Adam,
    RMSProp,
    clip_gradients,
    make_optimizer,
    optimizer_settings,
)


def test_rmsprop_first_two_steps_by_hand():
    optimizer = RMSProp(learning_rate=0.1, decay=0.5, momentum=0.5, epsilon=0.25)
    params = {"w": np.array([1.0])}
    state = optimizer.init(params)

    # step 1, g = 2: n = 0.5 * 4 = 2, gbar = 0.5 * 2 = 1,
    # delta = -0.1 * 2 / sqrt(2 - 1 + 0.25) = -0.2 / sqrt(1.25)
    params, state = optimizer.update(params, {"w": np.array([2.0])}, state)
    delta1 = -0.2 / math.sqrt(1.25)
    assert state["n.w"][0] == pytest.approx(2.0)
    assert state["gbar.w"][0] == pytest.approx(1.0)
    assert params["w"][0] == pytest.approx(1.0 + delta1)

    # step 2, g = -1: n = 0.5 * 2 + 0.5 * 1 = 1.5, gbar = 0.5 - 0.5 = 0,
    # delta = 0.5 * delta1 + 0.1 / sqrt(1.5 + 0.25)
    params, state = optimizer.update(params, {"w": np.array([-1.0])}, state)
    delta2 = 0.5 * delta1 + 0.1 / math.sqrt(1.75)
    assert state["n.w"][0] == pytest.approx(1.5)
    assert state["gbar.w"][0] == pytest.approx(0.0)
    assert state["delta.w"][0] == pytest.approx(delta2)
    assert params["w"][0] == pytest.approx(1.0 + delta1 + delta2)


def test_rmsprop_defaults_are_graves_2013():
    assert optimizer_settings(RMSProp()) == {
        "learning_rate": 1e-4,
        "decay": 0.95,
        "momentum": 0.9,
        "epsilon": 1e-4,
    }


def test_adam_first_two_steps_by_hand():
    optimizer = Adam(learning_rate=0.1, beta1=0.5, beta2=0.75, epsilon=0.0)
    params = {"w": np.array([1.0, -1.0])}
    state = optimizer.init(params)

    # step 1: bias correction makes m_hat = g and v_hat = g^2, so the step is
    # learning_rate * sign(g)
    params, state = optimizer.update(params, {"w": np.array([3.0, -0.5])}, state)
    np.testing.assert_allclose(params["w"], [0.9, -0.9])
    assert int(state["step"]) == 1

    # step 2, first entry, g = 1: m = 0.5 * 1.5 + 0.5 = 1.25, m_hat = 1.25 / 0.75,
    # v = 0.75 * 2.25 + 0.25 = 1.9375, v_hat = 1.9375 / 0.4375
    params, state = optimizer.update(params, {"w": np.array([1.0, 0.0])}, state)
    m_hat, v_hat = 1.25 / 0.75, 1.9375 / 0.4375
    assert state["m.w"][0] == pytest.approx(1.25)
    assert state["v.w"][0] == pytest.approx(1.9375)
    assert params["w"][0] == pytest.approx(0.9 - 0.1 * m_hat / math.sqrt(v_hat))
    assert int(state["step"]) == 2


def test_update_leaves_its_arguments_alone():
    params = {"w": np.ones(3)}
    gradients = {"w": np.full(3, 0.5)}
    for optimizer in (Adam(), RMSProp()):
        state = optimizer.init(params)
        before = {key: value.copy() for key, value in state.items()}
        optimizer.update(params, gradients, state)
        np.testing.assert_array_equal(params["w"], np.ones(3))
        for key in state:
            np.testing.assert_array_equal(state[key], before[key])


@pytest.mark.parametrize("name", ["adam", "rmsprop"])
def test_float32_parameters_stay_float32(name):
    optimizer = make_optimizer(name)
    params = {"w": np.ones(3, dtype=np.float32)}
    state = optimizer.init(params)
    params, state = optimizer.update(params, {"w": np.ones(3, np.float32)}, state)
    assert params["w"].dtype == np.float32
    assert all(
        value.dtype == np.float32 for key, value in state.items() if key != "step"
    )


def test_make_optimizer_rejects_unknown_names_and_bad_rates():
    with pytest.raises(ValueError, match="optimizer must be one of adam, rmsprop"):
        make_optimizer("sgd")
    with pytest.raises(ValueError, match="learning_rate must be > 0, got 0.0"):
        make_optimizer("adam", learning_rate=0.0)


def test_clip_gradients_is_elementwise():
    gradients = {"a": np.array([-20.0, -3.0, 0.5, 12.0]), "b": np.array([[11.0]])}
    clipped = clip_gradients(gradients, 10.0)
    np.testing.assert_array_equal(clipped["a"], [-10.0, -3.0, 0.5, 10.0])
    np.testing.assert_array_equal(clipped["b"], [[10.0]])
    np.testing.assert_array_equal(gradients["a"], [-20.0, -3.0, 0.5, 12.0])


def test_clip_gradients_keeps_nan_and_none_means_no_clip():
    clipped = clip_gradients({"a": np.array([np.nan, 50.0])}, 1.0)
    assert np.isnan(clipped["a"][0]) and clipped["a"][1] == 1.0
    assert clip_gradients({"a": np.array([50.0])}, None)["a"][0] == 50.0
    with pytest.raises(ValueError, match="clip limit must be > 0"):
        clip_gradients({"a": np.array([1.0])}, 0.0)
