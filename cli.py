"""The `diffmem` command: train, evaluate, show and plot Neural Turing Machines.

    diffmem train copy                    # the paper's copy task, solved
    diffmem evaluate runs/copy/checkpoint.npz --lengths 10,20,40,80
    diffmem show runs/copy/checkpoint.npz --length 10
    diffmem plot runs/copy --png copy.png

A run folder (``--out``, default runs/<task>) holds checkpoint.npz and
checkpoint.json (diffmem.checkpoint) and metrics.jsonl, one JSON object per
report: step, sequences, cost_bits, bit_errors, ms_per_sequence, seconds.

Library errors (ValueError from a size, CheckpointError, NonFiniteCostError)
become one-line click errors in `DiffmemGroup.invoke`, and nowhere else.
"""

import json
import os
import re
import sys
from dataclasses import asdict, fields
from pathlib import Path

# The NTM's matrices are small: BLAS threads gain nothing and, while another
# process shares the cores, their busy-waiting can slow training fourfold.
# Set before numpy loads; an explicit setting in the environment wins.
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import click
import numpy as np

from diffmem.checkpoint import CheckpointError, checkpoint_paths
from diffmem.gradients import BACKENDS
from diffmem.ntm import CONTROLLERS, DTYPES, MEMORY_INITS
from diffmem.optim import OPTIMIZERS
from diffmem.training import (
    PRESETS,
    NonFiniteCostError,
    Run,
    evaluate_spread,
    make_run,
    preset,
    read_metrics,
    train,
    trim_metrics,
)
from tasks import TASKS

CHECKPOINT = "checkpoint"
METRICS = "metrics.jsonl"

MODEL_OPTIONS = (
    "memory_size", "word_size", "hidden_size", "controller", "controller_layers",
    "read_heads", "write_heads", "shift_range", "memory_init", "dtype",
)  # fmt: skip
TASK_OPTIONS = (
    "vector_size", "min_length", "max_length", "min_repeats", "max_repeats",
    "item_length", "min_items", "max_items", "order", "sequence_length",
    "num_inputs", "num_outputs",
)  # fmt: skip
TRAINING_OPTIONS = (
    "optimizer", "learning_rate", "clip", "batch_size", "steps",
    "curriculum_start", "curriculum_every", "decay_steps", "one_size_batches",
    "blank_rate",
)  # fmt: skip


def option_name(field):
    """The command-line spelling of a field: memory_size -> --memory-size."""
    return "--" + field.replace("_", "-")


def translate(message):
    """Name options, not fields, in a library error message."""
    names = [
        name
        for name in MODEL_OPTIONS + TASK_OPTIONS + TRAINING_OPTIONS
        if "_" in name  # one-word names read as prose, not as options
    ]
    pattern = r"\b(" + "|".join(names) + r")\b"
    return re.sub(pattern, lambda match: option_name(match.group(1)), message)


class DiffmemGroup(click.Group):
    """A click group that turns library errors into one-line click errors."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (CheckpointError, NonFiniteCostError) as error:
            raise click.ClickException(str(error)) from None
        except ValueError as error:
            raise click.UsageError(translate(str(error)), ctx) from None


@click.group(cls=DiffmemGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Train and inspect Neural Turing Machines (Graves et al. 2014).

    Start with `diffmem train copy`, then `diffmem evaluate` and `diffmem
    show` on the checkpoint it prints.
    """


# ---------------------------------------------------------------- train


def size_option(field, help, minimum=1, default_text=None):
    """An optional integer option; None means "take it from the preset"."""
    return click.option(
        option_name(field),
        field,
        type=click.IntRange(min=minimum),
        help=help,
        show_default=default_text,
    )


def model_option(field, help, minimum=1):
    """A model size; its default depends on the task and --preset."""
    return size_option(field, help, minimum)


