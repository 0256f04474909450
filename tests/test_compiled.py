"""cnnlab.compiled: the switch, and the compiled kernels (max pooling, ReLU and its gradient,
training-mode batch norm, convolutions' columns, biases) against the NumPy path and PyTorch.

The pooling tests (tests/nn/functional/test_pool.py) already run every case both ways against
PyTorch, and the activation tests ReLU's edge cases; these check that the compiled path is really the one taken where it should be, and that its
numbers are exactly the NumPy path's on the awkward inputs (ties, NaN, infinities, padding).
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import cnnlab
import cnnlab.nn.functional as F
from cnnlab import compiled
from cnnlab.nn.functional import pool

numba = pytest.importorskip("numba", reason="the compiled kernels need Numba")
from cnnlab.nn.functional import activation_kernels, norm_kernels, pool_kernels  # (imports Numba)


@pytest.fixture
def restore_compiled():
    before = cnnlab.get_compiled()
    yield
    cnnlab.set_compiled(before)


def test_set_compiled_switches_and_reports(restore_compiled):
    assert cnnlab.set_compiled(False) is False and cnnlab.get_compiled() is False
    assert compiled.kernels("pool_kernels") is None
    assert cnnlab.set_compiled(True) is True and cnnlab.get_compiled() is True
    assert compiled.kernels("pool_kernels") is pool_kernels


def test_set_compiled_rejects_a_non_bool():
    with pytest.raises(TypeError, match=r"set_compiled: expected enabled to be True or False, got 1"):
        cnnlab.set_compiled(1)


def test_set_compiled_without_numba_says_what_to_install(restore_compiled, monkeypatch):
    monkeypatch.setattr(compiled, "_numba_installed", lambda: False)
    with pytest.raises(ModuleNotFoundError, match=r"need Numba, which is not installed: pip install 'cnnlab\[fast\]'"):
        cnnlab.set_compiled(True)
    assert cnnlab.set_compiled(False) is False


def test_without_numba_the_default_is_numpy(restore_compiled, monkeypatch):
    monkeypatch.setattr(compiled, "_numba_installed", lambda: False)
    monkeypatch.setattr(compiled, "_enabled", None)  # not yet decided, as in a fresh process
    assert cnnlab.get_compiled() is False
    out = F.max_pool2d(cnnlab.arange(16.0).reshape(1, 1, 4, 4), 2)
    assert out.tolist() == [[[[5.0, 7.0], [13.0, 15.0]]]]


@pytest.mark.parametrize("setting,expected", [(None, "True"), ("0", "False"), ("1", "True")])
def test_the_environment_variable_decides_at_the_first_op(setting, expected):
    env = {k: v for k, v in os.environ.items() if k != "CNNLAB_COMPILED"}
    if setting is not None:
        env["CNNLAB_COMPILED"] = setting
    code = ("import sys, cnnlab, cnnlab.nn.functional as F\n"
            "before = 'numba' in sys.modules\n"
            "F.max_pool2d(cnnlab.ones(1, 1, 4, 4), 2)\n"
            "print(before, cnnlab.get_compiled(), 'cnnlab.nn.functional.pool_kernels' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    # Numba is never imported by `import cnnlab`, only by the first op that uses it
    assert done.stdout.split() == ["False", expected, expected]


@pytest.mark.parametrize("kw,taken", [
    (dict(kernel_size=2), True),
    (dict(kernel_size=(2, 2), stride=2, padding=1), True),
    (dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), True),
    (dict(kernel_size=3, stride=1, padding=1), True),
    (dict(kernel_size=2, dilation=2), False),  # dilated
    (dict(kernel_size=(3, 2), stride=(2, 1)), False),  # not square
    (dict(kernel_size=4, stride=4), False),  # no kernel for this window
])
def test_the_compiled_path_serves_its_windows_only(kw, taken, restore_compiled, monkeypatch):
    calls = []
    forward = pool_kernels.max_pool_forward
    monkeypatch.setattr(pool_kernels, "max_pool_forward", lambda *a: calls.append(a[1:3]) or forward(*a))
    cnnlab.set_compiled(True)
    F.max_pool2d(cnnlab.ones(2, 3, 8, 8), **kw)
    assert bool(calls) == taken
    F.max_pool2d(cnnlab.ones(2, 3, 8, 8, dtype=cnnlab.float16), **kw)  # a dtype the kernels do not take
    F.max_pool1d(cnnlab.ones(2, 3, 8), 2)  # 1-D pools stay in NumPy
    assert len(calls) == int(taken)


def _awkward(shape, dtype, rng):
    """Small integers (many ties), a NaN, infinities, and an all -inf window."""
    x = rng.integers(-3, 4, size=shape).astype(dtype)
    x.flat[rng.choice(x.size, 3, replace=False)] = [np.nan, np.inf, -np.inf]
    x[0, 0, :3, :3] = -np.inf
    return x


def _run(x, upstream, kw, on):
    cnnlab.set_compiled(on)
    t = cnnlab.tensor(x, requires_grad=True)
    out, idx = F.max_pool2d(t, return_indices=True, **kw)
    out.backward(cnnlab.tensor(upstream))
    return out.detach().numpy(), idx.numpy(), t.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", [
    dict(kernel_size=2),
    dict(kernel_size=2, padding=1),
    dict(kernel_size=2, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=3, stride=1, padding=1),
    dict(kernel_size=3, stride=1),
])
def test_compiled_equals_numpy_and_torch_bit_for_bit(kw, dtype, restore_compiled, rng):
    x = _awkward((3, 4, 9, 7), dtype, rng)
    shape = F.max_pool2d(cnnlab.tensor(x), **kw).shape
    upstream = rng.standard_normal(shape).astype(dtype)
    upstream.flat[:2] = [np.inf, np.nan]  # non-finite gradients must reach only their winners
    ours, numpy_path = _run(x, upstream, kw, True), _run(x, upstream, kw, False)
    np.testing.assert_array_equal(ours[0], numpy_path[0])  # the maxima
    np.testing.assert_array_equal(ours[1], numpy_path[1])  # their indices
    if kw.get("stride", kw["kernel_size"]) == kw["kernel_size"]:  # windows side by side: one term each
        np.testing.assert_array_equal(ours[2], numpy_path[2])
    else:
        # where windows overlap, an input may win several: the compiled loop adds their gradients in
        # output order, as PyTorch does, and matches it bit for bit; NumPy adds them per kernel offset
        t = torch.tensor(x, requires_grad=True)
        TF.max_pool2d(t, **kw).backward(torch.from_numpy(upstream))
        np.testing.assert_array_equal(ours[2], t.grad.numpy())
        np.testing.assert_allclose(numpy_path[2], ours[2], rtol=1e-6, atol=1e-6)


def test_compiled_takes_non_contiguous_input_and_gradient(restore_compiled, rng):
    x = rng.standard_normal((4, 6, 8, 10)).astype(np.float32).transpose(1, 0, 3, 2)  # (6, 4, 10, 8), strided
    upstream = np.broadcast_to(np.float32(1.5), (6, 4, 5, 4))  # stride-0 gradient
    ours, numpy_path = _run(x, upstream, dict(kernel_size=2), True), _run(x, upstream, dict(kernel_size=2), False)
    for a, b in zip(ours, numpy_path):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kernel", ["max_pool_forward", "max_pool_backward"])
def test_a_kernel_refuses_a_window_it_was_not_compiled_for(kernel):
    a = np.zeros((1, 4, 4), np.float32)
    w = np.zeros((1, 1, 1), np.int8)
    args = (a, 5, 5, a[:, :1, :1], w) if kernel == "max_pool_forward" else (a[:, :1, :1], w, 5, 5, a)
    with pytest.raises(ValueError, match=f"{kernel}: no compiled kernel for this window"):
        getattr(pool_kernels, kernel)(*args)


def test_pool_module_lists_the_dtypes_the_kernels_take():
    assert pool._compiled_kernels(np.dtype(np.float32), (2, 2), (2, 2), (1, 1)) is pool_kernels
    assert pool._compiled_kernels(np.dtype(np.float16), (2, 2), (2, 2), (1, 1)) is None


def test_a_numba_that_fails_to_load_turns_the_kernels_off_with_a_warning(restore_compiled, monkeypatch):
    import importlib

    def broken(name):
        raise ImportError("Numba needs NumPy 2.3 or less")

    cnnlab.set_compiled(True)
    monkeypatch.setattr(compiled, "_loaded", {})
    monkeypatch.setattr(importlib, "import_module", broken)
    with pytest.warns(UserWarning, match=r"compiled kernels turned off, as Numba failed to load \(Numba needs NumPy"):
        out = F.max_pool2d(cnnlab.arange(16.0).reshape(1, 1, 4, 4), 2)
    assert out.tolist() == [[[[5.0, 7.0], [13.0, 15.0]]]]
    assert cnnlab.get_compiled() is False


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_relu_gradient_equals_numpy_and_torch_bit_for_bit(dtype, restore_compiled, rng):
    x = rng.standard_normal((5, 3, 7, 6)).astype(dtype)
    x.flat[:6] = [0.0, -0.0, np.nan, np.inf, -np.inf, 1.0]
    upstream = rng.standard_normal(x.shape).astype(dtype)
    upstream.flat[:8] = [np.inf, np.nan, 1.0, 2.0, np.inf, np.nan, -np.inf, 3.0]  # non-finite at dead inputs too
    upstream = upstream.transpose(0, 1, 3, 2).copy().transpose(0, 1, 3, 2)  # a non-contiguous gradient
    grads = []
    for on in (True, False):
        cnnlab.set_compiled(on)
        t = cnnlab.tensor(x, requires_grad=True)
        F.relu(t).backward(cnnlab.tensor(upstream))
        grads.append(t.grad.numpy())
    theirs = torch.tensor(x, requires_grad=True)
    torch.relu(theirs).backward(torch.from_numpy(np.ascontiguousarray(upstream)))
    np.testing.assert_array_equal(grads[0], theirs.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_relu_is_np_maximum_bit_for_bit_on_both_paths(dtype, layout, restore_compiled, rng):
    x = rng.standard_normal((3, 5, 130, 107)).astype(dtype)  # 208,650 values: four runs of shared zeros, one short
    x.flat[:6] = [0.0, -0.0, np.nan, np.inf, -np.inf, 1.0]
    t = cnnlab.tensor(x)
    if layout == "transposed":  # a view: the input reaches ReLU non-contiguous
        t, x = t.transpose(2, 3), x.transpose(0, 1, 3, 2)
    expected = np.maximum(x, dtype(0))
    for on in (True, False):
        cnnlab.set_compiled(on)
        out = F.relu(t).numpy()
        np.testing.assert_array_equal(_bits(out), _bits(expected))  # NaN's bits and 0's sign too
    np.testing.assert_array_equal(out, torch.relu(torch.from_numpy(x)).numpy())  # (-0 -> 0 here, -0 in PyTorch)


def _bits(a):
    return np.ascontiguousarray(a).view(np.uint8)


def test_relu_of_integers_and_float16_stays_on_numpy(restore_compiled, monkeypatch):
    monkeypatch.setattr(activation_kernels, "relu", lambda *a: pytest.fail("compiled ReLU for a dtype it lacks"))
    cnnlab.set_compiled(True)
    assert F.relu(cnnlab.tensor([[-3, 0, 4]])).tolist() == [[0, 0, 4]]
    assert F.relu(cnnlab.tensor([-1.5, 2.5], dtype=cnnlab.float16)).tolist() == [0.0, 2.5]


def test_the_compiled_relu_is_the_one_taken(restore_compiled, monkeypatch):
    calls = []
    forward = activation_kernels.relu
    monkeypatch.setattr(activation_kernels, "relu", lambda x, out: calls.append(x.dtype) or forward(x, out))
    cnnlab.set_compiled(True)
    F.relu(cnnlab.ones(2, 3))
    F.relu(cnnlab.ones(3, 2).T)  # non-contiguous: NumPy
    F.relu(cnnlab.ones(2, 3, dtype=cnnlab.float64))
    cnnlab.set_compiled(False)
    F.relu(cnnlab.ones(2, 3))
    assert calls == [np.dtype(np.float32), np.dtype(np.float64)]


def test_the_compiled_relu_gradient_is_the_one_taken(restore_compiled, monkeypatch):
    calls = []
    backward = activation_kernels.relu_backward
    monkeypatch.setattr(activation_kernels, "relu_backward", lambda *a: calls.append(a[0].dtype) or backward(*a))
    cnnlab.set_compiled(True)
    F.relu(cnnlab.ones(2, 3, requires_grad=True)).sum().backward()
    F.relu(cnnlab.ones(2, 3, dtype=cnnlab.float16, requires_grad=True)).sum().backward()  # not compiled for
    assert calls == [np.dtype(np.float32)]


def _batch_norm(x, upstream, affine, needs_input_grad=True):
    t = cnnlab.tensor(x, requires_grad=needs_input_grad)
    C = x.shape[1]
    w = cnnlab.tensor(np.linspace(0.5, 2, C, dtype=x.dtype), requires_grad=True) if affine else None
    b = cnnlab.tensor(np.linspace(-1, 1, C, dtype=x.dtype), requires_grad=True) if affine else None
    mean, var = cnnlab.zeros(C, dtype=x.dtype), cnnlab.ones(C, dtype=x.dtype)
    out = F.batch_norm(t, mean, var, w, b, training=True)
    out.backward(cnnlab.tensor(upstream))
    grads = [p.grad.numpy() for p in (t, w, b) if p is not None and p.requires_grad]
    return [out.detach().numpy(), mean.numpy(), var.numpy(), *grads]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", [(6, 5, 7, 3), (4, 3, 10), (2, 4, 3, 4, 5)])
def test_compiled_batch_norm_matches_numpy_and_torch(shape, affine, dtype, restore_compiled, rng):
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    upstream = rng.standard_normal(shape).astype(dtype)
    cnnlab.set_compiled(True)
    ours = _batch_norm(x, upstream, affine)
    cnnlab.set_compiled(False)
    numpy_path = _batch_norm(x, upstream, affine)
    t = torch.tensor(x, requires_grad=True)
    C = shape[1]
    w = torch.tensor(np.linspace(0.5, 2, C, dtype=dtype), requires_grad=True) if affine else None
    b = torch.tensor(np.linspace(-1, 1, C, dtype=dtype), requires_grad=True) if affine else None
    mean, var = torch.zeros(C, dtype=t.dtype), torch.ones(C, dtype=t.dtype)
    out = TF.batch_norm(t, mean, var, w, b, training=True)
    out.backward(torch.from_numpy(upstream))
    theirs = [out.detach().numpy(), mean.numpy(), var.numpy(), *(p.grad.numpy() for p in (t, w, b) if p is not None)]
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for a, n, th in zip(ours, numpy_path, theirs, strict=True):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, th, rtol=tol, atol=tol)
        np.testing.assert_allclose(a, n, rtol=tol, atol=tol)


def test_compiled_batch_norm_without_input_gradient_and_with_nan(restore_compiled, rng):
    x = rng.standard_normal((4, 3, 5, 5)).astype(np.float32)
    x[1, 2, 3, 3] = np.nan  # its channel's statistics and outputs become NaN, the others stay finite
    upstream = rng.standard_normal(x.shape).astype(np.float32)
    cnnlab.set_compiled(True)
    ours = _batch_norm(x, upstream, affine=True, needs_input_grad=False)
    cnnlab.set_compiled(False)
    numpy_path = _batch_norm(x, upstream, affine=True, needs_input_grad=False)
    assert len(ours) == 5  # output, running mean and var, weight and bias gradients
    assert np.isnan(ours[0][:, 2]).all() and np.isfinite(ours[0][:, :2]).all()
    for a, n in zip(ours, numpy_path, strict=True):
        np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-5)


def test_the_compiled_batch_norm_serves_spatial_inputs_only(restore_compiled, monkeypatch):
    calls = []
    forward = norm_kernels.batch_norm_forward
    monkeypatch.setattr(norm_kernels, "batch_norm_forward", lambda *a: calls.append(a[0].shape) or forward(*a))
    cnnlab.set_compiled(True)
    F.batch_norm(cnnlab.ones(4, 3, 2, 2), None, None, training=True)
    F.batch_norm(cnnlab.ones(4, 3), None, None, training=True)  # 1-D features: NumPy's products are faster
    F.batch_norm(cnnlab.ones(4, 3, 2, 2, dtype=cnnlab.float16), None, None, training=True)
    assert calls == [(4, 3, 4)]


@pytest.mark.parametrize("setting,expected", [("1", "True True"), ("0", "False False")])
def test_load_brings_every_kernel_in_before_the_first_op(setting, expected):
    env = {**os.environ, "CNNLAB_COMPILED": setting}
    code = ("import sys, cnnlab\n"
            "on = cnnlab.compiled.load()\n"
            "names = ('pool_kernels', 'activation_kernels', 'norm_kernels', 'winograd_kernels',"
            " 'depthwise_kernels', 'col2im_kernels', 'im2col_kernels', 'bias_kernels')\n"
            "print(on, all(f'cnnlab.nn.functional.{n}' in sys.modules for n in names), 'numba' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split() == expected.split() + [expected.split()[0]]


def test_the_compiled_depthwise_convolution_serves_2d_depthwise_layers_only(restore_compiled, monkeypatch):
    from cnnlab.nn.functional import depthwise_kernels

    calls = []
    for name in ("depthwise_forward", "depthwise_weight"):
        kernel = getattr(depthwise_kernels, name)
        monkeypatch.setattr(depthwise_kernels, name, lambda *a, _k=kernel, _n=name: calls.append(_n) or _k(*a))
    cnnlab.set_compiled(True)
    x, w = cnnlab.ones(2, 4, 6, 6, requires_grad=True), cnnlab.ones(4, 1, 3, 3, requires_grad=True)
    F.conv2d(x, w, padding=1, groups=4).sum().backward()  # forward, input gradient (flipped), weight gradient
    assert calls == ["depthwise_forward", "depthwise_forward", "depthwise_weight"]
    calls.clear()
    F.conv1d(cnnlab.ones(2, 4, 6), cnnlab.ones(4, 1, 3), groups=4)
    F.conv2d(cnnlab.ones(2, 4, 6, 6), cnnlab.ones(4, 2, 3, 3), groups=2)  # grouped, not depthwise
    assert calls == []


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", [
    dict(padding=1),
    dict(stride=2, padding=(2, 0), dilation=(1, 2)),
    dict(padding="same"),
])
def test_compiled_depthwise_matches_numpy_and_torch(kw, dtype, restore_compiled, rng):
    x = rng.standard_normal((3, 4, 9, 10)).astype(dtype)
    w = rng.standard_normal((8, 1, 3, 4)).astype(dtype)  # multiplier 2, a kernel wider than tall
    b = rng.standard_normal(8).astype(dtype)
    upstream = None
    results = []
    for on in (True, False):
        cnnlab.set_compiled(on)
        ts = [cnnlab.tensor(a, requires_grad=True) for a in (x, w, b)]
        y = F.conv2d(*ts, groups=4, **kw)
        upstream = rng.standard_normal(y.shape).astype(dtype) if upstream is None else upstream
        y.backward(cnnlab.tensor(upstream))
        results.append([y.detach().numpy()] + [t.grad.numpy() for t in ts])
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    y = TF.conv2d(*theirs, groups=4, **kw)
    y.backward(torch.from_numpy(upstream))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for ours, numpy_path, t in zip(results[0], results[1], [y.detach()] + [p.grad for p in theirs], strict=True):
        np.testing.assert_allclose(ours, t.numpy(), rtol=tol, atol=tol)
        np.testing.assert_allclose(ours, numpy_path, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nd, x_shape, w_shape, kw", [
    (2, (5, 6, 14, 14), (16, 6, 5, 5), {}),  # LeNet-5's second layer
    (2, (3, 4, 9, 11), (12, 2, 3, 4), dict(padding=(2, 1), dilation=(1, 2), groups=2)),
    (1, (2, 3, 30), (8, 3, 7), dict(padding=3)),
    (3, (2, 2, 6, 7, 5), (8, 2, 3, 3, 2), dict(padding=1)),
])
def test_compiled_col2im_is_numpy_bit_for_bit_and_matches_torch(nd, x_shape, w_shape, kw, dtype, restore_compiled,
                                                                monkeypatch, rng):
    from cnnlab.nn.functional import col2im_kernels

    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    conv = getattr(F, f"conv{nd}d")
    upstream = rng.standard_normal(conv(cnnlab.tensor(x), cnnlab.tensor(w), **kw).shape).astype(dtype)
    upstream.flat[:3] = [np.nan, np.inf, -np.inf]
    calls = []
    add_runs = col2im_kernels.add_runs
    monkeypatch.setattr(col2im_kernels, "add_runs", lambda *a: calls.append(a[0].shape) or add_runs(*a))
    grads = []
    for on in (True, False):
        cnnlab.set_compiled(on)
        t = cnnlab.tensor(x, requires_grad=True)
        with np.errstate(invalid="ignore"):  # (inf - inf in the sums, as in PyTorch's)
            conv(t, cnnlab.tensor(w), **kw).backward(cnnlab.tensor(upstream))
        grads.append(t.grad.numpy())
    assert len(calls) >= 1  # taken on the compiled path, once per block of samples
    np.testing.assert_array_equal(_bits(grads[0]), _bits(grads[1]))
    finite = rng.standard_normal(upstream.shape).astype(dtype)
    theirs = torch.tensor(x, requires_grad=True)
    getattr(TF, f"conv{nd}d")(theirs, torch.from_numpy(w), **kw).backward(torch.from_numpy(finite))
    cnnlab.set_compiled(True)
    ours = cnnlab.tensor(x, requires_grad=True)
    conv(ours, cnnlab.tensor(w), **kw).backward(cnnlab.tensor(finite))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=tol, atol=tol)


def test_the_compiled_col2im_serves_the_flat_input_gradient_only(restore_compiled, monkeypatch):
    from cnnlab.nn.functional import col2im_kernels

    calls = []
    monkeypatch.setattr(col2im_kernels, "add_runs", lambda *a: calls.append(a[0].shape))
    cnnlab.set_compiled(True)
    F.conv2d(cnnlab.ones(2, 16, 8, 8, requires_grad=True), cnnlab.ones(4, 16, 5, 5)).sum().backward()  # flipped
    F.conv2d(cnnlab.ones(2, 2, 8, 8, requires_grad=True), cnnlab.ones(4, 2, 5, 5), stride=2).sum().backward()
    F.conv2d(cnnlab.ones(2, 2, 8, 8, dtype=cnnlab.float16, requires_grad=True),
             cnnlab.ones(4, 2, 5, 5, dtype=cnnlab.float16)).sum().backward()
    assert calls == []
    F.conv2d(cnnlab.ones(2, 2, 8, 8, requires_grad=True), cnnlab.ones(4, 2, 5, 5)).sum().backward()
    assert calls == [(1, 25, 2, 2 * 68)]  # (groups, offsets, channels, samples · (8·8 + a tail of 4))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape, kernel, pads, dilation", [
    ((3, 6, 14, 14), (5, 5), ((0, 0), (0, 0)), (1, 1)),  # LeNet-5's second layer: rows of 10, one block each
    ((2, 1, 28, 28), (5, 5), ((2, 2), (2, 2)), (1, 1)),  # its first: rows of 28, a block of 16 and one of 12
    ((2, 2, 4, 20), (3, 5), ((0, 0), (0, 0)), (1, 1)),  # rows of exactly 16
    ((1, 2, 3, 36), (1, 5), ((0, 0), (0, 0)), (1, 1)),  # rows of 32, one kernel row
    ((2, 3, 9, 35), (3, 1), ((1, 1), (0, 0)), (1, 1)),  # rows of 35: three blocks, the last of 3
    ((2, 2, 12, 18), (3, 2), ((1, 0), (0, 3)), (2, 3)),  # uneven padding, dilation
    ((2, 3, 5, 5), (5, 5), ((0, 0), (0, 0)), (1, 1)),  # one output
])
def test_compiled_columns_are_numpy_s_column_matrix_bit_for_bit(x_shape, kernel, pads, dilation, dtype, rng):
    from cnnlab.nn.functional import conv, im2col_kernels

    x = rng.standard_normal(x_shape).astype(dtype)
    x.flat[:3] = [np.nan, np.inf, -0.0]
    expected = conv.im2col(conv.pad_spatial(x, pads), kernel, (1, 1), dilation).reshape(len(x), -1)
    N, C = x_shape[:2]
    padded = conv.pad_spatial(x, pads)
    size = padded[0, 0].size
    source = np.full((N, C, size + im2col_kernels.SPARE), 7.0, dtype=dtype)  # spare values that must not show
    source[:, :, :size] = padded.reshape(N, C, size)
    cols = np.full((N, expected.shape[1] + im2col_kernels.SPARE), 5.0, dtype=dtype)
    out_sizes = tuple(n - d * (k - 1) for n, k, d in zip(padded.shape[2:], kernel, dilation))
    im2col_kernels.columns(source, padded.shape[3], kernel, dilation, out_sizes, cols)
    np.testing.assert_array_equal(_bits(cols[:, : expected.shape[1]]), _bits(expected))


def test_the_compiled_columns_serve_thin_2d_stride_1_layers_only(restore_compiled, monkeypatch):
    from cnnlab.nn.functional import im2col_kernels

    calls = []
    columns = im2col_kernels.columns
    monkeypatch.setattr(im2col_kernels, "columns", lambda *a: calls.append(a[-1].shape) or columns(*a))
    cnnlab.set_compiled(True)
    x = cnnlab.ones(2, 6, 14, 14, requires_grad=True)
    F.conv2d(x, cnnlab.ones(16, 6, 5, 5, requires_grad=True)).sum().backward()
    assert calls == [(2, 150 * 100 + 16)] * 2  # the forward pass and the weight gradient, one block each
    calls.clear()
    F.conv2d(x, cnnlab.ones(16, 6, 5, 5, requires_grad=True), stride=2).sum().backward()
    F.conv2d(x, cnnlab.ones(16, 6, 1, 1, requires_grad=True)).sum().backward()  # the input is its own columns
    F.conv2d(cnnlab.ones(2, 16, 8, 8), cnnlab.ones(4, 16, 5, 5, requires_grad=True)).sum().backward()  # C·K = 400
    F.conv1d(cnnlab.ones(2, 3, 20), cnnlab.ones(4, 3, 5, requires_grad=True)).sum().backward()
    F.conv3d(cnnlab.ones(2, 3, 5, 5, 5), cnnlab.ones(4, 3, 3, 3, 3, requires_grad=True)).sum().backward()
    half = cnnlab.float16
    F.conv2d(cnnlab.zeros(2, 6, 14, 14, dtype=half), cnnlab.ones(16, 6, 5, 5, dtype=half, requires_grad=True)).sum().backward()
    cnnlab.set_compiled(False)
    F.conv2d(x, cnnlab.ones(16, 6, 5, 5, requires_grad=True)).sum().backward()
    assert calls == []


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape, w_shape, kw", [
    ((5, 1, 28, 28), (6, 1, 5, 5), dict(padding=2)),  # LeNet-5's layers
    ((5, 6, 14, 14), (16, 6, 5, 5), {}),
    ((3, 4, 9, 11), (12, 2, 3, 4), dict(padding=(2, 1), dilation=(1, 2), groups=2)),
    ((2, 3, 10, 9), (300, 3, 3, 3), dict(padding="same")),  # 300 filters: the weight gradient as one product
])
def test_convolutions_over_compiled_columns_match_numpy_and_torch(x_shape, w_shape, kw, dtype, restore_compiled, rng):
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    upstream = rng.standard_normal(TF.conv2d(torch.from_numpy(x), torch.from_numpy(w), **kw).shape).astype(dtype)
    results = []
    for on in (True, False):
        cnnlab.set_compiled(on)
        tensors = [cnnlab.tensor(a, requires_grad=True) for a in (x, w, b)]
        out = F.conv2d(*tensors, **kw)
        out.backward(cnnlab.tensor(upstream))
        results.append([out.detach().numpy()] + [t.grad.numpy() for t in tensors])
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    out = TF.conv2d(*theirs, **kw)
    out.backward(torch.from_numpy(upstream))
    tol = 1e-4 if dtype == np.float32 else 1e-11  # (sums of hundreds of products of about 1)
    for compiled_, numpy_, torch_ in zip(results[0], results[1], [out.detach().numpy()] + [t.grad.numpy() for t in theirs]):
        np.testing.assert_allclose(compiled_, numpy_, rtol=tol, atol=tol)
        np.testing.assert_allclose(compiled_, torch_, rtol=tol, atol=tol)


# --------------------------------------------------------------------------------------------------
# a bias added to a layer's outputs (bias_kernels)


def _awkward_sums(rng, shape, dtype):
    """Values with NaN, ±inf, -0 and numbers whose sums with the bias round."""
    a = (rng.standard_normal(shape) * 1e3).astype(dtype)
    flat = a.reshape(-1)
    flat[: min(4, flat.size)] = np.array([np.nan, np.inf, -np.inf, -0.0], dtype=dtype)[: min(4, flat.size)]
    return a


@pytest.mark.parametrize("dtype,bias_dtype", [(np.float32, np.float32), (np.float64, np.float64), (np.float32, np.float64)])
@pytest.mark.parametrize("shape", [(1, 6, 784), (3, 16, 100), (2, 5, 1), (2, 3, 17)])
def test_the_bias_kernels_add_bit_for_bit_as_numpy(shape, dtype, bias_dtype):
    from cnnlab.nn.functional import bias_kernels

    rng = np.random.default_rng(0)
    out = _awkward_sums(rng, shape, dtype)
    bias = _awkward_sums(rng, shape[1:2], bias_dtype)[::-1].copy()  # NaN and inf in the last channels
    with np.errstate(invalid="ignore"):  # inf + -inf: NaN, on both sides
        expected = out + bias.reshape(-1, 1)
    bias_kernels.add_to_channels(out, bias)
    assert out.dtype == dtype
    np.testing.assert_array_equal(_bits(out), _bits(expected.astype(dtype)))
    rows = _awkward_sums(rng, shape[:1] + (shape[1] * 3,), dtype)
    bias = _awkward_sums(rng, rows.shape[1:], bias_dtype)[::-1].copy()
    with np.errstate(invalid="ignore"):
        expected = rows + bias
    bias_kernels.add_to_features(rows, bias)
    np.testing.assert_array_equal(_bits(rows), _bits(expected.astype(dtype)))


def test_the_bias_kernels_serve_per_sample_convolutions_and_linear_layers(restore_compiled, monkeypatch):
    from cnnlab.nn.functional import bias_kernels

    calls = []
    for name in ("add_to_channels", "add_to_features"):
        kernel = getattr(bias_kernels, name)
        monkeypatch.setattr(bias_kernels, name, lambda out, b, _k=kernel, _n=name: calls.append((_n, out.shape)) or _k(out, b))
    cnnlab.set_compiled(True)
    x, w, b = cnnlab.ones(2, 6, 14, 14), cnnlab.ones(16, 6, 5, 5), cnnlab.ones(16)
    F.conv2d(x, w, b)  # LeNet-5's second layer: products per sample, in place
    F.conv2d(x, w)  # no bias
    F.conv2d(cnnlab.ones(2, 16, 8, 8), cnnlab.ones(16, 16, 5, 5), b)  # C·K = 400: one product per block
    F.linear(cnnlab.ones(3, 4), cnnlab.ones(5, 4), cnnlab.ones(5))
    F.linear(cnnlab.ones(3, 4, dtype=cnnlab.float16), cnnlab.ones(5, 4, dtype=cnnlab.float16),
             cnnlab.ones(5, dtype=cnnlab.float16))  # not compiled for float16
    cnnlab.set_compiled(False)
    F.conv2d(x, w, b)
    F.linear(cnnlab.ones(3, 4), cnnlab.ones(5, 4), cnnlab.ones(5))
    assert calls == [("add_to_channels", (2, 16, 100)), ("add_to_features", (3, 5))]


@pytest.mark.parametrize("on", [True, False])
def test_biased_convolutions_and_linear_layers_match_pytorch_both_ways(on, restore_compiled):
    cnnlab.set_compiled(on)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 6, 14, 14)).astype(np.float32)
    w = rng.standard_normal((16, 6, 5, 5)).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    out = F.conv2d(cnnlab.tensor(x), cnnlab.tensor(w), cnnlab.tensor(b))
    expected = TF.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b))
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-5, atol=1e-4)
    h, lw, lb = (rng.standard_normal(s).astype(np.float32) for s in ((5, 400), (120, 400), (120,)))
    out = F.linear(cnnlab.tensor(h), cnnlab.tensor(lw), cnnlab.tensor(lb))
    expected = TF.linear(torch.from_numpy(h), torch.from_numpy(lw), torch.from_numpy(lb))
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-5, atol=1e-4)
