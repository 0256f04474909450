"""Property tests over random shapes and arguments: output shapes follow the textbook formula
floor((n + 2p - d(k-1) - 1)/s) + 1, and either the result matches PyTorch or both refuse."""

import numpy as np
import torch
import torch.nn.functional as TF
from harness import assert_close
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cnnlab
import cnnlab.nn.functional as F

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def textbook(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def run_both(ours, theirs, x, *extra):
    """(ours, theirs) outputs, or the exception each raised."""
    results = []
    for fn, wrap in ((ours, cnnlab.tensor), (theirs, torch.from_numpy)):
        try:
            results.append(fn(wrap(x), *(wrap(e) for e in extra)))
        except (ValueError, TypeError, RuntimeError, IndexError) as error:
            results.append(error)
    return results


@st.composite
def conv_cases(draw):
    nd = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cin = groups * draw(st.integers(1, 2))
    cout = groups * draw(st.integers(1, 2))
    size = tuple(draw(st.integers(1, 7)) for _ in range(nd))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    stride = draw(st.integers(1, 3))
    padding = draw(st.one_of(st.integers(0, 3), st.just("same"), st.just("valid")))
    dilation = draw(st.integers(1, 2))
    batch = draw(st.integers(1, 2))
    return nd, (batch, cin) + size, (cout, cin // groups) + kernel, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


@SETTINGS
@given(conv_cases())
def test_conv_shape_formula_and_parity(case):
    nd, x_shape, w_shape, kw = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    name = f"conv{nd}d"
    ours, theirs = run_both(
        lambda a, b: getattr(F, name)(a, b, **kw), lambda a, b: getattr(TF, name)(a, b, **kw), x, w
    )
    if isinstance(theirs, Exception):
        if kw["padding"] == "same" and kw["stride"] > 1 and "strided" in str(theirs):
            # our documented extension: TensorFlow's rule, output ceil(n / s)
            assert not isinstance(ours, Exception), ours
            assert ours.shape[2:] == tuple(-(-n // kw["stride"]) for n in x_shape[2:])
            return
        assert isinstance(ours, Exception), f"PyTorch refused ({theirs}) but cnnlab gave shape {ours.shape}"
        return
    assert not isinstance(ours, Exception), f"cnnlab refused ({ours}) but PyTorch gave shape {tuple(theirs.shape)}"
    if isinstance(kw["padding"], int):
        expected = tuple(textbook(n, k, kw["stride"], kw["padding"], kw["dilation"]) for n, k in zip(x_shape[2:], w_shape[2:]))
        assert ours.shape[2:] == expected
    assert_close(ours, theirs)


@st.composite
def pool_cases(draw):
    nd = draw(st.integers(1, 3))
    size = tuple(draw(st.integers(1, 8)) for _ in range(nd))
    kernel = draw(st.integers(1, 4))
    stride = draw(st.one_of(st.none(), st.integers(1, 3)))
    padding = draw(st.integers(0, 2))
    dilation = draw(st.integers(1, 2))
    ceil_mode = draw(st.booleans())
    kind = draw(st.sampled_from(["max", "avg"]))
    return nd, kind, (2, 2) + size, dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode), dilation


@SETTINGS
@given(pool_cases())
def test_pool_shape_formula_and_parity(case):
    nd, kind, x_shape, kw, dilation = case
    if kind == "max":
        kw = dict(kw, dilation=dilation)
    x = np.random.default_rng(1).standard_normal(x_shape).astype(np.float32)
    name = f"{kind}_pool{nd}d"
    ours, theirs = run_both(lambda a: getattr(F, name)(a, **kw), lambda a: getattr(TF, name)(a, **kw), x)
    if isinstance(theirs, Exception):
        assert isinstance(ours, Exception), f"PyTorch refused ({theirs}) but cnnlab gave shape {ours.shape}"
        return
    assert not isinstance(ours, Exception), f"cnnlab refused ({ours}) but PyTorch gave shape {tuple(theirs.shape)}"
    if not kw["ceil_mode"]:
        s = kw["stride"] or kw["kernel_size"]
        expected = tuple(textbook(n, kw["kernel_size"], s, kw["padding"], kw.get("dilation", 1)) for n in x_shape[2:])
        assert ours.shape[2:] == expected
    assert_close(ours, theirs)


@SETTINGS
@given(st.integers(1, 3), st.lists(st.integers(1, 9), min_size=3, max_size=3), st.lists(st.integers(1, 5), min_size=3, max_size=3))
def test_adaptive_pool_parity(nd, size, out):
    x = np.random.default_rng(2).standard_normal((1, 2) + tuple(size[:nd])).astype(np.float32)
    for kind in ("avg", "max"):
        name = f"adaptive_{kind}_pool{nd}d"
        ours, theirs = run_both(lambda a: getattr(F, name)(a, tuple(out[:nd])), lambda a: getattr(TF, name)(a, tuple(out[:nd])), x)
        assert_close(ours, theirs)
