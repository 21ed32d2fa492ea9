"""The finite-difference checker, on functions whose gradients are known."""

import numpy as np
import pytest

from diffmem.numerical import (
    ABSOLUTE_FLOOR,
    FD_TOLERANCE,
    compare,
    finite_difference_gradients,
    relative_error,
    sample_indices,
)

POLYNOMIAL = 1e-9
"""The five-point stencil is exact for polynomials up to degree 4; what is left
is rounding, about eps |f| / h = 1e-16 * 10 / 1e-3 = 1e-12 here."""

SMOOTH = 1e-10
"""For sin the truncation error is h^4 / 30 |f^(5)| <= 3.4e-14, plus rounding
of about 1e-13: far below this bound."""


def test_quadratic_gradient_is_recovered():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(4, 4))
    A = A + A.T  # symmetric, so the gradient of x A x / 2 is A x
    b = rng.normal(size=4)
    params = {"x": rng.normal(size=4), "unused": np.ones((2, 3))}

    def quadratic(p):
        return 0.5 * p["x"] @ A @ p["x"] + b @ p["x"]

    estimate = finite_difference_gradients(quadratic, params)
    np.testing.assert_allclose(estimate["x"], A @ params["x"] + b, atol=POLYNOMIAL)
    np.testing.assert_allclose(estimate["unused"], 0.0, atol=POLYNOMIAL)


def test_sine_gradient_is_recovered_for_a_matrix_parameter():
    params = {"theta": np.linspace(-3, 3, 12).reshape(3, 4)}

    def total_sine(p):
        return np.sum(np.sin(p["theta"]))

    estimate = finite_difference_gradients(total_sine, params)
    np.testing.assert_allclose(estimate["theta"], np.cos(params["theta"]), atol=SMOOTH)


def test_stencil_is_fourth_order():
    """x^4 is differentiated exactly; a two-point central difference would be
    off by h^2 * 4x = 8e-6 at x = 2."""
    params = {"x": np.array([2.0])}
    estimate = finite_difference_gradients(lambda p: p["x"][0] ** 4, params)
    assert estimate["x"][0] == pytest.approx(32.0, abs=POLYNOMIAL)


def test_non_contiguous_parameters_are_perturbed():
    params = {"w": np.arange(6.0).reshape(2, 3).T}  # a transposed view
    assert not params["w"].flags["C_CONTIGUOUS"]
    estimate = finite_difference_gradients(lambda p: np.sum(p["w"] ** 2), params)
    np.testing.assert_allclose(estimate["w"], 2 * params["w"], atol=POLYNOMIAL)


def test_params_are_left_unchanged():
    params = {"a": np.random.default_rng(1).normal(size=(3, 2)), "b": np.array(0.3)}
    copies = {name: value.copy() for name, value in params.items()}
    identities = {name: id(value) for name, value in params.items()}
    finite_difference_gradients(lambda p: np.sum(p["a"] ** 3) * p["b"], params)
    for name, value in params.items():
        assert id(value) == identities[name]
        np.testing.assert_array_equal(value, copies[name])


def test_only_chosen_indices_are_estimated():
    params = {"x": np.array([[1.0, 2.0], [3.0, 4.0]])}
    estimate = finite_difference_gradients(
        lambda p: np.sum(p["x"] ** 2), params, indices={"x": np.array([1, 2])}
    )
    assert np.isnan(estimate["x"][0, 0]) and np.isnan(estimate["x"][1, 1])
    np.testing.assert_allclose(
        [estimate["x"][0, 1], estimate["x"][1, 0]], [4.0, 6.0], atol=POLYNOMIAL
    )


def test_float32_params_are_rejected():
    params = {"x": np.ones(3, dtype=np.float32)}
    with pytest.raises(TypeError, match="float64"):
        finite_difference_gradients(lambda p: float(np.sum(p["x"])), params)


def test_relative_error_is_relative_to_the_larger_magnitude():
    assert relative_error(2.0, 1.0) == pytest.approx(0.5)
    assert relative_error(-1.0, 1.0) == pytest.approx(2.0)
    assert relative_error(1.0, 2.0) == relative_error(2.0, 1.0)
    assert relative_error(0.0, 0.0) == 0.0
    np.testing.assert_allclose(
        relative_error([100.0, 1e-3], [101.0, 1.1e-3]), [1 / 101, 0.1 / 1.1]
    )


def test_relative_error_floor_absorbs_tiny_differences():
    # 1e-12 against 3e-12 is rounding noise: measured against the 1e-6 floor
    error = relative_error(1e-12, 3e-12)
    assert error == pytest.approx(2e-12 / ABSOLUTE_FLOOR)
    assert error < FD_TOLERANCE
    # the floor can be moved; with none the same pair is 67% apart
    assert relative_error(1e-12, 3e-12, floor=0.0) == pytest.approx(2 / 3)
    assert relative_error(1e-12, 3e-12, floor=1e-9) == pytest.approx(2e-3)


def test_compare_reports_largest_absolute_and_relative_error():
    reference = {"a": np.array([1.0, 2.0, -4.0]), "b": np.array([[0.0]])}
    candidate = {"a": np.array([1.1, 2.0, -4.2]), "b": np.array([[0.0]])}
    report = compare(reference, candidate)
    assert set(report) == {"a", "b"}
    max_absolute, max_relative = report["a"]
    assert max_absolute == pytest.approx(0.2)
    assert max_relative == pytest.approx(0.1 / 1.1)
    assert report["b"] == (0.0, 0.0)


def test_compare_looks_only_at_chosen_indices():
    reference = {"a": np.array([1.0, 2.0, 3.0]), "empty": np.zeros((0, 2))}
    candidate = {"a": np.array([9.0, 2.0, 3.5]), "empty": np.zeros((0, 2))}
    report = compare(
        reference,
        candidate,
        indices={"a": np.array([1, 2]), "empty": np.array([], int)},
    )
    assert report["a"] == (pytest.approx(0.5), pytest.approx(0.5 / 3.5))
    assert report["empty"] == (0.0, 0.0)


def test_sample_indices_takes_everything_or_a_distinct_subset():
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(sample_indices((2, 3), 10, rng), np.arange(6))
    chosen = sample_indices((10, 10), 7, np.random.default_rng(4))
    assert len(chosen) == 7 == len(set(chosen.tolist()))
    assert np.all((chosen >= 0) & (chosen < 100))
    np.testing.assert_array_equal(
        chosen, sample_indices((10, 10), 7, np.random.default_rng(4))
    )
