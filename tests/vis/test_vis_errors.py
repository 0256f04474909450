"""What a user can get wrong in cnnlab.vis, and the messages they get: the argument, what was expected, what came."""

import numpy as np
import pytest

import cnnlab
from cnnlab import nn, vis
from cnnlab.models import lenet5, mlp

X = np.zeros((1, 1, 28, 28), np.float32)


@pytest.fixture(scope="module")
def model():
    return lenet5()


def test_inputs(model):
    with pytest.raises(
        ValueError,
        match=r"grad_cam: expected x of shape \(N, C, H, W\), got shape \(1, 28, 28\); "
        r"add a batch dimension with x\[None\]",
    ):
        vis.grad_cam(model, X[0])
    with pytest.raises(
        TypeError, match="saliency: expected x to be a Tensor or an ndarray of shape .*, got list"
    ):
        vis.saliency(model, [[0.0]])
    with pytest.raises(
        ValueError, match=r"occlusion: expected at least one image in x, got shape \(0, 1, 28, 28\)"
    ):
        vis.occlusion(model, X[:0])
    with pytest.raises(
        TypeError, match="feature_maps: expected model to be a cnnlab.nn.Module, got function"
    ):
        vis.feature_maps(lambda x: x, X)
    # integer images are taken as float32
    assert vis.feature_maps(model, X.astype(np.uint8), "features.0")["features.0"].dtype == np.float32


def test_targets(model):
    with pytest.raises(
        ValueError,
        match=r"target out of range: expected class indices in \[0, 9\] for a model "
        r"with 10 outputs, got 10",
    ):
        vis.grad_cam(model, X, target=10)
    with pytest.raises(ValueError, match="expected 2 targets \\(one per image\\), got 3"):
        vis.saliency(model, np.zeros((2, 1, 28, 28), np.float32), target=[1, 2, 3])
    with pytest.raises(
        ValueError, match="expected target to be None, a class index or one index per image, got 1.5"
    ):
        vis.occlusion(model, X, target=1.5)
    with pytest.raises(
        ValueError, match="grad_cam: expected the model to return logits of shape \\(N, classes\\)"
    ):
        vis.grad_cam(nn.Sequential(nn.Conv2d(1, 2, 3)), X, layer="0")