@main.command("train")
@click.argument("task", type=click.Choice(list(TASKS)))
@click.option(
    "--preset",
    type=click.Choice(PRESETS),
    help="Settings to start from: 'default' (ours, solves copy and repeat-copy "
    "fast) or 'paper' (Graves et al. 2014, Table 1).  [default: default]",
)
@model_option("memory_size", "Memory rows N.")
@model_option("word_size", "Memory row width M.")
@model_option("hidden_size", "Controller units H.")
@model_option("controller_layers", "Feedforward controller layers.")
@model_option("read_heads", "Read heads R.", 0)
@model_option("write_heads", "Write heads W.", 0)
@model_option("shift_range", "Heads shift by -S..S rows.", 0)
@click.option("--controller", type=click.Choice(CONTROLLERS), help="Controller type.")
@click.option(
    "--memory-init",
    type=click.Choice(MEMORY_INITS),
    help="Initial memory: a small constant, learned, or random per sequence.",
)
@click.option("--dtype", type=click.Choice(DTYPES), help="Floating-point type.")
@size_option("vector_size", "Bits per vector (copy, repeat-copy, ...).")
@size_option("min_length", "Shortest trained sequence (copy, repeat-copy).")
@size_option("max_length", "Longest trained sequence (copy, repeat-copy).")
@size_option("min_repeats", "Fewest trained repeats (repeat-copy).")
@size_option("max_repeats", "Most trained repeats (repeat-copy).")
@size_option("item_length", "Vectors per item (associative-recall).")
@size_option("min_items", "Fewest items (associative-recall).")
@size_option("max_items", "Most items (associative-recall).")
@size_option("order", "N-gram order (ngrams).")
@size_option("sequence_length", "Bits per sequence (ngrams).")
@size_option("num_inputs", "Input vectors (priority-sort).")
@size_option("num_outputs", "Sorted output vectors (priority-sort).")
@click.option("--optimizer", type=click.Choice(list(OPTIMIZERS)), help="Optimiser.")
@click.option(
    "--learning-rate",
    type=click.FloatRange(min=0, min_open=True),
    help="Optimiser step size.",
)
@click.option(
    "--clip",
    type=click.FloatRange(min=0, min_open=True),
    help="Clip each gradient element to [-CLIP, CLIP].",
)
@size_option("batch_size", "Sequences per optimiser update.")
@size_option(
    "curriculum_start",
    "Longest training sequence at first, growing by one every "
    "--curriculum-every steps to --max-length; 0 trains on every length "
    "from the start.",
    minimum=0,
)
@size_option("curriculum_every", "Steps per extra curriculum length.")
@size_option(
    "decay_steps",
    "Steps over which the learning rate falls tenfold (smoothly); 0 keeps it constant.",
    minimum=0,
)
@click.option(
    "--one-size-batches/--mixed-size-batches",
    default=None,
    help="All the sequences of a training batch share one length (and count), "
    "so no step is spent on padding; or each draws its own.",
)
@click.option(
    "--blank-rate",
    type=click.FloatRange(0, 1),
    help="Chance that a training vector is all zeros, which the paper's "
    "tasks make too rare to learn from (copy, repeat-copy).",
)
@size_option("steps", "Optimiser updates in total (a resumed run continues).")
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True,
    help="Seed of the parameters and the training sequences.",
)  # fmt: skip
@click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    help="Gradient backend.  [default: manual if installed, else autograd]",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Run folder.  [default: runs/TASK]",
)
@size_option("checkpoint_every", "Steps between checkpoints.")
@click.option(
    "--report-every", type=click.IntRange(min=1), default=50, show_default=True,
    help="Steps between progress reports and metrics lines.",
)  # fmt: skip
@click.option("--resume", is_flag=True, help="Continue the run saved in --out.")
@click.option("--force", is_flag=True, help="Start afresh even if --out holds a run.")
@click.pass_context
def train_command(ctx, task, **options):
    """Train an NTM on TASK, writing checkpoints and metrics to --out.

    Settings not given come from --preset, which has its own for each task;
    the first line printed names the ones in use. Ctrl-C saves a checkpoint;
    --resume continues it exactly where it stopped.
    """
    out = options["out"] or Path("runs") / task
    checkpoint = out / CHECKPOINT
    metrics = out / METRICS

    # a new run, or the saved one
    if options["resume"]:
        run = resume_run(ctx, task, checkpoint, options)
        steps = (
            options["steps"] or run.target_steps or preset(task)["training"]["steps"]
        )
        trim_metrics(metrics, run.step)
    else:
        run, steps = new_run(task, options)
        refuse_to_overwrite(out, options["force"])
        out.mkdir(parents=True, exist_ok=True)
        if metrics.exists():
            metrics.unlink()

    if run.step >= steps:
        click.echo(f"{checkpoint}.npz is already at step {run.step} of {steps}")
        return
    every = options["checkpoint_every"] or preset(task)["training"]["checkpoint_every"]
    click.echo(describe(run, out), err=True)

    # train, with a progress bar on a terminal or a line per report otherwise
    try:
        with Progress(run, steps) as progress:
            train(
                run, steps, report_every=options["report_every"],
                on_report=progress.report, on_step=progress.step,
                checkpoint_path=checkpoint, checkpoint_every=every,
                metrics_path=metrics,
            )  # fmt: skip
    except KeyboardInterrupt:
        click.echo(
            f"\ninterrupted at step {run.step}; checkpoint saved to "
            f"{checkpoint}.npz; continue with: diffmem train {task} --out {out} "
            "--resume",
            err=True,
        )
        ctx.exit(130)
    click.echo(
        f"checkpoint saved to {checkpoint}.npz (step {run.step}); metrics in {metrics}"
    )


