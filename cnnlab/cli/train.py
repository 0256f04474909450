"""``cnnlab train``: train a model on a dataset and write a run directory (see :mod:`cnnlab.cli.common`)."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .common import (
    CHECKPOINTS,
    CONFIG,
    HISTORY_CSV,
    HISTORY_JSON,
    METRICS,
    PLOTS,
    CLIError,
    build_model,
    load_dataset,
    make_transform,
    non_negative_int,
    positive_float,
    positive_int,
    preprocessing_stats,
    read_json,
)

__all__ = ["DEFAULTS", "OPTIMIZERS", "SCHEDULERS", "add_parser", "run"]

DEFAULTS: dict[str, Any] = {
    "model": "lenet5",
    "data": "fashion-mnist-sample",
    "epochs": 8,
    "batch_size": 64,
    "optimizer": "adam",
    "lr": 1e-3,
    "momentum": 0.9,
    "weight_decay": 0.0,
    "scheduler": "none",
    "val_split": 0.1,
    "patience": 0,
    "min_delta": 0.0,
    "seed": 0,
    "limit": None,
    "topk": 5,
}
# settings a resumed run takes from its config.json; asking for another value is an error
FIXED_ON_RESUME = [k for k in DEFAULTS if k != "epochs"]

OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad"}
SCHEDULERS = ("none", "step", "cosine", "exponential", "plateau")

EXAMPLES = """\
examples:
  cnnlab train                                     # the demo: LeNet-5 on the embedded Fashion-MNIST sample
  cnnlab train --model lenet5 --data fashion-mnist-sample --epochs 5 --batch-size 64 \\
               --optimizer adam --lr 1e-3 --seed 0 --out runs/lenet
  cnnlab train --model fashion_cnn --optimizer sgd --lr 0.05 --scheduler cosine --patience 3
  cnnlab train --resume --out runs/lenet --epochs 10   # go on to epoch 10 from the last checkpoint
  cnnlab train --limit 1000 --epochs 1 --progress json # a quick run, one JSON object per line

