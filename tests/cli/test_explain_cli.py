"""``cnnlab explain`` and ``cnnlab filter`` end to end, and every error a user can make with them."""

import subprocess
import sys

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, run_cli
from PIL import Image

from cnnlab import explain
from cnnlab.cli.common import CLIError
from cnnlab.cli.explain import parse_matrix

X = "0 1 2; 3 4 5; 6 7 8"


# ------------------------------------------------------------------------------------ explain


def test_explain_prints_what_the_library_explains(capsys):
    code, out, err = run_cli(capsys, "explain", "conv2d", "--input", X, "--kernel", "0 1; 2 3")
    assert code == 0 and err == ""
    assert out == str(explain.conv([[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[0, 1], [2, 3]])) + "\n"
    assert "y[0,0] = 0×0 + 1×1 + 3×2 + 4×3 = 19" in out.splitlines()


def test_explain_with_padding_and_stride_writes_a_gif_and_a_png(capsys, tmp_path):
    gif, png = tmp_path / "conv.gif", tmp_path / "step.png"
    code, out, _ = run_cli(
        capsys,
        "explain",
        "conv2d",
        "--input",
        X,
        "--kernel",
        "0 1; 2 3",
        "--padding",
        "1",
        "--stride",
        "2",
        "--gif",
        gif,
        "--png",
        png,
        "--step",
        "1",
    )
    assert code == 0
    assert "y[0,1] = 0×0 + 0×1 + 1×2 + 2×3 = 8" in out
    assert out.splitlines()[-2:] == [f"wrote {gif}", f"wrote {png}"]
    with Image.open(gif) as image:
        assert image.n_frames == 5
    with Image.open(png) as image:
        assert (
            image.size
            == explain.draw_frame(
                explain.conv([[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[0, 1], [2, 3]], padding=1, stride=2), 1
            )[0].size
        )


def test_explain_channels_output_channels_and_bias(capsys):
    code, out, _ = run_cli(
        capsys,
        "explain",
        "conv2d",
        "--input",
        "1 2; 3 4 | 0 1; 1 0",
        "--kernel",
        "1 0; 0 1 | 1 1; 1 1 || 1 1; 0 0 | 0 0; 1 1",
        "--bias",
        "1, -2",
    )
    assert code == 0
    assert "y[0][0,0] = channel 0: 1×1 + 2×0 + 3×0 + 4×1 = 5" in out
    assert "5 + 2 + 1 (bias) = 8" in out and "3 + 1 + (-2) (bias) = 2" in out


@pytest.mark.parametrize(
    "argv, expected",
    [
        (
            ["max_pool2d", "--input", "1 3 2 0; 4 6 5 7; 8 1 0 2; 3 9 4 1", "--kernel", "2"],
            "y[1,1] = max(0, 2, [4], 1) = 4",
        ),
        (
            ["avg_pool2d", "--input", X, "--kernel", "2", "--stride", "1"],
            "y[0,0] = (0 + 1 + 3 + 4)/4 = 8/4 = 2",
        ),
        (
            ["avg_pool2d", "--input", "1 2; 3 4", "--kernel", "2", "--padding", "1", "--exclude-pad"],
            "y[0,0] = (0 + 0 + 0 + 1)/1 = 1/1 = 1",
        ),
        (
            ["max_pool1d", "--input", "1 5 2 4 3 6", "--kernel", "3", "--stride", "2", "--ceil-mode"],
            "y[2] = max(3, [6], -∞) = 6",
        ),  # ceil_mode: a last window past the end
        (
            ["conv_transpose2d", "--input", "1 2; 3 4", "--kernel", "1 0; 0 1", "--stride", "2"],
            "y[3,3] = 4×1 = 4",
        ),
        (["im2col", "--input", X, "--kernel", "0 1; 2 3"], "  x[1,1]  4 5 7 8"),
        (
            ["conv1d", "--input", "0 1 2 3 4 5", "--kernel", "1 -1", "--dilation", "2"],
            "y[3] = 3×1 + 5×(-1) = -2",
        ),
        (
            ["conv3d", "--input", "0 1; 2 3 / 4 5; 6 7", "--kernel", "1 1; 1 1 / 1 1; 1 1"],
            "y[0,0,0] = 0×1 + 1×1 + 2×1 + 3×1 + 4×1 + 5×1 + 6×1 + 7×1 = 28",
        ),
        (
            ["max_pool3d", "--input", "0 1; 2 3 / 4 5; 6 7", "--kernel", "2"],
            "y[0,0,0] = max(0, 1, 2, 3, 4, 5, 6, [7]) = 7",
        ),
    ],
)
def test_explain_every_op(capsys, argv, expected):
    code, out, _ = run_cli(capsys, "explain", *argv)
    assert code == 0 and expected in out.splitlines(), out


@pytest.mark.parametrize(
    "argv, fragments",
    [
        (
            ["conv2d", "--input", "0 1 2; 3 4", "--kernel", "1"],
            [
                "cnnlab explain: error: --input: rows of different lengths (3, 2) in '0 1 2; 3 4'; every row needs as many numbers"
            ],
        ),
        (["conv2d", "--input", "0 1; 2 x", "--kernel", "1"], ["--input: 'x' is not a number, in '0 1; 2 x'"]),
        (
            ["conv2d", "--input", "0 1;; 2 3", "--kernel", "1"],
            ["--input: an empty row in '0 1;; 2 3' (a stray ';'?)"],
        ),
        (
            ["conv2d", "--input", " ", "--kernel", "1"],
            ['--input: expected numbers such as "0 1; 2 3", got an empty string'],
        ),
        (
            ["conv2d", "--input", "1 2; 3 4 | 5 6", "--kernel", "1"],
            ["--input: the 2 parts of '1 2; 3 4 | 5 6' differ in size (2×2, 1×2); they must match"],
        ),
        (
            ["conv2d", "--input", "1 2 || 3 4", "--kernel", "1"],
            ["--input: '||' separates the output channels of a kernel only"],
        ),
        (
            ["conv1d", "--input", "1 2; 3 4", "--kernel", "1"],
            ["--input: a 1-D operand is one row of numbers, got 2 rows"],
        ),
        (
            ["conv2d", "--input", "1 2 / 3 4", "--kernel", "1"],
            ["--input: '/' separates depth slices of 3-D operands only"],
        ),
        (
            ["conv2d", "--input", "1 2; 3 4", "--kernel", "1 2 3; 4 5 6; 7 8 9"],
            ["conv2d:", "kernel size can't be greater than the actual input size"],
        ),
        (
            ["conv2d", "--input", "1 2; 3 4", "--kernel", "1 | 1"],
            ["explain.conv: the input has 1 channel(s) but the kernel of shape (1, 2, 1, 1) expects 2"],
        ),
        (
            ["conv2d", "--input", X, "--kernel", "0 1; 2 3", "--bias", "1,x"],
            ["--bias: expected comma-separated numbers, got '1,x'"],
        ),
        (
            ["conv2d", "--input", X, "--kernel", "0 1; 2 3", "--bias", "1,2"],
            ["expected bias of 1 value(s) (one per output channel), got 2"],
        ),
        (
            ["max_pool2d", "--input", X, "--kernel", "0 1; 2 3"],
            ["--kernel: pooling takes the kernel size (e.g. 2 or 2,3), got '0 1; 2 3'"],
        ),
        (["max_pool2d", "--input", X, "--kernel", "2", "--bias", "1"], ["--bias: pooling has no bias"]),
        (
            ["conv_transpose2d", "--input", X, "--kernel", "1", "--padding", "same"],
            ["--padding: a transposed convolution takes numbers, not 'same' or 'valid'"],
        ),
        (
            ["conv3d", "--input", "0 1; 2 3 / 4 5; 6 7", "--kernel", "1", "--gif", "x.gif"],
            ["--gif: 3-D explanations are text only; drop it to print conv3d"],
        ),
        (
            ["conv2d", "--input", X, "--kernel", "0 1; 2 3", "--png", "x.png", "--step", "4"],
            ["--step: expected 0 to 3 (one per output value), got 4"],
        ),
    ],
)
def test_explain_errors(capsys, argv, fragments):
    code, out, err = run_cli(capsys, "explain", *argv)
    assert_one_line_error(code, err, *fragments)
    assert out == ""


def test_explain_unknown_op_is_a_usage_error(capsys):
    code, _, err = run_cli(capsys, "explain", "conv4d", "--input", X, "--kernel", "1")
    assert code == 2 and "argument OP: invalid choice: 'conv4d'" in err


def test_parse_matrix_shapes():
    assert parse_matrix("1, 2, 3", "--input", 1).tolist() == [1, 2, 3]
    assert parse_matrix("1 2; 3 4 | 5 6; 7 8", "--input", 2).shape == (2, 2, 2)
    assert parse_matrix("1 | 2 || 3 | 4", "--kernel", 1, kernel=True).shape == (2, 2, 1)
    assert parse_matrix("1; 2 || 3; 4", "--kernel", 2, kernel=True).shape == (2, 1, 2, 1)
    assert parse_matrix("0 1; 2 3 / 4 5; 6 7", "--input", 3).shape == (2, 2, 2)
    assert parse_matrix("-1.5 2e1", "--input", 1).tolist() == [-1.5, 20.0]
    with pytest.raises(CLIError, match="--kernel: the 2 parts"):
        parse_matrix("1 || 2 3", "--kernel", 1, kernel=True)


def test_a_closed_pipe_ends_quietly():
    # far more output than a pipe holds, read one line, then close: no "Broken pipe" error
    x = "; ".join(" ".join(str((i * j) % 10) for j in range(40)) for i in range(40))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cnnlab",
            "explain",
            "conv2d",
            "--input",
            x,
            "--kernel",
            "1 2 3; 4 5 6; 7 8 9",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first = process.stdout.readline()
    process.stdout.close()
    err = process.stderr.read()
    assert process.wait(timeout=60) == 0
    assert first.startswith(b"conv2d: input 1\xc3\x9740\xc3\x9740") and err == b""


# ------------------------------------------------------------------------------------- filter


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    x = np.zeros((20, 30), dtype=np.uint8)
    x[:, 15:] = 200
    Image.fromarray(x).save(path)
    return path


def test_filter_one_kernel(capsys, photo, tmp_path):
    code, out, _ = run_cli(capsys, "filter", photo, "--kernel", "sobel-x", "--out", tmp_path / "edges.png")
    assert code == 0 and out == f"wrote {tmp_path / 'edges.png'}\n"
    with Image.open(tmp_path / "edges.png") as image:
        assert image.size == (30, 20) and np.asarray(image)[10, 13:17].tolist() == [0, 255, 255, 0]


def test_filter_several_and_all_kernels(capsys, photo, tmp_path):
    code, _, _ = run_cli(
        capsys, "filter", photo, "--kernel", "sharpen,laplacian", "--out", tmp_path / "two.png"
    )
    with Image.open(tmp_path / "two.png") as image:
        assert code == 0 and image.size == (3 * 160 + 10, 150 + 52 + 20)
    code, _, _ = run_cli(capsys, "filter", photo, "--out", tmp_path / "all.png")
    with Image.open(tmp_path / "all.png") as image:
        assert code == 0 and image.size == (4 * 160 + 10, 3 * (150 + 52 + 10) + 10)


def test_filter_lists_the_kernels(capsys):
    code, out, _ = run_cli(capsys, "filter", "--list")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 11
    assert lines[5].split() == ["sobel-x", "-1", "0", "1;", "-2", "0", "2;", "-1", "0", "1"]


@pytest.mark.parametrize(
    "argv, fragments",
    [
        (
            ["--kernel", "emboss"],
            ["cnnlab filter: error: unknown kernel 'emboss'; available: identity, box-blur"],
        ),
        ([], ["filter: give an IMAGE and --out PNG (or --list)"]),
        (["--kernel", "sobel-x", "--out", "edges.bmpx"], ["can't tell an image format from 'edges.bmpx'"]),
    ],
)
def test_filter_errors(capsys, photo, tmp_path, argv, fragments):
    extra = ["--out", tmp_path / "x.png"] if argv and "--out" not in argv else []
    code, _, err = (
        run_cli(capsys, "filter", photo, *argv, *extra) if argv else run_cli(capsys, "filter", photo)
    )
    assert_one_line_error(code, err, *fragments)


def test_filter_a_missing_or_unreadable_image(capsys, tmp_path):
    code, _, err = run_cli(
        capsys, "filter", tmp_path / "none.png", "--kernel", "sobel-x", "--out", tmp_path / "x.png"
    )
    assert_one_line_error(code, err, f"load_image: no such file '{tmp_path / 'none.png'}'")
    (tmp_path / "text.png").write_text("hello")
    code, _, err = run_cli(capsys, "filter", tmp_path / "text.png", "--out", tmp_path / "x.png")
    assert_one_line_error(code, err, "is not an image Pillow can read")
