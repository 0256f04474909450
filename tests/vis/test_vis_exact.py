"""Exact values of every explanation on tiny networks with fixed weights: by hand, and PyTorch on the same weights."""

import numpy as np
import pytest
import torch
import torch.nn.functional as tF

import cnnlab
from cnnlab import nn, vis


def tiny_cnn():
    """(N, 1, 8, 8) -> conv 3 -> relu -> pool -> conv 4 (4×4) -> relu -> 3 logits; and its PyTorch twin."""
    ours = nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(3, 4, 3, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(64, 3),
    )
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 3, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(3, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(64, 3),
    )
    rng = np.random.default_rng(1)
    for p in ours.parameters():  # weights that make every unit do something
        p.data[...] = rng.normal(0, 0.6, p.shape).astype(np.float32)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v.data)) for k, v in ours.state_dict().items()})
    theirs.eval()
    return ours, theirs


@pytest.fixture
def nets():
    return tiny_cnn()


@pytest.fixture
def x():
    return np.random.default_rng(2).uniform(0, 1, (3, 1, 8, 8)).astype(np.float32)


# ------------------------------------------------------------------------------ PyTorch references


def torch_cam(theirs, layer, x, targets, method, relu=True):
    store = {}
    handle = theirs[int(layer)].register_forward_hook(lambda m, i, o: store.__setitem__("A", o))
    logits = theirs(torch.from_numpy(x))
    handle.remove()
    A = store["A"]
    (G,) = torch.autograd.grad(logits[torch.arange(len(x)), torch.as_tensor(targets)].sum(), A)
    A, G = A.detach().double(), G.double()
    if method == "gradcam":
        cam = (G.mean(dim=(2, 3))[:, :, None, None] * A).sum(1)
    elif method == "gradcam++":
        g2, g3 = G**2, G**3
        denominator = 2 * g2 + A.sum(dim=(2, 3), keepdim=True) * g3
        alpha = torch.where(denominator != 0, g2 / torch.where(denominator != 0, denominator, 1), 0)
        cam = ((G.clamp(min=0) * alpha).sum(dim=(2, 3))[:, :, None, None] * A).sum(1)
    else:
        cam = (G * A).sum(1)
    if relu:
        cam = cam.clamp(min=0)
    cam = tF.interpolate(cam[:, None], size=x.shape[2:], mode="bilinear", align_corners=False)[:, 0]
    lo = cam.amin(dim=(1, 2), keepdim=True)
    span = cam.amax(dim=(1, 2), keepdim=True) - lo
    return torch.where(span > 0, (cam - lo) / torch.where(span > 0, span, 1), 0).numpy()


def torch_input_grad(theirs, x, targets):
    leaf = torch.from_numpy(np.ascontiguousarray(x)).requires_grad_()
    logits = theirs(leaf)
    logits[torch.arange(len(x)), torch.as_tensor(targets)].sum().backward()
    return leaf.grad.double().numpy(), logits.detach().double().numpy()


# ---------------------------------------------------------------------------------------- by hand


