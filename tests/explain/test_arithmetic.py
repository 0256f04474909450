"""Worked arithmetic: textbook cases to the character, and random cases against the library's own ops."""

import math
import re

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import cnnlab
from cnnlab import explain
from cnnlab.nn import functional as F

X3 = [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
K2 = [[0, 1], [2, 3]]


def evaluate(text):
    """The value of one written-out expression: '1×2 + (-3)×4', 'max(1, [6])', '(1 + 2)/2', '-∞'."""
    text = (
        text.replace("×", "*").replace("-∞", "-inf").replace("(bias)", "").replace("[", "").replace("]", "")
    )
    text = text.replace("(no input reaches here)", "")
    return eval(text, {"__builtins__": {}}, {"max": lambda *v: max(v), "inf": math.inf})


def check_written(step):
    """Every '=' of a step's expression holds, line by line, and the last number is the step's value."""
    lines = step.expression.split("\n")
    for line in lines:
        parts = re.sub(r"^channel \d+: ", "", line).split(" = ")
        values = [evaluate(p) for p in parts]
        for v in values[1:]:
            assert v == pytest.approx(values[0], rel=1e-3, abs=1e-3), line
    assert evaluate(lines[-1].split(" = ")[-1]) == pytest.approx(step.value, rel=1e-3, abs=1e-3)


# ------------------------------------------------------------------------------- textbook cases


def test_the_classic_convolution_to_the_character():
    ex = explain.conv(X3, K2)
    assert ex.steps[0].expression == "0×0 + 1×1 + 3×2 + 4×3 = 19"
    assert str(ex) == "\n".join(
        [
            "conv2d: input 1×3×3, kernel 1×1×2×2, stride 1, padding 0, dilation 1 -> output 1×2×2",
            "  H: floor((3 + 2·0 - 1·(2-1) - 1)/1) + 1 = 2",
            "  W: floor((3 + 2·0 - 1·(2-1) - 1)/1) + 1 = 2",
            "input:",
            "  0 1 2",
            "  3 4 5",
            "  6 7 8",
            "kernel:",
            "  0 1",
            "  2 3",
            "y[0,0] = 0×0 + 1×1 + 3×2 + 4×3 = 19",
            "y[0,1] = 1×0 + 2×1 + 4×2 + 5×3 = 25",
            "y[1,0] = 3×0 + 4×1 + 6×2 + 7×3 = 37",
            "y[1,1] = 4×0 + 5×1 + 7×2 + 8×3 = 43",
            "output:",
            "  19 25",
            "  37 43",
        ]
    )
    assert ex.output.tolist() == [[[19, 25], [37, 43]]]


def test_padding_and_stride_show_the_padded_input():
    ex = explain.conv(X3, K2, padding=1, stride=2)
    text = str(ex).splitlines()
    assert text[3:9] == [
        "input (zero-padded):",
        "  0 0 0 0 0",
        "  0 0 1 2 0",
        "  0 3 4 5 0",
        "  0 6 7 8 0",
        "  0 0 0 0 0",
    ]
    assert ex.lines == [
        "0×0 + 0×1 + 0×2 + 0×3 = 0",
        "0×0 + 0×1 + 1×2 + 2×3 = 8",
        "0×0 + 3×1 + 0×2 + 6×3 = 21",
        "4×0 + 5×1 + 7×2 + 8×3 = 43",
    ]
    assert ex.steps[1].input_cells == [(0, 0, 2), (0, 0, 3), (0, 1, 2), (0, 1, 3)]  # in the padded input


def test_several_channels_are_summed_per_channel_then_added_with_the_bias():
    ex = explain.conv([[[1, 2], [3, 4]], [[0, 1], [1, 0]]], [[[1, 0], [0, 1]], [[1, 1], [1, 1]]], bias=[1])
    assert ex.steps[0].expression == (
        "channel 0: 1×1 + 2×0 + 3×0 + 4×1 = 5\nchannel 1: 0×1 + 1×1 + 1×1 + 0×1 = 2\n5 + 2 + 1 (bias) = 8"
    )
    assert "y[0,0] = channel 0: 1×1 + 2×0 + 3×0 + 4×1 = 5\n         channel 1:" in str(ex)


def test_two_output_channels_label_their_rows_and_kernels():
    ex = explain.conv([[1, 2], [3, 4]], [[[[1, 0], [0, 1]]], [[[0, 1], [1, 0]]]], bias=[0.5, -1])
    assert [s.output_index for s in ex.steps] == [(0, 0, 0), (1, 0, 0)]
    assert ex.lines == ["1×1 + 2×0 + 3×0 + 4×1 + 0.5 (bias) = 5.5", "1×0 + 2×1 + 3×1 + 4×0 + (-1) (bias) = 4"]
    text = str(ex)
    assert "y[1][0,0] = 1×0 + 2×1" in text
    assert " w[1][0] (input channel 0 -> output channel 1):" in text and "bias: 0.5, -1" in text


def test_negative_numbers_are_bracketed():
    assert explain.conv([[-1, 2]], [[3, -4]], nd=2).lines == ["(-1)×3 + 2×(-4) = -11"]


def test_max_pooling_marks_the_winner():
    ex = explain.pool([[1, 3, 2, 0], [4, 6, 5, 7], [8, 1, 0, 2], [3, 9, 4, 1]], 2)
    assert ex.lines == [
        "max(1, 3, 4, [6]) = 6",
        "max(2, 0, 5, [7]) = 7",
        "max(8, 1, 3, [9]) = 9",
        "max(0, 2, [4], 1) = 4",
    ]
    assert [s.winner for s in ex.steps] == [(0, 1, 1), (0, 1, 3), (0, 3, 1), (0, 3, 2)]


def test_max_pooling_pads_with_minus_infinity_and_ties_go_to_the_first():
    ex = explain.pool([[5, 5], [1, 2]], 2, stride=1, padding=1)
    assert ex.lines[0] == "max(-∞, -∞, -∞, [5]) = 5"
    assert ex.lines[1] == "max(-∞, -∞, [5], 5) = 5"  # the library's return_indices picks the first
    assert "input (padded with -∞):" in str(ex)


def test_average_pooling_shows_the_division():
    ex = explain.pool([[1, 2, 3], [4, 5, 6], [7, 8, 9]], 2, stride=1, mode="avg")
    assert ex.lines == [
        "(1 + 2 + 4 + 5)/4 = 12/4 = 3",
        "(2 + 3 + 5 + 6)/4 = 16/4 = 4",
        "(4 + 5 + 7 + 8)/4 = 24/4 = 6",
        "(5 + 6 + 8 + 9)/4 = 28/4 = 7",
    ]


def test_average_pooling_divisor_with_and_without_the_padding():
    with_pad = explain.pool([[1, 2], [3, 4]], 2, padding=1, mode="avg")
    without = explain.pool([[1, 2], [3, 4]], 2, padding=1, mode="avg", count_include_pad=False)
    assert with_pad.lines[0] == "(0 + 0 + 0 + 1)/4 = 1/4 = 0.25"
    assert without.lines[0] == "(0 + 0 + 0 + 1)/1 = 1/1 = 1"


def test_im2col_shows_the_column_matrix_and_one_product():
    ex = explain.unfold(X3, K2)
    assert ex.columns.tolist() == [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]]
    assert ex.extra == [
        "im2col: each window becomes one column of a (4 × 4) matrix (rows: kernel offsets, columns: output "
        "positions in row-major order):",
        "  x[0,0]  0 1 3 4",
        "  x[0,1]  1 2 4 5",
        "  x[1,0]  3 4 6 7",
        "  x[1,1]  4 5 7 8",
        "weights as a (1 × 4) matrix:",
        "  0 1 2 3",
        "one matrix product: W (1×4) @ columns (4×4) = (1×4):",
        "  19 25 37 43",
        "reshaped to the output 1×2×2.",
    ]


