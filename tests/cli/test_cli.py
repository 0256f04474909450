"""Every subcommand end to end on the embedded sample, and the errors a user can cause."""

import json
import subprocess
import sys

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, run_cli
from PIL import Image

from cnnlab.cli import main
from cnnlab.train import read_checkpoint

QUICK = ["--limit", "240", "--batch-size", "32", "--progress", "line"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """One short training run shared by the evaluate and predict tests."""
    path = tmp_path_factory.mktemp("runs") / "lenet"
    assert main(["train", "--epochs", "2", "--out", str(path), *QUICK]) == 0
    return path


def test_train_writes_the_run_directory(run_dir):
    for name in [
        "config.json",
        "history.csv",
        "history.json",
        "metrics.json",
        "curves.png",
        "confusion_matrix.png",
        "misclassified.png",
        "checkpoints/last.safetensors",
        "checkpoints/last.json",
        "checkpoints/best.safetensors",
        "checkpoints/best.json",
    ]:
        assert (run_dir / name).is_file(), name
    for png in ["curves.png", "confusion_matrix.png", "misclassified.png"]:
        with Image.open(run_dir / png) as image:
            assert image.format == "PNG" and image.width > 400
    config = json.loads((run_dir / "config.json").read_text())
    assert config["model"] == "lenet5" and config["data"] == "fashion-mnist-sample" and config["epochs"] == 2
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert np.sum(metrics["test"]["confusion_matrix"]) == 1000
    assert set(metrics["test"]["per_class_accuracy"]) == set(config["classes"])
    assert (run_dir / "history.csv").read_text().count("\n") == 3
    assert not list(run_dir.rglob("*.part")) and not list(run_dir.rglob("*.pkl"))


def test_train_output_and_json_mode(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "train", "--epochs", "1", "--out", tmp_path / "r", *QUICK[:-2], "--json")
    assert code == 0
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["event"] for e in events] == ["epoch", "end"]
    assert 0 <= events[-1]["accuracy"] <= 1 and events[-1]["run_dir"] == str(tmp_path / "r")


def test_resume_through_the_cli_is_bit_identical(tmp_path, capsys):
    args = ["--limit", "200", "--batch-size", "50", "--quiet", "--no-plots"]
    assert main(["train", "--epochs", "2", "--out", str(tmp_path / "straight"), *args]) == 0
    assert main(["train", "--epochs", "1", "--out", str(tmp_path / "resumed"), *args]) == 0
    assert main(["train", "--resume", str(tmp_path / "resumed"), "--epochs", "2", "--quiet"]) == 0
    a, _ = read_checkpoint(tmp_path / "straight" / "checkpoints" / "last")
    b, _ = read_checkpoint(tmp_path / "resumed" / "checkpoints" / "last")
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key], b[key]), key
    straight = (tmp_path / "straight" / "history.csv").read_text().splitlines()
    resumed = (tmp_path / "resumed" / "history.csv").read_text().splitlines()
    drop_timing = lambda rows: [r.rsplit(",", 2)[0] for r in rows]  # time, images_per_sec differ
    assert drop_timing(straight) == drop_timing(resumed)


def test_evaluate(run_dir, capsys):
    code, out, _ = run_cli(capsys, "evaluate", run_dir)
    assert code == 0
    assert "accuracy" in out and "confusion matrix" in out and "Ankle boot" in out
    code, out, _ = run_cli(capsys, "evaluate", run_dir, "--json", "--checkpoint", "last")
    result = json.loads(out)
    assert result["checkpoint"] == "last" and np.sum(result["confusion_matrix"]) == 1000
    assert result["num_samples"] == 1000 and "top5_accuracy" in result


def test_predict_any_size_and_colour(run_dir, tmp_path, capsys):
    rng = np.random.default_rng(0)
    paths = {
        "grey.png": Image.fromarray(rng.integers(0, 255, (50, 70), dtype=np.uint8)),
        "colour.jpg": Image.fromarray(rng.integers(0, 255, (120, 90, 3), dtype=np.uint8)),
        "alpha.png": Image.fromarray(rng.integers(0, 255, (30, 30, 4), dtype=np.uint8), "RGBA"),
        "deep.png": Image.fromarray(rng.integers(0, 65535, (40, 20), dtype=np.uint16)),
    }
    for name, image in paths.items():
        image.save(tmp_path / name)
    files = [tmp_path / name for name in paths]
    code, out, _ = run_cli(capsys, "predict", run_dir, *files, "--top-k", "2")
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 4 and all(line.count("%") == 2 for line in lines)
    code, out, _ = run_cli(capsys, "predict", run_dir, files[0], "--json", "--top-k", "10")
    top = json.loads(out)["top"]
    assert len(top) == 10 and sum(t["probability"] for t in top) == pytest.approx(1.0)


