"""Speed and peak memory of the two gradient backends, forward plus backward.

The reference configuration is the paper's copy task (section 4.1) with
20-vector sequences of 8 bits (T = 42 steps, X = 10, Y = 8), N = 128 rows of
M = 20, a feedforward controller of one layer of 100 units, one read and one
write head, float64. Both backends run in the same process, interleaved, and
each figure is the fastest of `--repeats` runs, so that a busy machine slows
both alike. docs/benchmarks.md records the figures.

    PYTHONPATH=. python benchmarks/speed.py            # about 3 minutes
    PYTHONPATH=. python benchmarks/speed.py --quick    # under a minute
"""

import os
import platform
import time
import tracemalloc

import click
import numpy as np

from diffmem import NTMConfig, forward, init_params, loss_and_gradients
from tasks import CopyTask

REFERENCE = {
    "input_size": 10,
    "output_size": 8,
    "memory_size": 128,
    "word_size": 20,
    "hidden_size": 100,
    "controller": "feedforward",
    "controller_layers": 1,
    "read_heads": 1,
    "write_heads": 1,
}

REFERENCE_STEPS = 42
"""A 20-vector copy sequence: start marker, 20 vectors, end marker, 20 blanks."""


def copy_batch(steps, batch_size, seed=0):
    """A copy-task batch of `batch_size` sequences, all `steps` long."""
    length = (steps - 2) // 2
    task = CopyTask(vector_size=8, min_length=1, max_length=max(length, 1))
    return task.sample(np.random.default_rng(seed), batch_size, length=length)


def setup(steps, batch_size, **overrides):
    """Config, params and a batch for one measurement."""
    config = NTMConfig(**{**REFERENCE, **overrides})
    params = init_params(config, np.random.default_rng(0))
    batch = copy_batch(steps, batch_size)
    return config, params, batch


def run(backend, config, params, batch):
    """One forward pass, or forward plus backward of `backend`."""
    if backend == "forward":
        return forward(params, config, batch.inputs)
    return loss_and_gradients(
        params, config, batch.inputs, batch.targets, batch.mask, backend=backend
    )


def fastest(backends, config, params, batch, repeats):
    """Seconds of the fastest of `repeats` runs of each backend, interleaved."""
    times = {backend: [] for backend in backends}
    for _ in range(repeats):
        for backend in backends:
            start = time.perf_counter()
            run(backend, config, params, batch)
            times[backend].append(time.perf_counter() - start)
    return {backend: min(values) for backend, values in times.items()}


def ms_per_sequence(seconds, batch):
    return 1e3 * seconds / batch.inputs.shape[1]


def peak_bytes(backend, config, params, batch):
    """Peak traced allocation of one run of `backend`, in bytes."""
    tracemalloc.start()
    run(backend, config, params, batch)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def machine():
    """One line each: CPU, core count, numpy, Python, BLAS settings, load."""
    model = "unknown"
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    blas = {
        key: value
        for key, value in os.environ.items()
        if key.startswith(("OPENBLAS", "OMP", "MKL"))
    }
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return [
        f"cpu: {model}, nproc {os.cpu_count()}",
        f"numpy {np.__version__}, python {platform.python_version()}",
        f"blas environment: {blas or 'none set'}",
        f"load average at start: {load}",
    ]


def agreement(config, params, batch):
    """Largest relative difference between the backends' gradients."""
    autograd, manual = (
        run(backend, config, params, batch) for backend in ("autograd", "manual")
    )
    worst = 0.0
    for name, expected in autograd.gradients.items():
        difference = np.abs(manual.gradients[name] - expected)
        scale = np.maximum(np.abs(expected), 1e-6)
        worst = max(worst, float(np.max(difference / scale, initial=0.0)))
    return worst


def table(title, header, rows):
    """Echo a fixed-width table."""
    click.echo(f"\n{title}")
    widths = [
        max(len(str(cell)) for cell in column) + 2 for column in zip(header, *rows)
    ]
    for row in [header, *rows]:
        click.echo("".join(f"{cell!s:>{width}}" for cell, width in zip(row, widths)))


