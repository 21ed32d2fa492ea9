"""The gradient cross-check passes an honest run, and fails, naming the
parameters, when the manual backend is made wrong on purpose."""

import json

import numpy as np
import pytest

from diffmem import crosscheck, manual_grads
from diffmem.crosscheck import CASES, format_report, run_gradcheck

FAST_CASES = tuple(
    case for case in CASES if case.name in ("lstm", "2-read-2-write-heads-shift-2")
)
"""Two cases that between them use both controllers, several heads of each
kind and every addressing step: enough to catch a wrong rule, in a second."""

FAST_SAMPLES = 3
"""Finite-difference entries per parameter in the fast checks."""


def failing_parameters(report):
    """Names of the parameters some pair disagreed on, over every case."""
    return {
        name
        for case in report["cases"]
        for name, row in case["parameters"].items()
        if any(not entry["ok"] for key, entry in row.items() if key != "entries")
    }


def test_an_honest_run_passes_with_every_pair_reported():
    report = run_gradcheck(seed=0, cases=FAST_CASES, fd_samples=FAST_SAMPLES)
    assert report["ok"], format_report(report)
    assert report["failures"] == []
    assert set(report["worst"]) == {"autograd-manual", "autograd-fd", "manual-fd"}
    assert report["worst"]["autograd-manual"] <= crosscheck.BACKEND_TOLERANCE
    assert report["tolerances"]["backend_relative"] == 1e-9
    json.dumps(report, allow_nan=False)  # plain JSON


@pytest.mark.slow
def test_every_case_passes():
    report = run_gradcheck(seed=1)
    assert report["ok"], format_report(report)
    assert [case["name"] for case in report["cases"]] == [case.name for case in CASES]


def test_every_nonempty_parameter_is_compared_by_every_pair():
    report = run_gradcheck(seed=0, cases=FAST_CASES[:1], fd_samples=FAST_SAMPLES)
    for case in report["cases"]:
        for name, row in case["parameters"].items():
            if row["entries"] == 0:
                continue
            for pair in report["worst"]:
                assert row[pair]["compared"] >= 1, (name, pair)


def test_a_scaled_backward_step_is_caught(monkeypatch):
    original = manual_grads.backward_sharpen

    def scaled(*args):
        dshifted, dgamma = original(*args)
        return dshifted, 1.01 * dgamma

    monkeypatch.setattr(manual_grads, "backward_sharpen", scaled)
    report = run_gradcheck(seed=0, cases=FAST_CASES[:1], fd_samples=FAST_SAMPLES)

    assert not report["ok"]
    assert "head_bias" in failing_parameters(report)
    assert any("autograd-manual: head_bias" in line for line in report["failures"])
    assert any("manual-fd: head_bias" in line for line in report["failures"])
    assert not any("autograd-fd" in line for line in report["failures"])
    assert "FAIL" in format_report(report)
    assert format_report(report).endswith("FAILED")


def test_a_wrong_output_bias_is_the_only_parameter_named(monkeypatch):
    original = manual_grads.backward_output

    def perturbed(*args):
        doutput_inputs, doutput_weights, doutput_bias = original(*args)
        return doutput_inputs, doutput_weights, doutput_bias * 1.001

    monkeypatch.setattr(manual_grads, "backward_output", perturbed)
    report = run_gradcheck(seed=0, cases=FAST_CASES[:1], fd_samples=FAST_SAMPLES)
    assert not report["ok"]
    assert failing_parameters(report) == {"output_bias"}


@pytest.mark.parametrize("damage", ["missing", "nan", "shape"])
def test_a_broken_gradient_dict_is_a_failure(monkeypatch, damage):
    original = manual_grads.loss_and_gradients

    def broken(*args, **kwargs):
        result = original(*args, **kwargs)
        gradients = dict(result.gradients)
        if damage == "missing":
            del gradients["add_bias"]
        elif damage == "nan":
            gradients["add_bias"] = np.full_like(gradients["add_bias"], np.nan)
        else:
            gradients["add_bias"] = gradients["add_bias"].reshape(-1)
        return result._replace(gradients=gradients)

    monkeypatch.setattr(manual_grads, "loss_and_gradients", broken)
    report = run_gradcheck(seed=0, cases=FAST_CASES[:1], fd_samples=FAST_SAMPLES)
    assert not report["ok"]
    assert "add_bias" in failing_parameters(report)
    assert any("manual: " in line and "add_bias" in line for line in report["failures"])
    json.dumps(report, allow_nan=False)  # NaN became None


def test_no_finite_difference_entries_cannot_pass():
    report = run_gradcheck(
        seed=0, backends=("manual",), cases=FAST_CASES[:1], fd_samples=0
    )
    assert not report["ok"]


@pytest.mark.parametrize("backends", [(), ("manual", "symbolic")])
def test_backends_must_be_known_and_not_empty(backends):
    with pytest.raises(ValueError, match="backends"):
        run_gradcheck(backends=backends, cases=FAST_CASES[:1])
