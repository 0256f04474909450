"""Sanity checks from the literature on a quickly trained model, activation maximisation, memory, model state."""

import copy
import gc
import weakref

import numpy as np
import pytest

import cnnlab
from cnnlab import nn, optim, vis
from cnnlab.models import fashion_cnn
from cnnlab.nn import functional as F

SIZE, PATCH = 16, 4


def bright_patch_data(n, rng):
    """Faint noise; class 1 images have a 4×4 bright patch at a random (recorded) place, class 0 none."""
    x = rng.uniform(0, 0.5, (n, 1, SIZE, SIZE)).astype(np.float32)
    y = np.arange(n) % 2
    corners = rng.integers(0, SIZE - PATCH + 1, (n, 2))
    for i in np.flatnonzero(y):
        r, c = corners[i]
        x[i, 0, r : r + PATCH, c : c + PATCH] = 1.0
    return x, y, corners


@pytest.fixture(scope="module")
def patch_task():
    """A small CNN trained for a few seconds to tell whether an image holds the bright patch."""
    cnnlab.manual_seed(0)
    rng = np.random.default_rng(0)
    x, y, _ = bright_patch_data(384, rng)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveMaxPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 2),
    )
    opt = optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(3):
        order = rng.permutation(len(x))
        for start in range(0, len(x), 32):
            i = order[start : start + 32]
            loss = F.cross_entropy(model(cnnlab.tensor(x[i])), cnnlab.tensor(y[i]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    test_x, test_y, corners = bright_patch_data(40, rng)
    with cnnlab.no_grad():
        accuracy = (model(cnnlab.tensor(test_x)).data.argmax(1) == test_y).mean()
    assert accuracy >= 0.95  # the premise: the model has learned the task
    keep = test_y == 1
    return model, test_x[keep], corners[keep]


def share_peaking_in_patch(maps, corners):
    hits = []
    for m, (r, c) in zip(maps, corners):
        i, j = np.unravel_index(np.argmax(m), m.shape)
        hits.append(r <= i < r + PATCH and c <= j < c + PATCH)
    return float(np.mean(hits))


def test_grad_cam_and_occlusion_peak_inside_the_patch(patch_task):
    model, x, corners = patch_task
    assert share_peaking_in_patch(vis.grad_cam(model, x, target=1), corners) >= 0.9
    assert share_peaking_in_patch(vis.occlusion(model, x, target=1, patch=4, stride=2), corners) >= 0.9


def test_randomising_the_weights_changes_the_maps(patch_task):
    model, x, _ = patch_task
    randomised = copy.deepcopy(model)
    for m in randomised.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()  # fresh initialisation, as in Adebayo et al. 2018

    def mean_rank_correlation(a, b):
        return np.mean([vis.rank_correlation(u, v) for u, v in zip(a, b)])

    cam = vis.grad_cam(model, x, target=1)
    assert mean_rank_correlation(cam, vis.grad_cam(copy.deepcopy(model), x, target=1)) == pytest.approx(1.0)
    assert mean_rank_correlation(cam, vis.grad_cam(randomised, x, target=1)) < 0.6
    sal = np.abs(vis.saliency(model, x, target=1))
    assert mean_rank_correlation(sal, np.abs(vis.saliency(randomised, x, target=1))) < 0.6


def test_integrated_gradients_are_complete_within_one_percent(patch_task):
    model, x, _ = patch_task
    attributions, delta = vis.integrated_gradients(model, x[:6], target=1, steps=128, return_delta=True)
    with cnnlab.no_grad():
        difference = (
            model(cnnlab.tensor(x[:6])).data[:, 1] - model(cnnlab.tensor(np.zeros_like(x[:6]))).data[:, 1]
        )
    np.testing.assert_allclose(attributions.reshape(6, -1).sum(1) - difference, delta, atol=1e-4)
    assert np.all(np.abs(delta) <= 0.01 * np.abs(difference))
    # a coarse path leaves a larger error: the error is the quadrature's, and shrinks with steps
    _, coarse = vis.integrated_gradients(model, x[:6], target=1, steps=4, return_delta=True)
    assert np.abs(coarse).mean() > np.abs(delta).mean()


def edge_detector():
    """Channels for vertical and horizontal edges (zero-mean kernels, no bias, no padding): faint noise barely
    excites them."""
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 14 * 14, 2))
    model[0].weight.data[...] = 0.0
    model[0].weight.data[0, 0] = np.array([[-1, 0, 1]] * 3, np.float32)
    model[0].weight.data[1, 0] = np.array([[-1, 0, 1]] * 3, np.float32).T
    model[0].bias.data[...] = 0.0
    return model


