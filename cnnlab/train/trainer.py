"""The training loop: epochs over a DataLoader with any model, loss and optimiser; metrics; callbacks.

One epoch is the textbook loop, nothing hidden::

    model.train()
    for images, labels in loader:
        loss = loss_fn(model(images), labels)     # the batch's mean loss
        optimizer.zero_grad(); loss.backward(); optimizer.step()

around which the Trainer keeps the metrics (loss, accuracy, top-k), a progress bar, the history,
and the callbacks (early stopping, checkpoints, learning-rate schedules, CSV/JSON history). A loss that
is NaN or infinite stops training *before* the update, naming the epoch and step.

Determinism: everything random (initialisation, dropout, shuffling, augmentation) draws from cnnlab's
generators, and a checkpoint stores their states with the weights; so the same seed gives the same
run, and a run resumed from its last checkpoint ends with the same weights, bit for bit, as one that
was never interrupted.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TextIO

import numpy as np

from .. import random as _random
from ..autograd import no_grad
from ..tensor import Tensor, from_numpy
from .callbacks import Callback, LRScheduler
from .checkpoint import load_checkpoint, save_checkpoint
from .metrics import MetricAccumulator

__all__ = ["PROGRESS_MODES", "NonFiniteLossError", "Trainer", "evaluate", "fit", "predict"]

PROGRESS_MODES = ("bar", "line", "json", "quiet")


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite; raised before the update, so the weights stay finite."""

    def __init__(self, value: float, epoch: int, step: int, batch: int, batches: int) -> None:
        self.value, self.epoch, self.step, self.batch = value, epoch, step, batch
        super().__init__(
            f"non-finite loss ({value}) at epoch {epoch}, step {step} (batch {batch} of {batches}); "
            f"training stopped before this update, so the model and its checkpoints hold the last finite "
            f"weights. A lower learning rate usually helps."
        )


def _split_batch(batch: Any) -> tuple[Any, Any]:
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch[0], batch[1]
    raise ValueError(
        f"Trainer: expected each batch to be a pair (inputs, targets), got {type(batch).__name__}"
        + (f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else "")
    )


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else from_numpy(np.asarray(x))


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _format_logs(logs: dict[str, Any], epoch: int, epochs: int) -> str:
    parts = [f"epoch {epoch}/{epochs}"]
    for prefix, label in (("", "train"), ("val_", "val")):
        if f"{prefix}loss" not in logs:
            continue
        part = f"{label} loss {logs[f'{prefix}loss']:.4f} acc {100 * logs[f'{prefix}accuracy']:.2f}%"
        topk = [k for k in logs if k.startswith(f"{prefix}top") and k.endswith("_accuracy")]
        if prefix == "":
            topk = [k for k in topk if not k.startswith("val_")]
        for k in topk:
            part += f" {k[len(prefix) :].split('_')[0]} {100 * logs[k]:.1f}%"
        parts.append(part)
    if "lr" in logs:
        parts.append(f"lr {logs['lr']:.3g}")
    if "time" in logs:
        parts.append(f"{logs['time']:.1f}s ({logs['images_per_sec']:.0f} img/s)")
    return " | ".join(parts)


