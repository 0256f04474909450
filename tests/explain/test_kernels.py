"""Classic image kernels through the library's conv2d, the gallery, and the receptive-field picture."""

import numpy as np
import pytest
from PIL import Image
from reference import conv as reference_conv

from cnnlab import models, nn
from cnnlab.explain import (
    KERNELS,
    apply_kernel,
    filter_image,
    kernel_gallery,
    load_image,
    receptive_field_image,
)
from cnnlab.inspect import receptive_field_for_unit


def replicate_correlate(x, k):
    ph, pw = k.shape[0] // 2, k.shape[1] // 2
    padded = np.pad(x, ((ph, ph), (pw, pw)), mode="edge")
    return reference_conv(padded[None, None], k[None, None])[0, 0]


@pytest.mark.parametrize("name", list(KERNELS))
def test_every_kernel_is_a_correlation_with_replicated_borders(name):
    x = np.random.default_rng(0).random((7, 9))
    out = apply_kernel(x, name)
    assert out.shape == x.shape
    np.testing.assert_allclose(out, replicate_correlate(x, KERNELS[name]), atol=1e-12)


def test_what_the_kernels_do_to_a_vertical_edge():
    x = np.zeros((5, 6))
    x[:, 3:] = 1  # dark left half, bright right half
    assert apply_kernel(x, "identity").tolist() == x.tolist()
    sobel_x, sobel_y = apply_kernel(x, "sobel-x"), apply_kernel(x, "sobel-y")
    assert sobel_x[2].tolist() == [0, 0, 4, 4, 0, 0] and not sobel_y.any()
    assert apply_kernel(x, "laplacian")[2].tolist() == [0, 0, 1, -1, 0, 0]
    assert apply_kernel(x, "vertical-lines")[2].tolist() == [0, 0, -3, 3, 0, 0]
    assert not apply_kernel(x, "horizontal-lines").any()
    np.testing.assert_allclose(apply_kernel(x, "box-blur")[2], [0, 0, 1 / 3, 2 / 3, 1, 1])
    np.testing.assert_allclose(apply_kernel(np.ones((4, 4)), "gaussian-blur"), np.ones((4, 4)))
    assert sum(KERNELS[n].sum() for n in ("sobel-x", "sobel-y", "laplacian", "lines-45", "lines-135")) == 0


def test_a_custom_kernel_and_names_with_underscores():
    x = np.arange(9.0).reshape(3, 3)
    assert apply_kernel(x, [[0, 0, 0], [0, 2, 0], [0, 0, 0]]).tolist() == (2 * x).tolist()
    assert np.array_equal(apply_kernel(x, "Sobel_X"), apply_kernel(x, "sobel-x"))


def test_filter_image_writes_what_it_shows(tmp_path):
    x = np.zeros((6, 6), dtype=np.uint8)
    x[:, 3:] = 255
    image = filter_image(x, "sobel-x", path=tmp_path / "edges.png")
    with Image.open(tmp_path / "edges.png") as png:
        assert png.mode == "L" and png.size == (6, 6)
        # detectors show |response| scaled to the largest
        assert np.asarray(png)[0].tolist() == [0, 0, 255, 255, 0, 0] == np.asarray(image)[0].tolist()
    blurred = np.asarray(filter_image(x, "box-blur"))[0].tolist()
    assert blurred == [0, 0, 85, 170, 255, 255]


def test_the_gallery_shows_the_original_and_each_kernel(tmp_path):
    x = np.zeros((8, 8))
    x[2:6, 2:6] = 1
    sheet = kernel_gallery(
        x, ["identity", "sobel-x", "laplacian"], path=tmp_path / "k.png", tile=40, columns=2
    )
    assert sheet.size == (2 * 50 + 10, 2 * (40 + 52 + 10) + 10)
    with Image.open(tmp_path / "k.png") as png:
        assert png.size == sheet.size
    tiles = {"original": (10, 10), "identity": (60, 10), "sobel-x": (10, 112), "laplacian": (60, 112)}
    for name, (x0, y0) in tiles.items():
        tile = np.asarray(sheet.crop((x0, y0, x0 + 40, y0 + 40)).convert("L"))
        expected = x if name == "original" else np.asarray(filter_image(x, name), dtype=np.float64) / 255
        big = np.round(np.kron(expected, np.ones((5, 5))) * 255)  # 8 pixels to 40, nearest
        assert np.array_equal(tile, big), name
    full = kernel_gallery(x, tile=20)
    assert full.size == (4 * 30 + 10, 3 * (20 + 52 + 10) + 10)  # the original and 11 kernels, 4 a row