def test_maximize_raises_the_activation_tenfold_and_stays_in_range():
    model = edge_detector()
    images, start, final = vis.maximize(
        model, "1", [0, 1], steps=40, size=16, generator=cnnlab.Generator(0), return_activations=True
    )
    assert images.shape == (2, 1, 16, 16) and images.dtype == np.float32
    assert np.all(start > 0) and np.all(final >= 10 * start)
    assert images.min() >= 0.0 and images.max() <= 1.0
    # the objective is what it says: the mean of the channel's activation on the result
    maps = vis.feature_maps(model, images, "1")["1"]
    np.testing.assert_allclose(final, [maps[0, 0].mean(), maps[1, 1].mean()], rtol=1e-5)
    # channel 0's picture is vertical stripes: brightness changes along rows, not down columns
    stripes = images[0, 0]
    assert np.abs(np.diff(stripes, axis=1)).mean() > 3 * np.abs(np.diff(stripes, axis=0)).mean()
    # a per-channel valid range is honoured too, and a class logit can be maximised
    image = vis.maximize(model, None, 1, steps=5, size=16, value_range=([-1.0], [2.0]))
    assert image.shape == (1, 16, 16) and image.min() >= -1.0 and image.max() <= 2.0


def test_maximize_with_the_same_generator_is_reproducible():
    a = vis.maximize(edge_detector(), "0", 0, steps=3, size=16, generator=cnnlab.Generator(3))
    b = vis.maximize(edge_detector(), "0", 0, steps=3, size=16, generator=cnnlab.Generator(3))
    np.testing.assert_array_equal(a, b)


def live_tensors():
    gc.collect()
    return sum(issubclass(type(o), cnnlab.Tensor) for o in gc.get_objects())  # type(): no proxy lookups


def test_grad_cam_keeps_no_graph_alive_on_fashion_cnn():
    model = fashion_cnn()
    x = np.random.default_rng(0).standard_normal((2, 1, 28, 28)).astype(np.float32)
    outputs = []  # weak references to every output of the forward pass: the graph hangs off them
    handle = model.register_forward_hook(lambda m, args, out: outputs.append(weakref.ref(out)))
    first = vis.grad_cam(model, x)
    handle.remove()
    assert outputs and all(ref() is None for ref in outputs)  # freed by reference counting, no gc needed
    before = live_tensors()
    for _ in range(3):
        np.testing.assert_array_equal(vis.grad_cam(model, x), first)
    assert live_tensors() == before  # repeated calls leave nothing behind
    assert all(p.grad is None for p in model.parameters())


def model_state(model):
    return {
        "training": [m.training for m in model.modules()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "grads": [None if p.grad is None else p.grad.data.copy() for p in model.parameters()],
        "grad_ids": [id(p.grad) for p in model.parameters()],
        "hooks": [list(m._forward_hooks) + list(m._forward_pre_hooks) for m in model.modules()],
        "weights": [p.data.copy() for p in model.parameters()],
    }


@pytest.mark.parametrize(
    "explain",
    [
        lambda m, x: vis.grad_cam(m, x),
        lambda m, x: vis.grad_cam(m, x, method="gradcam++", layer="features.0"),
        lambda m, x: vis.saliency(m, x),
        lambda m, x: vis.saliency(m, x, method="smoothgrad", samples=2),
        lambda m, x: vis.saliency(m, x, method="integrated_gradients", steps=2),
        lambda m, x: vis.occlusion(m, x, patch=14, stride=14),
        lambda m, x: vis.feature_maps(m, x),
        lambda m, x: vis.maximize(m, "features.3", [0, 1], steps=2),
    ],
    ids=["gradcam", "gradcam++", "gradient", "smoothgrad", "ig", "occlusion", "feature_maps", "maximize"],
)
def test_the_model_is_left_as_it_was(explain):
    model = cnnlab.models.lenet5()
    x = np.random.default_rng(0).standard_normal((2, 1, 28, 28)).astype(np.float32)
    model.train()
    model(cnnlab.tensor(x)).sum().backward()  # the user's own gradients, which must survive
    model.features[0].register_forward_hook(lambda m, args, out: None)
    model.features[3].requires_grad_(False)
    before = model_state(model)
    explain(model, x)
    after = model_state(model)
    assert after["training"] == before["training"] and all(after["training"])
    assert after["requires_grad"] == before["requires_grad"]
    assert after["grad_ids"] == before["grad_ids"] and after["hooks"] == before["hooks"]
    for a, b in zip(after["grads"] + after["weights"], before["grads"] + before["weights"]):
        np.testing.assert_array_equal(a, b)


def test_the_model_is_restored_after_an_error():
    model = cnnlab.models.lenet5().train()
    with pytest.raises(ValueError, match="target out of range"):
        vis.grad_cam(model, np.zeros((1, 1, 28, 28), np.float32), target=10)
    assert model.training and all(p.requires_grad for p in model.parameters())
    assert all(not m._forward_hooks for m in model.modules())
