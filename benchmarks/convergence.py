"""How reliably, and how fast, do the default settings learn copy and repeat copy?

Trains each task from several seeds with `diffmem.training.preset(task)` and,
every few updates, evaluates a fresh batch of trained-length sequences. A run
is solved when that batch averages below 0.1 bit errors per sequence, the
criterion of Collier and Beel (2018), "Implementing Neural Turing Machines",
ICANN, arXiv:1807.08518. Per seed it prints the sequences and training wall
time until solved; per task the success rate and the medians; then, for
every solved run, generalisation beyond the trained range:

    copy         bit errors per sequence at lengths up to 120 (trained 1-20)
    repeat copy  bit errors per sequence at repeat counts beyond those
                 trained, and how often the end marker is entirely right

Run by hand, not by the tests (a full run takes hours on two cores):

    python benchmarks/convergence.py                    # 10 seeds, both tasks
    python benchmarks/convergence.py --quick            # one seed, a few minutes
    python benchmarks/convergence.py --memory-init all --tasks copy
"""

import os
import statistics
import time

# one BLAS thread, as in cli.py: the matrices are small, and idle threads
# spinning on shared cores slow every run down
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import click
import numpy as np

from diffmem.loss import bit_errors
from diffmem.ntm import MEMORY_INITS, forward
from diffmem.training import evaluate, make_run, preset, train
from tasks import make_task

SOLVED_BELOW = 0.1  # bit errors per sequence, Collier and Beel (2018)


def solve(task_name, memory_init, seed, max_steps, eval_every, eval_sequences):
    """Train one run until solved or out of steps.

    Returns (run, solved, sequences, training seconds); the seconds leave
    out the time spent evaluating.
    """
    settings = preset(task_name)
    settings["model"]["memory_init"] = memory_init
    task = make_task(task_name, **settings["task"])
    run = make_run(task, settings["model"], settings["training"], seed)
    eval_rng = np.random.default_rng(10_000 + seed)
    outcome = {"solved": False, "eval_seconds": 0.0, "sequences": None}

    # every eval_every steps, test a fresh batch of trained lengths
    def on_report(report):
        started = time.perf_counter()
        batch = task.sample(eval_rng, eval_sequences)
        logits = forward(run.params, run.config, batch.inputs, eval_rng)
        errors = bit_errors(logits, batch.targets, batch.mask)
        outcome["eval_seconds"] += time.perf_counter() - started
        if errors < SOLVED_BELOW:
            outcome.update(solved=True, sequences=report.sequences)
            outcome["seconds"] = report.seconds - outcome["eval_seconds"]
            return True
        return False

    started = time.perf_counter()
    train(run, max_steps, report_every=eval_every, on_report=on_report)
    seconds = outcome.get(
        "seconds", time.perf_counter() - started - outcome["eval_seconds"]
    )
    return run, outcome["solved"], outcome["sequences"] or run.sequences, seconds


def copy_generalisation(run, lengths, sequences):
    """Bit errors per sequence at each length."""
    rng = np.random.default_rng(1)
    results = evaluate(run.params, run.config, run.task, lengths, sequences, rng)
    return {result.length: result.bit_errors for result in results}


def repeat_generalisation(run, repeats, sequences):
    """Per repeat count: bit errors per sequence and end-marker accuracy.

    Sequences have the longest trained length. The end marker is right when
    the end channel is on the wrong side of 0.5 at no scored step.
    """
    task = run.task
    rng = np.random.default_rng(1)
    length = task.max_length
    results = {}
    for count in repeats:
        batch = task.sample(rng, sequences, length=length, repeats=count)
        logits = forward(run.params, run.config, batch.inputs, rng)  # (T, B, Y)
        wrong = (logits > 0) != (batch.targets > 0.5)  # (T, B, Y)
        wrong = wrong * batch.mask[:, :, None]
        end_right = np.mean(wrong[:, :, task.vector_size].sum(axis=0) == 0)
        results[count] = (float(wrong.sum() / sequences), float(end_right))
    return results


def generalisation_line(task_name, run, quick):
    """One line of bit errors beyond the trained range, for a finished run."""
    sequences = 20 if quick else 100
    if task_name == "copy":
        lengths = [20, 40] if quick else [10, 20, 30, 50, 80, 120]
        errors = copy_generalisation(run, lengths, sequences)
        return "  ".join(f"L{k}: {v:.2f}" for k, v in errors.items())
    top = run.task.max_repeats
    repeats = [top, top + 2] if quick else [top, top + 2, top + 5, 2 * top]
    results = repeat_generalisation(run, repeats, sequences)
    return "  ".join(
        f"R{k}: {errors:.2f} (end {end:.0%})" for k, (errors, end) in results.items()
    )


@click.command()
@click.option("--seeds", type=click.IntRange(min=1), default=10, show_default=True)
@click.option(
    "--first-seed", type=click.IntRange(min=0), default=0, show_default=True,
    help="Seeds run from here, so two processes can share the work.",
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
    "--max-steps", type=click.IntRange(min=1),
    help="Updates before a run counts as failed.  [default: the preset's]",
)  # fmt: skip
@click.option("--eval-every", type=click.IntRange(min=1), default=50, show_default=True)
@click.option(
    "--eval-sequences", type=click.IntRange(min=1), default=500, show_default=True
)
@click.option(
    "--quick",
    is_flag=True,
    help="One seed, budgets of 1500 (copy) and 8000 (repeat-copy) updates, a "
    "few test lengths, and generalisation even for unsolved runs.",
)
def main(
    seeds, first_seed, tasks, memory_init, max_steps, eval_every, eval_sequences, quick
):
    """Seeds until solved, success rates and generalisation of the defaults."""
    task_names = [name.strip() for name in tasks.split(",")]
    inits = MEMORY_INITS if memory_init == "all" else (memory_init,)
    if quick:
        seeds, eval_sequences = 1, min(eval_sequences, 100)

    for task_name in task_names:
        budget = max_steps or preset(task_name)["training"]["steps"]
        if quick:
            budget = min(budget, 1500 if task_name == "copy" else 8000)
        for init in inits:
            click.echo(f"\n{task_name}, memory init {init}, up to {budget} updates")
            finished = []
            for seed in range(first_seed, first_seed + seeds):
                run, solved, sequences, seconds = solve(
                    task_name, init, seed, budget, eval_every, eval_sequences
                )
                verdict = "solved" if solved else "NOT solved"
                click.echo(
                    f"  seed {seed}: {verdict} after {sequences} sequences, "
                    f"{seconds:.0f} s"
                )
                finished.append((seed, run, solved, sequences, seconds))

            # success rate and medians
            solved_runs = [result for result in finished if result[2]]
            click.echo(f"  solved {len(solved_runs)}/{seeds}")
            if solved_runs:
                median_sequences = statistics.median(r[3] for r in solved_runs)
                median_seconds = statistics.median(r[4] for r in solved_runs)
                click.echo(
                    f"  median of solved runs: {median_sequences:.0f} sequences, "
                    f"{median_seconds:.0f} s"
                )

            # generalisation beyond the trained range
            for seed, run, solved, _, _ in finished if quick else solved_runs:
                line = generalisation_line(task_name, run, quick)
                click.echo(f"  seed {seed} bit errors/seq  {line}")


if __name__ == "__main__":
    main()
