"""The training loop: updates, reports, stops, resumes and evaluation."""

import json

import numpy as np
import pytest

import diffmem.training
from diffmem.loss import bit_errors, cost_bits
from diffmem.ntm import NTMConfig, forward
from diffmem.optim import Adam
from diffmem.training import (
    NonFiniteCostError,
    Run,
    Schedule,
    default_backend,
    evaluate,
    preset,
    read_metrics,
    train,
    train_step,
    trim_metrics,
)
from tasks import make_task


def tiny_run(memory_init="constant", seed=0, schedule=None, one_size=False):
    task = make_task("copy", vector_size=3, max_length=3)
    config = NTMConfig(
        task.input_size, task.output_size, memory_size=8, word_size=4,
        hidden_size=8, memory_init=memory_init,
    )  # fmt: skip
    return Run.start(
        task, config, Adam(learning_rate=1e-2), batch_size=4, clip=10.0,
        backend=default_backend(), seed=seed, schedule=schedule or Schedule(),
        one_size_batches=one_size,
    )  # fmt: skip


def assert_same_params(a, b):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_train_step_updates_everything_once():
    run = tiny_run()
    before = run.snapshot
    result = train_step(run)

    assert run.step == 1 and run.sequences == 4
    assert result.cost_bits > 0 and result.bit_errors >= 0
    assert int(run.snapshot.optimizer_state["step"]) == 1
    assert any(
        not np.array_equal(run.params[k], before.params[k]) for k in before.params
    )


SCHEDULED = Schedule(curriculum_start=1, curriculum_every=3, decay_steps=7)


@pytest.mark.parametrize(
    "memory_init, schedule, one_size",
    [
        ("constant", Schedule(), False),
        ("random", Schedule(), False),
        ("constant", SCHEDULED, False),
        ("constant", SCHEDULED, True),
    ],
)
def test_resuming_from_a_checkpoint_is_bit_identical(
    tmp_path, memory_init, schedule, one_size
):
    straight = tiny_run(memory_init, schedule=schedule, one_size=one_size)
    train(straight, 10)

    first = tiny_run(memory_init, schedule=schedule, one_size=one_size)
    train(first, 5, checkpoint_path=tmp_path / "half")
    second = Run.resume(tmp_path / "half.npz")
    train(second, 10)

    assert second.step == 10 and second.sequences == 40
    assert second.schedule == schedule
    assert second.one_size_batches == one_size
    assert_same_params(second.params, straight.params)
    assert_same_params(
        second.snapshot.optimizer_state, straight.snapshot.optimizer_state
    )
    assert second.snapshot.rng_state == straight.snapshot.rng_state


def test_non_finite_cost_leaves_the_run_at_the_last_good_step(tmp_path, monkeypatch):
    run = tiny_run()
    train(run, 3, checkpoint_path=tmp_path / "run")
    before = run.snapshot
    saved = (tmp_path / "run.npz").read_bytes()

    def infinite(*args, **kwargs):
        result = real(*args, **kwargs)
        return result._replace(loss=float("inf"))

    real = diffmem.training.loss_and_gradients
    monkeypatch.setattr(diffmem.training, "loss_and_gradients", infinite)
    with pytest.raises(NonFiniteCostError, match="cost became inf at step 4"):
        train(run, 6, checkpoint_path=tmp_path / "run", checkpoint_every=1)

    assert run.snapshot is before
    assert run.rng.bit_generator.state == before.rng_state
    assert (tmp_path / "run.npz").read_bytes() == saved


def test_nan_gradient_is_caught_even_with_a_finite_cost(monkeypatch):
    def nan_gradient(*args, **kwargs):
        result = real(*args, **kwargs)
        gradients = dict(result.gradients)
        gradients["output_bias"] = gradients["output_bias"] * np.nan
        return result._replace(gradients=gradients)

    real = diffmem.training.loss_and_gradients
    monkeypatch.setattr(diffmem.training, "loss_and_gradients", nan_gradient)
    run = tiny_run()
    with pytest.raises(NonFiniteCostError, match="at step 1"):
        train_step(run)
    assert run.step == 0


def test_reports_metrics_and_early_stop(tmp_path):
    run = tiny_run()
    reports = []

    def on_report(report):
        reports.append(report)
        return report.step >= 6  # stop at the second report

    metrics = tmp_path / "metrics.jsonl"
    train(run, 100, report_every=3, on_report=on_report, metrics_path=metrics,
          checkpoint_path=tmp_path / "run")  # fmt: skip

    assert [report.step for report in reports] == [3, 6]
    assert run.step == 6
    assert [line["step"] for line in read_metrics(metrics)] == [3, 6]
    assert reports[1].sequences == 24 and reports[1].ms_per_sequence > 0
    assert json.loads((tmp_path / "run.json").read_text())["step"] == 6


def test_trim_metrics_drops_reports_after_the_checkpoint(tmp_path):
    metrics = tmp_path / "metrics.jsonl"
    lines = [json.dumps({"step": step}) for step in (10, 20, 30)]
    metrics.write_text("\n".join(lines) + "\n{broken\n")
    trim_metrics(metrics, 20)
    assert [line["step"] for line in read_metrics(metrics)] == [10, 20]