The run directory gets config.json, history.csv, metrics.json, checkpoints/{best,last}.safetensors (+ .json),
the plots curves.png, confusion_matrix.png and misclassified.png, and gallery/ (first-layer filters, feature
maps and Grad-CAM of a few test images). The same --seed gives the same run, and a resumed run ends with the
same weights, bit for bit, as one that was never interrupted.
"""


def add_parser(subparsers: Any) -> None:
    """Register ``cnnlab train``."""
    p = subparsers.add_parser(
        "train",
        help="train a model and write a run directory",
        description="Train a model on a dataset; write checkpoints, history, test metrics and plots to a run directory.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d = DEFAULTS
    p.add_argument("--model", help=f"model name, see 'cnnlab models' (default: {d['model']})")
    p.add_argument("--data", help=f"dataset name, see 'cnnlab datasets' (default: {d['data']})")
    p.add_argument(
        "--data-root", metavar="DIR", help="directory holding the dataset's files (default: search as usual)"
    )
    p.add_argument("--no-download", dest="download", action="store_false", help="never download a dataset")
    p.add_argument("--epochs", type=non_negative_int, help=f"total number of epochs (default: {d['epochs']})")
    p.add_argument("--batch-size", type=positive_int, help=f"images per batch (default: {d['batch_size']})")
    p.add_argument("--optimizer", choices=sorted(OPTIMIZERS), help=f"optimiser (default: {d['optimizer']})")
    p.add_argument("--lr", type=positive_float, help=f"learning rate (default: {d['lr']:g})")
    p.add_argument("--momentum", type=float, help=f"momentum for sgd and rmsprop (default: {d['momentum']})")
    p.add_argument("--weight-decay", type=float, help=f"L2 weight decay (default: {d['weight_decay']})")
    p.add_argument(
        "--scheduler",
        choices=SCHEDULERS,
        help="learning-rate schedule per epoch: step (x0.1 every third of the epochs), cosine, exponential "
        f"(x0.9), plateau (x0.1 after 2 epochs without val_loss improving) (default: {d['scheduler']})",
    )
    p.add_argument(
        "--val-split",
        type=float,
        help=f"share of the training set held out for validation (default: {d['val_split']})",
    )
    p.add_argument(
        "--patience",
        type=non_negative_int,
        help="stop early after this many epochs without val_loss improving; 0 = never (default: 0)",
    )
    p.add_argument(
        "--min-delta", type=float, help="smallest val_loss decrease that counts as improving (default: 0)"
    )
    p.add_argument(
        "--seed", type=int, help=f"random seed: the same seed gives the same run (default: {d['seed']})"
    )
    p.add_argument(
        "--limit",
        type=positive_int,
        metavar="N",
        help="train on the first N training images only (quick runs)",
    )
    p.add_argument(
        "--topk", type=positive_int, metavar="K", help=f"also report top-K accuracy (default: {d['topk']})"
    )
    p.add_argument(
        "--out", metavar="RUN_DIR", help="run directory (default: runs/MODEL-DATA, numbered if taken)"
    )
    p.add_argument(
        "--resume",
        nargs="?",
        const=True,
        default=False,
        metavar="RUN_DIR",
        help="continue the run in RUN_DIR (or --out) from its last checkpoint",
    )
    p.add_argument("--no-plots", dest="plots", action="store_false", help="skip the PNG plots (faster)")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="start again in an existing run directory, replacing its files",
    )
    p.add_argument(
        "--progress",
        choices=("bar", "line", "json", "quiet"),
        help="progress display: a bar per epoch, one line per epoch, JSON lines, or nothing "
        "(default: bar on a terminal, else line)",
    )
    p.add_argument(
        "--quiet", "-q", dest="progress", action="store_const", const="quiet", help="same as --progress quiet"
    )
    p.add_argument(
        "--json", dest="progress", action="store_const", const="json", help="same as --progress json"
    )
    p.set_defaults(run=run)


# ------------------------------------------------------------------------------------ configuration


def _fresh_dir(model: str, data: str) -> Path:
    base = Path("runs") / f"{model}-{data}"
    if not base.exists():
        return base
    n = 2
    while Path(f"{base}-{n}").exists():
        n += 1
    return Path(f"{base}-{n}")


def _run_files(run: Path) -> list[Path]:
    names = [CONFIG, HISTORY_CSV, HISTORY_JSON, METRICS, *PLOTS.values()]
    files = [run / n for n in names]
    checkpoints = run / CHECKPOINTS
    if checkpoints.is_dir():
        files += [p for p in checkpoints.iterdir() if p.suffix in (".safetensors", ".json")]
    return [f for f in files if f.is_file()]


def _resolve(args: argparse.Namespace) -> tuple[dict[str, Any], Path, bool]:
    """The run's configuration, its directory, and whether it resumes."""
    given = {k: getattr(args, k) for k in DEFAULTS if getattr(args, k) is not None}
    if args.resume:
        if args.resume is not True and args.out is not None and Path(args.resume) != Path(args.out):
            raise CLIError(f"--resume {args.resume} and --out {args.out} name different run directories")
        if args.overwrite:
            raise CLIError("--resume continues a run and --overwrite starts it again: choose one")
        if args.resume is True and args.out is None:
            raise CLIError(
                "--resume needs the run directory: 'cnnlab train --resume RUN_DIR' or '--resume --out RUN_DIR'"
            )
        run = Path(args.out if args.resume is True else args.resume)
        if not run.is_dir():
            raise CLIError(f"run directory {str(run)!r} not found; nothing to resume")
        if not (run / CHECKPOINTS / "last.safetensors").is_file():
            raise CLIError(f"{str(run)!r} has no {CHECKPOINTS}/last.safetensors to resume from")
        config = read_json(run / CONFIG, "run configuration")
        for key in FIXED_ON_RESUME:
            if key in given and given[key] != config.get(key):
                raise CLIError(
                    f"--{key.replace('_', '-')} {given[key]} differs from the run's {key} {config.get(key)!r}; "
                    "a resumed run keeps its settings (only --epochs may change)"
                )
        if "epochs" in given:
            config["epochs"] = given["epochs"]
        return config, run, True
    config = {**DEFAULTS, **given}
    from .. import models

    if config["model"].replace("-", "_").lower() not in models.available_models():
        raise CLIError(
            f"unknown model {config['model']!r}; available: {', '.join(sorted(models.available_models()))}"
        )
    if not 0 <= config["val_split"] < 1:
        raise CLIError(f"--val-split must lie in [0, 1), got {config['val_split']}")
    if config["scheduler"] == "plateau" and config["val_split"] == 0:
        raise CLIError("--scheduler plateau watches val_loss and needs --val-split above 0")
    run = Path(args.out) if args.out is not None else _fresh_dir(config["model"], config["data"])
    if run.exists() and not run.is_dir():
        raise CLIError(f"--out {str(run)!r} is a file, expected a directory")
    if run.is_dir() and _run_files(run):
        if not args.overwrite:
            raise CLIError(
                f"run directory {str(run)!r} already holds a run; pass --resume to continue it, "
                "--overwrite to start again, or another --out"
            )
        for f in _run_files(run):
            f.unlink()
    return config, run, False


