"""The Trainer: determinism, bit-identical resume, early stopping, non-finite loss, output modes."""

import csv
import io
import json

import numpy as np
import pytest

import cnnlab
import cnnlab.nn.functional as F
from cnnlab import nn
from cnnlab.data import ArrayDataset, DataLoader
from cnnlab.train import (
    CSVLogger,
    EarlyStopping,
    JSONHistory,
    LRScheduler,
    ModelCheckpoint,
    NonFiniteLossError,
    Trainer,
    evaluate,
    predict,
)


def dataset(n=192, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 1, 8, 8)).astype(np.float32)
    y = (x[:, 0, :4].mean(axis=(1, 2)) > 0).astype(np.int64) + 2 * (x[:, 0, :, :4].mean(axis=(1, 2)) > 0)
    return ArrayDataset(x, y)


def model_with_dropout():
    return nn.Sequential(
        nn.Flatten(), nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 4)
    )


def setup(seed=0, lr=1e-2, callbacks=(), progress="quiet", stream=None):
    cnnlab.manual_seed(seed)
    model = model_with_dropout()
    optimizer = cnnlab.optim.Adam(model.parameters(), lr=lr)
    trainer = Trainer(
        model, optimizer, callbacks=list(callbacks), topk=(2,), progress=progress, stream=stream
    )
    train = DataLoader(dataset(), batch_size=32, shuffle=True, generator=cnnlab.Generator(seed + 1))
    val = DataLoader(dataset(64, seed=1), batch_size=64)
    return trainer, train, val


def weights(model):
    return {k: np.array(v.data) for k, v in model.state_dict().items()}


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k]), k


def test_same_seed_same_run():
    runs = []
    for _ in range(2):
        trainer, train, val = setup()
        history = trainer.fit(train, val, epochs=2)
        runs.append((weights(trainer.model), [row["loss"] for row in history]))
    assert_same_weights(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]
    trainer, train, val = setup(seed=1)
    trainer.fit(train, val, epochs=1)
    assert not np.array_equal(weights(trainer.model)["1.weight"], runs[0][0]["1.weight"])


def test_resume_is_bit_identical(tmp_path):
    # straight: 3 epochs; interrupted: 1 epoch, then a fresh process-like start from the last checkpoint
    trainer, train, val = setup(callbacks=[ModelCheckpoint(tmp_path / "a"), EarlyStopping(patience=5)])
    trainer.fit(train, val, epochs=3)
    straight = weights(trainer.model)
    straight_optim = trainer.optimizer.state_dict()

    trainer, train, val = setup(callbacks=[ModelCheckpoint(tmp_path / "b"), EarlyStopping(patience=5)])
    trainer.fit(train, val, epochs=1)
    cnnlab.manual_seed(123)  # whatever happens in between must not matter
    trainer, train, val = setup(
        seed=7, callbacks=[ModelCheckpoint(tmp_path / "b"), EarlyStopping(patience=5)]
    )
    trainer.load_checkpoint(tmp_path / "b" / "last")
    assert trainer.epoch == 1
    history = trainer.fit(train, val, epochs=3)
    assert [row["epoch"] for row in history] == [1, 2, 3]
    assert_same_weights(straight, weights(trainer.model))
    resumed_optim = trainer.optimizer.state_dict()
    for i, state in straight_optim["state"].items():
        for key, value in state.items():
            other = resumed_optim["state"][i][key]
            assert np.array_equal(
                np.asarray(getattr(value, "data", value)), np.asarray(getattr(other, "data", other))
            )


