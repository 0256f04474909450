"""Winograd's F(2×2, 3×3) path for 3×3 stride-1 convolutions: against PyTorch, the im2col path and
finite differences, and only where it is meant to run."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from harness import check_against_torch, check_gradients, noncontiguous

import cnnlab
import cnnlab.nn.functional as F

pytest.importorskip("numba", reason="the Winograd path runs on the compiled kernels")
from cnnlab.nn.functional import conv, winograd, winograd_kernels  # (imports Numba)


@pytest.fixture
def transforms(monkeypatch):
    """Compiled kernels on; returns the list of transforms called (their names), as they are called."""
    before = cnnlab.get_compiled()
    cnnlab.set_compiled(True)
    calls = []
    for name in ("input_transform", "output_transform", "gradient_transform"):
        kernel = getattr(winograd_kernels, name)
        monkeypatch.setattr(winograd_kernels, name, lambda *a, _k=kernel, _n=name: calls.append(_n) or _k(*a))
    yield calls
    cnnlab.set_compiled(before)


CASES = [  # (x shape, out channels, padding): odd sizes cut the last tile short
    ((2, 16, 8, 8), 16, 1),
    ((3, 16, 9, 7), 20, 1),
    ((1, 24, 11, 10), 16, 0),
    ((2, 16, 5, 6), 16, 2),
    ((2, 32, 12, 12), 48, (1, 2)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,out_channels,padding", CASES)
def test_winograd_convolution_and_gradients_match_torch(shape, out_channels, padding, dtype, transforms, rng):
    """Against PyTorch in float64: every output and gradient within 2e-6 of its largest magnitude in
    float32 (PyTorch's own float32 convolution is within 2e-6 of it; an element of a weight gradient
    summed from terms of magnitude 30 may be 3e-5 off either way, over the harness's atol of 1e-5)."""
    x = rng.standard_normal(shape).astype(dtype)
    w = (rng.standard_normal((out_channels, shape[1], 3, 3)) * 0.2).astype(dtype)
    b = rng.standard_normal(out_channels).astype(dtype)
    ours = [cnnlab.tensor(a, requires_grad=True) for a in (x, w, b)]
    y = F.conv2d(*ours, padding=padding)
    upstream = rng.standard_normal(y.shape).astype(dtype)
    y.backward(cnnlab.tensor(upstream))
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (x, w, b)]
    truth = TF.conv2d(*theirs, padding=padding)
    truth.backward(torch.tensor(upstream, dtype=torch.float64))
    scale = 2e-6 if dtype == np.float32 else 1e-12
    for a, t in zip([y.detach()] + [p.grad for p in ours], [truth.detach()] + [p.grad for p in theirs], strict=True):
        assert a.dtype == dtype
        assert np.abs(a.numpy() - t.numpy()).max() <= scale * np.abs(t.numpy()).max()
    # forward, then the input gradient (one more convolution) and the weight gradient
    assert transforms.count("output_transform") >= 2 and "gradient_transform" in transforms


@pytest.mark.parametrize("shape,out_channels,padding", CASES)
def test_winograd_matches_the_im2col_path(shape, out_channels, padding, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    w = (rng.standard_normal((out_channels, shape[1], 3, 3)) * 0.2).astype(np.float32)
    results = []
    for on in (True, False):
        cnnlab.set_compiled(on)
        try:
            xt, wt = cnnlab.tensor(x, requires_grad=True), cnnlab.tensor(w, requires_grad=True)
            y = F.conv2d(xt, wt, padding=padding)
            y.backward(cnnlab.tensor(np.cos(np.arange(y.numel(), dtype=np.float32)).reshape(y.shape)))
            results.append([y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()])
        finally:
            cnnlab.set_compiled(True)
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5)


