"""``cnnlab evaluate``: a run's test metrics and confusion matrix; also the report ``train`` writes."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .common import (
    METRICS,
    PLOTS,
    CLIError,
    load_dataset,
    load_run_model,
    make_transform,
    positive_int,
    require_run_dir,
)

__all__ = ["add_parser", "evaluate_dataset", "format_confusion", "run", "write_report"]

EXAMPLES = """\
examples:
  cnnlab evaluate runs/lenet                       # the run's own test set, best checkpoint
  cnnlab evaluate runs/lenet --checkpoint last     # the weights of the last epoch
  cnnlab evaluate runs/lenet --data fashion-mnist  # the full Fashion-MNIST test set (10,000 images)
  cnnlab evaluate runs/lenet --json                # everything as one JSON object
  cnnlab evaluate runs/lenet --save                # also rewrite metrics.json and the plots
"""


def add_parser(subparsers: Any) -> None:
    """Register ``cnnlab evaluate``."""
    p = subparsers.add_parser(
        "evaluate",
        help="test metrics and the confusion matrix of a trained run",
        description="Evaluate a run's checkpoint on a test set: loss, accuracy, top-k accuracy, per-class "
        "accuracy and the confusion matrix.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by 'cnnlab train'")
    p.add_argument("--data", help="dataset to evaluate on (default: the run's own)")
    p.add_argument("--data-root", metavar="DIR", help="directory holding the dataset's files")
    p.add_argument("--no-download", dest="download", action="store_false", help="never download a dataset")
    p.add_argument("--split", choices=("test", "train"), default="test", help="which split (default: test)")
    p.add_argument(
        "--checkpoint",
        choices=("auto", "best", "last"),
        default="auto",
        help="which weights: best, last, or auto = best if saved, else last (default: auto)",
    )
    p.add_argument("--batch-size", type=positive_int, default=256, help="images per batch (default: 256)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument(
        "--save", action="store_true", help="rewrite the run's metrics.json and plots with these results"
    )
    p.set_defaults(run=run)


# ----------------------------------------------------------------------------------- the report


def evaluate_dataset(
    model: Any, dataset: Any, batch_size: int = 256, topk: Sequence[int] = (5,)
) -> dict[str, Any]:
    """Detailed metrics of ``model`` on ``dataset``, with the probabilities and targets."""
    import cnnlab

    from ..data import DataLoader
    from ..train import Trainer

    loader = DataLoader(dataset, batch_size=batch_size, generator=cnnlab.Generator(0))
    return Trainer(model, progress="quiet", topk=topk).evaluate(loader, detailed=True, return_outputs=True)


def _raw_images(dataset: Any, indices: np.ndarray) -> np.ndarray:
    data = getattr(dataset, "data", None)
    if isinstance(data, np.ndarray) and data.dtype == np.uint8:
        return data[indices]
    return np.stack([np.asarray(getattr(dataset[int(i)][0], "data", dataset[int(i)][0])) for i in indices])


def write_report(
    run: Path,
    result: dict[str, Any],
    dataset: Any,
    config: dict[str, Any],
    checkpoint: str,
    history: Sequence[dict[str, Any]] | None = None,
    data_name: str | None = None,
    max_images: int = 24,
    plots: bool = True,
) -> dict[str, Any]:
    """Write ``metrics.json``, the confusion matrix and the misclassified grid; return the metrics."""
    from ..train.checkpoint import atomic_write_text
    from ..train.plots import plot_confusion_matrix, plot_misclassified

    classes = list(config.get("classes") or [str(i) for i in range(config["num_classes"])])
    probabilities, targets = result["probabilities"], result["targets"]
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    test = {k: v for k, v in result.items() if k not in ("probabilities", "targets")}
    test["per_class_accuracy"] = dict(zip(classes, test["per_class_accuracy"]))
    best_epoch = _checkpoint_epoch(run, checkpoint)
    metrics = {
        "data": data_name or config.get("data"),
        "split": "test",
        "checkpoint": checkpoint,
        "checkpoint_epoch": best_epoch,
        "epochs_trained": len(history) if history is not None else None,
        "classes": classes,
        "test": test,
    }
    atomic_write_text(run / METRICS, json.dumps(metrics, indent=1) + "\n")
    if not plots:
        return metrics
    plot_confusion_matrix(
        np.asarray(test["confusion_matrix"]),
        classes,
        run / PLOTS["confusion"],
        title=f"{config['model']} on the {metrics['data']} test set: {100 * test['accuracy']:.1f}% correct "
        f"({test['num_samples']} images)",
    )
    wrong = np.flatnonzero(predicted != targets)
    wrong = wrong[np.argsort(-confidence[wrong], kind="stable")][:max_images]  # the most confident mistakes
    plot_misclassified(
        _raw_images(dataset, wrong),
        targets[wrong],
        predicted[wrong],
        confidence[wrong],
        classes,
        run / PLOTS["misclassified"],
        title=f"The {len(wrong)} most confident mistakes of {len(np.flatnonzero(predicted != targets))} "
        f"on the {metrics['data']} test set",
    )
    return metrics


def _checkpoint_epoch(run: Path, which: str) -> int | None:
    try:
        return int(json.loads((run / "checkpoints" / f"{which}.json").read_text(encoding="utf-8"))["epoch"])
    except (OSError, ValueError, KeyError):
        return None


def format_confusion(matrix: Any, classes: Sequence[str]) -> str:
    """The confusion matrix as an aligned text table (rows true, columns predicted).

    >>> print(format_confusion([[5, 1], [0, 4]], ["cat", "dog"]))
    true \\ pred   cat  dog  acc
            cat     5    1  83%
            dog     0    4 100%
    """
    matrix = np.asarray(matrix)
    name_width = max(len("true \\ pred"), *(len(c) for c in classes))
    cell = max(5, *(len(str(v)) + 1 for v in matrix.ravel()), *(min(len(c), 10) + 1 for c in classes))
    header = "true \\ pred".rjust(name_width) + " " + "".join(c[:10].rjust(cell) for c in classes) + "  acc"
    lines = [header]
    for i, (name, row) in enumerate(zip(classes, matrix)):
        total = row.sum()
        acc = f"{100 * row[i] / total:.0f}%" if total else "-"
        lines.append(name.rjust(name_width) + " " + "".join(str(v).rjust(cell) for v in row) + acc.rjust(5))
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- run


def run(args: argparse.Namespace) -> int:
    """Evaluate the run's checkpoint and print the metrics (text or JSON)."""
    run_dir, config = require_run_dir(args.run_dir)
    model, path = load_run_model(run_dir, config, args.checkpoint)
    which = path.name
    data = args.data or config.get("data")
    if data is None:
        raise CLIError(f"{str(run_dir)!r}: the config names no dataset; pass --data")
    root = (
        args.data_root
        if args.data_root is not None
        else (config.get("data_root") if args.data is None else None)
    )
    dataset = load_dataset(data, args.split == "train", root, args.download, transform=make_transform(config))
    classes = list(getattr(dataset, "classes", []) or config.get("classes", []))
    if len(classes) != config["num_classes"]:
        raise CLIError(
            f"dataset {data!r} has {len(classes)} classes, the model of {str(run_dir)!r} predicts {config['num_classes']}"
        )
    shape = list(np.asarray(dataset[0][0]).shape)
    if shape != list(config["input_shape"]):
        raise CLIError(
            f"dataset {data!r} gives images of shape {shape}, the model expects {config['input_shape']}"
        )
    topk = (config.get("topk", 5),) if 1 < config.get("topk", 5) < config["num_classes"] else ()
    result = evaluate_dataset(model, dataset, batch_size=args.batch_size, topk=topk)
    test = {k: v for k, v in result.items() if k not in ("probabilities", "targets")}
    if args.save:
        write_report(
            run_dir, result, dataset, {**config, "classes": classes}, checkpoint=which, data_name=data
        )
    if args.json:
        test["per_class_accuracy"] = dict(zip(classes, test["per_class_accuracy"]))
        print(
            json.dumps(
                {
                    "run_dir": str(run_dir),
                    "checkpoint": which,
                    "data": data,
                    "split": args.split,
                    "classes": classes,
                    **test,
                },
                indent=1,
            )
        )
        return 0
    lines = [
        f"{config['model']} from {path}.safetensors on {data} ({args.split}, {test['num_samples']} images)",
        f"loss {test['loss']:.4f}   accuracy {100 * test['accuracy']:.2f}%"
        + "".join(f"   {k.split('_')[0]} {100 * v:.2f}%" for k, v in test.items() if k.startswith("top")),
        "",
        "per-class accuracy:",
        *(
            f"  {name:>{max(map(len, classes))}}  {'-' if a is None else f'{100 * a:.1f}%'}"
            for name, a in zip(classes, test["per_class_accuracy"])
        ),
        "",
        "confusion matrix (rows: true class, columns: predicted):",
        format_confusion(test["confusion_matrix"], classes),
    ]
    print("\n".join(lines))
    return 0
