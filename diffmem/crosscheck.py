"""Cross-check the gradient backends against each other and against finite
differences, on small NTMs that between them use every option of NTMConfig.

The logic behind `diffmem gradcheck`::

    from diffmem.crosscheck import format_report, run_gradcheck
    report = run_gradcheck(seed=0)
    print(format_report(report))
    assert report["ok"]

For every configuration in `CASES`, each requested backend computes the
gradient of every parameter, and `diffmem.numerical` estimates a sample of
entries of every parameter by central differences (float64). Every pair is
compared entry by entry:

    backend vs backend   every entry, relative error <= BACKEND_TOLERANCE
    backend vs fd        the sampled entries, <= numerical.FD_TOLERANCE

where the relative error is |a - b| / max(|a|, |b|, floor). A check cannot
pass vacuously: a missing, extra, misshapen or non-finite gradient is a
failure, and so is a non-empty parameter that no pair compared.
"""

import itertools
from typing import NamedTuple

import numpy as np

from diffmem import numerical
from diffmem.gradients import BACKENDS, loss, loss_and_gradients
from diffmem.ntm import NTMConfig, init_params

BACKEND_TOLERANCE = 1e-9
"""Largest relative disagreement between two backends. Both compute the same
float64 expression in a different order, so they differ by rounding only:
1e-12 relative at worst over 40 random small configurations."""

BACKEND_FLOOR = 1e-6
"""Relative errors between backends are taken against at least this magnitude,
so entries below 1e-6 may differ by 1e-15 absolute: a few float64 ulps of the
order-1 terms a gradient entry sums, which can cancel to a tiny total."""

FD_SAMPLES = 8
"""Entries per parameter estimated by finite differences (all of them for a
parameter with fewer entries). Each costs four evaluations of the loss."""

SIZES = {
    "input_size": 3,
    "output_size": 2,
    "memory_size": 6,
    "word_size": 4,
    "hidden_size": 5,
}
"""Sizes shared by every case unless it overrides them."""

STEPS = 5
PARAM_NOISE = 0.1
"""Standard deviation of noise added to a fresh initialisation, so that no
entry sits at a symmetric point (zero bias, equal logits) that could hide a
wrong gradient."""


class Case(NamedTuple):
    """One configuration to check."""

    name: str
    overrides: dict  # NTMConfig fields that differ from SIZES and the defaults
    lengths: tuple  # one sequence length per batch entry; the batch is padded


CASES = (
    Case("feedforward-1-layer", {"controller_layers": 1}, (5, 5)),
    Case("feedforward-2-layers", {"controller_layers": 2}, (5, 5)),
    Case("lstm", {"controller": "lstm", "controller_layers": 1}, (5, 5)),
    Case(
        "2-read-2-write-heads-shift-2",
        {"read_heads": 2, "write_heads": 2, "shift_range": 2},
        (5, 5),
    ),
    Case("shift-range-0", {"shift_range": 0}, (5, 5)),
    Case("learned-memory", {"memory_init": "learned"}, (5, 5)),
    Case("random-memory", {"memory_init": "random"}, (5, 5)),
    Case(
        "zero-constant-memory",
        {"memory_init": "constant", "memory_init_value": 0.0},
        (5, 5),
    ),
    Case(
        "mixed-lengths-with-mask",
        {"controller": "lstm", "controller_layers": 1, "write_heads": 2},
        (5, 2, 3),
    ),
    Case("one-memory-row", {"memory_size": 1, "shift_range": 0}, (5, 5)),
    Case("no-read-heads", {"read_heads": 0, "write_heads": 2}, (5, 5)),
    Case("no-write-heads", {"read_heads": 2, "write_heads": 0}, (5, 5)),
)


