"""Checkpoints without pickle: arrays in safetensors, everything else in a JSON sidecar; atomic writes.

A checkpoint ``NAME`` is two files side by side:

- ``NAME.safetensors``: the model's ``state_dict`` under keys ``model.<name>``, the optimiser's per-parameter
  state under ``optim.<index>.<name>``, and any other arrays (a callback's best weights) under their path;
- ``NAME.json``: the format version, the SHA-256 of the ``.safetensors`` file (so a mismatched pair is
  caught), the optimiser's scalar state and ``param_groups``, the scheduler's state and whatever else the
  caller adds (epoch, step, RNG states, history, configuration).

Each file is written to a temporary file in the same directory and renamed into place (``os.replace``),
so a crash never leaves half a checkpoint under the real name. Loading validates every key, shape and
dtype against the model before anything is copied into it.

>>> import tempfile, os
>>> from cnnlab.models import lenet5
>>> model = lenet5()
>>> path = os.path.join(tempfile.mkdtemp(), "last")
>>> save_checkpoint(path, model, state={"epoch": 3})
>>> load_checkpoint(path, lenet5())["epoch"]
3
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..files import atomic_write_bytes, atomic_write_text

__all__ = [
    "CheckpointError",
    "atomic_write_bytes",
    "atomic_write_text",
    "checkpoint_paths",
    "decode_tree",
    "encode_tree",
    "load_checkpoint",
    "read_checkpoint",
    "save_checkpoint",
]

FORMAT = "cnnlab-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint that is missing, corrupt, or does not fit the model or optimiser it is loaded into."""


# ------------------------------------------------------------------------------------------------- files


def checkpoint_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """The (``.safetensors``, ``.json``) pair for ``path``, given with either suffix or none.

    >>> [p.name for p in checkpoint_paths("runs/a/checkpoints/best.json")]
    ['best.safetensors', 'best.json']
    """
    path = Path(path)
    if path.suffix in (".safetensors", ".json"):
        path = path.with_suffix("")
    return path.with_name(path.name + ".safetensors"), path.with_name(path.name + ".json")


# ------------------------------------------------------------------------------------ trees <-> JSON


def _as_array(value: Any) -> np.ndarray | None:
    """The ndarray inside a Tensor (or the ndarray itself); None for anything else."""
    if isinstance(value, np.ndarray):
        return value
    data = getattr(value, "data", None)
    if isinstance(data, np.ndarray) and hasattr(value, "requires_grad"):
        return data
    return None