def scaling_rows(label_values, make, repeats, autograd_limit):
    """Rows of ms/seq for each value: manual, and autograd while the value is
    at most `autograd_limit` (autograd's time grows large)."""
    rows = []
    for value in label_values:
        config, params, batch = make(value)
        backends = ["manual"] + (["autograd"] if value <= autograd_limit else [])
        times = fastest(backends, config, params, batch, repeats)
        T = batch.inputs.shape[0]
        manual = ms_per_sequence(times["manual"], batch)
        row = [value, f"{manual:.2f}", f"{1e3 * manual / T:.0f}"]
        if "autograd" in times:
            autograd = ms_per_sequence(times["autograd"], batch)
            row += [f"{autograd:.1f}", f"{autograd / manual:.1f}x"]
        else:
            row += ["-", "-"]
        rows.append(row)
    return rows


@click.command()
@click.option("--quick", is_flag=True, help="Fewer repeats and sizes.")
@click.option(
    "--repeats",
    type=int,
    default=None,
    help="Runs per figure, the fastest kept (default 7, quick 3).",
)
def main(quick, repeats):
    """Time forward plus backward of the autograd and manual backends."""
    repeats = repeats or (3 if quick else 7)
    for line in machine():
        click.echo(line)
    click.echo(f"repeats per figure: {repeats} (fastest kept)")

    # the reference configuration
    config, params, batch = setup(REFERENCE_STEPS, 1)
    click.echo(
        "largest relative gradient difference, manual vs autograd: "
        f"{agreement(config, params, batch):.1e}"
    )
    rows = []
    for batch_size in (1, 32):
        config, params, batch = setup(REFERENCE_STEPS, batch_size)
        times = fastest(
            ("forward", "autograd", "manual"), config, params, batch, repeats
        )
        forward_ms, autograd, manual = (
            ms_per_sequence(times[name], batch)
            for name in ("forward", "autograd", "manual")
        )
        rows.append(
            [
                batch_size,
                f"{forward_ms:.2f}",
                f"{autograd:.2f}",
                f"{manual:.2f}",
                f"{autograd / manual:.1f}x",
            ]
        )
    table(
        "Reference, T = 42, N = 128: ms per sequence",
        ["batch", "forward", "autograd", "manual", "speed-up"],
        rows,
    )

    header = ["", "manual ms/seq", "us/step", "autograd ms/seq", "speed-up"]

    # sequence length, batch 1
    lengths = (42, 100, 250) if quick else (42, 100, 250, 500, 1000)
    rows = scaling_rows(
        lengths, lambda T: setup(T, 1), repeats, autograd_limit=100 if quick else 1000
    )
    table("Sequence length T, batch 1", ["T", *header[1:]], rows)

    # memory size, batch 1
    sizes = (32, 128, 512) if quick else (32, 64, 128, 256, 512)
    rows = scaling_rows(
        sizes,
        lambda N: setup(REFERENCE_STEPS, 1, memory_size=N),
        repeats,
        autograd_limit=512,
    )
    table("Memory rows N, T = 42, batch 1", ["N", *header[1:]], rows)

    # batch size
    batches = (1, 8, 32) if quick else (1, 2, 4, 8, 16, 32, 64)
    rows = scaling_rows(
        batches, lambda B: setup(REFERENCE_STEPS, B), repeats, autograd_limit=64
    )
    table("Batch B, T = 42", ["B", *header[1:]], rows)

    # peak memory of a 1000-step sequence
    config, params, batch = setup(1000, 1)
    rows = [
        [backend, f"{peak_bytes(backend, config, params, batch) / 2**20:.1f}"]
        for backend in ("forward", "autograd", "manual")
    ]
    table(
        "Peak traced memory, T = 1000, batch 1 (tracemalloc)", ["backend", "MiB"], rows
    )


if __name__ == "__main__":
    main()