def test_grad_cam_of_a_one_conv_network_on_4x4_by_hand():
    # conv 2×2 of ones on the identity image gives A = [[2,1,0],[1,2,1],[0,1,2]]; the logit of class 0
    # reads only the centre of A with weight 3, so dS/dA = 3 at the centre and 0 elsewhere
    model = nn.Sequential(nn.Conv2d(1, 1, 2), nn.Flatten(), nn.Linear(9, 2))
    model[0].weight.data[...] = 1.0
    model[0].bias.data[...] = 0.0
    model[2].weight.data[...] = 0.0
    model[2].weight.data[0, 4] = 3.0
    model[2].bias.data[...] = 0.0
    x = np.eye(4, dtype=np.float32)[None, None]
    A = np.array([[2, 1, 0], [1, 2, 1], [0, 1, 2]], dtype=np.float64)
    raw = {"upsample": False, "normalize": False, "target": 0, "layer": "0"}
    # Grad-CAM: the channel weight is mean(dS/dA) = 3/9
    np.testing.assert_allclose(vis.grad_cam(model, x, **raw)[0], A / 3, rtol=1e-6)
    # HiResCAM: dS/dA ⊙ A is 3 · 2 = 6 at the centre, 0 elsewhere
    np.testing.assert_allclose(
        vis.grad_cam(model, x, method="hirescam", **raw)[0], [[0, 0, 0], [0, 6, 0], [0, 0, 0]]
    )
    # Grad-CAM++: alpha = 9 / (2·9 + sum(A)=10 · 27) = 1/32 at the centre, so the weight is 3/32
    np.testing.assert_allclose(vis.grad_cam(model, x, method="gradcam++", **raw)[0], 3 * A / 32, rtol=1e-6)
    # scaled to [0, 1]: A / 2, and upsampled to 4×4 bilinearly
    np.testing.assert_allclose(
        vis.grad_cam(model, x, target=0, layer="0", upsample=False)[0], A / 2, rtol=1e-6
    )
    assert vis.grad_cam(model, x, target=0, layer="0").shape == (1, 4, 4)
    # the final ReLU: class 1 reads nothing, so its map is all zeros either way; with negative weight it is cut
    model[2].weight.data[1, 4] = -3.0
    np.testing.assert_allclose(
        vis.grad_cam(model, x, target=1, layer="0", upsample=False, normalize=False)[0], 0
    )
    kept = vis.grad_cam(model, x, target=1, layer="0", upsample=False, normalize=False, relu=False)[0]
    np.testing.assert_allclose(kept, -A / 3, rtol=1e-6)


# ------------------------------------------------------------------------------------ vs PyTorch


@pytest.mark.parametrize("method", ["gradcam", "gradcam++", "hirescam"])
@pytest.mark.parametrize("layer", ["3", "4"])
def test_cams_match_pytorch(nets, x, method, layer):
    ours, theirs = nets
    targets = np.array([0, 2, 1])
    cam = vis.grad_cam(ours, x, target=targets, layer=layer, method=method)
    assert cam.shape == (3, 8, 8) and cam.dtype == np.float32
    np.testing.assert_allclose(cam, torch_cam(theirs, layer, x, targets, method), atol=2e-5)
    unclipped = vis.grad_cam(ours, x, target=targets, layer=layer, method=method, relu=False)
    np.testing.assert_allclose(unclipped, torch_cam(theirs, layer, x, targets, method, relu=False), atol=2e-5)


def test_grad_cam_defaults_to_the_predicted_class_and_the_last_spatial_conv(nets, x):
    ours, theirs = nets
    predicted = theirs(torch.from_numpy(x)).argmax(1).numpy()
    np.testing.assert_allclose(
        vis.grad_cam(ours, x), torch_cam(theirs, "3", x, predicted, "gradcam"), atol=2e-5
    )


def test_gradient_and_gradient_x_input_match_pytorch(nets, x):
    ours, theirs = nets
    targets = np.array([1, 1, 0])
    grad, _ = torch_input_grad(theirs, x, targets)
    got = vis.saliency(ours, x, target=targets)
    assert got.shape == x.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, grad, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        vis.saliency(ours, x, target=targets, method="gradient_x_input"), grad * x, rtol=1e-5, atol=1e-6
    )
    # a Tensor input gives the same, and batching does not change anything
    np.testing.assert_allclose(
        vis.saliency(ours, cnnlab.tensor(x), target=targets, batch_size=1), grad, rtol=1e-5, atol=1e-6
    )


def test_smoothgrad_is_the_mean_gradient_over_the_generators_noise(nets, x):
    ours, theirs = nets
    targets = np.array([2, 0, 1])
    samples, level = 5, 0.2
    got = vis.saliency(
        ours,
        x,
        target=targets,
        method="smoothgrad",
        noise_level=level,
        samples=samples,
        generator=cnnlab.Generator(7),
    )
    span = x.reshape(3, -1).max(1) - x.reshape(3, -1).min(1)
    noise = (
        cnnlab.Generator(7).numpy.standard_normal((3, samples, 1, 8, 8))
        * (level * span)[:, None, None, None, None]
    )
    noisy = (x[:, None] + noise).astype(np.float32).reshape(15, 1, 8, 8)
    grad, _ = torch_input_grad(theirs, noisy, np.repeat(targets, samples))
    np.testing.assert_allclose(got, grad.reshape(3, samples, 1, 8, 8).mean(1), rtol=1e-5, atol=1e-6)
    # without noise it is the plain gradient
    np.testing.assert_allclose(
        vis.smoothgrad(ours, x, targets, noise_level=0.0, samples=2),
        vis.saliency(ours, x, targets),
        rtol=1e-6,
    )


