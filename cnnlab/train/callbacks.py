"""Callbacks: code the Trainer runs at fixed points of training, with state saved in checkpoints.

Hooks (all optional): ``on_train_begin(trainer)``, ``on_epoch_begin(trainer, epoch)``,
``on_batch_end(trainer, batch, logs)``, ``on_epoch_end(trainer, epoch, logs)``, ``on_train_end(trainer)``.
Callbacks run in ascending ``order`` (stable), so a checkpoint (order 100) sees what early stopping and
the scheduler decided at the same epoch. ``state_dict()``/``load_state_dict()`` carry a callback's state
through a checkpoint, so a resumed run stops, schedules and checkpoints as an uninterrupted one would.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .checkpoint import atomic_write_text

if TYPE_CHECKING:  # pragma: no cover
    from .trainer import Trainer

__all__ = [
    "CSVLogger",
    "Callback",
    "EarlyStopping",
    "JSONHistory",
    "LRScheduler",
    "ModelCheckpoint",
    "history_csv",
]


class Callback:
    """Base class: override the hooks you need; keep state a checkpoint must carry in ``state_dict``."""

    order = 0

    def on_train_begin(self, trainer: Trainer) -> None:
        """Called once when ``fit`` starts (also when it resumes)."""

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        """Called before the first batch of ``epoch`` (1-based)."""

    def on_batch_end(self, trainer: Trainer, batch: int, logs: dict[str, float]) -> None:
        """Called after each optimiser step with the batch's ``loss`` and ``size``."""

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        """Called after validation, with the epoch's row of history."""

    def on_train_end(self, trainer: Trainer) -> None:
        """Called once when ``fit`` returns (not when it raises)."""

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint must hold to resume this callback (JSON values and arrays)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""


def _resolve_mode(mode: str, monitor: str, owner: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        return "min" if "loss" in monitor else "max"
    return mode


def _monitored(logs: dict[str, Any], monitor: str, owner: str) -> tuple[str, float]:
    """The monitored value; ``val_X`` falls back to ``X`` when there is no validation data."""
    if monitor in logs:
        return monitor, float(logs[monitor])
    if monitor.startswith("val_") and monitor[4:] in logs:
        return monitor[4:], float(logs[monitor[4:]])
    available = ", ".join(k for k, v in logs.items() if isinstance(v, (int, float)))
    raise ValueError(f"{owner}: monitor {monitor!r} is not among the epoch's metrics ({available})")


class _Best:
    """Tracks the best value of a metric with a ``min_delta`` margin."""

    def __init__(self, mode: str, min_delta: float) -> None:
        self.mode, self.min_delta = mode, abs(float(min_delta))
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = 0

    def improved(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    With ``restore_best_weights`` the model ends training with the weights of its best epoch (kept in
    memory, and in the checkpoint so a resumed run can restore them too).

    >>> stop = EarlyStopping(monitor="val_loss", patience=2)
    >>> stop.mode
    'min'
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = True,
    ) -> None:
        if not isinstance(patience, (int, np.integer)) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be a non-negative int, got {patience!r}")
        self.monitor = monitor
        self.patience = int(patience)
        self.mode = _resolve_mode(mode, monitor, "EarlyStopping")
        self._best = _Best(self.mode, min_delta)
        self.restore_best_weights = restore_best_weights
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights: dict[str, np.ndarray] | None = None

    @property
    def best(self) -> float:
        return self._best.best

    @property
    def best_epoch(self) -> int:
        return self._best.best_epoch

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        name, value = _monitored(logs, self.monitor, "EarlyStopping")
        if self._best.improved(value):
            self._best.best, self._best.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = {
                    k: np.array(getattr(v, "data", v)) for k, v in trainer.model.state_dict().items()
                }
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True
            trainer.log(
                f"early stopping at epoch {epoch}: {name} has not improved on {self.best:.4f} (epoch "
                f"{self.best_epoch}) for {self.wait} epoch{'s' if self.wait != 1 else ''}"
            )

    def on_train_end(self, trainer: Trainer) -> None:
        if self.restore_best_weights and self.best_weights is not None and self.best_epoch != trainer.epoch:
            from ..tensor import from_numpy

            trainer.model.load_state_dict({k: from_numpy(np.array(v)) for k, v in self.best_weights.items()})
            trainer.log(f"restored the weights of epoch {self.best_epoch} ({self.monitor} {self.best:.4f})")

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
        }
        if self.best_weights is not None:
            state["best_weights"] = self.best_weights
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._best.best = float(state["best"])
        self._best.best_epoch = int(state["best_epoch"])
        self.wait = int(state["wait"])
        self.stopped_epoch = int(state.get("stopped_epoch", 0))
        self.best_weights = state.get("best_weights")


