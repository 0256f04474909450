"""``cnnlab summary``, ``cnnlab shape`` and ``cnnlab receptive-field`` end to end, and their errors."""

import json

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, run_cli
from PIL import Image


@pytest.fixture
def run_dir(tmp_path):
    """A run directory as 'cnnlab train' starts it: the configuration, no checkpoint yet."""
    run = tmp_path / "cnn"
    run.mkdir()
    (run / "config.json").write_text(
        json.dumps({"model": "fashion_cnn", "num_classes": 10, "input_shape": [1, 28, 28]})
    )
    return run


# --------------------------------------------------------------------------------------- summary


def test_summary_of_a_model_by_name(capsys):
    code, out, err = run_cli(capsys, "summary", "lenet5")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "LeNet5, input (1, 1, 28, 28)"
    assert "Trainable params: 61,706" in lines and "Total MACs: 423,038" in lines
    assert any(
        line.split()[:2] == ["0", "(Conv2d)"] and line.split()[-2:] == ["156", "122,304"] for line in lines
    )


def test_summary_as_json_at_depth_one(capsys):
    code, out, _ = run_cli(capsys, "summary", "fashion_cnn", "--depth", "1", "--json")
    data = json.loads(out)
    assert code == 0 and [r["name"] for r in data["rows"]] == ["features", "classifier"]
    t = data["totals"]
    assert (t["trainable_params"], t["buffers"], t["total_with_buffers"]) == (1_677_674, 1_408, 1_679_082)


def test_summary_with_torchinfo_macs_and_another_input_size(capsys):
    code, out, _ = run_cli(capsys, "summary", "fashion_cnn", "--macs", "torchinfo", "--json")
    exact = json.loads(run_cli(capsys, "summary", "fashion_cnn", "--json")[1])["totals"]["macs"]
    assert code == 0 and json.loads(out)["totals"]["macs"] < exact
    code, out, _ = run_cli(capsys, "summary", "mlp", "--input-size", "3,8,8", "--json")
    assert code == 0 and [r["output_shape"] for r in json.loads(out)["rows"][1:3]] == [[1, 192], [1, 256]]
    assert json.loads(out)["input_shape"] == [1, 3, 8, 8]


def test_summary_of_a_run_directory_needs_no_checkpoint(capsys, run_dir):
    code, out, _ = run_cli(capsys, "summary", run_dir)
    assert code == 0 and out.startswith("FashionCNN, input (1, 1, 28, 28)")
    assert "Total params with buffers (as Keras counts): 1,679,082" in out


@pytest.mark.parametrize(
    "argv, fragments",
    [
        (
            ["summary", "resnet"],
            ["cnnlab summary: error: unknown model 'resnet'; available: fashion_cnn, lenet5, mlp"],
        ),
        (["summary", "runs/none"], ["run directory 'runs/none' not found"]),
        (["summary", "lenet5", "--input-size", "1,28"], ["--input-size: the models take C,H,W, got 1,28"]),
        (["summary", "lenet5", "--input-size", "1,32,32"], ["linear", "400"]),
    ],
)
def test_summary_errors(capsys, argv, fragments):
    code, out, err = run_cli(capsys, *argv)
    assert_one_line_error(code, err, *fragments)
    assert out == ""


def test_summary_of_a_file_that_is_not_a_run(capsys, tmp_path):
    (tmp_path / "model.txt").write_text("lenet5")
    code, _, err = run_cli(capsys, "summary", tmp_path / "model.txt")
    assert_one_line_error(code, err, "is a file, expected a run directory")


def test_a_malformed_input_size_is_a_usage_error(capsys):
    code, _, err = run_cli(capsys, "summary", "lenet5", "--input-size", "1,a,28")
    assert code == 2
    assert "argument --input-size: expected comma-separated integers such as 1,28,28, got '1,a,28'" in err


# ----------------------------------------------------------------------------------------- shape


def test_shape_prints_the_formula_with_the_numbers(capsys):
    code, out, _ = run_cli(capsys, "shape", "conv2d", "--input", "1,7,7", "--kernel", "3", "--stride", "2")
    assert code == 0
    assert out.splitlines() == [
        "conv2d: input (1, 1, 7, 7) -> output (1, 1, 3, 3)",
        "  H: floor((n + 2p - d(k-1) - 1)/s) + 1 = floor((7 + 2·0 - 1·(3-1) - 1)/2) + 1 = floor(4/2) + 1 = 3",
        "  W: floor((n + 2p - d(k-1) - 1)/s) + 1 = floor((7 + 2·0 - 1·(3-1) - 1)/2) + 1 = floor(4/2) + 1 = 3",
        "parameters: 10   MACs: 90",
        "a fully connected layer from the same 49 inputs to the same 9 outputs: 450 parameters, 450 MACs",
        "  (45× the parameters of conv2d)",
    ]


def test_shape_the_dense_comparison_as_json(capsys):
    code, out, _ = run_cli(
        capsys,
        "shape",
        "conv",
        "--input",
        "16,64,64",
        "--kernel",
        "3",
        "--out-channels",
        "32",
        "--padding",
        "same",
        "--json",
    )
    data = json.loads(out)
    assert code == 0 and data["op"] == "conv2d"  # the dimension comes from --input
    assert (data["params"], data["dense_params"], data["output_shape"]) == (
        4_640,
        8_590_065_664,
        [1, 32, 64, 64],
    )