def run_gradcheck(
    seed=0, backends=("autograd", "manual"), cases=CASES, fd_samples=FD_SAMPLES
):
    """Check every backend in `backends` against every other and against
    finite differences, on every configuration in `cases`.

    Parameters
    ----------
    seed : seeds parameters, data, the random memory and the FD sample.
    backends : names from `gradients.BACKENDS`, at least one.
    cases : Case tuples; default `CASES`.
    fd_samples : entries per parameter estimated by finite differences.

    Returns
    -------
    A JSON-serialisable dict: `ok` (bool), `tolerances`, `worst` (pair name ->
    largest relative disagreement over everything, None if not finite),
    `failures` (strings naming case, pair and parameter) and `cases`, one
    dict per case with its per-parameter, per-pair comparisons.
    """
    backends = tuple(backends)
    unknown = [name for name in backends if name not in BACKENDS]
    if not backends or unknown:
        raise ValueError(
            f"backends must be a non-empty selection of {', '.join(BACKENDS)}, "
            f"got {backends!r}"
        )
    if not cases:
        raise ValueError("cases must name at least one configuration, got none")

    results = [check_case(case, seed, backends, fd_samples) for case in cases]
    pairs = pair_names(backends)
    worst = {
        pair: largest(
            [
                row[pair]["max_relative"]
                for result in results
                for row in result["parameters"].values()
                if pair in row
            ]
        )
        for pair in pairs
    }
    failures = [failure for result in results for failure in result["failures"]]
    report = {
        "ok": not failures and all(np.isfinite(value) for value in worst.values()),
        "seed": seed,
        "backends": list(backends),
        "tolerances": {
            "backend_relative": BACKEND_TOLERANCE,
            "backend_floor": BACKEND_FLOOR,
            "fd_relative": numerical.FD_TOLERANCE,
            "fd_floor": numerical.ABSOLUTE_FLOOR,
            "fd_step": numerical.FD_STEP,
        },
        "worst": worst,
        "failures": failures,
        "cases": results,
    }
    return json_clean(report)


def largest(values):
    """The maximum of `values`; NaN if there are none or any is NaN."""
    values = np.asarray(values, dtype=float)
    if values.size == 0 or np.any(np.isnan(values)):
        return float("nan")
    return float(np.max(values))


def pair_names(backends):
    """Every backend pair, then every backend against "fd", e.g.
    ["autograd-manual", "autograd-fd", "manual-fd"]."""
    pairs = [f"{a}-{b}" for a, b in itertools.combinations(backends, 2)]
    return pairs + [f"{name}-fd" for name in backends]


def check_case(case, seed, backends, fd_samples):
    """Gradients of every backend and finite differences for one Case."""
    config = NTMConfig(**{**SIZES, **case.overrides, "dtype": "float64"})
    params, inputs, targets, mask = case_data(config, case.lengths, seed)
    memory_seed = seed + 1

    def loss_fn(values):
        rng = np.random.default_rng(memory_seed)
        return loss(values, config, inputs, targets, mask, rng)

    # finite differences on a sample of every parameter
    sample_rng = np.random.default_rng(seed + 2)
    indices = {
        name: numerical.sample_indices(value.shape, fd_samples, sample_rng)
        for name, value in params.items()
    }
    estimates = {
        "fd": numerical.finite_difference_gradients(
            loss_fn, {name: value.copy() for name, value in params.items()}, indices
        )
    }

    # every backend, validated before it is compared; its loss too
    failures, forward_loss = [], loss_fn(params)
    for backend in backends:
        rng = np.random.default_rng(memory_seed)
        result = loss_and_gradients(
            params, config, inputs, targets, mask, rng, backend=backend
        )
        problems = gradient_problems(result.gradients, params)
        failures += [f"{case.name}: {backend}: {problem}" for problem in problems]
        estimates[backend] = result.gradients
        loss_error = numerical.relative_error(result.loss, forward_loss)
        if not loss_error <= BACKEND_TOLERANCE:
            failures.append(
                f"{case.name}: {backend}: loss {result.loss!r} differs from "
                f"the forward pass's {forward_loss!r}"
            )

    # every pair, every parameter
    rows = {}
    for name, value in params.items():
        rows[name] = {"entries": int(value.size)}
        if value.size == 0:
            continue
        for pair in pair_names(backends):
            first, second = pair.rsplit("-", 1)
            comparison = compare_entries(
                estimates[first],
                estimates[second],
                name,
                None if second != "fd" else indices[name],
            )
            rows[name][pair] = comparison
            if not comparison["ok"]:
                failures.append(
                    f"{case.name}: {pair}: {name} disagrees by "
                    f"{comparison['max_relative']:.3g} relative "
                    f"(limit {comparison['tolerance']:g})"
                )

    return {
        "name": case.name,
        "config": {**case.overrides},
        "lengths": list(case.lengths),
        "loss": forward_loss,
        "parameters": rows,
        "failures": failures,
    }