def new_run(task, options):
    """A fresh Run from the preset and the options given; returns (run, steps)."""
    settings = preset(task, options["preset"] or "default")
    task_fields = {field.name for field in fields(TASKS[task])}
    for field in TASK_OPTIONS:
        if options[field] is None:
            continue
        if field not in task_fields:
            raise click.UsageError(
                f"{option_name(field)} does not apply to task {task!r}; its sizes "
                f"are {', '.join(option_name(name) for name in sorted(task_fields))}"
            )
        settings["task"][field] = options[field]
    for field in MODEL_OPTIONS:
        if options[field] is not None:
            settings["model"][field] = options[field]
    if options["controller"] == "lstm" and options["controller_layers"] is None:
        settings["model"]["controller_layers"] = 1  # presets may stack tanh layers
    for field in (*TRAINING_OPTIONS, "backend"):
        if options[field] is not None:
            settings["training"][field] = options[field]

    task_object = TASKS[task](**settings["task"])
    run = make_run(
        task_object, settings["model"], settings["training"], options["seed"]
    )
    return run, settings["training"]["steps"]


def resume_run(ctx, task, checkpoint, options):
    """The Run saved at `checkpoint`, after checking the options agree with it."""
    if options["force"]:
        raise click.UsageError("--resume and --force contradict each other", ctx)
    if options["preset"] is not None:
        raise click.UsageError("--preset does not apply with --resume", ctx)
    npz, _ = checkpoint_paths(checkpoint)
    if not npz.exists():
        raise click.UsageError(f"--resume: no checkpoint at {npz}", ctx)
    run = Run.resume(checkpoint, backend=options["backend"])
    if run.task.name != task:
        raise click.UsageError(
            f"{npz} was trained on {run.task.name!r}, not {task!r}", ctx
        )

    # settings fixed by the checkpoint may be repeated, not changed
    saved = {
        **{field: getattr(run.config, field) for field in MODEL_OPTIONS},
        **{field: getattr(run.task, field, None) for field in TASK_OPTIONS},
        "optimizer": run.optimizer.name,
        "learning_rate": run.optimizer.learning_rate,
        "clip": run.clip,
        "batch_size": run.batch_size,
        "one_size_batches": run.one_size_batches,
        "blank_rate": run.blank_rate,
        **asdict(run.schedule),
    }
    for field, value in saved.items():
        given = options[field]
        if given is not None and given != value:
            raise click.UsageError(
                f"{option_name(field)} {given} differs from the checkpoint's "
                f"{value}; drop it to resume, or start afresh with --force",
                ctx,
            )
    if options["seed"] not in (0, run.seed):
        raise click.UsageError(
            f"--seed {options['seed']} differs from the checkpoint's {run.seed}", ctx
        )
    return run