def test_layers(model):
    with pytest.raises(
        ValueError, match="grad_cam: unknown layer 'features.9'; available: features, features.0, features.1"
    ):
        vis.grad_cam(model, X, layer="features.9")
    with pytest.raises(ValueError, match="feature_maps: unknown layer 'conv1'; available: features"):
        vis.feature_maps(model, X, ["features.0", "conv1"])
    with pytest.raises(
        ValueError,
        match=r"expected layer 'classifier.1' to output \(N, K, h, w\) feature maps, "
        r"got shape \(1, 120\)",
    ):
        vis.grad_cam(model, X, layer="classifier.1")
    with pytest.raises(
        ValueError, match="grad_cam: the model has no Conv2d layer with a spatial output; pass layer="
    ):
        vis.grad_cam(mlp(in_features=784), X)

    class Unused(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.spare, self.fc = nn.Conv2d(1, 2, 3), nn.Conv2d(1, 1, 1), nn.Linear(2 * 26 * 26, 3)

        def forward(self, x):
            return self.fc(self.conv(x).flatten(1))

    unused = Unused()
    with pytest.raises(
        ValueError, match="feature_maps: layer 'spare' did not run in the model's forward pass"
    ):
        vis.feature_maps(unused, X, "spare")
    with pytest.raises(
        ValueError,
        match="filters: expected layer to name a Conv2d, got 'features.1' \\(ReLU\\); "
        "Conv2d layers: features.0, features.3",
    ):
        vis.filters(model, "features.1")


def test_methods_and_options(model):
    with pytest.raises(
        ValueError,
        match="grad_cam: unknown method 'gradcam\\+'; expected one of gradcam, gradcam\\+\\+, hirescam",
    ):
        vis.grad_cam(model, X, method="gradcam+")
    with pytest.raises(
        ValueError,
        match="saliency: unknown method 'deconvnet'; expected one of gradient, "
        "gradient_x_input, smoothgrad, integrated_gradients",
    ):
        vis.saliency(model, X, method="deconvnet")
    with pytest.raises(TypeError, match="method 'gradient' takes no option 'steps'; its options: batch_size"):
        vis.saliency(model, X, steps=10)
    with pytest.raises(ValueError, match="smoothgrad: expected noise_level >= 0 .*, got -0.1"):
        vis.saliency(model, X, method="smoothgrad", noise_level=-0.1)
    with pytest.raises(ValueError, match="smoothgrad: expected samples to be a positive integer, got 0"):
        vis.smoothgrad(model, X, samples=0)
    with pytest.raises(
        ValueError,
        match=r"integrated_gradients: expected baseline to be a number or an array "
        r"broadcastable to \(1, 1, 28, 28\), got shape \(3,\)",
    ):
        vis.integrated_gradients(model, X, baseline=np.zeros(3))
    with pytest.raises(
        ValueError, match="occlusion: expected patch no larger than the image \\(28×28\\), got patch 29×29"
    ):
        vis.occlusion(model, X, patch=29)
    with pytest.raises(ValueError, match="occlusion: expected stride to be a positive integer, got 0"):
        vis.occlusion(model, X, stride=0)
    with pytest.raises(
        ValueError,
        match=r"occlusion: expected baseline to be a number or 1 numbers \(one per "
        r"channel\), got \[0.0, 1.0\]",
    ):
        vis.occlusion(model, X, baseline=[0.0, 1.0])


def test_maximize_arguments(model):
    with pytest.raises(
        ValueError, match="maximize: channel out of range: layer 'features.0' has 6 channels, got channel 6"
    ):
        vis.maximize(model, "features.0", [0, 6], steps=1)
    with pytest.raises(
        ValueError, match="maximize: channel out of range: the model's output has 10 channels, got channel 12"
    ):
        vis.maximize(model, None, 12, steps=1)
    with pytest.raises(
        ValueError, match="expected channel to be a non-negative int or a list of them, got -1"
    ):
        vis.maximize(model, "features.0", -1)
    with pytest.raises(
        ValueError, match="expected channel to be a non-negative int or a list of them, got \\[\\]"
    ):
        vis.maximize(model, "features.0", [])
    with pytest.raises(ValueError, match="maximize: unknown layer 'features.7'"):
        vis.maximize(model, "features.7", 0)
    with pytest.raises(
        ValueError, match=r"expected value_range \(low, high\) with low < high, got \(1.0, 0.0\)"
    ):
        vis.maximize(model, "features.0", 0, value_range=(1.0, 0.0))
    with pytest.raises(ValueError, match="expected scale >= 1 .*, got 0.5"):
        vis.maximize(model, "features.0", 0, scale=0.5)
    with pytest.raises(ValueError, match="maximize: expected steps to be a positive integer, got 0"):
        vis.maximize(model, "features.0", 0, steps=0)
    assert all(not m._forward_hooks for m in model.modules())  # no hook left behind by the failures


def test_rank_correlation_and_helpers():
    assert vis.rank_correlation(np.arange(5.0), np.arange(5.0) ** 3) == pytest.approx(1.0)
    assert vis.rank_correlation(np.arange(5.0), -np.arange(5.0)) == pytest.approx(-1.0)
    assert vis.rank_correlation(np.ones(4), np.arange(4.0)) == 0.0  # a flat map ranks nothing
    assert vis.patch_positions(8, 3, 2) == [0, 2, 4, 5]
    np.testing.assert_allclose(
        vis.normalize_maps(np.array([[[1.0, 1.0]], [[0.0, 2.0]]])), [[[0, 0]], [[0, 1]]]
    )
    delta = np.zeros((1, 1, 9, 9))
    delta[0, 0, 4, 4] = 1.0
    blurred = vis.gaussian_blur(delta, 1.0)  # a Gaussian bump: mass kept, symmetric, peaked at the centre
    assert blurred.sum() == pytest.approx(1.0) and np.allclose(blurred, blurred[..., ::-1, ::-1])
    assert blurred[0, 0, 4, 4] == pytest.approx(blurred.max()) and blurred[0, 0, 4, 5] == pytest.approx(
        blurred[0, 0, 4, 4] * np.exp(-0.5), rel=1e-6
    )
    assert cnnlab.vis.conv_pool_layers(lenet5()) == ["features.0", "features.2", "features.3", "features.5"]