def test_shape_of_pooling_and_transposed_convolution(capsys):
    code, out, _ = run_cli(capsys, "shape", "pool", "--input", "6,28,28", "--kernel", "2")
    assert code == 0 and out.startswith("max_pool2d: input (1, 6, 28, 28) -> output (1, 6, 14, 14)")
    code, out, _ = run_cli(
        capsys, "shape", "avg_pool1d", "--input", "1,5", "--kernel", "2", "--padding", "1", "--ceil-mode"
    )
    assert code == 0 and "less the last window, which would start in the right padding: 3" in out
    code, out, _ = run_cli(
        capsys,
        "shape",
        "conv_transpose2d",
        "--input",
        "8,7,7",
        "--kernel",
        "3",
        "--stride",
        "2",
        "--padding",
        "1",
        "--output-padding",
        "1",
    )
    assert code == 0 and "(7 - 1)·2 - 2·1 + 1·(3-1) + 1 + 1 = 14" in out and "parameters: 584" in out


@pytest.mark.parametrize(
    "argv, fragments",
    [
        (
            ["conv2d", "--input", "1,3,3", "--kernel", "5"],
            ["cnnlab shape: error: conv2d:", "kernel size can't be greater"],
        ),
        (
            ["conv2d", "--input", "1,3", "--kernel", "3"],
            ["conv2d: expected input_shape (C, H, W) or (N, C, H, W), got (1, 3)"],
        ),
        (
            ["conv", "--input", "1,2,3,4,5", "--kernel", "3"],
            ["--input: expected C,L or C,H,W or C,D,H,W, got 1,2,3,4,5"],
        ),
        (
            ["conv2d", "--input", "3,8,8", "--kernel", "3", "--groups", "2"],
            ["in_channels (3) and out_channels (3) must be divisible by groups (2)"],
        ),
        (
            ["max_pool2d", "--input", "1,8,8", "--kernel", "2", "--padding", "2"],
            ["pad should be at most half of the kernel size"],
        ),
    ],
)
def test_shape_errors(capsys, argv, fragments):
    code, _, err = run_cli(capsys, "shape", *argv)
    assert_one_line_error(code, err, *fragments)


def test_shape_unknown_op_is_a_usage_error(capsys):
    code, _, err = run_cli(capsys, "shape", "conv9d", "--input", "1,5,5", "--kernel", "3")
    assert code == 2 and "argument OP: invalid choice: 'conv9d'" in err


# ------------------------------------------------------------------------------- receptive-field


def test_receptive_field_table(capsys):
    code, out, _ = run_cli(capsys, "receptive-field", "lenet5")
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("features.5 "))
    assert row.split() == ["features.5", "(MaxPool2d)", "5×5", "4×4", "16×16", "5.5×5.5"]
    code, out, _ = run_cli(capsys, "receptive-field", "lenet5", "--json")
    assert json.loads(out)["rows"][0]["rf"] == [5, 5]


def test_receptive_field_of_one_unit_and_its_picture(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "receptive-field", "lenet5", "--layer", "features.3", "--unit", "4,6")
    assert code == 0 and out == "features.3 unit (4, 6) sees input rows 6-19, cols 10-23\n"
    code, out, _ = run_cli(
        capsys, "receptive-field", "lenet5", "--layer", "features.3", "--unit", "0,0", "--json"
    )
    assert json.loads(out) == {"layer": "features.3", "unit": [0, 0], "region": [[0, 11], [0, 11]]}
    photo = tmp_path / "photo.png"
    Image.fromarray((np.arange(56 * 56) % 256).reshape(56, 56).astype(np.uint8)).save(photo)
    code, out, _ = run_cli(
        capsys,
        "receptive-field",
        "lenet5",
        "--layer",
        "features.3",
        "--unit",
        "4,6",
        "--image",
        photo,
        "--out",
        tmp_path / "rf.png",
    )
    assert code == 0 and out.splitlines()[-1] == f"wrote {tmp_path / 'rf.png'}"
    with Image.open(tmp_path / "rf.png") as png:
        assert png.size == (28 * 12, 28 * 12 + 34)


@pytest.mark.parametrize(
    "argv, fragments",
    [
        (
            ["--layer", "features.3"],
            ["--layer and --unit go together: give both, e.g. --layer features.3 --unit 4,6"],
        ),
        (["--out", "rf.png"], ["--out draws one unit's field: give --layer and --unit too"]),
        (["--layer", "features.9", "--unit", "0,0"], ["unknown layer 'features.9'; layers: features.0,"]),
        (
            ["--layer", "features.3", "--unit", "10,0"],
            ["position (10, 0) is outside layer 'features.3''s output map"],
        ),
        (
            ["--layer", "features.3", "--unit", "1,1", "--image", "missing.png", "--out", "rf.png"],
            ["load_image: no such file 'missing.png'"],
        ),
    ],
)
def test_receptive_field_errors(capsys, argv, fragments):
    code, _, err = run_cli(capsys, "receptive-field", "lenet5", *argv)
    assert_one_line_error(code, err, *fragments)