class ModelCheckpoint(Callback):
    """Save ``DIR/last`` after every epoch and ``DIR/best`` whenever ``monitor`` improves.

    Each checkpoint is a ``.safetensors`` + ``.json`` pair written by
    :meth:`Trainer.save_checkpoint` (weights, optimiser, RNG states, callbacks, history).
    """

    order = 100  # after early stopping and the scheduler, so the checkpoint holds their decisions

    def __init__(
        self,
        dirpath: str | os.PathLike,
        monitor: str = "val_loss",
        mode: str = "auto",
        save_best: bool = True,
        save_last: bool = True,
    ) -> None:
        self.dirpath = Path(dirpath)
        self.monitor = monitor
        self.mode = _resolve_mode(mode, monitor, "ModelCheckpoint")
        self._best = _Best(self.mode, 0.0)
        self.save_best, self.save_last = save_best, save_last

    @property
    def best_path(self) -> Path:
        return self.dirpath / "best"

    @property
    def last_path(self) -> Path:
        return self.dirpath / "last"

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        improved = False
        if self.save_best:
            _, value = _monitored(logs, self.monitor, "ModelCheckpoint")
            improved = self._best.improved(value)
            if improved:
                self._best.best, self._best.best_epoch = value, epoch
        # state first (the best value is part of it), then the files
        if improved:
            trainer.save_checkpoint(self.best_path)
        if self.save_last:
            trainer.save_checkpoint(self.last_path)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self._best.best, "best_epoch": self._best.best_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._best.best, self._best.best_epoch = float(state["best"]), int(state["best_epoch"])


class LRScheduler(Callback):
    """Step a learning-rate scheduler once per epoch (or per batch with ``interval='step'``).

    ``ReduceLROnPlateau`` is stepped with the value of ``monitor``.
    """

    order = 10

    def __init__(self, scheduler: Any, interval: str = "epoch", monitor: str = "val_loss") -> None:
        if interval not in ("epoch", "step"):
            raise ValueError(f"LRScheduler: interval must be 'epoch' or 'step', got {interval!r}")
        self.scheduler, self.interval, self.monitor = scheduler, interval, monitor

    def _needs_metric(self) -> bool:
        return type(self.scheduler).__name__ == "ReduceLROnPlateau"

    def on_batch_end(self, trainer: Trainer, batch: int, logs: dict[str, float]) -> None:
        if self.interval == "step":
            self.scheduler.step(logs["loss"]) if self._needs_metric() else self.scheduler.step()

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        if self.interval == "epoch":
            if self._needs_metric():
                self.scheduler.step(_monitored(logs, self.monitor, "LRScheduler")[1])
            else:
                self.scheduler.step()

    def state_dict(self) -> dict[str, Any]:
        # lambdas (LambdaLR) are code, rebuilt with the scheduler; only data goes into the checkpoint
        return {"scheduler": {k: v for k, v in self.scheduler.state_dict().items() if not callable(v)}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.scheduler.load_state_dict({**self.scheduler.state_dict(), **state["scheduler"]})


def _columns(history: list[dict[str, Any]]) -> list[str]:
    columns: list[str] = []
    for row in history:
        columns += [k for k, v in row.items() if k not in columns and not isinstance(v, (list, dict))]
    return columns


def history_csv(history: list[dict[str, Any]]) -> str:
    """The history as CSV text: one row per epoch, one column per scalar metric."""
    out = io.StringIO()
    columns = _columns(history)
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in history:
        writer.writerow(
            {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items() if k in columns}
        )
    return out.getvalue()


class CSVLogger(Callback):
    """Rewrite ``path`` (atomically) after every epoch with the whole history as CSV."""

    order = 50

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        atomic_write_text(self.path, history_csv(trainer.history))


class JSONHistory(Callback):
    """Rewrite ``path`` (atomically) after every epoch with the whole history as a JSON list."""

    order = 50

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        atomic_write_text(self.path, json.dumps(trainer.history, indent=1) + "\n")
