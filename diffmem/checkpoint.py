"""Checkpoints: a pair of files, NAME.npz (arrays) and NAME.json (the rest).

NAME.npz holds the parameters as "param.<name>" and the optimiser state as
"optimizer.<key>"; it is read with ``allow_pickle=False``, so loading a
checkpoint never runs code. NAME.json holds

    format, format_version   "diffmem-checkpoint", FORMAT_VERSION
    config                   the NTMConfig fields
    task                     {"name": ..., "sizes": {...}}
    optimizer                {"name": ..., "settings": {...}}
    step, sequences          optimiser updates made, sequences trained on
    rng_state                the numpy Generator's bit_generator.state
    npz_sha256               hash of NAME.npz, tying the pair together
    ...                      anything else the caller adds (seed, backend)

Each file is written to a temporary file in the same folder, flushed,
fsynced and moved into place with os.replace, so a crash never leaves half a
file under a good name. The .npz goes first and the .json last; `load`
checks the hash, so a crash between the two moves is reported as a
mismatched pair rather than silently loading parameters with the wrong step
count.
"""

import hashlib
import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from diffmem.ntm import NTMConfig, init_params
from diffmem.optim import make_optimizer

FORMAT = "diffmem-checkpoint"
FORMAT_VERSION = 1
REQUIRED = ("config", "task", "optimizer", "step", "sequences", "rng_state")


class CheckpointError(Exception):
    """A checkpoint is missing, damaged or does not fit its own description.

    The message is one line and names the file.
    """


@dataclass
class Checkpoint:
    """A loaded, validated checkpoint.

    Attributes
    ----------
    params, optimizer_state : dicts of numpy arrays.
    config : NTMConfig. task : the task object. optimizer : Adam or RMSProp.
    rng : numpy Generator, in the state it was saved in.
    meta : the whole .json, as a dict.
    path : the .npz path.
    """

    params: dict
    optimizer_state: dict
    config: NTMConfig
    task: object
    optimizer: object
    rng: np.random.Generator
    meta: dict
    path: Path


def checkpoint_paths(path):
    """The (.npz, .json) pair for `path`, given with either suffix or none."""
    path = Path(path)
    if path.suffix in (".npz", ".json"):
        path = path.with_suffix("")
    return path.with_name(path.name + ".npz"), path.with_name(path.name + ".json")