def refuse_to_overwrite(out, force):
    """Stop unless `out` holds no run, or --force was given."""
    if out.exists() and not out.is_dir():
        raise click.UsageError(f"--out {out} is a file, not a folder")
    npz, json_path = checkpoint_paths(out / CHECKPOINT)
    existing = [path for path in (npz, json_path, out / METRICS) if path.exists()]
    if existing and not force:
        raise click.UsageError(
            f"--out {out} already holds a run ({existing[0].name}); add --resume "
            "to continue it or --force to start afresh"
        )


def describe(run, out):
    """One line saying what is being trained where."""
    c = run.config
    batch = f"batch {run.batch_size}"
    if run.one_size_batches:
        batch += " (one size)"
    if run.blank_rate:
        batch += f", blank rate {run.blank_rate:g}"
    return (
        f"training {run.task.name} into {out}: N={c.memory_size} M={c.word_size} "
        f"{c.controller} {c.controller_layers}x{c.hidden_size}, "
        f"{c.read_heads}R/{c.write_heads}W heads, {run.optimizer.name} "
        f"lr {run.optimizer.learning_rate:g}, {batch}, "
        f"backend {run.backend}, seed {run.seed}, from step {run.step}"
    )


class Progress:
    """A click progress bar on a terminal; a line per report otherwise."""

    def __init__(self, run, steps):
        self.sequences = run.sequences
        self.latest = ""  # the figures of the last report
        self.bar = None
        self.interactive = sys.stderr.isatty()
        if self.interactive:
            self.bar = click.progressbar(
                length=steps,
                label="training",
                file=sys.stderr,
                show_pos=True,
                item_show_func=lambda _: f"{self.sequences} seqs{self.latest}",
            )
            self.bar.update(run.step)

    def __enter__(self):
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def step(self, run, result):
        self.sequences = run.sequences
        if self.bar is not None:
            self.bar.update(1)

    def report(self, report):
        self.latest = (
            f", cost {report.cost_bits:.3f}, errors {report.bit_errors:.3f} bits/seq"
        )
        if not self.interactive:
            click.echo(report.line(), err=True)


# ------------------------------------------------------------- evaluate


def integer_list(minimum):
    """A click callback parsing '1-20,40,80' into [1, ..., 20, 40, 80]."""

    def parse(ctx, param, value):
        if value is None:
            return None
        numbers = []
        for part in value.split(","):
            match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
            if not match:
                raise click.BadParameter(
                    f"{value!r} is not a list like 1-20,40,80 of integers >= {minimum}"
                )
            low, high = int(match.group(1)), int(match.group(2) or match.group(1))
            if low < minimum or low > high:
                raise click.BadParameter(
                    f"{part.strip()!r} in {value!r} is not a range low-high with "
                    f"{minimum} <= low <= high"
                )
            numbers.extend(range(low, high + 1))
        return numbers

    return parse