class Trainer:
    """Train, evaluate and predict with a model, a loss and an optimiser, as Keras's ``fit`` does.

    ``loss_fn(logits, targets)`` returns the batch's mean loss (default ``F.cross_entropy``).
    ``scheduler`` is stepped once per epoch (add an :class:`~cnnlab.train.LRScheduler` callback for
    other intervals). ``topk`` names the top-k accuracies to report besides accuracy. ``progress`` is
    ``'bar'`` (a tqdm bar per epoch and a one-line summary), ``'line'`` (the summary only), ``'json'``
    (one JSON object per line, for scripts) or ``'quiet'``. ``config`` is stored in every checkpoint.

    >>> import numpy as np, cnnlab
    >>> from cnnlab.data import ArrayDataset, DataLoader
    >>> from cnnlab.models import mlp
    >>> _ = cnnlab.manual_seed(0)
    >>> x = np.random.default_rng(0).normal(size=(64, 1, 28, 28)).astype(np.float32)
    >>> loader = DataLoader(ArrayDataset(x, np.arange(64) % 10), batch_size=32)
    >>> model = mlp()
    >>> trainer = Trainer(model, cnnlab.optim.SGD(model.parameters(), lr=0.1), progress="quiet")
    >>> history = trainer.fit(loader, epochs=2)
    >>> len(history), sorted(history[-1])[:3]
    (2, ['accuracy', 'epoch', 'images_per_sec'])
    """

    def __init__(
        self,
        model: Any,
        optimizer: Any = None,
        loss_fn: Callable[[Tensor, Tensor], Tensor] | None = None,
        scheduler: Any = None,
        callbacks: Sequence[Callback] = (),
        topk: Sequence[int] = (5,),
        progress: str = "bar",
        config: dict[str, Any] | None = None,
        stream: TextIO | None = None,
    ) -> None:
        if progress not in PROGRESS_MODES:
            raise ValueError(
                f"Trainer: progress must be one of {', '.join(PROGRESS_MODES)}; got {progress!r}"
            )
        if loss_fn is None:
            from ..nn import functional as F

            loss_fn = F.cross_entropy
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.scheduler = scheduler
        self.callbacks: list[Callback] = list(callbacks)
        if scheduler is not None and not any(
            getattr(c, "scheduler", None) is scheduler for c in self.callbacks
        ):
            self.callbacks.append(LRScheduler(scheduler))
        self.topk = tuple(int(k) for k in topk)
        self.progress = progress
        self.config = dict(config or {})
        self._stream = stream
        self.history: list[dict[str, Any]] = []
        self.epoch = 0  # epochs completed
        self.step = 0  # optimiser steps taken
        self.stop_training = False
        self._loaders: dict[str, Any] = {}
        self._pending_rng: dict[str, Any] | None = None

    # ------------------------------------------------------------------------------------- output

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stdout

    def log(self, message: str) -> None:
        """Print a one-line message (as a JSON object in ``'json'`` mode; nothing when quiet)."""
        if self.progress in ("bar", "line"):
            print(message, file=self.stream, flush=True)
        elif self.progress == "json":
            print(json.dumps({"event": "message", "message": message}), file=self.stream, flush=True)

    def _sorted_callbacks(self) -> list[Callback]:
        return sorted(self.callbacks, key=lambda c: getattr(c, "order", 0))

    # ----------------------------------------------------------------------------------- training

    def fit(
        self, train_loader: Iterable, val_loader: Iterable | None = None, epochs: int = 1
    ) -> list[dict[str, Any]]:
        """Train until ``epochs`` epochs are complete in all (a resumed trainer continues its count).

        Returns the history: one dictionary per epoch with ``loss``, ``accuracy``, ``topK_accuracy``,
        the same with ``val_`` for the validation data, ``lr``, ``time`` and ``images_per_sec``.
        """
        if self.optimizer is None:
            raise ValueError("Trainer.fit: an optimizer is needed to train; got optimizer=None")
        if not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"Trainer.fit: epochs must be a non-negative int, got {epochs!r}")
        self._loaders = {"train_loader": train_loader, "val_loader": val_loader}
        self._restore_rng()
        self.stop_training = False
        callbacks = self._sorted_callbacks()
        for cb in callbacks:
            cb.on_train_begin(self)
        for epoch in range(self.epoch + 1, int(epochs) + 1):
            for cb in callbacks:
                cb.on_epoch_begin(self, epoch)
            lr = float(self.optimizer.param_groups[0]["lr"])
            start = time.perf_counter()
            logs: dict[str, Any] = {
                "epoch": epoch,
                **self._train_epoch(train_loader, epoch, int(epochs), callbacks),
            }
            train_time = time.perf_counter() - start
            if val_loader is not None:
                logs.update({f"val_{k}": v for k, v in self.evaluate(val_loader).items()})
            logs["lr"] = lr
            logs["time"] = time.perf_counter() - start
            logs["images_per_sec"] = logs.pop("_samples") / max(train_time, 1e-9)
            self.epoch = epoch
            self.history.append(logs)
            for cb in callbacks:
                cb.on_epoch_end(self, epoch, logs)
            self._report(logs, epoch, int(epochs))
            if self.stop_training:
                break
        for cb in callbacks:
            cb.on_train_end(self)
        return self.history

    def _train_epoch(
        self, loader: Iterable, epoch: int, epochs: int, callbacks: list[Callback]
    ) -> dict[str, Any]:
        self.model.train()
        metrics = MetricAccumulator(topk=self.topk)
        batches = len(loader) if hasattr(loader, "__len__") else None
        bar = self._bar(batches, epoch, epochs)
        start = time.perf_counter()
        try:
            for batch_index, batch in enumerate(loader, start=1):
                inputs, targets = _split_batch(batch)
                inputs, targets = _as_tensor(inputs), _as_tensor(targets)
                logits = self.model(inputs)
                loss = self.loss_fn(logits, targets)
                value = float(loss.item())
                if not math.isfinite(value):
                    raise NonFiniteLossError(value, epoch, self.step + 1, batch_index, batches or batch_index)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                self.step += 1
                metrics.update(value, logits.data, targets.data)
                for cb in callbacks:
                    cb.on_batch_end(self, batch_index, {"loss": value, "size": len(targets)})
                if bar is not None:
                    rate = metrics.count / max(time.perf_counter() - start, 1e-9)
                    bar.set_postfix_str(
                        f"loss {metrics.loss:.4f} acc {100 * metrics.accuracy:.1f}% {rate:.0f} img/s",
                        refresh=False,
                    )
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        if metrics.count == 0:
            raise ValueError(f"Trainer.fit: the training loader gave no batches in epoch {epoch}")
        return {**metrics.result(), "_samples": metrics.count}

    def _bar(self, total: int | None, epoch: int, epochs: int) -> Any:
        if self.progress != "bar":
            return None
        try:
            from tqdm.auto import tqdm
        except ImportError:  # tqdm is optional: the one-line summaries remain
            return None
        return tqdm(
            total=total,
            desc=f"epoch {epoch}/{epochs}",
            unit="batch",
            leave=False,
            file=sys.stderr,
            dynamic_ncols=True,
            mininterval=0.2,
        )

    def _report(self, logs: dict[str, Any], epoch: int, epochs: int) -> None:
        if self.progress in ("bar", "line"):
            print(_format_logs(logs, epoch, epochs), file=self.stream, flush=True)
        elif self.progress == "json":
            print(json.dumps({"event": "epoch", "epochs": epochs, **logs}), file=self.stream, flush=True)

    # --------------------------------------------------------------------------------- inference

    def _outputs(self, loader: Iterable) -> Iterable[tuple[np.ndarray, Any, Tensor | None]]:
        """(logits, targets or None) per batch, in eval mode without gradients; restores the mode."""
        was_training = getattr(self.model, "training", False)
        self.model.eval()
        try:
            with no_grad():
                for batch in loader:
                    if isinstance(batch, (tuple, list)) and len(batch) == 2:
                        inputs, targets = _as_tensor(batch[0]), _as_tensor(batch[1])
                    else:
                        inputs, targets = _as_tensor(batch), None
                    logits = self.model(inputs)
                    yield logits, targets
        finally:
            self.model.train(was_training)

    def evaluate(
        self, loader: Iterable, detailed: bool = False, return_outputs: bool = False
    ) -> dict[str, Any]:
        """Loss, accuracy and top-k accuracy over ``loader`` (eval mode, no gradients).

        ``detailed`` adds ``per_class_accuracy``, ``confusion_matrix`` and ``num_samples``;
        ``return_outputs`` adds the arrays ``probabilities`` (N, K) and ``targets`` (N,).
        """
        metrics = MetricAccumulator(topk=self.topk)
        probabilities, all_targets = [], []
        for logits, targets in self._outputs(loader):
            if targets is None:
                raise ValueError("Trainer.evaluate: expected batches of (inputs, targets), got inputs only")
            loss = float(self.loss_fn(logits, targets).item())
            metrics.update(loss, logits.data, targets.data)
            if return_outputs:
                probabilities.append(_softmax(logits.data.astype(np.float64)))
                all_targets.append(np.asarray(targets.data))
        if metrics.count == 0:
            raise ValueError("Trainer.evaluate: the loader gave no batches")
        result = metrics.result(detailed=detailed)
        if return_outputs:
            result["probabilities"] = np.concatenate(probabilities)
            result["targets"] = np.concatenate(all_targets)
        return result

    def predict(self, data: Any, batch_size: int = 256) -> np.ndarray:
        """Class probabilities (N, K) for a loader of batches, or for an array/Tensor of inputs."""
        if isinstance(data, (np.ndarray, Tensor)):
            array = data.data if isinstance(data, Tensor) else np.asarray(data)
            data = [from_numpy(array[i : i + batch_size]) for i in range(0, len(array), batch_size)]
        out = [_softmax(logits.data.astype(np.float64)) for logits, _ in self._outputs(data)]
        if not out:
            raise ValueError("Trainer.predict: no inputs")
        return np.concatenate(out)

    # ------------------------------------------------------------------------------ checkpoints

    def _callback_keys(self) -> list[tuple[str, Callback]]:
        seen: dict[str, int] = {}
        keys = []
        for cb in self.callbacks:
            name = type(cb).__name__
            seen[name] = seen.get(name, 0) + 1
            keys.append((name if seen[name] == 1 else f"{name}{seen[name]}", cb))
        return keys

    def _rng_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"default": _random.get_rng_state()}
        for name, loader in self._loaders.items():
            if loader is not None and hasattr(loader, "state_dict"):
                state[name] = loader.state_dict()
        return state

    def _restore_rng(self) -> None:
        if self._pending_rng is None:
            return
        state, self._pending_rng = self._pending_rng, None
        for name, loader in self._loaders.items():
            if name in state and loader is not None and hasattr(loader, "load_state_dict"):
                loader.load_state_dict(state[name])
        _random.set_rng_state(state["default"])

    def save_checkpoint(self, path: Any) -> None:
        """Save everything needed to resume: weights, optimiser, callbacks, RNG states, history, config."""
        save_checkpoint(
            path,
            self.model,
            self.optimizer,
            state={
                "epoch": self.epoch,
                "step": self.step,
                "history": self.history,
                "config": self.config,
                "rng": self._rng_state(),
                "callbacks": {key: cb.state_dict() for key, cb in self._callback_keys()},
            },
        )

    def load_checkpoint(self, path: Any, weights_only: bool = False) -> dict[str, Any]:
        """Load a checkpoint; unless ``weights_only``, the next ``fit`` resumes exactly where it was saved.

        Returns the checkpoint's state (epoch, step, history, config …).
        """
        state = load_checkpoint(path, self.model, None if weights_only else self.optimizer)
        if weights_only:
            return state
        self.epoch, self.step = int(state["epoch"]), int(state["step"])
        self.history = list(state.get("history", []))
        saved = state.get("callbacks", {})
        for key, cb in self._callback_keys():
            if key in saved:
                cb.load_state_dict(saved[key])
        self._pending_rng = state.get("rng")
        if self._pending_rng is not None:
            _random.set_rng_state(self._pending_rng["default"])
        return state


def fit(
    model: Any,
    train_loader: Iterable,
    optimizer: Any,
    epochs: int = 1,
    val_loader: Iterable | None = None,
    **kwargs: Any,
) -> list[dict[str, Any]]:
    """Train ``model`` for ``epochs`` epochs; ``kwargs`` go to :class:`Trainer`. Returns the history."""
    return Trainer(model, optimizer, **kwargs).fit(train_loader, val_loader, epochs)


def evaluate(model: Any, loader: Iterable, loss_fn: Callable | None = None, **kwargs: Any) -> dict[str, Any]:
    """Loss and accuracy of ``model`` over ``loader`` (see :meth:`Trainer.evaluate`)."""
    return Trainer(model, loss_fn=loss_fn, progress="quiet").evaluate(loader, **kwargs)


def predict(model: Any, data: Any, batch_size: int = 256) -> np.ndarray:
    """Class probabilities of ``model`` for ``data`` (see :meth:`Trainer.predict`)."""
    return Trainer(model, progress="quiet").predict(data, batch_size)
