"""Convolution, transposed convolution, unfold and fold against PyTorch and finite differences."""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from harness import check_against_torch, check_gradients, noncontiguous

import cnnlab
import cnnlab.nn.functional as F

pytestmark = pytest.mark.usefixtures("kernels")  # on NumPy alone and with the compiled kernels

DTYPES = [np.float32, np.float64]

# (dims, input shape, weight shape, keyword arguments): odd and even kernels, stride, padding
# (int, tuple, 'same', 'valid'), dilation, groups (depthwise too), non-square, batch 1
CONV = [
    (1, (2, 4, 9), (6, 4, 3), {}),
    (1, (1, 4, 10), (4, 1, 4), dict(stride=2, padding=2, groups=4)),
    (1, (2, 3, 11), (5, 3, 3), dict(padding="same", dilation=3)),
    (2, (2, 3, 7, 6), (4, 3, 3, 3), {}),
    (2, (1, 4, 7, 6), (6, 2, 3, 2), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)),
    (2, (2, 6, 8, 8), (6, 1, 3, 3), dict(padding=1, groups=6)),  # depthwise
    (2, (2, 3, 9, 8), (6, 1, 3, 3), dict(stride=2, padding=2, dilation=2, groups=3)),  # depthwise, multiplier 2
    (2, (2, 3, 8, 7), (5, 3, 4, 4), dict(padding="same")),  # even kernel: odd leftover after
    (2, (1, 3, 8, 8), (5, 3, 3, 3), dict(padding="same", dilation=2)),
    (2, (2, 3, 5, 5), (4, 3, 1, 1), dict(padding="valid")),
    (2, (2, 2, 9, 9), (3, 2, 5, 5), dict(stride=3, padding=2)),
    (3, (2, 2, 5, 6, 4), (3, 2, 2, 3, 2), dict(padding=1, dilation=(2, 1, 1))),
    (3, (1, 4, 5, 5, 5), (4, 2, 3, 3, 3), dict(stride=2, groups=2, padding=1)),
    # depthwise with stride 1 runs over flat windows: every dim count, dilation, multiplier, uneven pads
    (1, (2, 3, 12), (6, 1, 3), dict(padding=2, dilation=2, groups=3)),
    (2, (2, 4, 7, 9), (8, 1, 4, 2), dict(padding="same", groups=4)),
    (2, (1, 2, 9, 6), (2, 1, 3, 3), dict(dilation=(2, 1), groups=2)),
    (3, (2, 3, 4, 5, 6), (3, 1, 3, 2, 3), dict(padding=(1, 0, 2), dilation=(1, 2, 1), groups=3)),
    # pointwise (1×1, stride 1): the input is its own column matrix, forward and both gradients
    (1, (2, 6, 7), (3, 6, 1), {}),
    (2, (2, 2, 5, 6), (8, 2, 1, 1), {}),  # expanding: the input gradient goes the W^T·y way
    (2, (2, 4, 5, 6), (6, 2, 1, 1), dict(groups=2)),
]

TRANSPOSED = [
    (1, (2, 2, 7), (2, 3, 4), dict(stride=3, padding=1, output_padding=1, dilation=2)),
    (1, (1, 4, 5), (4, 1, 3), dict(groups=4)),
    (2, (2, 4, 5, 6), (4, 3, 3, 2), dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2)),
    (2, (1, 3, 4, 4), (3, 2, 4, 4), dict(stride=2, padding=1)),
    (2, (2, 2, 3, 5), (2, 2, 3, 3), dict(dilation=2, padding=2)),
    (3, (1, 2, 3, 4, 3), (2, 2, 2, 3, 2), dict(stride=2)),
    (2, (2, 4, 3, 5), (4, 3, 1, 1), dict(groups=2)),  # pointwise
    (1, (2, 2, 2), (2, 1, 1), dict(output_padding=1, dilation=2)),  # 1×1 kernel, output one longer
    # stride 1 with few output channels: W^T·y added back over flat runs (output_padding < dilation too)
    (1, (2, 5, 6), (5, 2, 3), dict(dilation=2, padding=1)),
    (2, (2, 6, 4, 5), (6, 2, 3, 2), dict(dilation=2, output_padding=1, padding=(1, 0))),
    (3, (1, 4, 3, 4, 3), (4, 1, 2, 3, 2), dict(padding=(0, 1, 0))),
]