def test_transposed_convolution_gathers_what_each_output_receives():
    ex = explain.conv_transpose([[1, 2], [3, 4]], [[1, 0], [0, 1]], stride=2)
    assert ex.output[0].tolist() == [[1, 0, 2, 0], [0, 1, 0, 2], [3, 0, 4, 0], [0, 3, 0, 4]]
    assert ex.lines[:6] == ["1×1 = 1", "1×0 = 0", "2×1 = 2", "2×0 = 0", "1×0 = 0", "1×1 = 1"]
    overlap = explain.conv_transpose([[1, 2]], [[1, 10]], nd=2)
    assert overlap.lines == ["1×1 = 1", "1×10 + 2×1 = 12", "2×10 = 20"]
    gap = explain.conv_transpose([[1, 2]], [[5]], stride=3, nd=2)
    assert gap.lines == [
        "1×5 = 5",
        "0 (no input reaches here) = 0",
        "0 (no input reaches here) = 0",
        "2×5 = 10",
    ]


def test_one_dimensional_with_dilation():
    ex = explain.conv([0, 1, 2, 3, 4, 5], [1, -1], dilation=2, nd=1)
    assert ex.lines == ["0×1 + 2×(-1) = -2", "1×1 + 3×(-1) = -2", "2×1 + 4×(-1) = -2", "3×1 + 5×(-1) = -2"]
    assert "  L: floor((6 + 2·0 - 2·(2-1) - 1)/1) + 1 = 4" in str(ex)
    assert str(ex).splitlines()[-2:] == ["output:", "  -2 -2 -2 -2"]


