"""Checkpoints: round trip, atomic writes, and every way loading can fail."""

import hashlib
import json
import os

import numpy as np
import pytest

from diffmem import checkpoint
from diffmem.checkpoint import CheckpointError, checkpoint_paths
from diffmem.ntm import NTMConfig
from diffmem.optim import Adam
from diffmem.training import Run
from tasks import make_task


@pytest.fixture
def run():
    task = make_task("copy", vector_size=3, max_length=4)
    config = NTMConfig(
        task.input_size, task.output_size, memory_size=8, word_size=4, hidden_size=6
    )
    return Run.start(
        task, config, Adam(), batch_size=2, clip=10.0, backend="autograd", seed=3
    )


@pytest.fixture
def saved(run, tmp_path):
    """A good checkpoint pair; returns its .npz and .json paths."""
    run.save(tmp_path / "checkpoint")
    return checkpoint_paths(tmp_path / "checkpoint")


def edit_json(json_path, change):
    meta = json.loads(json_path.read_text())
    change(meta)
    json_path.write_text(json.dumps(meta))


def test_round_trip_keeps_arrays_meta_and_random_stream(run, saved):
    npz_path, _ = saved
    loaded = checkpoint.load(npz_path)

    assert loaded.path == npz_path
    assert loaded.config == run.config and loaded.task == run.task
    assert loaded.optimizer == run.optimizer
    for key, value in run.params.items():
        np.testing.assert_array_equal(loaded.params[key], value)
        assert loaded.params[key].dtype == value.dtype
    for key, value in run.snapshot.optimizer_state.items():
        np.testing.assert_array_equal(loaded.optimizer_state[key], value)
    assert loaded.meta["step"] == 0 and loaded.meta["seed"] == 3
    assert loaded.rng.random() == run.rng.random()


def test_either_suffix_or_none_names_the_same_pair(saved):
    npz_path, json_path = saved
    for name in (npz_path, json_path, npz_path.with_suffix("")):
        assert checkpoint_paths(name) == (npz_path, json_path)


def test_missing_npz_or_json(saved):
    npz_path, json_path = saved
    os.remove(json_path)
    with pytest.raises(CheckpointError, match="checkpoint.json: no such checkpoint"):
        checkpoint.load(npz_path)
    os.remove(npz_path)
    with pytest.raises(CheckpointError, match="checkpoint.npz: no such checkpoint"):
        checkpoint.load(npz_path)


def test_truncated_npz_is_caught_by_the_hash(saved):
    npz_path, _ = saved
    data = npz_path.read_bytes()
    npz_path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"checkpoint.npz: does not match"):
        checkpoint.load(npz_path)


def test_corrupt_npz_with_a_matching_hash_is_caught_on_reading(saved):
    npz_path, json_path = saved
    npz_path.write_bytes(b"not a zip file at all")
    edit_json(json_path, lambda meta: meta.update(npz_sha256=_sha256(npz_path)))
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        checkpoint.load(npz_path)


def test_json_that_is_not_json(saved):
    npz_path, json_path = saved
    json_path.write_text('{"format": "diffmem-checkp')
    with pytest.raises(CheckpointError, match="checkpoint.json: not readable JSON"):
        checkpoint.load(npz_path)


def test_json_with_another_format_version(saved):
    npz_path, json_path = saved
    edit_json(json_path, lambda meta: meta.update(format_version=99))
    with pytest.raises(CheckpointError, match="format version 99, this diffmem reads"):
        checkpoint.load(npz_path)


def test_json_missing_a_required_key(saved):
    npz_path, json_path = saved
    edit_json(json_path, lambda meta: meta.pop("rng_state"))
    with pytest.raises(CheckpointError, match="checkpoint.json: missing rng_state"):
        checkpoint.load(npz_path)


def test_config_that_does_not_fit_the_arrays(saved):
    npz_path, json_path = saved
    edit_json(json_path, lambda meta: meta["config"].update(memory_size=9))
    with pytest.raises(
        CheckpointError, match=r"parameter 'initial_weight_logits' is float64\[2, 8\]"
    ):
        checkpoint.load(npz_path)


def test_dtype_that_does_not_fit_the_arrays(saved):
    npz_path, json_path = saved
    edit_json(json_path, lambda meta: meta["config"].update(dtype="float32"))
    with pytest.raises(CheckpointError, match="the config needs float32"):
        checkpoint.load(npz_path)


def test_invalid_config_values(saved):
    npz_path, json_path = saved
    edit_json(json_path, lambda meta: meta["config"].update(memory_size=0))
    with pytest.raises(CheckpointError, match="bad config: memory_size must be"):
        checkpoint.load(npz_path)


def test_task_that_does_not_fit_the_model(saved):
    npz_path, json_path = saved
    edit_json(json_path, lambda meta: meta["task"]["sizes"].update(vector_size=5))
    with pytest.raises(CheckpointError, match="task 'copy' has input/output sizes"):
        checkpoint.load(npz_path)


def test_missing_and_unexpected_arrays(run, tmp_path):
    params = dict(run.params)
    params["extra"] = np.zeros(2)
    checkpoint.save(tmp_path / "a", params, run.snapshot.optimizer_state, run.meta())
    with pytest.raises(CheckpointError, match="unexpected arrays param.extra"):
        checkpoint.load(tmp_path / "a.npz")

    del params["extra"], params["output_bias"]
    checkpoint.save(tmp_path / "b", params, run.snapshot.optimizer_state, run.meta())
    with pytest.raises(CheckpointError, match="parameter 'output_bias' is missing"):
        checkpoint.load(tmp_path / "b.npz")


def test_save_refuses_non_finite_parameters(run, tmp_path):
    params = dict(run.params)
    params["output_bias"] = np.full_like(params["output_bias"], np.nan)
    with pytest.raises(ValueError, match="non-finite parameters: output_bias"):
        checkpoint.save(
            tmp_path / "c", params, run.snapshot.optimizer_state, run.meta()
        )
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_the_old_pair_and_no_temporary_files(
    run, saved, monkeypatch
):
    npz_path, _ = saved
    before = {path: path.read_bytes() for path in saved}

    def crash(fd):
        raise OSError("disk full")

    run.snapshot = run.snapshot._replace(step=5)
    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        run.save(npz_path)
    monkeypatch.undo()

    assert {path: path.read_bytes() for path in saved} == before
    assert sorted(path.name for path in npz_path.parent.iterdir()) == [
        "checkpoint.json",
        "checkpoint.npz",
    ]
    assert checkpoint.load(npz_path).meta["step"] == 0


def test_npz_is_loaded_without_pickle(run, tmp_path):
    arrays = {"param.x": np.array([object()], dtype=object)}
    with open(tmp_path / "d.npz", "wb") as file:
        np.savez(file, **arrays)
    meta = {**run.meta(), "format": "diffmem-checkpoint", "format_version": 1}
    meta["npz_sha256"] = _sha256(tmp_path / "d.npz")
    (tmp_path / "d.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="d.npz: truncated or corrupt"):
        checkpoint.load(tmp_path / "d.npz")


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()
