"""Transforms against hand-computed values and torchvision's documented semantics."""

import numpy as np
import pytest

import cnnlab
from cnnlab.data import transforms as T


def _img(h=5, w=6, c=None, seed=0):
    shape = (h, w) if c is None else (h, w, c)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def test_to_tensor_scaling_and_layout():
    hwc = _img(4, 5, 3)
    t = T.ToTensor()(hwc)
    assert isinstance(t, cnnlab.Tensor) and t.shape == (3, 4, 5) and t.dtype == np.float32
    # torchvision: img.permute(2, 0, 1).float().div(255), in float32
    np.testing.assert_array_equal(t.numpy(), hwc.transpose(2, 0, 1).astype(np.float32) / np.float32(255))
    assert T.ToTensor()(_img()).shape == (1, 5, 6)
    assert T.ToTensor()(np.array([[0, 255]], np.uint8)).numpy().tolist() == [[[0.0, 1.0]]]
    floats = np.full((2, 2), 3.0, np.float32)
    assert T.ToTensor()(floats).numpy().max() == 3.0  # floats are not rescaled


def test_to_tensor_batch_matches_per_image():
    batch = np.stack([_img(4, 5, 3, seed=s) for s in range(3)])
    out = T.ToTensor().apply_batch(batch)
    assert out.shape == (3, 3, 4, 5)
    for i in range(3):
        np.testing.assert_array_equal(out[i], T.ToTensor()(batch[i]).numpy())


def test_to_tensor_errors():
    with pytest.raises(TypeError, match="got a Tensor"):
        T.ToTensor()(cnnlab.zeros(1, 2, 2))
    with pytest.raises(
        ValueError, match=r"expected an image of shape \(H, W\) or \(H, W, C\), got shape \(2,\)"
    ):
        T.ToTensor()(np.zeros(2, np.uint8))
    with pytest.raises(TypeError, match="expected a uint8 or floating image, got dtype int32"):
        T.ToTensor()(np.zeros((2, 2), np.int32))


def test_normalize_hand_computed():
    x = np.arange(12, dtype=np.float32).reshape(3, 2, 2) / 10
    out = T.Normalize([0.1, 0.2, 0.3], [0.5, 1.0, 2.0])(cnnlab.tensor(x)).numpy()
    mean = np.array([0.1, 0.2, 0.3], np.float32)[:, None, None]
    std = np.array([0.5, 1.0, 2.0], np.float32)[:, None, None]
    np.testing.assert_array_equal(out, (x - mean) / std)  # float32 arithmetic, as torch's sub_/div_
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[2, 1, 1], (1.1 - 0.3) / 2.0, rtol=1e-6)


def test_normalize_errors():
    with pytest.raises(TypeError, match="expected a float image \\(apply ToTensor first\\), got dtype uint8"):
        T.Normalize([0.5], [0.5])(_img())
    with pytest.raises(ValueError, match="mean/std have 2 values, the image has 3 channels"):
        T.Normalize([0.5, 0.5], [1, 1])(cnnlab.zeros(3, 2, 2))
    with pytest.raises(ValueError, match="std must be non-zero"):
        T.Normalize([0.5], [0.0])
    with pytest.raises(ValueError, match="mean and std need the same length, got 2 and 1"):
        T.Normalize([0.5, 0.5], [1.0])


def _windows(padded, th, tw):
    H, W = padded.shape[:2]
    return [padded[i : i + th, j : j + tw] for i in range(H - th + 1) for j in range(W - tw + 1)]


def test_random_crop_is_a_window_of_the_padded_image():
    img = _img(6, 7)
    padded = np.pad(img, 2)
    crop = T.RandomCrop((6, 7), padding=2, generator=cnnlab.Generator(0))
    seen = set()
    for _ in range(30):
        out = crop(img)
        assert out.shape == (6, 7) and out.dtype == np.uint8
        matches = [k for k, w in enumerate(_windows(padded, 6, 7)) if np.array_equal(w, out)]
        assert matches
        seen.update(matches)
    assert len(seen) > 5  # positions vary