def test_three_dimensional_as_text():
    x = np.arange(12).reshape(3, 2, 2)
    ex = explain.conv(x, np.ones((2, 2, 2)), nd=3)
    assert ex.output.shape == (1, 2, 1, 1)
    assert ex.lines == [
        "0×1 + 1×1 + 2×1 + 3×1 + 4×1 + 5×1 + 6×1 + 7×1 = 28",
        "4×1 + 5×1 + 6×1 + 7×1 + 8×1 + 9×1 + 10×1 + 11×1 = 60",
    ]
    assert "  depth 0:" in str(ex) and "y[1,0,0] = 4×1" in str(ex)
    pooled = explain.pool(x, 2, mode="max", nd=3)
    assert pooled.lines == ["max(0, 1, 2, 3, 4, 5, 6, [7]) = 7"]


def test_fractions_are_written_with_four_significant_digits():
    ex = explain.conv([[0.5, 1 / 3]], [[2, 3]])
    assert ex.lines == ["0.5×2 + 0.3333×3 = 2"]


# ------------------------------------------------------------------ random cases against the ops

small = st.integers(-4, 4)


def arrays(shape):
    return st.lists(small, min_size=math.prod(shape), max_size=math.prod(shape)).map(
        lambda v: np.array(v, dtype=np.float64).reshape(shape)
    )


