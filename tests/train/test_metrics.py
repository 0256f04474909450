"""Metrics against obvious loops (and PyTorch's top-k where there are no ties)."""

import numpy as np
import pytest

from cnnlab.train import MetricAccumulator, accuracy, confusion_matrix, per_class_accuracy, topk_accuracy


def test_accuracy_and_topk_match_loops(rng):
    logits = rng.normal(size=(50, 7))
    targets = rng.integers(0, 7, size=50)
    assert accuracy(logits, targets) == np.mean([logits[i].argmax() == targets[i] for i in range(50)])
    for k in (1, 3, 7):
        expected = np.mean([targets[i] in np.argsort(-logits[i])[:k] for i in range(50)])
        assert topk_accuracy(logits, targets, k) == pytest.approx(expected)


def test_confusion_matrix_and_per_class_accuracy(rng):
    targets = rng.integers(0, 4, size=200)
    predictions = rng.integers(0, 4, size=200)
    matrix = confusion_matrix(predictions, targets, 4)
    loop = np.zeros((4, 4), int)
    for t, p in zip(targets, predictions):
        loop[t, p] += 1
    np.testing.assert_array_equal(matrix, loop)
    np.testing.assert_allclose(per_class_accuracy(matrix), np.diag(loop) / loop.sum(1))
    assert np.isnan(per_class_accuracy(np.zeros((2, 2), int))).all()


def test_accumulator_equals_whole_epoch(rng):
    logits = rng.normal(size=(100, 10))
    targets = rng.integers(0, 10, size=100)
    acc = MetricAccumulator(topk=(5,))
    for start in range(0, 100, 32):
        acc.update(1.0, logits[start : start + 32], targets[start : start + 32])
    result = acc.result(detailed=True)
    assert result["accuracy"] == accuracy(logits, targets)
    assert result["top5_accuracy"] == pytest.approx(topk_accuracy(logits, targets, 5))
    assert result["loss"] == pytest.approx(1.0)
    assert np.sum(result["confusion_matrix"]) == 100 and result["num_samples"] == 100


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"targets of shape \(2,\)"):
        accuracy(np.zeros((2, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="k must be a positive integer"):
        topk_accuracy(np.zeros((2, 3)), np.zeros(2), k=0)
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 3\)"):
        confusion_matrix([0, 1], [0, 5], 3)
