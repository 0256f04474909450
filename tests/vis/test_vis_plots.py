"""The plot_* helpers write PNGs of the expected size, atomically; the gallery; matplotlib stays lazy."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from cnnlab import vis
from cnnlab.data import TensorDataset
from cnnlab.models import lenet5, mlp


def png(path):
    """(width, height) of the PNG at ``path``, after checking that it is a PNG with something drawn."""
    with Image.open(path) as image:
        assert image.format == "PNG"
        pixels = np.asarray(image.convert("L"), dtype=np.float64)
    assert pixels.std() > 10  # not a blank canvas
    assert not list(path.parent.glob("*.part"))  # written through a temporary file, which is gone
    return pixels.shape[1], pixels.shape[0]


@pytest.fixture(scope="module")
def lenet_and_image():
    x = np.random.default_rng(0).uniform(-0.5, 2.0, (2, 1, 28, 28)).astype(np.float32)
    return lenet5(), x


def test_plot_sizes(tmp_path, lenet_and_image):
    model, x = lenet_and_image
    cams = vis.grad_cam(model, x)
    maps = vis.feature_maps(model, x[:1])
    assert png(vis.plot_grad_cam(x, cams, tmp_path / "cam.png", labels=["a", "b"])) == (720, 520)
    assert png(vis.plot_saliency(x[:1], vis.saliency(model, x[:1]), tmp_path / "s.png")) == (840, 285)
    occ = {"patch 7": vis.occlusion(model, x[:1], patch=7, stride=7)[0], "patch 14": np.zeros((28, 28))}
    assert png(vis.plot_occlusion(x[0], occ, tmp_path / "o.png")) == (770, 290)
    assert png(vis.plot_feature_maps(maps["features.0"], tmp_path / "f.png", image=x[0])) == (1105, 210)
    assert png(vis.plot_feature_maps(maps["features.3"], tmp_path / "f16.png", shared_scale=False)) == (
        1250,
        360,
    )
    assert png(vis.plot_feature_overview(maps, tmp_path / "all.png", image=x[0])) == (1060, 700)
    assert png(vis.plot_filters(vis.filters(model), tmp_path / "w.png")) == (670, 165)
    rgb = np.random.default_rng(1).standard_normal((4, 3, 5, 5))
    assert png(vis.plot_filters(rgb, tmp_path / "rgb.png")) == (520, 185)
    assert png(vis.plot_filters(vis.filters(model, "features.3"), tmp_path / "n.png", mode="norm")) == (
        400,
        472,
    )
    assert png(vis.plot_maximized(np.random.default_rng(2).random((3, 1, 28, 28)), tmp_path / "m.png")) == (
        520,
        235,
    )
    panels = {
        "cam": cams[0],
        "gradient": vis.saliency(model, x[:1])[0],
        "occlusion": (occ["patch 7"], "signed"),
    }
    assert png(vis.plot_methods(x[0], panels, tmp_path / "methods.png", title="t")) == (960, 275)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [
            "cam.png",
            "s.png",
            "o.png",
            "f.png",
            "f16.png",
            "all.png",
            "w.png",
            "rgb.png",
            "n.png",
            "m.png",
            "methods.png",
        ]
    )


def test_filter_grid_modes():
    weight = np.arange(2 * 3 * 2 * 2, dtype=np.float64).reshape(2, 3, 2, 2) - 10
    cells, mode = vis.filter_grid(weight)
    assert mode == "rgb" and cells.shape == (2, 2, 2, 3)
    np.testing.assert_allclose(cells[0, 0, 0], 0.5 + 0.5 * np.array([-10, -6, -2]) / 13)  # grey is zero
    cells, mode = vis.filter_grid(weight, "norm")
    np.testing.assert_allclose(cells[1, 2], np.sqrt(((weight[1, 2]) ** 2).sum()))
    assert vis.filter_grid(np.ones((4, 16, 3, 3)))[1] == "norm"
    assert vis.filter_grid(np.ones((4, 2, 3, 3)))[1] == "channels"


def test_plot_errors(tmp_path):
    with pytest.raises(
        ValueError, match=r"plot_feature_maps: expected the maps of one image .* got shape \(2, 3, 4, 4\)"
    ):
        vis.plot_feature_maps(np.zeros((2, 3, 4, 4)), tmp_path / "x.png")
    with pytest.raises(ValueError, match="mode 'rgb' needs 3 input channels, got weights of shape"):
        vis.plot_filters(np.zeros((4, 1, 3, 3)), tmp_path / "x.png", mode="rgb")
    with pytest.raises(ValueError, match="unknown mode 'colour'; expected one of auto, rgb, channels, norm"):
        vis.filter_grid(np.zeros((4, 1, 3, 3)), mode="colour")
    with pytest.raises(ValueError, match="unknown kind 'heat' for 'a'; expected cam, attribution or signed"):
        vis.plot_methods(np.zeros((1, 4, 4)), {"a": (np.zeros((4, 4)), "heat")}, tmp_path / "x.png")
    assert not list(tmp_path.iterdir())


def test_gallery_writes_filters_feature_maps_and_grad_cam(tmp_path, lenet_and_image):
    model, _ = lenet_and_image
    rng = np.random.default_rng(0)
    data = TensorDataset(
        rng.standard_normal((12, 1, 28, 28)).astype(np.float32), np.array([0, 0, 1, 1, 2] * 2 + [3, 3])
    )
    written = vis.write_gallery(tmp_path, model, data, classes=["a", "b", "c", "d"], count=3)
    assert [p.name for p in written] == ["filters.png", "feature_maps.png", "grad_cam.png"]
    assert all(p.parent == tmp_path / "gallery" for p in written)
    assert png(written[2]) == (
        720,
        755,
    )  # one row of 2.35 inches per image: three test images of different classes: 0, 2, 4
    assert vis.gallery.pick_examples(data, count=3) == [0, 2, 4]


def test_gallery_of_a_model_without_conv_layers_is_empty(tmp_path):
    data = TensorDataset(np.zeros((2, 1, 28, 28), np.float32), np.array([0, 1]))
    assert vis.write_gallery(tmp_path, mlp(), data) == []
    assert not (tmp_path / "gallery").exists()


def test_importing_cnnlab_vis_does_not_import_matplotlib():
    code = "import sys, cnnlab.vis; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