def load_run(path):
    """The Run in checkpoint `path` (.npz, .json, or a run folder)."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT
    return Run.resume(path)


@main.command("evaluate")
@click.argument("checkpoint", type=click.Path(path_type=Path))
@click.option(
    "--lengths",
    callback=integer_list(1),
    help="Lengths to test, e.g. 1-20,40,80.  [default: the trained lengths]",
)
@size_option("min_length", "Shortest length to test (with --max-length).")
@size_option("max_length", "Longest length to test (with --min-length).")
@click.option(
    "--repeats",
    callback=integer_list(1),
    help="Repeat counts to test, e.g. 1-10,15,20 (repeat-copy only).",
)
@click.option(
    "--sequences", type=click.IntRange(min=1), default=1000, show_default=True,
    help="Fresh sequences in total, spread evenly over the lengths "
    "(at least one per length).",
)  # fmt: skip
@click.option(
    "--seed", type=click.IntRange(min=0), default=1, show_default=True,
    help="Seed of the test sequences.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead.")
def evaluate_command(checkpoint, lengths, min_length, max_length, repeats, sequences,
                     seed, as_json):  # fmt: skip
    """Mean cost and bit errors per sequence of CHECKPOINT at each length.

    CHECKPOINT is a checkpoint's .npz or .json, or a run folder. Cost is in
    bits per sequence; bit errors count outputs on the wrong side of 0.5,
    per sequence; the 'all' row averages over every sequence. The sequences
    are fresh, drawn from --seed, never from the training stream. A length
    is whatever the task's `length` means: vectors for copy and
    repeat-copy, items for associative-recall, bits for ngrams, inputs for
    priority-sort.
    """
    run = load_run(checkpoint)
    lengths = choose_lengths(run.task, lengths, min_length, max_length)
    if repeats is not None and run.task.name != "repeat-copy":
        raise click.UsageError(f"--repeats applies to repeat-copy, not {run.task.name}")

    # spread the sequences over every (length, repeats) case
    cases = [(length, None) for length in lengths]
    if repeats is not None:
        cases = [(length, count) for count in repeats for length in lengths]
    rng = np.random.default_rng(seed)
    results = evaluate_spread(run.params, run.config, run.task, cases, sequences, rng)
    rows = []
    for (length, count), result in zip(cases, results):
        row = {"length": length}
        if count is not None:
            row["repeats"] = count
        row.update(
            sequences=result.sequences,
            cost_bits=result.cost_bits,
            bit_errors=result.bit_errors,
        )
        if result.optimal_cost_bits is not None:
            row["optimal_cost_bits"] = result.optimal_cost_bits
        rows.append(row)

    if as_json:
        click.echo(json.dumps(rows, indent=1))
    else:
        click.echo(format_table(rows))


def choose_lengths(task, lengths, min_length, max_length):
    """The lengths to evaluate, from --lengths, --min/--max-length or the task."""
    if lengths is not None and (min_length or max_length):
        raise click.UsageError("give --lengths or --min-length/--max-length, not both")
    if lengths is not None:
        return lengths
    trained = task.train_lengths()
    low = min_length or trained.start
    high = max_length or trained.stop - 1
    if low > high:
        raise click.UsageError(f"--min-length {low} must be <= --max-length {high}")
    return list(range(low, high + 1))


def format_table(rows):
    """Rows of evaluate as an aligned text table, with an 'all' row.

    Tasks with a Bayes-optimal predictor (ngrams) get its cost as a last
    column, the floor to compare the model's cost with.
    """
    has_repeats = "repeats" in rows[0]
    has_optimal = "optimal_cost_bits" in rows[0]

    def line(case, row):
        text = (
            f"{case}  {row['sequences']:9d}  {row['cost_bits']:15.4f}  "
            f"{row['bit_errors']:14.4f}"
        )
        return text + (f"  {row['optimal_cost_bits']:12.4f}" if has_optimal else "")

    header = "length" + ("  repeats" if has_repeats else "")
    header += "  sequences  cost (bits/seq)  bit errors/seq"
    lines = [header + ("  optimal cost" if has_optimal else "")]
    for row in rows:
        case = f"{row['length']:6d}" + (f"  {row['repeats']:7d}" if has_repeats else "")
        lines.append(line(case, row))

    # the 'all' row: means weighted by each row's sequences
    total = sum(row["sequences"] for row in rows)
    means = {
        field: sum(row[field] * row["sequences"] for row in rows) / total
        for field in ("cost_bits", "bit_errors", "optimal_cost_bits")
        if field in rows[0]
    }
    label = f"{'all':>6}" + (" " * 9 if has_repeats else "")
    lines.append(line(label, {"sequences": total, **means}))
    return "\n".join(lines)


# ----------------------------------------------------------------- show

SHADES = " ░▒▓█"


def sequence_options(command):
    """--length, --repeats and --seed: which sequence to run a checkpoint on."""
    command = click.option(
        "--seed", type=click.IntRange(min=0), default=0, show_default=True,
        help="Seed of the sequence.",
    )(command)  # fmt: skip
    command = click.option(
        "--repeats", type=click.IntRange(min=1),
        help="Repeat count (repeat-copy only).",
    )(command)  # fmt: skip
    return size_option("length", "Sequence length.  [default: the longest trained]")(
        command
    )


def run_one_sequence(run, length, repeats, seed):
    """Sample one sequence from the run's task and trace the model on it.

    Returns (length, batch, history), the history as `diffmem.trace.trace`.
    """
    from diffmem.trace import trace

    if repeats is not None and run.task.name != "repeat-copy":
        raise click.UsageError(f"--repeats applies to repeat-copy, not {run.task.name}")
    length = length or run.task.train_lengths().stop - 1
    options = {} if repeats is None else {"repeats": repeats}
    batch = run.task.sample(np.random.default_rng(seed), 1, length=length, **options)
    history = trace(run.params, run.config, batch.inputs, np.random.default_rng(seed))
    return length, batch, history


@main.command("show")
@click.argument("checkpoint", type=click.Path(path_type=Path))
@sequence_options
@click.option(
    "--rows",
    callback=integer_list(0),
    help="Memory rows to draw, 0-based, e.g. 0-19.  [default: the rows the "
    "heads touched]",
)
@click.option(
    "--png",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also save the picture to this file (needs matplotlib).",
)
def show_command(checkpoint, length, repeats, seed, rows, png):
    """Run CHECKPOINT (.npz, .json or run folder) on one sequence and draw it.

    Time runs left to right. Panels: inputs, targets, outputs, then each
    read and write head's weighting over the memory rows it touched.
    """
    run = load_run(checkpoint)
    if png is not None:
        require_matplotlib("--png")
    length, batch, history = run_one_sequence(run, length, repeats, seed)
    history["targets"] = batch.targets[:, 0] * batch.mask[:, 0, None]  # (T, Y)
    rows = choose_rows(history, rows, run.config.memory_size)

    click.echo(draw_terminal(history, rows))
    if png is not None:
        draw_png(history, rows, png, f"{run.task.name}, length {length}")
        click.echo(f"figure saved to {png}")


def choose_rows(history, rows, memory_size):
    """Memory rows to draw: those given, else those any head weighted > 0.05."""
    if rows is not None:
        bad = [row for row in rows if row >= memory_size]
        if bad:
            raise click.BadParameter(
                f"row {bad[0]} is outside the memory's rows 0-{memory_size - 1}",
                param_hint="--rows",
            )
        return rows
    weights = np.concatenate([history["read_weights"], history["write_weights"]], 1)
    touched = np.flatnonzero(weights.max(axis=(0, 1)) > 0.05)  # rows used
    return list(touched) or [0]


def shade(values):
    """A row of values in [0, 1] as shade characters."""
    levels = np.clip(np.rint(np.clip(values, 0, 1) * (len(SHADES) - 1)), 0, 4)
    return "".join(SHADES[int(level)] for level in levels)


def draw_terminal(history, rows):
    """Every panel as text: one line per channel or memory row, time across."""
    panels = [
        ("inputs", np.abs(history["inputs"]), None),
        ("targets", history["targets"], None),
        ("outputs", history["outputs"], None),
    ]
    for kind in ("read", "write"):
        weights = history[f"{kind}_weights"]  # (T, heads, N)
        for head in range(weights.shape[1]):
            panels.append(
                (f"{kind} head {head} weighting", weights[:, head, rows], rows)
            )

    lines = []
    for title, values, labels in panels:  # values (T, channels)
        lines.append(f"{title}:")
        labels = labels if labels is not None else range(values.shape[1])
        for label, column in zip(labels, values.T):
            lines.append(f"{label:>5} |{shade(column)}|")
    return "\n".join(lines)


def require_matplotlib(option):
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise click.UsageError(
            f"{option} needs matplotlib; install it with: pip install 'diffmem[plot]'"
        ) from None


def draw_png(history, rows, path, title):
    """The terminal's panels as a matplotlib figure saved to `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        ("inputs", np.abs(history["inputs"]), None),
        ("targets", history["targets"], None),
        ("outputs", history["outputs"], None),
    ]
    for kind in ("read", "write"):
        weights = history[f"{kind}_weights"]
        for head in range(weights.shape[1]):
            panels.append((f"{kind} head {head}", weights[:, head, rows], rows))

    figure, axes = plt.subplots(len(panels), 1, figsize=(8, 1.6 * len(panels)))
    for axis, (name, values, row_labels) in zip(np.atleast_1d(axes), panels):
        axis.imshow(values.T, aspect="auto", cmap="gray_r", vmin=0, vmax=1)
        axis.set_ylabel(name)
        if row_labels is not None:  # label memory rows by their own numbers
            ticks = np.unique(np.linspace(0, len(row_labels) - 1, 6).astype(int))
            axis.set_yticks(ticks, [str(row_labels[tick]) for tick in ticks])
    np.atleast_1d(axes)[0].set_title(title)
    np.atleast_1d(axes)[-1].set_xlabel("time step")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


