"""How reliably, and how fast, do the default settings learn copy and repeat copy?

Trains each task from several seeds with `diffmem.training.preset(task)`,
for the preset's whole budget of updates, exactly as `diffmem train TASK
--seed S` would. Every few updates it tests a fresh batch of trained-length
sequences; the first time that batch averages below 0.1 bit errors per
sequence, the run counts as solved, the criterion of Collier and Beel (2018),
"Implementing Neural Turing Machines", ICANN, arXiv:1807.08518. At the end it
evaluates the final model as `diffmem evaluate` does, on 1000 fresh
sequences of the trained lengths, against the README's stricter bar of 0.01
bit errors per sequence. Per seed it prints both, the sequences and training
seconds until solved, and the final model's generalisation:

    copy         bit errors per sequence at lengths up to 120 (trained 1-20)
    repeat copy  bit errors per sequence at repeat counts beyond those
                 trained, and how often the end marker is entirely right

then per task the success rates and the medians over solved runs.

Run by hand, not by the tests (both tasks, 10 seeds each, take about 50
minutes with --jobs 2 on two cores):

    python benchmarks/convergence.py --jobs 2               # 10 seeds, both tasks
    python benchmarks/convergence.py --quick                # one seed, minutes
    python benchmarks/convergence.py --memory-init all --tasks copy --jobs 2

Times are wall time of training alone (evaluation left out); with --jobs 2
on two cores, each run has one core to itself.
"""

import json
import multiprocessing
import os
import statistics
import time

# one BLAS thread, as in cli.py: the matrices are small, and idle threads
# spinning on shared cores slow every run down
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import click
import numpy as np

from diffmem.loss import bit_errors, wrong_bits
from diffmem.ntm import MEMORY_INITS, forward
from diffmem.training import evaluate, evaluate_spread, make_run, preset, train
from tasks import make_task

SOLVED_BELOW = 0.1  # bit errors per sequence, Collier and Beel (2018)
FINAL_BELOW = 0.01  # bit errors per sequence on 1000, the README's bar
FINAL_SEQUENCES = 1000


def train_one(task_name, memory_init, seed, steps, eval_every, eval_sequences, stop):
    """Train one run for `steps` updates (or until solved, if `stop`).

    Returns (run, record): record holds the seed, whether and when (in
    sequences and training seconds) the run was first solved, and the
    training seconds in all. Seconds leave out the time spent evaluating.
    """
    settings = preset(task_name)
    settings["model"]["memory_init"] = memory_init
    task = make_task(task_name, **settings["task"])
    run = make_run(task, settings["model"], settings["training"], seed)
    eval_rng = np.random.default_rng(10_000 + seed)
    record = {"task": task_name, "memory_init": memory_init, "seed": seed}
    record.update(solved=False, solved_sequences=None, solved_seconds=None)
    eval_seconds = 0.0

    # every eval_every steps, test a fresh batch of trained lengths
    def on_report(report):
        nonlocal eval_seconds
        started = time.perf_counter()
        batch = task.sample(eval_rng, eval_sequences)
        logits = forward(run.params, run.config, batch.inputs, eval_rng)
        errors = bit_errors(logits, batch.targets, batch.mask)
        eval_seconds += time.perf_counter() - started
        if errors < SOLVED_BELOW and not record["solved"]:
            record.update(solved=True, solved_sequences=report.sequences)
            record["solved_seconds"] = report.seconds - eval_seconds
        return stop and record["solved"]

    started = time.perf_counter()
    train(run, steps, report_every=eval_every, on_report=on_report)
    record["steps"] = run.step
    record["sequences"] = run.sequences
    record["seconds"] = time.perf_counter() - started - eval_seconds
    return run, record


def final_errors(run):
    """Bit errors per sequence on 1000 fresh trained-length sequences.

    The same figure as `diffmem evaluate CHECKPOINT`'s 'all' row: the
    sequences spread evenly over the trained lengths, drawn from seed 1.
    """
    cases = [(length, None) for length in run.task.train_lengths()]
    rng = np.random.default_rng(1)
    results = evaluate_spread(
        run.params, run.config, run.task, cases, FINAL_SEQUENCES, rng
    )
    return sum(r.sequences * r.bit_errors for r in results) / FINAL_SEQUENCES


def copy_generalisation(run, lengths, sequences):
    """Bit errors per sequence at each length."""
    rng = np.random.default_rng(1)
    results = evaluate(run.params, run.config, run.task, lengths, sequences, rng)
    return {f"L{result.length}": result.bit_errors for result in results}


def repeat_generalisation(run, repeats, sequences):
    """Per repeat count: bit errors per sequence and end-marker accuracy.

    Sequences have the longest trained length. The end marker is right when
    the end channel is on the wrong side of 0.5 at no scored step.
    """
    task = run.task
    rng = np.random.default_rng(1)
    results = {}
    for count in repeats:
        batch = task.sample(rng, sequences, length=task.max_length, repeats=count)
        logits = forward(run.params, run.config, batch.inputs, rng)  # (T, B, Y)
        wrong = wrong_bits(logits, batch.targets, batch.mask)  # (T, B, Y)
        end_right = np.mean(wrong[:, :, task.vector_size].sum(axis=0) == 0)
        results[f"R{count}"] = float(wrong.sum() / sequences)
        results[f"R{count} end right"] = float(end_right)
    return results


