"""ImageFolder on PNG and JPEG files written by Pillow."""

import numpy as np
import pytest

from cnnlab.data import DataLoader, ImageFolder
from cnnlab.data import transforms as T

Image = pytest.importorskip("PIL.Image")


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    images = {}
    for cls in ["dog", "cat"]:
        (tmp_path / cls / "nested").mkdir(parents=True)
        for k in range(2):
            rgb = rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)
            name = f"{cls}/{k}.png" if k == 0 else f"{cls}/nested/{k}.PNG"
            Image.fromarray(rgb).save(tmp_path / name)
            images[name] = rgb
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden").mkdir()
    return tmp_path, images


def test_classes_sorted_and_samples(folder):
    root, images = folder
    ds = ImageFolder(root)
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    assert len(ds) == 4  # the .txt file and the hidden folder are skipped
    assert ds.targets.tolist() == [0, 0, 1, 1]
    image, target = ds[0]
    assert target == 0 and image.dtype == np.uint8 and image.shape == (5, 6, 3)
    np.testing.assert_array_equal(image, images["cat/0.png"])  # PNG is lossless
    np.testing.assert_array_equal(ds[3][0], images["dog/nested/1.PNG"])


def test_grayscale_mode_matches_pillow(folder):
    root, images = folder
    ds = ImageFolder(root, mode="L")
    expected = np.asarray(Image.fromarray(images["cat/0.png"]).convert("L"))
    np.testing.assert_array_equal(ds[0][0], expected)
    assert ds[0][0].shape == (5, 6)


def test_with_transform_and_loader(folder):
    root, images = folder
    ds = ImageFolder(root, transform=T.ToTensor())
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    assert x.shape == (4, 3, 5, 6) and x.dtype == np.float32 and y.tolist() == [0, 0, 1, 1]
    np.testing.assert_array_equal(
        x.numpy()[0], images["cat/0.png"].transpose(2, 0, 1).astype(np.float32) / np.float32(255)
    )


def test_jpeg_is_read(tmp_path):
    (tmp_path / "a").mkdir()
    Image.fromarray(np.full((8, 8, 3), 128, np.uint8)).save(tmp_path / "a" / "x.jpg", quality=95)
    image, _ = ImageFolder(tmp_path)[0]
    assert image.shape == (8, 8, 3) and abs(int(image.mean()) - 128) <= 2


def test_extensions_filter(folder):
    root, _ = folder
    with pytest.raises(FileNotFoundError, match=r"no files with extensions \.bmp"):
        ImageFolder(root, extensions=("bmp",))


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        ImageFolder(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="has no class sub-directories"):
        ImageFolder(tmp_path)
    with pytest.raises(ValueError, match="mode must be 'L' .* got 'CMYK'"):
        ImageFolder(tmp_path, mode="CMYK")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"cannot read image .*broken.png"):
        ImageFolder(tmp_path)[0]