# ----------------------------------------------------------------- plot


@main.command("plot")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--png", type=click.Path(dir_okay=False, path_type=Path), required=True,
    help="Where to save the figure.",
)  # fmt: skip
def plot_command(run_dir, png):
    """Draw the learning curve of RUN_DIR (its metrics.jsonl) to --png."""
    metrics = run_dir / METRICS
    if not metrics.is_file():
        raise click.UsageError(f"{run_dir} has no {METRICS}; is it a run folder?")
    reports = read_metrics(metrics)
    if not reports:
        raise click.UsageError(f"{metrics} holds no reports yet")
    require_matplotlib("plot")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sequences = [report["sequences"] for report in reports]
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(7, 6))
    top.plot(sequences, [report["cost_bits"] for report in reports])
    top.set_ylabel("cost (bits per sequence)")
    bottom.plot(sequences, [report["bit_errors"] for report in reports])
    bottom.set_ylabel("bit errors per sequence")
    bottom.set_xlabel("sequences seen")
    for axis in (top, bottom):
        axis.set_yscale("symlog", linthresh=0.1)
        axis.grid(alpha=0.3)
    top.set_title(f"learning curve of {run_dir}")
    figure.tight_layout()
    figure.savefig(png)
    plt.close(figure)
    click.echo(f"figure saved to {png}")


