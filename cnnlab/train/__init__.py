"""Training: the Trainer (``fit``/``evaluate``/``predict``), metrics, callbacks, checkpoints and plots.

>>> from cnnlab.train import EarlyStopping, Trainer, accuracy
>>> accuracy([[0.2, 0.8]], [1])
1.0
"""

from .callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    JSONHistory,
    LRScheduler,
    ModelCheckpoint,
    history_csv,
)
from .checkpoint import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint
from .metrics import MetricAccumulator, accuracy, confusion_matrix, per_class_accuracy, topk_accuracy
from .trainer import NonFiniteLossError, Trainer, evaluate, fit, predict

__all__ = [
    "CSVLogger",
    "Callback",
    "CheckpointError",
    "EarlyStopping",
    "JSONHistory",
    "LRScheduler",
    "MetricAccumulator",
    "ModelCheckpoint",
    "NonFiniteLossError",
    "Trainer",
    "accuracy",
    "confusion_matrix",
    "evaluate",
    "fit",
    "history_csv",
    "load_checkpoint",
    "per_class_accuracy",
    "predict",
    "read_checkpoint",
    "save_checkpoint",
    "topk_accuracy",
]