def test_random_crop_hwc_chw_and_modes():
    hwc = _img(8, 8, 3)
    out = T.RandomCrop(4, generator=cnnlab.Generator(1))(hwc)
    assert out.shape == (4, 4, 3)
    assert any(np.array_equal(w, out) for w in _windows(hwc, 4, 4))
    chw = cnnlab.tensor(hwc.transpose(2, 0, 1).astype(np.float32))
    out = T.RandomCrop(4, padding=(1, 2), padding_mode="reflect", generator=cnnlab.Generator(2))(chw)
    assert isinstance(out, cnnlab.Tensor) and out.shape == (3, 4, 4)
    padded = np.pad(chw.numpy(), ((0, 0), (2, 2), (1, 1)), mode="reflect").transpose(1, 2, 0)
    assert any(np.array_equal(w, out.numpy().transpose(1, 2, 0)) for w in _windows(padded, 4, 4))


def test_random_crop_full_size_without_padding_is_identity():
    img = _img()
    np.testing.assert_array_equal(T.RandomCrop((5, 6))(img), img)


def test_random_crop_batch_each_image_its_own_window():
    batch = np.stack([_img(6, 6, seed=s) for s in range(16)])
    out = T.RandomCrop(6, padding=3, generator=cnnlab.Generator(0)).apply_batch(batch)
    assert out.shape == (16, 6, 6)
    offsets = set()
    for n in range(16):
        padded = np.pad(batch[n], 3)
        k = [k for k, w in enumerate(_windows(padded, 6, 6)) if np.array_equal(w, out[n])]
        assert k
        offsets.add(k[0])
    assert len(offsets) > 3


def test_random_crop_errors():
    with pytest.raises(ValueError, match=r"crop size \(9, 9\) is larger than the padded image size \(5, 6\)"):
        T.RandomCrop(9)(_img())
    assert T.RandomCrop(9, pad_if_needed=True)(_img()).shape == (9, 9)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        T.RandomCrop(3, padding_mode="wrap")


def test_center_crop():
    img = np.arange(30, dtype=np.uint8).reshape(5, 6)
    np.testing.assert_array_equal(T.CenterCrop((3, 2))(img), img[1:4, 2:4])


def test_flips_exact():
    img = _img(4, 5, 3)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(img), img[:, ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(0.0)(img), img)
    np.testing.assert_array_equal(T.RandomVerticalFlip(1.0)(img), img[::-1])
    chw = cnnlab.tensor(img.transpose(2, 0, 1).astype(np.float32))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(chw).numpy(), chw.numpy()[:, :, ::-1])
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\], got 1.5"):
        T.RandomHorizontalFlip(1.5)


def test_flip_batch_mixes_flipped_and_not():
    batch = np.stack([_img(3, 4, seed=s) for s in range(64)])
    out = T.RandomHorizontalFlip(0.5, generator=cnnlab.Generator(0)).apply_batch(batch)
    flipped = [np.array_equal(out[n], batch[n, :, ::-1]) for n in range(64)]
    kept = [np.array_equal(out[n], batch[n]) for n in range(64)]
    assert all(f or k for f, k in zip(flipped, kept)) and 16 < sum(flipped) < 48


def test_rotation_by_right_angles_is_exact():
    img = _img(5, 5)
    rot = lambda d: T.RandomRotation((d, d))
    np.testing.assert_array_equal(rot(90)(img), np.rot90(img))  # counter-clockwise, as torchvision
    np.testing.assert_array_equal(rot(180)(img), np.rot90(img, 2))
    np.testing.assert_array_equal(rot(-90)(img), np.rot90(img, -1))
    hwc = _img(4, 4, 3)
    np.testing.assert_array_equal(rot(90)(hwc), np.rot90(hwc, axes=(0, 1)))
    chw = cnnlab.tensor(hwc.transpose(2, 0, 1).astype(np.float32))
    out = T.RandomRotation((90, 90), interpolation="bilinear")(chw).numpy()
    np.testing.assert_allclose(out, np.rot90(chw.numpy(), axes=(1, 2)), atol=1e-4)