def test_evaluate_matches_a_direct_computation():
    run = tiny_run()
    train(run, 4)
    (result,) = evaluate(
        run.params, run.config, run.task, [2], 6, np.random.default_rng(7), batch_size=4
    )

    # the same six sequences, drawn as evaluate draws them: 4, then 2
    rng = np.random.default_rng(7)
    costs, errors = [], []
    for b in (4, 2):
        batch = run.task.sample(rng, b, length=2)
        logits = forward(run.params, run.config, batch.inputs, rng)
        costs.append(b * cost_bits(logits, batch.targets, batch.mask))
        errors.append(b * bit_errors(logits, batch.targets, batch.mask))
    assert result.length == 2 and result.sequences == 6
    assert result.cost_bits == pytest.approx(sum(costs) / 6, rel=1e-12)
    assert result.bit_errors == pytest.approx(sum(errors) / 6, rel=1e-12)


def test_evaluate_scores_the_bayes_optimal_predictor_on_the_same_sequences():
    task = make_task("ngrams", sequence_length=30)
    config = NTMConfig(task.input_size, task.output_size, memory_size=8, word_size=4)
    run = Run.start(
        task, config, Adam(), batch_size=2, clip=None, backend="autograd", seed=0
    )
    (result,) = evaluate(
        run.params, config, task, [30], 5, np.random.default_rng(3), batch_size=3
    )

    rng = np.random.default_rng(3)
    optimal = []
    for b in (3, 2):
        batch = task.sample(rng, b, length=30)
        forward(run.params, config, batch.inputs, rng)
        optimal.append(b * task.optimal_cost_bits(batch))
    assert result.optimal_cost_bits == pytest.approx(sum(optimal) / 5, rel=1e-12)

    copy = tiny_run()
    (plain,) = evaluate(
        copy.params, copy.config, copy.task, [2], 2, np.random.default_rng(0)
    )
    assert plain.optimal_cost_bits is None


def test_presets():
    paper = preset("priority-sort", "paper")
    assert paper["task"] == {"vector_size": 8, "num_inputs": 20, "num_outputs": 16}
    assert paper["model"]["hidden_size"] == 512 and paper["model"]["read_heads"] == 8
    assert paper["training"]["optimizer"] == "rmsprop"
    assert paper["training"]["learning_rate"] == 3e-5

    copy = preset("copy")
    assert copy["model"]["memory_size"] == 128 and copy["model"]["word_size"] == 20
    assert copy["training"]["backend"] == default_backend()
    with pytest.raises(ValueError, match="unknown task 'sort'"):
        preset("sort")
    with pytest.raises(ValueError, match="preset must be one of default, paper"):
        preset("copy", "fast")


class RecordingTask:
    """A task that keeps every batch it draws."""

    def __init__(self, task):
        self.task = task
        self.batches = []

    def __getattr__(self, name):
        return getattr(self.task, name)

    def sample(self, *args, **kwargs):
        batch = self.task.sample(*args, **kwargs)
        self.batches.append(batch)
        return batch


@pytest.mark.parametrize("one_size", [False, True])
def test_one_size_batches_draw_one_length_per_batch(one_size):
    run = tiny_run(one_size=one_size)
    run.task = RecordingTask(run.task)
    train(run, 20)

    # one size: the last step of every batch is scored for every sequence
    padded = [not np.all(batch.mask[-1] == 1.0) for batch in run.task.batches]
    assert len(padded) == 20
    assert not any(padded) if one_size else any(padded)


def test_blank_rate_reaches_training_batches_and_survives_a_resume(tmp_path):
    task = make_task("repeat-copy", vector_size=3, max_length=3, max_repeats=2)
    config = NTMConfig(
        task.input_size, task.output_size, memory_size=8, word_size=4,
        hidden_size=8, controller="lstm", controller_layers=1,
    )  # fmt: skip
    run = Run.start(
        task, config, Adam(), batch_size=4, clip=10.0, backend=default_backend(),
        seed=0, blank_rate=1.0,
    )  # fmt: skip
    recording = run.task = RecordingTask(task)
    train(run, 3)
    run.task = task
    run.save(tmp_path / "run")

    assert len(recording.batches) == 3
    assert not any(batch.inputs[:, :, :3].any() for batch in recording.batches)
    assert Run.resume(tmp_path / "run.npz").blank_rate == 1.0


def test_blank_rate_is_refused_for_tasks_without_data_vectors():
    task = make_task("ngrams", order=2, sequence_length=5)
    config = NTMConfig(task.input_size, task.output_size, memory_size=8, word_size=4)
    with pytest.raises(ValueError, match="^blank_rate applies to copy and repeat"):
        Run.start(
            task, config, Adam(), batch_size=2, clip=None, backend="autograd",
            seed=0, blank_rate=0.1,
        )  # fmt: skip


def test_curriculum_grows_the_longest_sequence_then_stops():
    task = make_task("copy", min_length=2, max_length=5)
    schedule = Schedule(curriculum_start=1, curriculum_every=10)
    longest = [schedule.task_at(task, step).max_length for step in (0, 9, 10, 25, 99)]
    assert longest == [2, 2, 2, 3, 5]  # never below min_length or above max_length
    assert schedule.task_at(task, 99) is task
    assert Schedule().task_at(task, 0) is task
    ngrams = make_task("ngrams")
    assert schedule.task_at(ngrams, 0) is ngrams  # nothing to grow


def test_learning_rate_decays_tenfold_every_decay_steps():
    schedule = Schedule(decay_steps=100)
    rates = [
        schedule.optimizer_at(Adam(1e-3), step).learning_rate
        for step in (0, 50, 100, 200)
    ]
    assert rates == pytest.approx([1e-3, 1e-3 / 10**0.5, 1e-4, 1e-5])
    with pytest.raises(ValueError, match="curriculum_every must be an integer >= 1"):
        Schedule(curriculum_every=0)