def test_load_image_reads_paths_arrays_and_colour(tmp_path):
    rgb = np.zeros((2, 2, 3), dtype=np.uint8)
    rgb[0, 0] = (255, 0, 0)
    Image.fromarray(rgb).save(tmp_path / "red.png")
    from_file = load_image(tmp_path / "red.png")
    assert from_file.shape == (2, 2) and from_file[0, 0] == pytest.approx(76 / 255)  # Pillow's 601 luma
    assert load_image(rgb)[0, 0] == pytest.approx(0.299)
    assert load_image(np.full((2, 2), 0.5)).tolist() == [[0.5, 0.5], [0.5, 0.5]]


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: apply_kernel(np.ones((4, 4)), "emboss"),
            ValueError,
            "unknown kernel 'emboss'; available: identity, box-blur, gaussian-blur, sharpen, laplacian, sobel-x",
        ),
        (
            lambda: apply_kernel(np.ones((4, 4)), np.ones((2, 2))),
            ValueError,
            "apply_kernel: expected a kernel name or an odd-sized 2-D array, got shape (2, 2)",
        ),
        (
            lambda: load_image(np.ones((2, 2, 2, 2))),
            ValueError,
            "load_image: expected an (H, W) or (H, W, 3) image, got shape (2, 2, 2, 2)",
        ),
        (
            lambda: load_image("/nonexistent/boot.png"),
            FileNotFoundError,
            "load_image: no such file '/nonexistent/boot.png'",
        ),
    ],
)
def test_errors(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)


def test_a_file_that_is_not_an_image(tmp_path):
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(ValueError, match="is not an image Pillow can read"):
        load_image(tmp_path / "notes.png")


# ------------------------------------------------------------------------- receptive-field picture


def test_the_receptive_field_picture_shades_exactly_the_region(tmp_path):
    model = models.lenet5()
    image = np.linspace(0, 1, 28 * 28).reshape(28, 28)
    picture = receptive_field_image(
        model, (1, 28, 28), "features.3", (1, 8), image=image, scale=4, path=tmp_path / "rf.png"
    )
    assert picture.size == (28 * 4, 28 * 4 + 34)
    rows, cols = receptive_field_for_unit(model, (1, 28, 28), "features.3", (1, 8))
    # field 14, jump 2, start 4.5: centre (6.5, 20.5), so rows -0..13 (clipped at 0) and cols 14..27
    assert (rows, cols) == (range(14), range(14, 28))
    pixels = np.asarray(picture.convert("RGB")).astype(int)
    for i in range(28):
        for j in range(28):
            r, _, b = pixels[i * 4 + 2, j * 4 + 2]
            tinted = b > r + 10
            if i in (6, 7) and j in (20, 21):  # under the orange dot on the unit's centre
                continue
            assert tinted == (i in rows and j in cols), (i, j)
    with Image.open(tmp_path / "rf.png") as png:
        assert png.size == picture.size


def test_the_default_picture_is_a_fashion_mnist_boot():
    model = nn.Sequential(nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3, stride=2))
    picture = receptive_field_image(model, (1, 12, 12), "1", (2, 0), scale=5)
    assert picture.size == (60, 60 + 34)
    grey = np.asarray(picture.convert("L"))[:60]
    assert grey.std() > 20  # a picture, not a blank


def test_the_receptive_field_picture_needs_two_dimensions():
    with pytest.raises(
        ValueError, match=r"receptive_field_image: expected input_size \(C, H, W\), got \(1, 28\)"
    ):
        receptive_field_image(models.lenet5(), (1, 28), "features.3", (0, 0))