def encode_tree(value: Any, prefix: str, arrays: dict[str, np.ndarray]) -> Any:
    """A JSON-able copy of ``value`` with every array moved into ``arrays`` under its dotted path.

    Tensors, ndarrays and NumPy scalars become markers (``{"__tensor__": key}`` …) so that
    :func:`decode_tree` gives back the same types; tuples and dictionaries with integer keys are marked
    too. Anything else that JSON cannot hold raises ``TypeError`` naming its path.

    >>> arrays = {}
    >>> encode_tree({"lr": 0.1, "betas": (0.9, 0.999), "m": np.zeros(2)}, "opt", arrays)
    {'lr': 0.1, 'betas': {'__tuple__': [0.9, 0.999]}, 'm': {'__ndarray__': 'opt.m'}}
    >>> list(arrays)
    ['opt.m']
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        arrays[prefix] = np.asarray(value)
        return {"__npscalar__": prefix}
    array = _as_array(value)
    if array is not None:
        arrays[prefix] = np.array(array, order="C")
        return {"__ndarray__" if isinstance(value, np.ndarray) else "__tensor__": prefix}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: encode_tree(v, f"{prefix}.{k}", arrays) for k, v in value.items()}
        if all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in value):
            return {
                "__int_keys__": {
                    str(int(k)): encode_tree(v, f"{prefix}.{int(k)}", arrays) for k, v in value.items()
                }
            }
        raise TypeError(
            f"checkpoint: {prefix}: dictionary keys must be all strings or all integers, got {list(value)!r}"
        )
    if isinstance(value, tuple):
        return {"__tuple__": [encode_tree(v, f"{prefix}.{i}", arrays) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [encode_tree(v, f"{prefix}.{i}", arrays) for i, v in enumerate(value)]
    raise TypeError(f"checkpoint: {prefix}: cannot store a value of type {type(value).__name__} (no pickle)")


def decode_tree(value: Any, arrays: dict[str, np.ndarray], where: str = "checkpoint") -> Any:
    """Invert :func:`encode_tree`: put the arrays back and restore tuples, integer keys and Tensors."""
    if isinstance(value, list):
        return [decode_tree(v, arrays, where) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((marker, payload),) = value.items()
        if marker in ("__tensor__", "__ndarray__", "__npscalar__"):
            if payload not in arrays:
                raise CheckpointError(
                    f"{where}: the array {payload!r} named in the JSON is missing from the arrays"
                )
            array = np.array(arrays[payload])  # a writable copy
            if marker == "__npscalar__":
                return array[()]
            if marker == "__ndarray__":
                return array
            from ..tensor import from_numpy

            return from_numpy(array)
        if marker == "__tuple__":
            return tuple(decode_tree(v, arrays, where) for v in payload)
        if marker == "__int_keys__":
            return {int(k): decode_tree(v, arrays, where) for k, v in payload.items()}
    return {k: decode_tree(v, arrays, where) for k, v in value.items()}


# ------------------------------------------------------------------------------------- save and load


def _model_arrays(model: Any) -> dict[str, np.ndarray]:
    out = {}
    for name, value in model.state_dict().items():
        array = _as_array(value)
        out[name] = np.array(array if array is not None else value, order="C")
    return out


def save_checkpoint(
    path: str | os.PathLike,
    model: Any,
    optimizer: Any = None,
    scheduler: Any = None,
    state: dict[str, Any] | None = None,
) -> None:
    """Save ``model`` (and ``optimizer``, ``scheduler``, any JSON-able ``state``) as ``path``.safetensors/.json.

    Refuses to save weights holding NaN or infinity (``CheckpointError``): a checkpoint is a promise that
    training can go on from it.
    """
    from safetensors.numpy import save as safetensors_bytes

    array_path, json_path = checkpoint_paths(path)
    arrays: dict[str, np.ndarray] = {}
    model_arrays = _model_arrays(model)
    for name, array in model_arrays.items():
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise CheckpointError(
                f"refusing to write checkpoint {array_path}: model weight {name!r} holds non-finite values"
            )
        arrays[f"model.{name}"] = array
    meta: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "model": {"class": type(model).__name__, "keys": list(model_arrays)},
    }
    if optimizer is not None:
        sd = optimizer.state_dict()
        meta["optimizer"] = {
            "class": type(optimizer).__name__,
            # per-parameter state: optim.<index>.<name>
            "state": {str(int(i)): encode_tree(s, f"optim.{int(i)}", arrays) for i, s in sd["state"].items()},
            "param_groups": encode_tree(sd["param_groups"], "optim.param_groups", arrays),
            **{
                k: encode_tree(v, f"optim.{k}", arrays)
                for k, v in sd.items()
                if k not in ("state", "param_groups")
            },
        }
    if scheduler is not None:
        meta["scheduler"] = {
            "class": type(scheduler).__name__,
            "state": encode_tree(_scheduler_state(scheduler), "scheduler", arrays),
        }
    for key, value in (state or {}).items():
        if key in meta:
            raise ValueError(f"save_checkpoint: state key {key!r} is reserved; use another name")
        meta[key] = encode_tree(value, key, arrays)
    payload = safetensors_bytes(arrays, metadata={"format": FORMAT})
    meta["sha256"] = hashlib.sha256(payload).hexdigest()
    # arrays first, then the JSON that vouches for them: a crash in between leaves a mismatched pair,
    # which load_checkpoint reports instead of loading
    atomic_write_bytes(array_path, payload)
    atomic_write_text(json_path, json.dumps(meta, indent=1, allow_nan=True) + "\n")


def _scheduler_state(scheduler: Any) -> dict[str, Any]:
    # PyTorch keeps lambdas in LambdaLR's state; they cannot be stored without pickle and are rebuilt
    # by the code that builds the scheduler, so only data is saved
    return {k: v for k, v in scheduler.state_dict().items() if not callable(v)}


def read_checkpoint(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The raw (arrays, JSON) of a checkpoint, checked to belong together; raises ``CheckpointError``."""
    from safetensors import SafetensorError
    from safetensors.numpy import load as safetensors_load

    array_path, json_path = checkpoint_paths(path)
    for p in (json_path, array_path):
        if not p.is_file():
            raise CheckpointError(f"checkpoint file {p} not found")
    try:
        meta = json.loads(json_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{json_path}: not a valid JSON checkpoint sidecar ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f'{json_path}: not a cnnlab checkpoint (expected "format": "{FORMAT}")')
    if meta.get("version") != VERSION:
        raise CheckpointError(
            f"{json_path}: checkpoint format version {meta.get('version')!r}, expected {VERSION}"
        )
    payload = array_path.read_bytes()
    digest = hashlib.sha256(payload).hexdigest()
    if meta.get("sha256") != digest:
        raise CheckpointError(
            f"{array_path} does not match {json_path.name} (SHA-256 {digest[:12]}…, the JSON expects "
            f"{str(meta.get('sha256'))[:12]}…): the pair was not written together; use another checkpoint"
        )
    try:
        arrays = safetensors_load(payload)
    except (SafetensorError, ValueError) as error:
        raise CheckpointError(f"{array_path}: not a readable safetensors file ({error})") from None
    return arrays, meta