def test_early_stopping_stops_and_restores_best_weights():
    trainer, train, val = setup(lr=0.0)  # nothing changes: the first epoch stays the best
    stop = EarlyStopping("val_loss", patience=2, min_delta=1e-3)
    trainer.callbacks.append(stop)
    history = trainer.fit(train, val, epochs=10)
    assert len(history) == 3 and stop.stopped_epoch == 3 and stop.best_epoch == 1

    # a model whose validation loss gets worse after epoch 1: the weights of epoch 1 come back
    trainer, train, val = setup(lr=0.5)
    stop = EarlyStopping("val_accuracy", patience=1, mode="max", restore_best_weights=True)
    values = iter([0.9, 0.5, 0.4, 0.3])
    snapshots = []

    class FakeMetric(CSVLogger):
        order = -1

        def on_epoch_end(self, trainer, epoch, logs):
            logs["val_accuracy"] = next(values)
            snapshots.append(weights(trainer.model))

    trainer.callbacks += [FakeMetric("unused.csv"), stop]
    history = trainer.fit(train, val, epochs=4)
    assert len(history) == 2 and stop.best_epoch == 1
    assert_same_weights(weights(trainer.model), snapshots[0])


def test_early_stopping_unknown_monitor_is_a_clear_error():
    trainer, train, val = setup(callbacks=[EarlyStopping("val_f1")])
    with pytest.raises(ValueError, match="monitor 'val_f1' is not among the epoch's metrics"):
        trainer.fit(train, val, epochs=1)


def test_non_finite_loss_stops_with_epoch_and_step(tmp_path):
    calls = {"n": 0}

    def exploding(logits, targets):
        calls["n"] += 1
        loss = F.cross_entropy(logits, targets)
        return loss * float("nan") if calls["n"] == 9 else loss

    trainer, train, _ = setup(callbacks=[ModelCheckpoint(tmp_path)])
    trainer.loss_fn = exploding
    with pytest.raises(
        NonFiniteLossError, match=r"non-finite loss \(nan\) at epoch 2, step 9 \(batch 3 of 6\)"
    ):
        trainer.fit(train, None, epochs=3)
    assert all(np.isfinite(w).all() for w in weights(trainer.model).values())
    assert json.loads((tmp_path / "last.json").read_text())["epoch"] == 1


def test_history_files_and_scheduler(tmp_path):
    trainer, train, val = setup()
    scheduler = cnnlab.optim.lr_scheduler.StepLR(trainer.optimizer, step_size=1, gamma=0.5)
    trainer.callbacks += [
        LRScheduler(scheduler),
        CSVLogger(tmp_path / "h.csv"),
        JSONHistory(tmp_path / "h.json"),
    ]
    trainer.fit(train, val, epochs=2)
    rows = list(csv.DictReader((tmp_path / "h.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert {"loss", "accuracy", "top2_accuracy", "val_loss", "val_accuracy", "lr", "images_per_sec"} <= set(
        rows[0]
    )
    assert [float(r["lr"]) for r in rows] == [1e-2, 5e-3]
    assert json.loads((tmp_path / "h.json").read_text())[1]["epoch"] == 2


@pytest.mark.parametrize("mode", ["line", "json", "quiet"])
def test_output_modes(mode):
    stream = io.StringIO()
    trainer, train, val = setup(progress=mode, stream=stream)
    trainer.fit(train, val, epochs=2)
    lines = stream.getvalue().splitlines()
    if mode == "quiet":
        assert lines == []
    elif mode == "line":
        assert len(lines) == 2 and lines[1].startswith("epoch 2/2 | train loss") and "img/s" in lines[1]
    else:
        events = [json.loads(line) for line in lines]
        assert [e["epoch"] for e in events] == [1, 2] and all(e["event"] == "epoch" for e in events)


def test_evaluate_and_predict():
    trainer, train, val = setup()
    trainer.fit(train, val, epochs=1)
    model = trainer.model
    result = evaluate(model, val, detailed=True, return_outputs=True)
    assert np.sum(result["confusion_matrix"]) == 64 and len(result["per_class_accuracy"]) == 4
    assert result["probabilities"].shape == (64, 4)
    np.testing.assert_allclose(result["probabilities"].sum(axis=1), 1.0)
    assert model.training  # evaluate restores the mode it found
    probabilities = predict(model, dataset(64, seed=1).arrays[0], batch_size=16)
    np.testing.assert_allclose(probabilities, result["probabilities"], rtol=1e-6)