# ------------------------------------------------------------------------------------------ pieces


def _optimizer(config: dict[str, Any], params: Any) -> Any:
    from .. import optim

    name = config["optimizer"]
    cls = getattr(optim, OPTIMIZERS[name], None)
    if cls is None:
        raise CLIError(f"optimizer {name!r} is not available in cnnlab.optim")
    kwargs: dict[str, Any] = {"lr": config["lr"], "weight_decay": config["weight_decay"]}
    if name in ("sgd", "rmsprop"):
        kwargs["momentum"] = config["momentum"]
    return cls(params, **kwargs)


def _scheduler(config: dict[str, Any], optimizer: Any) -> Any:
    name = config["scheduler"]
    if name == "none":
        return None
    from ..optim import lr_scheduler as s

    epochs = max(int(config["epochs"]), 1)
    if name == "step":
        return s.StepLR(optimizer, step_size=max(epochs // 3, 1), gamma=0.1)
    if name == "cosine":
        return s.CosineAnnealingLR(optimizer, T_max=epochs)
    if name == "exponential":
        return s.ExponentialLR(optimizer, gamma=0.9)
    return s.ReduceLROnPlateau(optimizer, mode="min", factor=0.1, patience=2)


def _split(n: int, config: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) indices of the first ``limit`` images, split by the seed."""
    n = min(n, config["limit"]) if config["limit"] else n
    order = np.random.default_rng(config["seed"]).permutation(n)
    n_val = round(config["val_split"] * n)
    if config["val_split"] > 0 and (n_val == 0 or n_val == n):
        raise CLIError(
            f"--val-split {config['val_split']} of {n} images leaves an empty training or validation set"
        )
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def _progress(args: argparse.Namespace) -> str:
    if args.progress is not None:
        return args.progress
    return "bar" if sys.stderr.isatty() else "line"


# ------------------------------------------------------------------------------------------- run


def run(args: argparse.Namespace) -> int:
    """Train as ``args`` say; write the run directory; print the test accuracy."""
    import cnnlab

    from ..data import DataLoader, Subset
    from ..train import CSVLogger, EarlyStopping, JSONHistory, ModelCheckpoint, Trainer
    from ..train.checkpoint import atomic_write_text
    from ..train.plots import plot_history
    from .evaluate import evaluate_dataset, write_report

    config, run_dir, resuming = _resolve(args)
    progress = _progress(args)
    out = sys.stdout
    cnnlab.manual_seed(config["seed"])

    if not resuming:
        config["data_root"] = args.data_root
    data_root = args.data_root if args.data_root is not None else config.get("data_root")
    train_full = load_dataset(config["data"], True, data_root, args.download)
    test = load_dataset(config["data"], False, data_root, args.download)
    if not resuming:
        config["preprocessing"] = preprocessing_stats(train_full)
        config["classes"] = list(train_full.classes)
        config["num_classes"] = len(train_full.classes)
    transform = make_transform(config)
    train_full.transform = transform
    test.transform = transform
    if not resuming:
        config["input_shape"] = list(np.asarray(train_full[0][0]).shape)
    train_idx, val_idx = _split(len(train_full), config)
    train_set = Subset(train_full, train_idx)
    val_set = Subset(train_full, val_idx) if len(val_idx) else None

    model = build_model(config["model"], config["num_classes"], tuple(config["input_shape"]))
    optimizer = _optimizer(config, model.parameters())
    scheduler = _scheduler(config, optimizer)
    checkpoints = run_dir / CHECKPOINTS
    callbacks: list[Any] = [
        ModelCheckpoint(checkpoints, monitor="val_loss"),
        CSVLogger(run_dir / HISTORY_CSV),
        JSONHistory(run_dir / HISTORY_JSON),
    ]
    if config["patience"]:
        callbacks.append(
            EarlyStopping("val_loss", patience=config["patience"], min_delta=config["min_delta"])
        )
    topk = (config["topk"],) if 1 < config["topk"] < config["num_classes"] else ()
    trainer = Trainer(
        model,
        optimizer,
        scheduler=scheduler,
        callbacks=callbacks,
        topk=topk,
        progress=progress,
        config=config,
    )
    seed = config["seed"]
    # each loader draws from a generator of its own, so shuffling never depends on dropout or initialisation
    train_loader = DataLoader(
        train_set,
        batch_size=config["batch_size"],
        shuffle=True,
        generator=cnnlab.Generator(seed + 1),
        prefetch=True,
    )
    val_loader = (
        DataLoader(val_set, batch_size=256, generator=cnnlab.Generator(seed + 2))
        if val_set is not None
        else None
    )

    if resuming:
        trainer.load_checkpoint(checkpoints / "last")
        trainer.log(f"resuming {run_dir} after epoch {trainer.epoch} (step {trainer.step})")
    else:
        config["created"] = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        config["cnnlab_version"] = cnnlab.__version__
        run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / CONFIG, json.dumps(config, indent=1) + "\n")
    n_params = sum(int(p.numel()) for p in model.parameters())
    if progress in ("bar", "line") and not resuming:
        print(
            f"training {config['model']} ({n_params:,} parameters) on {config['data']}: {len(train_set)} training, "
            f"{len(val_idx)} validation, {len(test)} test images; {config['optimizer']} lr {config['lr']:g}, "
            f"batch {config['batch_size']}, {config['epochs']} epochs, seed {seed} -> {run_dir}",
            file=out,
            flush=True,
        )
    if trainer.epoch >= config["epochs"]:
        trainer.log(
            f"{run_dir} has already trained {trainer.epoch} epochs; pass --epochs N (> {trainer.epoch}) to go on"
        )
    else:
        trainer.fit(train_loader, val_loader, epochs=config["epochs"])

    # the test report uses the best checkpoint (by validation loss), else the final weights
    which = "best" if (checkpoints / "best.safetensors").is_file() else "last"
    if (checkpoints / f"{which}.safetensors").is_file():
        trainer.load_checkpoint(checkpoints / which, weights_only=True)
    if trainer.history and args.plots:
        plot_history(
            trainer.history, run_dir / PLOTS["curves"], title=f"{config['model']} on {config['data']}"
        )
    result = evaluate_dataset(model, test, batch_size=256, topk=topk)
    metrics = write_report(
        run_dir, result, test, config, checkpoint=which, history=trainer.history, plots=args.plots
    )
    if args.plots:  # what the model learned: filters, feature maps and Grad-CAM of a few test images
        from ..vis import write_gallery

        write_gallery(run_dir, model, test, config["classes"])
    summary = (
        f"test accuracy {100 * metrics['test']['accuracy']:.2f}% (loss {metrics['test']['loss']:.4f}) "
        f"with the {which} checkpoint (epoch {metrics['checkpoint_epoch']}); run directory {run_dir}"
    )
    if progress == "json":
        print(
            json.dumps(
                {
                    "event": "end",
                    "run_dir": str(run_dir),
                    "checkpoint": which,
                    **{k: v for k, v in metrics["test"].items() if k != "confusion_matrix"},
                }
            ),
            file=out,
        )
    elif progress != "quiet":
        print(summary, file=out)
    return 0