def _conv_fns(name, kw):
    ours, theirs = getattr(F, name), getattr(TF, name)
    return (lambda x, w, b: ours(x, w, b, **kw)), (lambda x, w, b: theirs(x, w, b, **kw))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nd,x_shape,w_shape,kw", CONV)
def test_conv_matches_torch(nd, x_shape, w_shape, kw, dtype, rng):
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    ours, theirs = _conv_fns(f"conv{nd}d", kw)
    check_against_torch(ours, theirs, [x, w, b])
    check_against_torch(ours, theirs, [noncontiguous(x), w, b])


# each product that has two routes, forced down each: the forward (and the flipped convolution of the
# input gradient) as one product per block or per sample, the weight gradient likewise
ROUTES = [("_THIN_KERNEL", 0), ("_THIN_KERNEL", 1 << 30), ("_SMALL_GRADIENT", 0), ("_SMALL_GRADIENT", 1 << 30)]


@pytest.mark.parametrize("setting,value", ROUTES, ids=["one-product", "per-sample", "dw-one-product", "dw-per-sample"])
@pytest.mark.parametrize("nd,x_shape,w_shape,kw", CONV)
def test_conv_by_either_route_matches_torch(nd, x_shape, w_shape, kw, setting, value, rng, monkeypatch):
    from cnnlab.nn.functional import conv as conv_module

    monkeypatch.setattr(conv_module, setting, value)
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    check_against_torch(*_conv_fns(f"conv{nd}d", kw), [x, w, rng.standard_normal(w_shape[0])])


@pytest.mark.parametrize("nd,x_shape,w_shape,kw", CONV[::3])
def test_conv_without_bias_and_unbatched(nd, x_shape, w_shape, kw, rng):
    x = rng.standard_normal(x_shape[1:]).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    name = f"conv{nd}d"
    check_against_torch(
        lambda x, w: getattr(F, name)(x, w, **kw), lambda x, w: getattr(TF, name)(x, w, **kw), [x, w]
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nd,x_shape,w_shape,kw", TRANSPOSED)
def test_conv_transpose_matches_torch(nd, x_shape, w_shape, kw, dtype, rng):
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[1] * kw.get("groups", 1)).astype(dtype)
    ours, theirs = _conv_fns(f"conv_transpose{nd}d", kw)
    check_against_torch(ours, theirs, [x, w, b])


@pytest.mark.parametrize(
    "fn,shapes",
    [
        (lambda x, w: F.conv1d(x, w, stride=2, padding=1, dilation=2), [(1, 2, 7), (3, 2, 3)]),
        (lambda x, w: F.conv2d(x, w, stride=2, padding=1, groups=2), [(1, 2, 5, 4), (2, 1, 3, 2)]),
        (lambda x, w: F.conv2d(x, w, padding="same"), [(1, 1, 4, 5), (2, 1, 2, 2)]),
        (lambda x, w: F.conv3d(x, w, padding=(1, 0, 1)), [(1, 1, 3, 3, 3), (1, 1, 2, 2, 2)]),
        (lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1), [(1, 2, 3, 3), (2, 2, 3, 3)]),
        (lambda x, w: F.conv_transpose1d(x, w, stride=3, dilation=2, groups=2), [(1, 2, 3), (2, 1, 2)]),
    ],
)
def test_conv_finite_differences(fn, shapes, rng):
    check_gradients(fn, [rng.standard_normal(s) for s in shapes])


def test_same_padding_with_stride_follows_tensorflow():
    # n=7, k=3, s=2: out = ceil(7/2) = 4, total pad = max(2*3 + 3 - 7, 0) = 2 -> (1, 1)
    x = cnnlab.ones(1, 1, 7, 7)
    out = F.conv2d(x, cnnlab.ones(1, 1, 3, 3), stride=2, padding="same")
    assert out.shape == (1, 1, 4, 4)
    expected = TF.conv2d(torch.ones(1, 1, 7, 7), torch.ones(1, 1, 3, 3), stride=2, padding=1)
    np.testing.assert_array_equal(out.data, expected.numpy())
    # n=8, k=3, s=2: out 4, total pad = max(6 + 3 - 8, 0) = 1 -> (0, 1): the odd pixel goes after
    out = F.conv2d(cnnlab.ones(1, 1, 8, 8), cnnlab.ones(1, 1, 3, 3), stride=2, padding="same")
    expected = TF.conv2d(TF.pad(torch.ones(1, 1, 8, 8), (0, 1, 0, 1)), torch.ones(1, 1, 3, 3), stride=2)
    np.testing.assert_array_equal(out.data, expected.numpy())