def case_data(config, lengths, seed):
    """Noisy parameters and a random padded batch for `config`."""
    rng = np.random.default_rng(seed)
    params = init_params(config, rng)
    params = {
        name: value + PARAM_NOISE * rng.normal(size=value.shape)
        for name, value in params.items()
    }

    T, B = max(lengths), len(lengths)
    mask = (np.arange(T)[:, None] < np.asarray(lengths)[None, :]).astype(float)
    inputs = rng.normal(size=(T, B, config.input_size)) * mask[:, :, None]
    targets = (rng.random((T, B, config.output_size)) < 0.5).astype(float)
    return params, inputs, targets, mask


def gradient_problems(gradients, params):
    """Reasons `gradients` cannot stand for d loss / d `params`: missing or
    extra names, wrong shapes, non-finite entries. Empty if none."""
    problems = [f"no gradient for {name}" for name in params if name not in gradients]
    problems += [
        f"unexpected gradient {name}" for name in gradients if name not in params
    ]
    for name, value in params.items():
        if name not in gradients:
            continue
        gradient = np.asarray(gradients[name])
        if gradient.shape != value.shape:
            problems.append(
                f"{name} has shape {gradient.shape}, the parameter {value.shape}"
            )
        elif not np.all(np.isfinite(gradient)):
            count = int(np.sum(~np.isfinite(gradient)))
            problems.append(f"{name} has {count} non-finite entries")
    return problems


def compare_entries(first, second, name, indices):
    """Largest absolute and relative disagreement of one parameter between two
    gradient dicts, on `indices` (flat) or every entry; `ok` against the
    tolerance of the pair. A missing or misshapen gradient is not ok."""
    fd = indices is not None
    tolerance = numerical.FD_TOLERANCE if fd else BACKEND_TOLERANCE
    floor = numerical.ABSOLUTE_FLOOR if fd else BACKEND_FLOOR
    result = {
        "tolerance": tolerance,
        "compared": 0,
        "max_absolute": float("nan"),
        "max_relative": float("nan"),
        "ok": False,
    }
    if name not in first or name not in second:
        return result
    a, b = np.asarray(first[name], dtype=float), np.asarray(second[name], dtype=float)
    if a.shape != b.shape:
        return result

    a, b = a.reshape(-1), b.reshape(-1)
    if fd:
        a, b = a[indices], b[indices]
    if a.size == 0:
        return result
    max_relative = float(np.max(numerical.relative_error(a, b, floor)))
    result.update(
        compared=int(a.size),
        max_absolute=float(np.max(np.abs(a - b))),
        max_relative=max_relative,
        ok=bool(max_relative <= tolerance),  # False for NaN
    )
    return result


def json_clean(value):
    """`value` with numpy scalars made Python numbers and non-finite floats
    made None, so json.dumps gives standard JSON."""
    if isinstance(value, dict):
        return {key: json_clean(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_clean(item) for item in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    return value


def format_report(report):
    """A readable table of `run_gradcheck`'s report: per case, per parameter,
    the largest relative disagreement of each pair, FAIL where over its
    tolerance; then the worst of each pair and the verdict."""
    tolerances = report["tolerances"]
    pairs = pair_names(report["backends"])
    width = max(len(pair) for pair in pairs) + 2
    lines = [
        "Gradient check, seed {}: backends vs each other (relative <= {:g}, "
        "floor {:g}) and vs finite differences (<= {:g}, floor {:g})".format(
            report["seed"],
            tolerances["backend_relative"],
            tolerances["backend_floor"],
            tolerances["fd_relative"],
            tolerances["fd_floor"],
        ),
        "",
    ]

    def cell(entry):
        if entry is None:
            return "-"
        relative = entry["max_relative"]
        text = "none" if relative is None else f"{relative:.1e}"
        return text if entry["ok"] else f"{text} FAIL"

    for case in report["cases"]:
        lines.append(f"{case['name']}  {case['config']}  lengths {case['lengths']}")
        header = f"  {'parameter':<26}{'entries':>8}  "
        lines.append(header + "".join(f"{pair:>{width}}" for pair in pairs))
        for name, row in case["parameters"].items():
            cells = "".join(f"{cell(row.get(pair)):>{width}}" for pair in pairs)
            lines.append(f"  {name:<26}{row['entries']:>8}  {cells}")
        lines.append("")

    for pair, worst in report["worst"].items():
        text = "none" if worst is None else f"{worst:.2e}"
        lines.append(f"worst {pair:<{width}} {text}")
    for failure in report["failures"]:
        lines.append(f"FAIL {failure}")
    lines.append("ok" if report["ok"] else "FAILED")
    return "\n".join(lines)