def generalisation(task_name, run, quick):
    """Bit errors beyond the trained range, as a dict of named figures."""
    sequences = 20 if quick else 100
    if task_name == "copy":
        lengths = [20, 40] if quick else [20, 30, 50, 80, 120]
        return copy_generalisation(run, lengths, sequences)
    top = run.task.max_repeats
    repeats = [top, top + 2] if quick else [top, top + 2, top + 4, 2 * top]
    return repeat_generalisation(run, repeats, sequences)


def one_run(job):
    """Train, evaluate and measure one (task, init, seed); returns its record."""
    task_name, memory_init, seed, steps, options = job
    run, record = train_one(
        task_name, memory_init, seed, steps, options["eval_every"],
        options["eval_sequences"], options["stop_when_solved"],
    )  # fmt: skip
    record["final_errors"] = final_errors(run)
    record["generalisation"] = generalisation(task_name, run, options["quick"])
    return record


def run_line(record):
    """The per-seed lines: when solved, final errors, generalisation."""
    if record["solved"]:
        solved = (
            f"solved after {record['solved_sequences']} sequences "
            f"({record['solved_seconds']:.0f} s)"
        )
    else:
        solved = "NOT solved"
    figures = "  ".join(
        f"{name}: {value:.0%}" if name.endswith("end right") else f"{name}: {value:.2f}"
        for name, value in record["generalisation"].items()
    )
    return (
        f"  seed {record['seed']}: {solved}; after {record['steps']} updates "
        f"({record['seconds']:.0f} s) {record['final_errors']:.4f} bit errors/seq "
        f"on {FINAL_SEQUENCES}\n    {figures}"
    )


def summary_lines(records):
    """Success rates, and the medians over solved runs."""
    solved = [r for r in records if r["solved"]]
    final = [r for r in records if r["final_errors"] < FINAL_BELOW]
    runs = len(records)
    rates = (
        f"  solved (below {SOLVED_BELOW} at some test): {len(solved)}/{runs}; "
        f"final model below {FINAL_BELOW}: {len(final)}/{runs}"
    )
    lines = [rates]
    if solved:
        sequences = statistics.median(r["solved_sequences"] for r in solved)
        seconds = statistics.median(r["solved_seconds"] for r in solved)
        lines.append(
            f"  median of solved runs: {sequences:.0f} sequences, {seconds:.0f} s"
        )
    return lines


@click.command()
@click.option("--seeds", type=click.IntRange(min=1), default=10, show_default=True)
@click.option(
    "--first-seed", type=click.IntRange(min=0), default=0, show_default=True,
    help="Seeds run from here.",
)  # fmt: skip
@click.option(
    "--tasks", default="copy,repeat-copy", show_default=True,
    help="Comma-separated task names.",
)  # fmt: skip
@click.option(
    "--memory-init",
    type=click.Choice([*MEMORY_INITS, "all"]),
    default="constant",
    show_default=True,
    help="Initial memory; 'all' runs every seed with each of the three.",
)
@click.option(
    "--steps", type=click.IntRange(min=1),
    help="Updates per run.  [default: the preset's]",
)  # fmt: skip
@click.option(
    "--stop-when-solved", is_flag=True,
    help="End each run at its first solved test (faster; no final figures "
    "for the full budget).",
)  # fmt: skip
@click.option("--eval-every", type=click.IntRange(min=1), default=50, show_default=True)
@click.option(
    "--eval-sequences", type=click.IntRange(min=1), default=500, show_default=True
)
@click.option(
    "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
    help="Runs trained at once, one process each.",
)  # fmt: skip
@click.option(
    "--records", type=click.Path(dir_okay=False),
    help="Also append one JSON line per run to this file.",
)  # fmt: skip
@click.option(
    "--quick",
    is_flag=True,
    help="One seed, budgets of 1500 (copy) and 8000 (repeat-copy) updates "
    "and a few test lengths.",
)
def main(
    seeds, first_seed, tasks, memory_init, steps, stop_when_solved, eval_every,
    eval_sequences, jobs, records, quick,
):  # fmt: skip
    """Seeds until solved, final errors and generalisation of the defaults."""
    task_names = [name.strip() for name in tasks.split(",")]
    inits = MEMORY_INITS if memory_init == "all" else (memory_init,)
    if quick:
        seeds, eval_sequences = 1, min(eval_sequences, 100)
    options = {
        "eval_every": eval_every, "eval_sequences": eval_sequences,
        "stop_when_solved": stop_when_solved, "quick": quick,
    }  # fmt: skip

    with multiprocessing.Pool(jobs) as pool:
        for task_name in task_names:
            budget = steps or preset(task_name)["training"]["steps"]
            if quick:
                budget = min(budget, 1500 if task_name == "copy" else 8000)
            for init in inits:
                click.echo(f"\n{task_name}, memory init {init}, {budget} updates")
                batch = [
                    (task_name, init, seed, budget, options)
                    for seed in range(first_seed, first_seed + seeds)
                ]
                finished = []
                for record in pool.imap(one_run, batch):
                    click.echo(run_line(record))
                    finished.append(record)
                    if records:
                        with open(records, "a") as file:
                            file.write(json.dumps(record) + "\n")
                for line in summary_lines(finished):
                    click.echo(line)


if __name__ == "__main__":
    main()