def test_conv2d_worked_example():
    x = cnnlab.arange(9.0).reshape(1, 1, 3, 3)
    w = cnnlab.tensor([[[[0.0, 1.0], [2.0, 3.0]]]])
    # 0*0 + 1*1 + 3*2 + 4*3 = 19, and so on
    assert F.conv2d(x, w).tolist() == [[[[19.0, 25.0], [37.0, 43.0]]]]


def test_conv_keeps_float32():
    out = F.conv2d(cnnlab.ones(1, 2, 5, 5), cnnlab.ones(3, 2, 3, 3), cnnlab.ones(3))
    assert out.dtype == np.float32


@pytest.mark.parametrize("dtype", DTYPES)
def test_unfold_fold_match_torch(dtype, rng):
    kw = dict(dilation=(1, 2), padding=1, stride=(2, 1))
    x = rng.standard_normal((2, 3, 6, 5)).astype(dtype)
    check_against_torch(lambda a: F.unfold(a, (2, 3), **kw), lambda a: TF.unfold(a, (2, 3), **kw), [x])
    cols = rng.standard_normal((2, 3 * 6, 9)).astype(dtype)
    kw = dict(padding=1, stride=2)
    check_against_torch(lambda a: F.fold(a, (5, 6), (2, 3), **kw), lambda a: TF.fold(a, (5, 6), (2, 3), **kw), [cols])
    check_gradients(lambda a: F.fold(a, (4, 4), 2, stride=1), [rng.standard_normal((1, 4, 9))])


def test_fold_of_unfold_counts_overlaps():
    x = cnnlab.ones(1, 1, 3, 3)
    counts = F.fold(F.unfold(x, 2), (3, 3), 2)
    assert counts[0, 0].tolist() == [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]


# ---- bad input: the message names the argument and the shapes ----------------------------------

ERRORS = [
    (lambda: F.conv2d(cnnlab.ones(8, 1, 28, 28), cnnlab.ones(6, 3, 5, 5)), ValueError, r"expected input .* to have 3 channels.*but got 1 channels"),
    (lambda: F.conv2d(cnnlab.ones(1, 3, 2, 2), cnnlab.ones(6, 3, 5, 5)), ValueError, r"kernel size can't be greater than the actual input size"),
    (lambda: F.conv2d(cnnlab.ones(1, 4, 8, 8), cnnlab.ones(5, 2, 3, 3), groups=2), ValueError, r"out_channels \(5.*divisible by groups \(2\)"),
    (lambda: F.conv2d(cnnlab.ones(1, 3, 8, 8), cnnlab.ones(6, 3, 3, 3), stride=0), ValueError, r"stride to be positive.*\(0, 0\)"),
    (lambda: F.conv2d(cnnlab.ones(1, 3, 8, 8), cnnlab.ones(6, 3, 3, 3), dilation=-1), ValueError, r"dilation to be positive"),
    (lambda: F.conv2d(cnnlab.ones(1, 3, 8, 8), cnnlab.ones(6, 3, 3, 3), padding=-1), ValueError, r"padding to be non-negative"),
    (lambda: F.conv2d(cnnlab.ones(1, 3, 8, 8), cnnlab.ones(6, 3, 3, 3), padding="full"), ValueError, r"padding must be .*'valid' or 'same', got 'full'"),
    (lambda: F.conv2d(cnnlab.ones(3, 8), cnnlab.ones(6, 3, 3, 3)), ValueError, r"3-D \(unbatched\) or 4-D \(batched\) input, got a 2-D input of shape \(3, 8\)"),
    (lambda: F.conv2d(cnnlab.ones(1, 3, 8, 8), cnnlab.ones(6, 3, 3)), ValueError, r"4-D weight .* got weight of shape \(6, 3, 3\)"),
    (lambda: F.conv2d(cnnlab.ones(1, 3, 8, 8), cnnlab.ones(6, 3, 3, 3), cnnlab.ones(5)), ValueError, r"bias of shape \(6,\).*got \(5,\)"),
    (lambda: F.conv2d(cnnlab.ones(1, 3, 8, 8), cnnlab.ones(6, 3, 3, 3, dtype=cnnlab.float64)), TypeError, r"same dtype"),
    (lambda: F.conv2d(cnnlab.ones(1, 3, 8, 8), cnnlab.ones(6, 3, 3, 3), stride=(1, 2, 3)), TypeError, r"stride to be an int or a tuple of 2 ints"),
    (lambda: F.conv2d(np.ones((1, 3, 8, 8)), cnnlab.ones(6, 3, 3, 3)), TypeError, r"input to be a Tensor, got ndarray"),
    (lambda: F.conv_transpose2d(cnnlab.ones(1, 3, 4, 4), cnnlab.ones(4, 2, 3, 3)), ValueError, r"to have 4 channels \(weight.shape\[0\]\), but got 3"),
    (lambda: F.conv_transpose2d(cnnlab.ones(1, 4, 4, 4), cnnlab.ones(4, 2, 3, 3), stride=2, output_padding=2), ValueError, r"output_padding must be smaller than either stride or dilation"),
    (lambda: F.conv_transpose2d(cnnlab.ones(1, 3, 4, 4), cnnlab.ones(3, 2, 3, 3), groups=2), ValueError, r"in_channels \(3\) must be divisible by groups \(2\)"),
    (lambda: F.unfold(cnnlab.ones(1, 1, 3, 3), 5), ValueError, r"does not fit the padded input"),
    (lambda: F.fold(cnnlab.ones(1, 5, 9), (4, 4), 2), ValueError, r"divisible by the product of kernel_size \(4\)"),
    (lambda: F.fold(cnnlab.ones(1, 4, 8), (4, 4), 2), ValueError, r"number of sliding blocks 3 \* 3 = 9, but got 8"),
]