def test_integrated_gradients_match_pytorch_with_the_same_baseline_and_steps(nets, x):
    ours, theirs = nets
    targets = np.array([0, 1, 2])
    steps, baseline = 16, np.float32(0.25)
    got, delta = vis.integrated_gradients(ours, x, targets, baseline=baseline, steps=steps, return_delta=True)
    alphas = np.linspace(0, 1, steps + 1)
    path = (baseline + alphas[None, :, None, None, None] * (x[:, None] - baseline)).astype(np.float32)
    grad, logits = torch_input_grad(theirs, path.reshape(-1, 1, 8, 8), np.repeat(targets, steps + 1))
    grad = grad.reshape(3, steps + 1, 1, 8, 8)
    trapezoid = (grad[:, :-1] + grad[:, 1:]).sum(1) / (2 * steps)
    expected = (x - baseline) * trapezoid
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    scores = logits.reshape(3, steps + 1, 3)[np.arange(3), :, targets]  # (3, steps + 1)
    np.testing.assert_allclose(
        delta, expected.reshape(3, -1).sum(1) - (scores[:, -1] - scores[:, 0]), atol=1e-5
    )


def test_occlusion_matches_a_slow_pytorch_loop(nets, x):
    ours, theirs = nets
    targets = np.array([2, 1, 0])
    patch, stride, baseline = 3, 2, 0.5
    got = vis.occlusion(ours, x, target=targets, patch=patch, stride=stride, baseline=baseline, batch_size=7)
    with torch.no_grad():
        clean = torch.softmax(theirs(torch.from_numpy(x)), 1).numpy()[np.arange(3), targets]
        total, count = np.zeros((3, 8, 8)), np.zeros((8, 8))
        for y in [0, 2, 4, 5]:  # the last patch moved in to touch the edge
            for x0 in [0, 2, 4, 5]:
                hidden = x.copy()
                hidden[:, :, y : y + patch, x0 : x0 + patch] = baseline
                probs = torch.softmax(theirs(torch.from_numpy(hidden)), 1).numpy()[np.arange(3), targets]
                total[:, y : y + patch, x0 : x0 + patch] += (clean - probs)[:, None, None]
                count[y : y + patch, x0 : x0 + patch] += 1
    assert got.shape == (3, 8, 8) and got.dtype == np.float32
    np.testing.assert_allclose(got, total / count, atol=1e-6)


def test_occlusion_takes_one_baseline_per_channel():
    model = nn.Sequential(nn.Conv2d(2, 1, 1, bias=False), nn.Flatten(), nn.Linear(16, 2))
    model[0].weight.data[...] = np.array([1.0, -1.0], np.float32).reshape(1, 2, 1, 1)
    x = np.zeros((1, 2, 4, 4), np.float32)
    # hiding with (1, 1) changes no conv output (1 - 1 = 0), so nothing drops
    np.testing.assert_allclose(
        vis.occlusion(model, x, 0, patch=2, stride=2, baseline=[1.0, 1.0]), 0, atol=1e-7
    )
    assert np.abs(vis.occlusion(model, x, 0, patch=2, stride=2, baseline=[1.0, 0.0])).max() > 0


def test_feature_maps_and_filters_are_the_layers_outputs_and_weights(nets, x):
    ours, theirs = nets
    maps = vis.feature_maps(ours, x)
    assert list(maps) == ["0", "2", "3"]
    with torch.no_grad():
        expected = {"0": theirs[0](torch.from_numpy(x))}
        expected["2"] = theirs[2](theirs[1](expected["0"]))
        expected["3"] = theirs[3](expected["2"])
    for name, value in expected.items():
        np.testing.assert_allclose(maps[name], value.numpy(), rtol=1e-5, atol=1e-6)
    assert list(vis.feature_maps(ours, x, "4")) == ["4"]
    np.testing.assert_array_equal(vis.filters(ours, "3"), theirs[3].weight.detach().numpy())
    np.testing.assert_array_equal(vis.filters(ours), theirs[0].weight.detach().numpy())