@st.composite
def conv_cases(draw):
    nd = draw(st.integers(1, 2))
    C, OC = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    d = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    p = tuple(draw(st.integers(0, 2)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    n = tuple(max(draw(st.integers(1, 6)), dd * (kk - 1) + 1 - 2 * pp) for kk, dd, pp in zip(k, d, p))
    x = draw(arrays((C, *n)))
    w = draw(arrays((OC, C, *k)))
    b = draw(st.none() | arrays((OC,)))
    return nd, x, w, b, s, p, d


@settings(max_examples=60, deadline=None)
@given(conv_cases())
def test_convolution_explanations_equal_the_library(case):
    nd, x, w, b, s, p, d = case
    ex = explain.conv(x, w, b, s, p, d, nd=nd)
    conv = getattr(F, f"conv{nd}d")
    expected = conv(
        cnnlab.tensor(x[None]), cnnlab.tensor(w), None if b is None else cnnlab.tensor(b), s, p, d
    ).data[0]
    np.testing.assert_array_equal(ex.output, expected)
    assert [s_.output_index for s_ in ex.steps] == [
        (o, *i) for o in range(w.shape[0]) for i in np.ndindex(*expected.shape[1:])
    ]
    for step in ex.steps:
        assert step.value == expected[step.output_index]
        # the highlighted cells and their weights make the value, and so does the written sum
        total = sum(ex.padded[c] * wt for c, wt in zip(step.input_cells, step.weights))
        assert total + (b[step.output_index[0]] if b is not None else 0) == step.value
        check_written(step)
    columns = explain.unfold(x, w, b, s, p, d, nd=nd)
    assert columns.columns.shape == (x.shape[0] * math.prod(w.shape[2:]), math.prod(expected.shape[1:]))
    flat = w.reshape(w.shape[0], -1) @ columns.columns + (0 if b is None else b[:, None])
    np.testing.assert_array_equal(flat, expected.reshape(w.shape[0], -1))


@st.composite
def pool_cases(draw):
    nd = draw(st.integers(1, 2))
    mode = draw(st.sampled_from(["max", "avg"]))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    p = tuple(draw(st.integers(0, kk // 2)) for kk in k)
    d = tuple(draw(st.integers(1, 2)) for _ in range(nd)) if mode == "max" else (1,) * nd
    n = tuple(draw(st.integers(dd * (kk - 1) + 1, 6)) for kk, dd in zip(k, d))
    x = draw(arrays((draw(st.integers(1, 2)), *n)))
    return nd, mode, x, k, s, p, d, draw(st.booleans()), draw(st.booleans())


@settings(max_examples=60, deadline=None)
@given(pool_cases())
def test_pooling_explanations_equal_the_library(case):
    nd, mode, x, k, s, p, d, ceil, include_pad = case
    ex = explain.pool(x, k, s, p, d, mode=mode, ceil_mode=ceil, count_include_pad=include_pad, nd=nd)
    t = cnnlab.tensor(x[None])
    if mode == "max":
        expected = getattr(F, f"max_pool{nd}d")(t, k, s, p, d, ceil_mode=ceil).data[0]
    else:
        expected = getattr(F, f"avg_pool{nd}d")(t, k, s, p, ceil, include_pad).data[0]
    np.testing.assert_array_equal(ex.output, expected)
    for step in ex.steps:
        assert step.value == expected[step.output_index]
        values = [ex.padded[c] for c in step.input_cells]
        if mode == "max":
            assert step.winner in step.input_cells and ex.padded[step.winner] == step.value == max(values)
            assert step.expression.count("[") == 1
        check_written(step)


@st.composite
def transpose_cases(draw):
    nd = draw(st.integers(1, 2))
    C, OC = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    d = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    p = tuple(draw(st.integers(0, 1)) for _ in range(nd))
    op = tuple(draw(st.integers(0, max(ss, dd) - 1)) for ss, dd in zip(s, d))
    n = tuple(draw(st.integers(2, 4)) for _ in range(nd))
    assume(
        all(
            (nn - 1) * ss - 2 * pp + dd * (kk - 1) + oo + 1 > 0
            for nn, ss, pp, dd, kk, oo in zip(n, s, p, d, k, op)
        )
    )
    x = draw(arrays((C, *n)))
    w = draw(arrays((C, OC, *k)))
    b = draw(st.none() | arrays((OC,)))
    return nd, x, w, b, s, p, op, d


@settings(max_examples=40, deadline=None)
@given(transpose_cases())
def test_transposed_convolution_explanations_equal_the_library(case):
    nd, x, w, b, s, p, op, d = case
    ex = explain.conv_transpose(x, w, b, s, p, op, d, nd=nd)
    expected = getattr(F, f"conv_transpose{nd}d")(
        cnnlab.tensor(x[None]), cnnlab.tensor(w), None if b is None else cnnlab.tensor(b), s, p, op, 1, d
    ).data[0]
    np.testing.assert_array_equal(ex.output, expected)
    for step in ex.steps:
        assert step.value == expected[step.output_index]
        total = sum(x[c] * wt for c, wt in zip(step.input_cells, step.weights))
        assert total + (b[step.output_index[0]] if b is not None else 0) == step.value
        check_written(step)


def test_float32_tensors_are_accepted_and_explained_in_float64():
    x = cnnlab.tensor(np.array([[0.1, 0.2], [0.3, 0.4]], dtype=np.float32))
    ex = explain.conv(x, [[1.0]])
    assert ex.output.dtype == np.float64 and ex.lines[0] == "0.1×1 = 0.1"


# ----------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: explain.conv([[1, 2], [3]], K2),
            "explain.conv: expected input to be a rectangular array of numbers",
        ),
        (
            lambda: explain.conv([[1, np.nan]], K2),
            "explain.conv: expected input to be a non-empty array of finite",
        ),
        (
            lambda: explain.conv([[[[1]]]], K2),
            "explain.conv: expected a 2-D input (H, W) or (C, H, W), got shape (1, 1, 1, 1)",
        ),
        (
            lambda: explain.conv(X3, [[[0, 1], [2, 3]]] * 2),
            "explain.conv: the input has 1 channel(s) but the kernel of shape (1, 2, 2, 2) expects 2",
        ),
        (
            lambda: explain.conv(X3, K2, bias=[1, 2]),
            "explain.conv: expected bias of 1 value(s) (one per output channel), got 2",
        ),
        (lambda: explain.conv([[1, 2]], K2), "kernel size can't be greater than the actual input size"),
        (lambda: explain.conv(X3, K2, nd=4), "explain.conv: expected nd to be 1, 2 or 3, got 4"),
        (
            lambda: explain.conv(np.zeros((60, 60)), np.ones((5, 5))),
            "explain.conv: writing this out takes 78,400 terms; explanations are for small examples (at most 20,000)",
        ),
        (lambda: explain.pool(X3, 2, mode="min"), "explain.pool: expected mode 'max' or 'avg', got 'min'"),
        (
            lambda: explain.pool(X3, 2, mode="avg", dilation=2),
            "explain.pool: average pooling has no dilation, got dilation=2",
        ),
        (lambda: explain.pool(X3, 2, padding=2), "pad should be at most half of the kernel size"),
        (
            lambda: explain.conv_transpose(X3, [[[1]], [[1]]], nd=2),
            "explain.conv_transpose: the input has 1 channel(s) but the kernel of shape (2, 1, 1, 1) expects 2",
        ),
    ],
)
def test_bad_operands_are_named(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)
