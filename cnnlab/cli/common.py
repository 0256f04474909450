"""What the subcommands share: the run directory's layout, building a model and data from a config.

A run directory holds::

    config.json            everything needed to rebuild the model and its data (model, data, preprocessing …)
    history.csv            one row per epoch (also history.json)
    metrics.json           test metrics: loss, accuracy, top-k, per-class accuracy, confusion matrix
    checkpoints/           last.safetensors + last.json, best.safetensors + best.json
    curves.png  confusion_matrix.png  misclassified.png
"""

from __future__ import annotations

import argparse
import inspect
import json
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "CHECKPOINTS",
    "CONFIG",
    "HISTORY_CSV",
    "HISTORY_JSON",
    "METRICS",
    "PLOTS",
    "CLIError",
    "build_model",
    "checkpoint_path",
    "load_dataset",
    "load_run_model",
    "make_transform",
    "non_negative_int",
    "positive_float",
    "positive_int",
    "preprocessing_stats",
    "read_json",
    "require_run_dir",
]

CONFIG, HISTORY_CSV, HISTORY_JSON, METRICS, CHECKPOINTS = (
    "config.json",
    "history.csv",
    "history.json",
    "metrics.json",
    "checkpoints",
)
PLOTS = {"curves": "curves.png", "confusion": "confusion_matrix.png", "misclassified": "misclassified.png"}


class CLIError(Exception):
    """An error the user can fix; ``main`` prints it as one line and exits with status 1."""


# ----------------------------------------------------------------------------- argument types


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


# ------------------------------------------------------------------------------ run directories


def read_json(path: Path, what: str) -> Any:
    """Parse a JSON file, or raise a one-line ``CLIError`` naming it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CLIError(f"{what} {str(path)!r} not found") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CLIError(f"{what} {str(path)!r} is not valid JSON ({error})") from None


def require_run_dir(path: str | Path) -> tuple[Path, dict[str, Any]]:
    """The run directory and its config; clear errors when it is missing or is not a run."""
    run = Path(path)
    if not run.exists():
        raise CLIError(f"run directory {str(run)!r} not found (train one with 'cnnlab train --out {run}')")
    if not run.is_dir():
        raise CLIError(f"{str(run)!r} is a file, expected a run directory")
    if not (run / CONFIG).is_file():
        raise CLIError(f"{str(run)!r} is not a run directory: it has no {CONFIG}")
    config = read_json(run / CONFIG, "run configuration")
    for key in ("model", "num_classes", "input_shape"):
        if key not in config:
            raise CLIError(
                f"{str(run / CONFIG)!r} lacks the entry {key!r}; was it written by 'cnnlab train'?"
            )
    return run, config


def checkpoint_path(run: Path, which: str) -> Path:
    """``RUN/checkpoints/<which>``; ``'auto'`` is the best checkpoint if there is one, else the last."""
    directory = run / CHECKPOINTS
    names = ["best", "last"] if which == "auto" else [which]
    for name in names:
        if (directory / f"{name}.safetensors").is_file():
            return directory / name
    raise CLIError(
        f"run directory {str(run)!r} has no {' or '.join(n + '.safetensors' for n in names)} in {CHECKPOINTS}/; "
        "has it finished an epoch?"
    )


# ------------------------------------------------------------------------------ models and data


def build_model(name: str, num_classes: int, input_shape: tuple[int, int, int]) -> Any:
    """The registered model ``name`` sized for ``num_classes`` and images of ``input_shape`` (C, H, W)."""
    from .. import models

    key = name.replace("-", "_").lower()
    if key not in models.available_models():
        raise CLIError(f"unknown model {name!r}; available: {', '.join(sorted(models.available_models()))}")
    builder = getattr(models, key, None)
    accepted = set(inspect.signature(builder).parameters) if builder is not None else {"num_classes"}
    kwargs: dict[str, Any] = {"num_classes": int(num_classes)}
    if "in_channels" in accepted:
        kwargs["in_channels"] = int(input_shape[0])
    if "in_features" in accepted:
        kwargs["in_features"] = int(np.prod(input_shape))
    return models.get_model(key, **kwargs)


def load_dataset(name: str, train: bool, root: str | None, download: bool, transform: Any = None) -> Any:
    """``cnnlab.data.get_dataset`` with an unknown name turned into a one-line error listing the names."""
    from ..data import get_dataset
    from ..data.datasets.registry import DATASETS

    key = name.lower().replace("_", "-")
    if key not in DATASETS:
        raise CLIError(f"unknown dataset {name!r}; available: {', '.join(DATASETS)}")
    return get_dataset(key, train=train, root=root, download=download, transform=transform)


def preprocessing_stats(dataset: Any) -> dict[str, Any]:
    """Per-channel mean and std of a uint8 image dataset (in [0, 1]), and whether its background is dark.

    The background is judged from the images' one-pixel border; ``predict`` uses it to invert photos
    of dark things on light paper for a model trained on light things on black (Fashion-MNIST).
    """
    data = getattr(dataset, "data", None)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8:
        return {"mean": [0.5], "std": [0.5], "dark_background": False}
    x = data if data.ndim == 4 else data[..., None]  # N, H, W, C
    axes = (0, 1, 2)
    mean = (x.mean(axis=axes, dtype=np.float64) / 255).tolist()
    std = (x.std(axis=axes, dtype=np.float64) / 255).tolist()
    border = np.concatenate([x[:, 0].ravel(), x[:, -1].ravel(), x[:, :, 0].ravel(), x[:, :, -1].ravel()])
    return {"mean": mean, "std": [max(s, 1e-6) for s in std], "dark_background": bool(border.mean() < 128)}


def make_transform(config: dict[str, Any]) -> Any:
    """ToTensor then Normalize with the run's statistics."""
    from ..data import transforms

    pre = config.get("preprocessing", {"mean": [0.5], "std": [0.5]})
    return transforms.Compose([transforms.ToTensor(), transforms.Normalize(pre["mean"], pre["std"])])


def load_run_model(run: Path, config: dict[str, Any], which: str = "auto") -> tuple[Any, Path]:
    """The run's model with the weights of checkpoint ``which`` (best, last or auto), in eval mode."""
    from ..train import load_checkpoint

    model = build_model(config["model"], config["num_classes"], tuple(config["input_shape"]))
    path = checkpoint_path(run, which)
    load_checkpoint(path, model)
    model.eval()
    return model, path