def test_models_and_datasets(capsys):
    code, out, _ = run_cli(capsys, "models")
    assert code == 0 and "lenet5" in out and "61,706" in out
    code, out, _ = run_cli(capsys, "datasets", "--json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["fashion-mnist-sample"]["location"] != "not found"
    assert rows["fashion-mnist-sample"]["num_classes"] == 10


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "models", "datasets"])
def test_every_subcommand_has_help_with_examples(command, capsys):
    code, out, _ = run_cli(capsys, command, "--help")
    assert code == 0 and "examples:" in out


def test_errors_are_one_line(run_dir, tmp_path, capsys):
    code, _, err = run_cli(capsys, "train", "--model", "resnet999", "--out", tmp_path / "x")
    assert_one_line_error(code, err, "unknown model 'resnet999'", "lenet5")
    code, _, err = run_cli(capsys, "train", "--data", "imagenet", "--out", tmp_path / "x")
    assert_one_line_error(code, err, "unknown dataset 'imagenet'", "fashion-mnist-sample")
    code, _, err = run_cli(
        capsys,
        "train",
        "--data",
        "mnist",
        "--data-root",
        tmp_path / "empty",
        "--no-download",
        "--out",
        tmp_path / "x",
    )
    assert_one_line_error(code, err, "mnist", "not found")
    code, _, err = run_cli(capsys, "evaluate", tmp_path / "missing")
    assert_one_line_error(code, err, "run directory", "not found")
    code, _, err = run_cli(capsys, "evaluate", tmp_path)
    assert_one_line_error(code, err, "not a run directory")
    (tmp_path / "notes.png").write_text("not an image")
    code, _, err = run_cli(capsys, "predict", run_dir, tmp_path / "notes.png")
    assert_one_line_error(code, err, "notes.png", "not an image file")
    code, _, err = run_cli(capsys, "predict", run_dir, tmp_path / "nothing.png")
    assert_one_line_error(code, err, "nothing.png", "not found")
    code, _, err = run_cli(capsys, "train", "--out", run_dir)
    assert_one_line_error(code, err, "already holds a run", "--resume")
    code, _, err = run_cli(capsys, "train", "--resume", tmp_path / "missing")
    assert_one_line_error(code, err, "not found")
    code, _, err = run_cli(capsys, "train", "--resume", run_dir, "--model", "mlp")
    assert_one_line_error(code, err, "--model mlp differs")
    code, _, err = run_cli(capsys, "train", "--batch-size", "0")
    assert code == 2 and "expected a positive integer, got '0'" in err


def test_out_of_memory_is_one_line(tmp_path, capsys, monkeypatch):
    from cnnlab.train import trainer

    def no_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate 93.1 GiB for an array with shape (100000, 6, 28, 28)")

    monkeypatch.setattr(trainer.Trainer, "_train_epoch", no_memory)
    code, _, err = run_cli(capsys, "train", "--batch-size", "100000", "--out", tmp_path / "x", "--quiet")
    assert_one_line_error(code, err, "out of memory with batch size 100000", "try a smaller --batch-size")


def test_non_finite_loss_is_one_line(tmp_path, capsys, monkeypatch):
    import cnnlab.nn.functional as F

    real = F.cross_entropy
    monkeypatch.setattr(F, "cross_entropy", lambda logits, targets: real(logits, targets) * float("inf"))
    code, _, err = run_cli(capsys, "train", "--epochs", "1", "--out", tmp_path / "x", *QUICK[:-2], "--quiet")
    assert_one_line_error(code, err, "non-finite loss (inf) at epoch 1, step 1")


def test_python_dash_m_help():
    done = subprocess.run(
        [sys.executable, "-m", "cnnlab", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and "train" in done.stdout and "predict" in done.stdout


def test_a_photo_is_prepared_like_the_training_images(run_dir, tmp_path):
    from cnnlab.cli.common import make_transform
    from cnnlab.cli.predict import load_image
    from cnnlab.data import get_dataset

    config = json.loads((run_dir / "config.json").read_text())
    original = get_dataset("fashion-mnist-sample", train=False).data[0]  # light boot on black, 28×28
    photo = Image.new("RGB", (400, 260), (255, 255, 255))  # dark boot on white paper, off centre
    photo.paste(
        Image.fromarray(255 - original).resize((140, 140), Image.Resampling.BICUBIC).convert("RGB"), (30, 80)
    )
    photo.save(tmp_path / "boot.jpg", quality=95)
    prepared = load_image(tmp_path / "boot.jpg", config)
    expected = make_transform(config)(original).numpy()
    assert prepared.shape == expected.shape == (1, 28, 28)
    assert np.corrcoef(prepared.ravel(), expected.ravel())[0, 1] > 0.8  # inverted, cropped, scaled


def test_output_into_a_closed_pipe_ends_quietly():
    # `cnnlab models | head -0`: the reader is gone before the first line is written
    process = subprocess.Popen(
        [sys.executable, "-m", "cnnlab", "models"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    process.stdout.close()
    err = process.stderr.read()
    assert process.wait(timeout=60) == 0
    assert err == b""