def _validate_model(
    model: Any, arrays: dict[str, np.ndarray], where: Path, strict: bool
) -> dict[str, np.ndarray]:
    expected = _model_arrays(model)
    saved = {k[len("model.") :]: v for k, v in arrays.items() if k.startswith("model.")}
    problems = []
    missing = [k for k in expected if k not in saved]
    unexpected = [k for k in saved if k not in expected]
    if strict and missing:
        problems.append(f"missing keys {missing[:5]}{' …' if len(missing) > 5 else ''}")
    if strict and unexpected:
        problems.append(f"unexpected keys {unexpected[:5]}{' …' if len(unexpected) > 5 else ''}")
    for name in expected.keys() & saved.keys():
        want, got = expected[name], saved[name]
        if want.shape != got.shape:
            problems.append(f"{name}: expected shape {want.shape}, the checkpoint has {got.shape}")
        elif want.dtype != got.dtype:
            problems.append(f"{name}: expected dtype {want.dtype}, the checkpoint has {got.dtype}")
    if problems:
        raise CheckpointError(
            f"{where} does not fit {type(model).__name__}: "
            + "; ".join(problems[:8])
            + ("; …" if len(problems) > 8 else "")
        )
    return {k: v for k, v in saved.items() if k in expected}


def load_checkpoint(
    path: str | os.PathLike,
    model: Any = None,
    optimizer: Any = None,
    scheduler: Any = None,
    strict: bool = True,
) -> dict[str, Any]:
    """Load a checkpoint into ``model`` (and ``optimizer``, ``scheduler``); return the rest of its state.

    Everything is validated before anything is changed: the two files must belong together, and the
    model's keys, shapes and dtypes must match (``strict=False`` allows missing and unexpected keys).
    Returns the JSON state given to :func:`save_checkpoint` (epoch, history …) with arrays restored.
    """
    from ..tensor import from_numpy

    arrays, meta = read_checkpoint(path)
    array_path, json_path = checkpoint_paths(path)
    weights = _validate_model(model, arrays, array_path, strict) if model is not None else None
    optimizer_state = None
    if optimizer is not None:
        if "optimizer" not in meta:
            raise CheckpointError(
                f"{json_path}: holds no optimiser state, but an optimiser was given to load it into"
            )
        saved = meta["optimizer"]
        if saved.get("class") != type(optimizer).__name__:
            raise CheckpointError(
                f"{json_path}: the optimiser state is for {saved.get('class')}, not {type(optimizer).__name__}"
            )
        optimizer_state = {
            k: decode_tree(v, arrays, str(json_path)) for k, v in saved.items() if k != "class"
        }
        optimizer_state["state"] = {int(i): s for i, s in optimizer_state["state"].items()}
        _match_param_groups(optimizer, optimizer_state, json_path)
    if scheduler is not None and "scheduler" not in meta:
        raise CheckpointError(
            f"{json_path}: holds no scheduler state, but a scheduler was given to load it into"
        )
    # validated: now change things
    if weights is not None:
        model.load_state_dict({k: from_numpy(np.array(v)) for k, v in weights.items()}, strict=strict)
    if optimizer_state is not None:
        optimizer.load_state_dict(optimizer_state)
    if scheduler is not None:
        state = decode_tree(meta["scheduler"]["state"], arrays, str(json_path))
        scheduler.load_state_dict({**scheduler.state_dict(), **state})
    reserved = ("format", "version", "sha256", "model", "optimizer", "scheduler")
    return {k: decode_tree(v, arrays, str(json_path)) for k, v in meta.items() if k not in reserved}


def _match_param_groups(optimizer: Any, saved: dict[str, Any], where: Path) -> None:
    current = optimizer.state_dict()["param_groups"]
    groups = saved.get("param_groups", [])
    if len(groups) != len(current):
        raise CheckpointError(
            f"{where}: {len(groups)} parameter groups saved, the optimiser has {len(current)}"
        )
    for i, (old, new) in enumerate(zip(groups, current)):
        if len(old.get("params", [])) != len(new.get("params", [])):
            raise CheckpointError(
                f"{where}: parameter group {i} holds {len(old.get('params', []))} parameters in the checkpoint, "
                f"{len(new.get('params', []))} in the optimiser"
            )
        for key, value in new.items():  # JSON has no tuples: keep the optimiser's own types (betas)
            if isinstance(value, tuple) and isinstance(old.get(key), list):
                old[key] = tuple(old[key])