# ---------------------------------------------------------------- report


@main.command("report")
@click.argument("checkpoint", type=click.Path(path_type=Path))
@click.option(
    "--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
    required=True, help="Where to write the page.",
)  # fmt: skip
@sequence_options
def report_command(checkpoint, html_path, length, repeats, seed):
    """Write one self-contained HTML page of CHECKPOINT at work on a sequence.

    A time slider steps through the inputs, outputs, memory contents and
    every head's weighting and parameters. The page needs no server and no
    network: open it in any browser.
    """
    from diffmem.report import render_report, write_report

    run = load_run(checkpoint)
    length, batch, history = run_one_sequence(run, length, repeats, seed)

    title = f"{run.task.name}, length {length}"
    summary = {"checkpoint": str(checkpoint), **asdict(run.config)}
    page = render_report(history, batch.targets[:, 0], batch.mask[:, 0], title, summary)
    write_report(html_path, page)
    click.echo(f"report written to {html_path}")


# ---------------------------------------------------------------- gradcheck


@main.command("gradcheck")
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True,
    help="Seed of the parameters, data and finite-difference sample.",
)  # fmt: skip
@click.option(
    "--backend", "backends", type=click.Choice(BACKENDS), multiple=True,
    help="Backend to check; repeat to check several.  [default: all]",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def gradcheck_command(ctx, seed, backends, as_json):
    """Cross-check autograd, manual and finite-difference gradients.

    Runs small NTMs that between them use every option (controllers, head
    counts, shift ranges, memory inits, masks) and prints, per parameter, the
    largest disagreement of each pair. Exits 0 when every pair is within its
    tolerance, 1 otherwise.
    """
    from diffmem.crosscheck import format_report, run_gradcheck

    report = run_gradcheck(seed=seed, backends=backends or BACKENDS)
    click.echo(json.dumps(report) if as_json else format_report(report))
    ctx.exit(0 if report["ok"] else 1)


if __name__ == "__main__":
    main()