@pytest.mark.parametrize("call,error,message", ERRORS)
def test_conv_errors_name_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---- against the textbook loops of tests/reference.py ----------------------------------------

@pytest.mark.parametrize("nd,x_shape,w_shape,kw", [c for c in CONV if not isinstance(c[3].get("padding"), str)])
def test_conv_matches_the_definition(nd, x_shape, w_shape, kw, rng):
    import reference

    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    ours = getattr(F, f"conv{nd}d")(cnnlab.tensor(x), cnnlab.tensor(w), cnnlab.tensor(b), **kw)
    np.testing.assert_allclose(ours.data, reference.conv(x, w, b, **kw), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    "fn,channels",
    [
        (lambda F_, x, w: F_.conv2d(x, w, padding=1), 6),  # C·K = 54: per-sample products
        (lambda F_, x, w: F_.conv2d(x, w, padding=1), 32),  # C·K = 288: one product per block
        (lambda F_, x, w: F_.conv2d(x, w[:, : w.shape[1] // 2], stride=2, groups=2), 6),
        (lambda F_, x, w: F_.conv2d(x, w[:, : w.shape[1] // 2], stride=2, groups=2), 64),
        (lambda F_, x, w: F_.conv_transpose2d(x, w[:, :4], stride=2), 6),
        (lambda F_, x, w: F_.conv_transpose2d(x, w[:, :2], padding=1), 6),  # stride 1: flat runs
    ],
    ids=["conv-thin", "conv-wide", "grouped-thin", "grouped-wide", "transposed-col2im", "transposed-flat"],
)
def test_blocks_of_samples_and_unkept_workspaces_give_the_same_numbers(fn, channels, rng, monkeypatch):
    from cnnlab.nn.functional import conv as conv_module

    # force many small blocks, and buffers too large to keep: the batch is split 11 ways
    monkeypatch.setattr(conv_module, "_BLOCK_BYTES", channels * 9 * 36 * 4)
    monkeypatch.setattr(conv_module, "_budget", lambda weight_bytes: conv_module._BLOCK_BYTES)
    monkeypatch.setattr(conv_module, "_KEEP_BYTES", 1024)
    x = rng.standard_normal((11, channels, 6, 6)).astype(np.float32)
    w = (rng.standard_normal((channels, channels, 3, 3)) / channels).astype(np.float32)
    check_against_torch(lambda x, w: fn(F, x, w), lambda x, w: fn(TF, x, w), [x, w])


def test_blocks_of_a_deep_layer_hold_twice_its_weights_of_columns():
    from cnnlab import parallel
    from cnnlab.nn.functional import conv as conv_module

    weights = 512 * 512 * 9 * 4  # ResNet-18's last 3×3 layer: 9 MB of weights, 4×4 pixels
    assert conv_module._budget(weights) == 2 * weights
    assert conv_module._budget(64 * 64 * 9 * 4) == conv_module._BLOCK_BYTES  # a 64-channel layer: cache-sized
    per_sample = 512 * 9 * 16 * 4
    before = parallel.get_num_threads()
    parallel.set_num_threads(1)
    try:
        assert conv_module.sample_blocks(32, per_sample, conv_module._budget(weights)) == [(0, 32)]
        assert len(conv_module.sample_blocks(32, per_sample)) == 3  # 4 MB blocks: 13 samples each
    finally:
        parallel.set_num_threads(before)


@pytest.mark.parametrize("n, per_sample", [(32, 1152 * 288 * 4), (128, 288 * 840 * 4), (7, 3 << 20), (50, 1 << 20)])
def test_blocks_of_samples_give_two_threads_their_shares(n, per_sample):
    from cnnlab import parallel
    from cnnlab.nn.functional.conv import sample_blocks

    before = parallel.get_num_threads()
    parallel.set_num_threads(2)
    try:
        blocks = sample_blocks(n, per_sample)
    finally:
        parallel.set_num_threads(before)
    sizes = [b - a for a, b in blocks]
    assert blocks[0][0] == 0 and blocks[-1][1] == n and all(b == c for (_, b), (c, _) in itertools.pairwise(blocks))
    assert len(blocks) % 2 == 0 or len(blocks) == n
    if len(blocks) % 2:  # (7 samples of 3 MB: a block each)
        assert sizes == [1] * n
        return
    first, last = sizes[: len(sizes) // 2], sizes[len(sizes) // 2 :]
    assert max(first) - min(first) <= 1 and max(last) - min(last) <= 1
    # 32 samples in 12 blocks: 16 and 16, not 18 and 14; the caller's share CALLER_EXTRA bytes longer
    assert sum(first) == parallel.cuts(n, 2, n * per_sample)[1]


def test_a_convolution_s_products_count_as_work_in_splitting_it():
    from cnnlab import parallel
    from cnnlab.nn.functional import conv as conv_module

    before = parallel.get_num_threads()
    parallel.set_num_threads(2)
    try:  # LeNet-5's second layer at batch 64: 60 kB of compact columns a sample, 240 k multiply-adds
        alone = conv_module.sample_blocks(64, 60_000)
        work = conv_module._product_work(60_000, 240_000)
        with_products = conv_module.sample_blocks(64, 60_000, work_per_sample=work)
    finally:
        parallel.set_num_threads(before)
    assert alone == [(0, 64)]  # 3.8 MB: below MIN_WORK
    assert work == 60_000 + 0.3 * 240_000 and with_products == [(0, 31), (31, 64)]  # the caller 2 samples more


@pytest.mark.parametrize(
    "in_channels, out_channels, groups, kernel",
    [(4, 8, 1, 3), (4, 256, 1, 3), (4, 512, 2, 3), (3, 300, 1, 1), (2, 2, 1, 1)],
)  # gradients taken transposed (few output channels) and in their own layout (256 and more per group)
def test_weight_gradient_is_contiguous_and_matches_torch(in_channels, out_channels, groups, kernel, rng):
    x = rng.standard_normal((3, in_channels, 6, 6)).astype(np.float32)
    w = (rng.standard_normal((out_channels, in_channels // groups, kernel, kernel)) * 0.1).astype(np.float32)
    ours = cnnlab.tensor(w, requires_grad=True)
    F.conv2d(cnnlab.tensor(x), ours, padding=kernel // 2, groups=groups).sum().backward()
    theirs = torch.tensor(w, requires_grad=True)
    TF.conv2d(torch.tensor(x), theirs, padding=kernel // 2, groups=groups).sum().backward()
    assert ours.grad.numpy().flags.c_contiguous  # (the optimiser's update reads it beside the weights)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_depthwise_convolution_over_several_blocks_of_samples_matches_torch(rng):
    from cnnlab.nn.functional.conv import sample_blocks

    x = rng.standard_normal((40, 8, 40, 40)).astype(np.float32)
    w = rng.standard_normal((16, 1, 3, 3)).astype(np.float32)  # two filters per channel
    assert len(sample_blocks(40, 16 * 40 * 40 * 4, budget=1 << 20)) > 1
    check_against_torch(
        lambda x, w: F.conv2d(x, w, padding=1, groups=8), lambda x, w: TF.conv2d(x, w, padding=1, groups=8), [x, w]
    )