def save(path, params, optimizer_state, meta):
    """Write the checkpoint pair for `path` atomically; returns the .npz path.

    `meta` must hold the REQUIRED keys; the format fields and the .npz hash
    are added here. Refuses (ValueError) parameters that are not finite, so a
    diverged run can never overwrite a good checkpoint.
    """
    missing = [key for key in REQUIRED if key not in meta]
    if missing:
        raise ValueError(f"checkpoint meta lacks {', '.join(missing)}")
    bad = [key for key, value in params.items() if not np.all(np.isfinite(value))]
    if bad:
        raise ValueError(f"refusing to save non-finite parameters: {', '.join(bad)}")

    # the arrays, serialised once so the .json can carry their hash
    arrays = {f"param.{key}": value for key, value in params.items()}
    arrays.update({f"optimizer.{key}": value for key, value in optimizer_state.items()})
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    npz_bytes = buffer.getvalue()

    header = {"format": FORMAT, "format_version": FORMAT_VERSION}
    meta = {**header, **meta, "npz_sha256": hashlib.sha256(npz_bytes).hexdigest()}
    json_bytes = (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode()

    # the .npz first, the .json last
    npz_path, json_path = checkpoint_paths(path)
    write_atomically(npz_path, npz_bytes)
    write_atomically(json_path, json_bytes)
    return npz_path


def write_atomically(path, data):
    """Replace `path` by `data` (bytes) so readers see the old or the new file.

    The bytes go to a temporary file in the same folder, which is flushed,
    fsynced and then renamed over `path`; the folder is fsynced too.
    """
    path = Path(path)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder):
    """Make a rename in `folder` durable, where the platform allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load(path):
    """Read and validate the checkpoint pair for `path`.

    Raises CheckpointError, naming the file and the problem, if either file
    is missing or unreadable, the .json has the wrong format or version, the
    two files do not belong together, or an array's name, shape or dtype
    does not match the configuration.
    """
    npz_path, json_path = checkpoint_paths(path)
    for required in (npz_path, json_path):
        if not required.is_file():
            raise CheckpointError(f"{required}: no such checkpoint file")

    meta = _read_meta(json_path)
    npz_bytes = npz_path.read_bytes()
    if hashlib.sha256(npz_bytes).hexdigest() != meta.get("npz_sha256"):
        raise CheckpointError(
            f"{npz_path}: does not match {json_path.name} (changed, truncated, "
            "or the save was interrupted)"
        )
    arrays = _read_arrays(npz_path, npz_bytes)

    # configuration, task and optimiser from the .json
    config = _build(json_path, "config", lambda: NTMConfig(**meta["config"]))
    task = _build(json_path, "task", lambda: _make_task(meta["task"]))
    optimizer = _build(
        json_path,
        "optimizer",
        lambda: make_optimizer(
            meta["optimizer"]["name"], **meta["optimizer"]["settings"]
        ),
    )
    if (task.input_size, task.output_size) != (config.input_size, config.output_size):
        raise CheckpointError(
            f"{json_path}: task {task.name!r} has input/output sizes "
            f"{task.input_size}/{task.output_size} but the model "
            f"{config.input_size}/{config.output_size}"
        )
    rng = _build(json_path, "rng_state", lambda: _generator(meta["rng_state"]))
    for key in ("step", "sequences"):
        if not isinstance(meta[key], int) or meta[key] < 0:
            raise CheckpointError(f"{json_path}: {key} must be an integer >= 0")

    # every array must be exactly what this configuration would create
    expected = init_params(config, np.random.default_rng(0))
    params = _take(arrays, "param.", expected, npz_path, "parameter")
    expected_state = optimizer.init(expected)
    state = _take(arrays, "optimizer.", expected_state, npz_path, "optimizer state")
    if arrays:
        raise CheckpointError(
            f"{npz_path}: unexpected arrays {', '.join(sorted(arrays))}"
        )

    return Checkpoint(params, state, config, task, optimizer, rng, meta, npz_path)


def _read_meta(json_path):
    """The .json as a dict, after checking its format, version and keys."""
    try:
        meta = json.loads(json_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{json_path}: not readable JSON ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{json_path}: not a diffmem checkpoint description")
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"{json_path}: format version {version!r}, this diffmem reads "
            f"version {FORMAT_VERSION}"
        )
    missing = [key for key in REQUIRED if key not in meta]
    if missing:
        raise CheckpointError(f"{json_path}: missing {', '.join(missing)}")
    return meta


def _read_arrays(npz_path, npz_bytes):
    """Every array of the .npz, loaded without pickle."""
    try:
        with np.load(io.BytesIO(npz_bytes), allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise CheckpointError(
            f"{npz_path}: truncated or corrupt ({type(error).__name__})"
        ) from None


def _build(json_path, key, make):
    """Run `make`, turning a bad description into a CheckpointError."""
    try:
        return make()
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CheckpointError(f"{json_path}: bad {key}: {message}") from None


def _make_task(description):
    """The task a checkpoint was trained on."""
    from tasks import make_task

    return make_task(description["name"], **description["sizes"])


def _generator(state):
    """A numpy Generator restored to the saved bit_generator state."""
    bit_generator = getattr(np.random, state["bit_generator"])()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def _take(arrays, prefix, expected, npz_path, what):
    """Pop the arrays named `prefix` + key, checking them against `expected`."""
    taken = {}
    for key, reference in expected.items():
        value = arrays.pop(prefix + key, None)
        if value is None:
            raise CheckpointError(f"{npz_path}: {what} {key!r} is missing")
        if value.shape != reference.shape or value.dtype != reference.dtype:
            raise CheckpointError(
                f"{npz_path}: {what} {key!r} is {value.dtype}{list(value.shape)}, "
                f"the config needs {reference.dtype}{list(reference.shape)}"
            )
        taken[key] = value
    return taken


def config_dict(config):
    """An NTMConfig as a plain dict, for the .json."""
    return {field.name: getattr(config, field.name) for field in fields(config)}