def test_winograd_with_padding_of_two_different_sides_matches_im2col(rng):
    """Asymmetric padding (as PyTorch's 'same' gives even kernels) reaches the functions directly."""
    cnnlab.set_compiled(True)
    x = rng.standard_normal((2, 16, 9, 8)).astype(np.float32)
    w = (rng.standard_normal((16, 16, 3, 3)) * 0.2).astype(np.float32)
    pads = ((0, 2), (2, 1))
    assert winograd.serves(x, w, (1, 1), pads, (1, 1), 1)
    y = winograd.convolve(x, w, pads)
    np.testing.assert_allclose(y, _im2col(lambda: conv.convolve(x, w, (1, 1), pads, (1, 1), 1, None)),
                               rtol=1e-4, atol=2e-5)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    np.testing.assert_allclose(winograd.convolve_transpose(dy, w, pads, x.shape[2:]),
                               _im2col(lambda: conv.convolve_transpose(dy, w, (1, 1), pads, (1, 1), 1, x.shape[2:])),
                               rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(winograd.correlate_weight(x, dy, pads),
                               _im2col(lambda: conv.correlate_weight(x, dy, (3, 3), (1, 1), pads, (1, 1), 1)),
                               rtol=1e-4, atol=1e-4)


def _im2col(fn):
    """fn() with the compiled kernels off: the im2col path."""
    cnnlab.set_compiled(False)
    try:
        return fn()
    finally:
        cnnlab.set_compiled(True)


def test_winograd_takes_non_contiguous_inputs(transforms, rng):
    x = noncontiguous(rng.standard_normal((2, 16, 10, 9)).astype(np.float32))
    w = noncontiguous((rng.standard_normal((16, 16, 3, 3)) * 0.2).astype(np.float32))
    check_against_torch(lambda a, b: F.conv2d(a, b, padding=1), lambda a, b: TF.conv2d(a, b, padding=1), [x, w])
    assert "input_transform" in transforms


def test_transposed_convolution_with_stride_1_takes_winograd(transforms, rng):
    x = rng.standard_normal((2, 16, 9, 9)).astype(np.float32)
    w = (rng.standard_normal((16, 24, 3, 3)) * 0.2).astype(np.float32)  # (in, out, 3, 3)
    check_against_torch(lambda a, b: F.conv_transpose2d(a, b, padding=1),
                        lambda a, b: TF.conv_transpose2d(a, b, padding=1), [x, w])
    assert "output_transform" in transforms


def test_winograd_gradients_match_finite_differences(transforms, rng):
    x = rng.standard_normal((1, 16, 6, 6))
    w = rng.standard_normal((16, 16, 3, 3)) * 0.2
    check_gradients(lambda a, b: F.conv2d(a, b, padding=1), [x, w])
    assert "gradient_transform" in transforms


@pytest.mark.parametrize("kw,shape,out_channels", [
    (dict(stride=2, padding=1), (2, 16, 8, 8), 16),
    (dict(dilation=2, padding=2), (2, 16, 8, 8), 16),
    (dict(groups=2, padding=1), (2, 32, 8, 8), 32),
    (dict(padding=3), (2, 16, 8, 8), 16),  # more padding than the tiles allow for
    (dict(padding=1), (2, 15, 8, 8), 16),  # too few channels for the 16 products
    (dict(padding=1), (2, 256, 8, 8), 256),  # too few outputs per channel: the products re-read U
])
def test_winograd_leaves_other_convolutions_to_im2col(kw, shape, out_channels, transforms, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    groups = kw.get("groups", 1)
    w = (rng.standard_normal((out_channels, shape[1] // groups, 3, 3)) * 0.1).astype(np.float32)
    F.conv2d(cnnlab.tensor(x), cnnlab.tensor(w), **kw)
    assert transforms == []  # (a backward may still meet a 3×3 stride-1 convolution Winograd takes)
    check_against_torch(lambda a, b: F.conv2d(a, b, **kw), lambda a, b: TF.conv2d(a, b, **kw), [x, w])


def test_winograd_leaves_other_kernels_and_dtypes_alone(transforms, rng):
    F.conv2d(cnnlab.ones(1, 16, 8, 8), cnnlab.ones(16, 16, 5, 5), padding=2)
    F.conv2d(cnnlab.ones(1, 16, 8, 8, dtype=cnnlab.float16), cnnlab.ones(16, 16, 3, 3, dtype=cnnlab.float16), padding=1)
    F.conv1d(cnnlab.ones(1, 16, 64), cnnlab.ones(16, 16, 3), padding=1)
    cnnlab.set_compiled(False)
    F.conv2d(cnnlab.ones(1, 16, 8, 8), cnnlab.ones(16, 16, 3, 3), padding=1)
    assert transforms == []


def test_the_transformed_kernel_is_g_w_gt(rng):
    w = rng.standard_normal((3, 2, 3, 3))
    G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
    U = winograd._kernel_transform(w)
    for o in range(3):
        for c in range(2):
            np.testing.assert_allclose(U[:, o, c].reshape(4, 4), G @ w[o, c] @ G.T, rtol=1e-12)


def test_one_tile_by_the_definition():
    """A 4×4 input, a 3×3 kernel and no padding: the 2×2 output is the plain sum of products."""
    cnnlab.set_compiled(True)
    x = np.arange(16 * 16, dtype=np.float64).reshape(1, 16, 4, 4) % 7 - 3
    w = np.arange(16 * 16 * 9, dtype=np.float64).reshape(16, 16, 3, 3) % 5 - 2
    expected = np.einsum("cij,ocij->o", x[0, :, :3, :3], w)
    y = winograd.convolve(x, w, ((0, 0), (0, 0)))
    np.testing.assert_allclose(y[0, :, 0, 0], expected, rtol=1e-12)
    expected_last = np.einsum("cij,ocij->o", x[0, :, 1:, 1:], w)
    np.testing.assert_allclose(y[0, :, 1, 1], expected_last, rtol=1e-12)
