"""The `diffmem` command, driven through click's CliRunner on a tiny model."""

import json
import shutil
import sys

import numpy as np
import pytest
from click.testing import CliRunner

import cli
import diffmem.training
from diffmem.training import default_backend

# a tiny copy model, with its training settings pinned so that tuning the
# defaults never changes these tests
TINY = [
    "--memory-size", "8", "--word-size", "6", "--hidden-size", "16",
    "--controller-layers", "1", "--vector-size", "4", "--max-length", "3",
    "--batch-size", "32", "--learning-rate", "1e-2", "--clip", "10",
    "--curriculum-start", "0", "--backend", default_backend(),
]  # fmt: skip


def invoke(*args):
    return CliRunner().invoke(cli.main, [str(arg) for arg in args])


def train(out, *args):
    return invoke("train", "copy", *TINY, "--out", out, *args)


def arrays(npz_path):
    with np.load(npz_path, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def contents(folder):
    """Every file under `folder`, name -> bytes."""
    return {
        path.relative_to(folder): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def assert_one_line_error(result, *fragments):
    """Non-zero exit, no traceback, and an 'Error:' line holding `fragments`."""
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    error = result.output.strip().splitlines()[-1]
    assert error.startswith("Error: "), result.output
    for fragment in fragments:
        assert fragment in error, error


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A run folder holding a checkpoint after 20 steps."""
    out = tmp_path_factory.mktemp("runs") / "copy"
    result = train(out, "--steps", 20, "--report-every", 10)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def run_copy(trained, tmp_path):
    """A private copy of the trained run folder, free to be damaged."""
    out = tmp_path / "copy"
    shutil.copytree(trained, out)
    return out


def test_help():
    for command in ([], ["train"], ["evaluate"], ["show"], ["plot"]):
        result = invoke(*command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output


def test_training_lowers_the_cost(tmp_path):
    result = train(tmp_path / "run", "--steps", 80, "--report-every", 20)

    assert result.exit_code == 0, result.output
    assert f"checkpoint saved to {tmp_path / 'run' / 'checkpoint.npz'}" in result.output
    reports = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
    assert [report["step"] for report in reports] == [20, 40, 60, 80]
    assert reports[-1]["sequences"] == 80 * 32
    assert reports[-1]["cost_bits"] < 0.6 * reports[0]["cost_bits"]


def test_lstm_replaces_the_presets_stacked_tanh_layers(tmp_path):
    # TINY without its --controller-layers 1; the copy preset has two layers
    tiny = [arg for arg in TINY if arg != "--controller-layers"]
    tiny.remove("1")
    out = tmp_path / "run"
    result = invoke("train", "copy", *tiny, "--steps", 1, "--controller", "lstm",
                    "--out", out)  # fmt: skip

    assert result.exit_code == 0, result.output
    saved = json.loads((out / "checkpoint.json").read_text())
    assert saved["config"]["controller"] == "lstm"
    assert saved["config"]["controller_layers"] == 1


def test_resume_gives_bit_identical_parameters(tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert train(straight, "--steps", 16, "--checkpoint-every", 3).exit_code == 0
    assert train(split, "--steps", 8, "--report-every", 3).exit_code == 0
    result = invoke("train", "copy", "--out", split, "--steps", 16, "--resume")
    assert result.exit_code == 0, result.output

    expected, got = (
        arrays(straight / "checkpoint.npz"),
        arrays(split / "checkpoint.npz"),
    )
    assert expected.keys() == got.keys()
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key], err_msg=key)
    expected_meta = json.loads((straight / "checkpoint.json").read_text())
    got_meta = json.loads((split / "checkpoint.json").read_text())
    for key in ("step", "sequences", "rng_state"):
        assert got_meta[key] == expected_meta[key]


def test_ctrl_c_saves_the_last_step_and_resume_continues_it(tmp_path, monkeypatch):
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    assert train(straight, "--steps", 12).exit_code == 0

    # the seventh update is interrupted half way
    real_loss_and_gradients = diffmem.training.loss_and_gradients
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 7:
            raise KeyboardInterrupt
        return real_loss_and_gradients(*args, **kwargs)

    monkeypatch.setattr(diffmem.training, "loss_and_gradients", interrupted)
    result = train(stopped, "--steps", 12)
    monkeypatch.undo()
    assert result.exit_code == 130
    assert "interrupted at step 6" in result.output
    assert json.loads((stopped / "checkpoint.json").read_text())["step"] == 6

    # without --steps, the resumed run aims for the interrupted run's 12
    result = invoke("train", "copy", "--out", stopped, "--resume")
    assert result.exit_code == 0, result.output
    assert "(step 12)" in result.output
    expected, got = (
        arrays(straight / "checkpoint.npz"),
        arrays(stopped / "checkpoint.npz"),
    )
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key], err_msg=key)


def test_nan_cost_stops_with_an_error_and_keeps_the_last_checkpoint(
    tmp_path, monkeypatch
):
    real_loss_and_gradients = diffmem.training.loss_and_gradients
    calls = []

    def diverging(*args, **kwargs):
        calls.append(1)
        result = real_loss_and_gradients(*args, **kwargs)
        return result._replace(loss=float("nan")) if len(calls) == 8 else result

    monkeypatch.setattr(diffmem.training, "loss_and_gradients", diverging)
    out = tmp_path / "run"
    result = train(out, "--steps", 20, "--checkpoint-every", 5)

    assert_one_line_error(result, "cost became nan at step 8", "without saving")
    assert result.exit_code == 1
    assert json.loads((out / "checkpoint.json").read_text())["step"] == 5
    monkeypatch.undo()
    assert invoke("evaluate", out / "checkpoint.npz", "--sequences", 3).exit_code == 0


BAD_TRAINING = [
    (
        ["train", "nosuch"],
        ["Invalid value for", "'nosuch' is not one of"],
    ),
    (
        ["train", "copy", "--memory-size", "0"],
        ["'--memory-size': 0 is not in the range x>=1"],
    ),
    (
        ["train", "copy", "--batch-size", "-3"],
        ["'--batch-size': -3 is not in the range"],
    ),
    (
        ["train", "copy", "--learning-rate", "0"],
        ["'--learning-rate': 0.0 is not in the range x>0"],
    ),
    (
        ["train", "copy", "--memory-size", "4", "--shift-range", "2"],
        ["--shift-range 2 is too wide for --memory-size 4"],
    ),
    (
        ["train", "copy", "--min-length", "5", "--max-length", "3"],
        ["--min-length (5) must be <= --max-length (3)"],
    ),
    (
        ["train", "copy", "--min-repeats", "2"],
        ["--min-repeats does not apply to task 'copy'"],
    ),
    (
        ["train", "copy", "--controller", "lstm", "--controller-layers", "2"],
        ["lstm controller has exactly one layer"],
    ),
    (
        ["train", "ngrams", "--blank-rate", "0.5"],
        ["--blank-rate applies to copy and repeat-copy only, not ngrams"],
    ),
    (
        ["train", "repeat-copy", "--blank-rate", "1.5"],
        ["'--blank-rate': 1.5 is not in the range 0<=x<=1"],
    ),
    (
        ["train", "copy", "--read-heads", "0", "--write-heads", "0"],
        ["0 read and 0 write"],
    ),
]


@pytest.mark.parametrize("args, fragments", BAD_TRAINING)
def test_bad_training_options_leave_the_run_folder_alone(run_copy, args, fragments):
    before = contents(run_copy)
    result = invoke(*args, "--out", run_copy, "--force")
    assert_one_line_error(result, *fragments)
    assert contents(run_copy) == before


BAD_RUN_USE = [
    (
        [],
        ["already holds a run (checkpoint.npz)", "--resume", "--force"],
    ),
    (
        ["--resume", "--force"],
        ["--resume and --force contradict"],
    ),
    (
        ["--resume", "--memory-size", "9"],
        ["--memory-size 9 differs from the checkpoint's 8"],
    ),
    (
        ["--resume", "--preset", "paper"],
        ["--preset does not apply with --resume"],
    ),
    (
        ["--resume", "--one-size-batches"],
        ["--one-size-batches True differs from the checkpoint's False"],
    ),
]


@pytest.mark.parametrize("args, fragments", BAD_RUN_USE)
def test_an_existing_run_is_never_overwritten(run_copy, args, fragments):
    before = contents(run_copy)
    result = invoke("train", "copy", "--out", run_copy, *args)
    assert_one_line_error(result, *fragments)
    assert contents(run_copy) == before


def test_resume_needs_a_checkpoint_of_the_same_task(run_copy, tmp_path):
    result = invoke("train", "copy", "--out", tmp_path / "empty", "--resume")
    assert_one_line_error(result, "--resume: no checkpoint at")

    before = contents(run_copy)
    result = invoke("train", "repeat-copy", "--out", run_copy, "--resume")
    assert_one_line_error(result, "was trained on 'copy', not 'repeat-copy'")
    assert contents(run_copy) == before


def test_damaged_checkpoints_give_one_line_errors(run_copy):
    npz = run_copy / "checkpoint.npz"
    result = invoke("evaluate", run_copy / "missing.npz")
    assert_one_line_error(result, "missing.npz: no such checkpoint file")

    npz.write_bytes(npz.read_bytes()[:100])
    before = contents(run_copy)
    for args in (
        ["evaluate", npz],
        ["show", npz],
        ["train", "copy", "--out", run_copy, "--resume"],
    ):
        assert_one_line_error(invoke(*args), "checkpoint.npz: does not match")
    assert contents(run_copy) == before


def test_mismatched_checkpoint_description(run_copy):
    json_path = run_copy / "checkpoint.json"
    meta = json.loads(json_path.read_text())
    meta["config"]["memory_size"] = 12
    json_path.write_text(json.dumps(meta))
    result = invoke("evaluate", run_copy / "checkpoint.npz")
    assert_one_line_error(result, "the config needs float64[2, 12]")


BAD_INSPECTION = [
    (
        ["evaluate", "{npz}", "--lengths", "5-3"],
        ["'--lengths'", "'5-3'"],
    ),
    (
        ["evaluate", "{npz}", "--lengths", "a,b"],
        ["'--lengths'", "not a list like 1-20,40,80"],
    ),
    (
        ["evaluate", "{npz}", "--min-length", "5", "--max-length", "2"],
        ["--min-length 5 must be <= --max-length 2"],
    ),
    (
        ["evaluate", "{npz}", "--lengths", "2", "--max-length", "4"],
        ["not both"],
    ),
    (
        ["evaluate", "{npz}", "--repeats", "3"],
        ["--repeats applies to repeat-copy"],
    ),
    (
        ["evaluate", "{npz}", "--sequences", "0"],
        ["'--sequences': 0 is not in the range"],
    ),
    (
        ["show", "{npz}", "--rows", "7-9"],
        ["--rows", "row 8 is outside the memory's rows 0-7"],
    ),
    (
        ["show", "{npz}", "--length", "0"],
        ["'--length': 0 is not in the range"],
    ),
    (
        ["plot", "{folder}/nothing", "--png", "{folder}/x.png"],
        ["has no metrics.jsonl"],
    ),
]


@pytest.mark.parametrize("args, fragments", BAD_INSPECTION)
def test_bad_inspection_options(run_copy, args, fragments):
    npz = run_copy / "checkpoint.npz"
    args = [arg.format(npz=npz, folder=run_copy) for arg in args]
    before = contents(run_copy)
    assert_one_line_error(invoke(*args), *fragments)
    assert contents(run_copy) == before


def test_evaluate_prints_a_table_and_json(trained):
    npz = trained / "checkpoint.npz"
    result = invoke("evaluate", npz, "--sequences", 30)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].split()[:2] == ["length", "sequences"]
    assert [line.split()[0] for line in lines[1:]] == ["1", "2", "3", "all"]
    assert lines[-1].split()[1] == "30"

    result = invoke("evaluate", npz, "--lengths", "2,5-6", "--sequences", 7, "--json")
    rows = json.loads(result.output)
    assert [row["length"] for row in rows] == [2, 5, 6]
    assert [row["sequences"] for row in rows] == [3, 2, 2]
    assert all(row["cost_bits"] > 0 and row["bit_errors"] >= 0 for row in rows)


def test_evaluate_is_reproducible_and_reads_a_run_folder(trained):
    first = invoke("evaluate", trained, "--sequences", 10, "--json").output
    second = invoke(
        "evaluate", trained / "checkpoint.json", "--sequences", 10, "--json"
    )
    assert json.loads(first) == json.loads(second.output)


def test_show_draws_every_panel(trained):
    result = invoke("show", trained / "checkpoint.npz", "--length", 3, "--rows", "0-3")
    assert result.exit_code == 0, result.output
    for title in ("inputs:", "targets:", "outputs:", "read head 0", "write head 0"):
        assert title in result.output
    width = 2 * 3 + 2  # time steps of a length-3 copy
    drawn = [line for line in result.output.splitlines() if line.endswith("|")]
    assert all(len(line.split("|")[1]) == width for line in drawn)


def test_show_png_without_matplotlib_says_how_to_install(trained, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = invoke("show", trained, "--png", trained.parent / "x.png")
    assert_one_line_error(result, "needs matplotlib", "pip install 'diffmem[plot]'")


def test_show_and_plot_save_figures(trained, tmp_path):
    pytest.importorskip("matplotlib")
    result = invoke("show", trained, "--png", tmp_path / "show.png")
    assert result.exit_code == 0, result.output
    result = invoke("plot", trained, "--png", tmp_path / "curve.png")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "show.png").stat().st_size > 0
    assert (tmp_path / "curve.png").stat().st_size > 0


def test_evaluate_ngrams_prints_the_bayes_optimal_cost(tmp_path):
    out = tmp_path / "ngrams"
    result = invoke(
        "train", "ngrams", "--sequence-length", 12, "--memory-size", 8,
        "--word-size", 4, "--hidden-size", 8, "--steps", 2, "--batch-size", 2,
        "--backend", default_backend(), "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output

    result = invoke("evaluate", out, "--sequences", 20)
    assert result.exit_code == 0, result.output
    header, *_, last = result.output.strip().splitlines()
    assert header.endswith("optimal cost")
    assert len(last.split()) == 5  # all, sequences, cost, errors, optimal

    rows = json.loads(invoke("evaluate", out, "--sequences", 20, "--json").output)
    (row,) = rows
    assert 0 < row["optimal_cost_bits"] < 2 * 12
    assert last.split()[-1] == f"{row['optimal_cost_bits']:.4f}"