def test_rotation_zero_is_identity_both_interpolations():
    img = _img(6, 7)
    for mode in ("nearest", "bilinear"):
        np.testing.assert_array_equal(T.RandomRotation(0, interpolation=mode)(img), img)


def test_translation_shifts_and_fills():
    img = np.arange(1, 26, dtype=np.uint8).reshape(5, 5)
    # translate=(0.2, 0) on width 5 draws a shift from U(-1, 1), rounded: -1, 0 or 1 pixel
    t = T.RandomAffine(0, translate=(0.2, 0.0), fill=0, generator=cnnlab.Generator(0))
    outcomes = set()
    for _ in range(40):
        out = t(img)
        if np.array_equal(out, img):
            outcomes.add(0)
        elif np.array_equal(out[:, 1:], img[:, :-1]) and (out[:, 0] == 0).all():
            outcomes.add(1)
        elif np.array_equal(out[:, :-1], img[:, 1:]) and (out[:, -1] == 0).all():
            outcomes.add(-1)
        else:
            raise AssertionError(f"not a whole-pixel horizontal shift:\n{out}")
    assert outcomes == {-1, 0, 1}


def test_bilinear_half_pixel_shift_averages_neighbours():
    # zooming a 1×4 row by 2 about its centre (x = 1.5) samples the source between pixels, where bilinear
    # must interpolate linearly between the two neighbours
    row = np.array([[0.0, 2.0, 4.0, 6.0]], np.float32)
    out = T.RandomAffine(0, scale=(2.0, 2.0), interpolation="bilinear")(cnnlab.tensor(row[None])).numpy()[0]
    # source x = 1.5 + (x - 1.5) / 2: 0.75, 1.25, 1.75, 2.25 -> 1.5, 2.5, 3.5, 4.5
    np.testing.assert_allclose(out, [[1.5, 2.5, 3.5, 4.5]], rtol=1e-6)
    assert out.dtype == np.float32


def test_affine_batch_images_get_different_angles():
    batch = np.repeat(_img(9, 9)[None], 8, axis=0)
    out = T.RandomRotation(45, generator=cnnlab.Generator(0)).apply_batch(batch)
    assert out.shape == batch.shape and out.dtype == np.uint8
    assert len({out[n].tobytes() for n in range(8)}) > 4


def test_affine_errors():
    with pytest.raises(ValueError, match="interpolation must be 'nearest' or 'bilinear', got 'cubic'"):
        T.RandomAffine(10, interpolation="cubic")
    with pytest.raises(ValueError, match="translate must be a pair of fractions in"):
        T.RandomAffine(0, translate=(2, 0))
    with pytest.raises(ValueError, match="a single degrees value must be non-negative"):
        T.RandomRotation(-5)


def test_compose_batch_and_lambda():
    pipeline = T.Compose([T.ToTensor(), T.Normalize([0.5], [0.25])])
    assert pipeline.supports_batch
    batch = np.stack([_img(seed=s) for s in range(4)])
    out = pipeline.apply_batch(batch)
    np.testing.assert_array_equal(out[2], pipeline(batch[2]).numpy())
    with_lambda = T.Compose([T.ToTensor(), T.Lambda(lambda t: t * 2)])
    assert not with_lambda.supports_batch
    assert with_lambda(np.array([[255]], np.uint8)).numpy().tolist() == [[[2.0]]]
    with pytest.raises(TypeError, match="every transform must be callable, got int"):
        T.Compose([3])


def test_default_generator_drives_randomness():
    img = _img(8, 8)
    t = T.RandomCrop(4)
    cnnlab.manual_seed(7)
    a = t(img)
    cnnlab.manual_seed(7)
    np.testing.assert_array_equal(t(img), a)
