"""Image transforms in torchvision's spirit, vectorised with NumPy, for one image or a whole batch.

Layouts follow torchvision's split between PIL images and tensors: a **uint8 NumPy array** is an image as
loaded (``HW`` or ``HWC``); a **Tensor or float array** is channels-first (``..., H, W``), as after
:class:`ToTensor`. Calling a transform on one image keeps its type (array in, array out; Tensor in,
Tensor out; :class:`ToTensor` always returns a Tensor). ``apply_batch`` takes a stacked batch
(``N, H, W[, C]`` uint8 or ``N, C, H, W`` float) and draws the random parameters of all N images at
once; the DataLoader uses it for array-backed datasets.

Randomness comes from the transform's own ``generator`` if given, else the generator a DataLoader
installs while it prepares a batch (so background prefetching cannot change the results), else
cnnlab's default generator.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from .. import random as _random
from ..tensor import Tensor, from_numpy

__all__ = [
    "CenterCrop",
    "Compose",
    "Lambda",
    "Normalize",
    "RandomAffine",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomRotation",
    "RandomVerticalFlip",
    "ToTensor",
    "Transform",
    "use_generator",
]

_local = threading.local()


@contextmanager
def use_generator(generator: _random.Generator | None) -> Iterator[None]:
    """Within this block (and this thread), transforms without their own generator draw from ``generator``."""
    previous = getattr(_local, "generator", None)
    _local.generator = generator
    try:
        yield
    finally:
        _local.generator = previous


def _generator(explicit: _random.Generator | None) -> np.random.Generator:
    if explicit is not None:
        return explicit.numpy
    active = getattr(_local, "generator", None)
    return (active if active is not None else _random.default_generator).numpy


def _hw_axes(x: np.ndarray, channels_last: bool) -> tuple[int, int]:
    """The (H, W) axes of a batch: (1, 2) for N,H,W[,C] images as loaded, the last two otherwise."""
    if x.ndim < 3:
        raise ValueError(
            f"expected a batch of images with at least 3 dimensions (N, H, W), got shape {x.shape}"
        )
    return (1, 2) if channels_last else (x.ndim - 2, x.ndim - 1)


def _pair(value: Any, name: str) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    if (
        isinstance(value, Sequence)
        and len(value) == 2
        and all(isinstance(v, (int, np.integer)) for v in value)
    ):
        return int(value[0]), int(value[1])
    raise TypeError(f"{name}: expected an int or a pair of ints, got {value!r}")


class Transform:
    """Base class: subclasses implement ``_apply(batch, channels_last)`` on a stacked NumPy batch."""

    supports_batch = True

    def __call__(self, img: Any) -> Any:
        is_tensor = isinstance(img, Tensor)
        x = img.data if is_tensor else np.asarray(img)
        out = self._apply(x[None], channels_last=not is_tensor and x.dtype == np.uint8)[0]
        return from_numpy(out) if is_tensor else out

    def apply_batch(self, batch: Any) -> np.ndarray:
        """Apply to a stacked batch: ``(N, H, W[, C])`` uint8 images or ``(N, C, H, W)`` float arrays."""
        x = batch.data if isinstance(batch, Tensor) else np.asarray(batch)
        return self._apply(x, channels_last=x.dtype == np.uint8)

    def _apply(self, x: np.ndarray, channels_last: bool) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(
            f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_") and k != "generator"
        )
        return f"{type(self).__name__}({args})"


class Compose(Transform):
    """Apply transforms one after another.

    >>> import numpy as np
    >>> t = Compose([ToTensor(), Normalize([0.5], [0.5])])
    >>> t(np.array([[0, 255]], dtype=np.uint8))
    tensor([[[-1.,  1.]]])
    """

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: every transform must be callable, got {type(t).__name__}")

    @property
    def supports_batch(self) -> bool:  # type: ignore[override]
        return all(getattr(t, "supports_batch", False) and hasattr(t, "apply_batch") for t in self.transforms)

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def apply_batch(self, batch: Any) -> np.ndarray:
        for t in self.transforms:
            batch = t.apply_batch(batch)
        return batch

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


class ToTensor(Transform):
    """uint8 ``HW`` or ``HWC`` image -> float32 ``CHW`` Tensor in [0, 1] (``x / 255``), as torchvision's.

    Float arrays are only moved to channels-first, not rescaled (torchvision does the same).

    >>> import numpy as np
    >>> t = ToTensor()(np.array([[0, 51, 255]], dtype=np.uint8))
    >>> t.shape, t.dtype, t.numpy().ravel().tolist()
    ((1, 1, 3), dtype('float32'), [0.0, 0.20000000298023224, 1.0])
    """

    def __call__(self, img: Any) -> Tensor:
        if isinstance(img, Tensor):
            raise TypeError("ToTensor: expected a NumPy image (HW or HWC), got a Tensor (already converted?)")
        x = np.asarray(img)
        if x.ndim not in (2, 3):
            raise ValueError(f"ToTensor: expected an image of shape (H, W) or (H, W, C), got shape {x.shape}")
        return from_numpy(self._apply(x[None], channels_last=True)[0])

    def apply_batch(self, batch: Any) -> np.ndarray:
        x = np.asarray(batch)
        if x.ndim not in (3, 4):
            raise ValueError(
                f"ToTensor: expected a batch of shape (N, H, W) or (N, H, W, C), got shape {x.shape}"
            )
        return self._apply(x, channels_last=True)

    def _apply(self, x: np.ndarray, channels_last: bool) -> np.ndarray:
        x = x[:, None] if x.ndim == 3 else np.ascontiguousarray(x.transpose(0, 3, 1, 2))  # N,H,W,C -> N,C,H,W
        if x.dtype == np.uint8:
            return x.astype(np.float32) / np.float32(255)
        if x.dtype.kind == "f":
            return x
        raise TypeError(f"ToTensor: expected a uint8 or floating image, got dtype {x.dtype}")


class Normalize(Transform):
    """``(x - mean[c]) / std[c]`` per channel of a float ``CHW`` image, as torchvision's.

    >>> import cnnlab
    >>> Normalize(mean=[0.5, 0.0], std=[0.5, 2.0])(cnnlab.ones(2, 1, 1)).numpy().ravel().tolist()
    [1.0, 0.5]
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        self.mean = [float(m) for m in np.atleast_1d(mean)]
        self.std = [float(s) for s in np.atleast_1d(std)]
        if len(self.mean) != len(self.std):
            raise ValueError(
                f"Normalize: mean and std need the same length, got {len(self.mean)} and {len(self.std)}"
            )
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std must be non-zero, got {self.std}")

    def _apply(self, x: np.ndarray, channels_last: bool) -> np.ndarray:
        if x.dtype.kind != "f":
            raise TypeError(f"Normalize: expected a float image (apply ToTensor first), got dtype {x.dtype}")
        if x.ndim == 3:  # N,H,W: one channel
            x = x[:, None]
            squeeze = True
        else:
            squeeze = False
        channels = x.shape[-3]
        if len(self.mean) not in (1, channels):
            raise ValueError(
                f"Normalize: mean/std have {len(self.mean)} values, the image has {channels} channels (shape {x.shape[1:]})"
            )
        mean = np.asarray(self.mean, dtype=x.dtype)[:, None, None]  # C,1,1
        std = np.asarray(self.std, dtype=x.dtype)[:, None, None]
        out = (x - mean) / std
        return out[:, 0] if squeeze else out


def _pad_hw(
    x: np.ndarray, h: int, w: int, pads: tuple[int, int, int, int], fill: float, mode: str
) -> np.ndarray:
    left, top, right, bottom = pads
    if not any(pads):
        return x
    widths = [(0, 0)] * x.ndim
    widths[h], widths[w] = (top, bottom), (left, right)
    if mode == "constant":
        return np.pad(x, widths, mode="constant", constant_values=fill)
    return np.pad(x, widths, mode=mode)


def _gather_windows(
    x: np.ndarray, h: int, w: int, top: np.ndarray, left: np.ndarray, size: tuple[int, int]
) -> np.ndarray:
    """Window ``[top[n]:top[n]+th, left[n]:left[n]+tw]`` of each image n, by one fancy index into a window view."""
    moved = np.moveaxis(x, (h, w), (-2, -1))  # N,*rest,H,W
    windows = np.lib.stride_tricks.sliding_window_view(
        moved, size, axis=(-2, -1)
    )  # N,*rest,H-th+1,W-tw+1,th,tw
    out = windows[np.arange(len(x)), ..., top, left, :, :]  # N,*rest,th,tw: advanced axes go first
    return np.moveaxis(out, (-2, -1), (h, w))


class RandomCrop(Transform):
    """Pad by ``padding``, then cut a ``size`` window at a uniformly random position, as torchvision's.

    ``padding``: int (all sides), (left/right, top/bottom) or (left, top, right, bottom); ``padding_mode``:
    'constant' (with ``fill``), 'edge', 'reflect' or 'symmetric'.

    >>> import numpy as np, cnnlab
    >>> RandomCrop(28, padding=4, generator=cnnlab.Generator(0))(np.zeros((28, 28), np.uint8)).shape
    (28, 28)
    """

    _MODES = ("constant", "edge", "reflect", "symmetric")

    def __init__(
        self,
        size: int | tuple[int, int],
        padding: int | Sequence[int] | None = None,
        pad_if_needed: bool = False,
        fill: float = 0,
        padding_mode: str = "constant",
        generator: _random.Generator | None = None,
    ) -> None:
        self.size = _pair(size, "RandomCrop size")
        if padding is None:
            padding = 0
        if isinstance(padding, (int, np.integer)):
            padding = (padding,) * 4
        padding = tuple(int(p) for p in padding)
        if len(padding) == 2:
            padding = (padding[0], padding[1], padding[0], padding[1])
        if len(padding) != 4 or min(padding) < 0:
            raise ValueError(
                f"RandomCrop: padding must be a non-negative int or a sequence of 2 or 4, got {padding}"
            )
        if padding_mode not in self._MODES:
            raise ValueError(f"RandomCrop: padding_mode must be one of {self._MODES}, got {padding_mode!r}")
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode
        self.generator = generator

    def _apply(self, x: np.ndarray, channels_last: bool) -> np.ndarray:
        h, w = _hw_axes(x, channels_last)
        x = _pad_hw(x, h, w, self.padding, self.fill, self.padding_mode)
        th, tw = self.size
        if self.pad_if_needed:
            extra_w, extra_h = max(tw - x.shape[w], 0), max(th - x.shape[h], 0)
            x = _pad_hw(x, h, w, (extra_w, extra_h, extra_w, extra_h), self.fill, self.padding_mode)
        H, W = x.shape[h], x.shape[w]
        if th > H or tw > W:
            raise ValueError(
                f"RandomCrop: crop size {(th, tw)} is larger than the padded image size {(H, W)}"
            )
        gen = _generator(self.generator)
        top = gen.integers(0, H - th + 1, size=len(x))
        left = gen.integers(0, W - tw + 1, size=len(x))
        return _gather_windows(x, h, w, top, left, (th, tw))


class CenterCrop(Transform):
    """Cut the central ``size`` window (torchvision's rounding: top = round((H - th) / 2)).

    >>> import numpy as np
    >>> CenterCrop(2)(np.arange(16, dtype=np.uint8).reshape(4, 4)).tolist()
    [[5, 6], [9, 10]]
    """

    def __init__(self, size: int | tuple[int, int]) -> None:
        self.size = _pair(size, "CenterCrop size")

    def _apply(self, x: np.ndarray, channels_last: bool) -> np.ndarray:
        h, w = _hw_axes(x, channels_last)
        (th, tw), H, W = self.size, x.shape[h], x.shape[w]
        if th > H or tw > W:
            raise ValueError(f"CenterCrop: crop size {(th, tw)} is larger than the image size {(H, W)}")
        top, left = round((H - th) / 2.0), round((W - tw) / 2.0)
        index = [slice(None)] * x.ndim
        index[h], index[w] = slice(top, top + th), slice(left, left + tw)
        return x[tuple(index)]


class _RandomFlip(Transform):
    _axis = 0

    def __init__(self, p: float = 0.5, generator: _random.Generator | None = None) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: p must be a probability in [0, 1], got {p}")
        self.p = p
        self.generator = generator

    def _apply(self, x: np.ndarray, channels_last: bool) -> np.ndarray:
        axis = _hw_axes(x, channels_last)[self._axis]
        flip = _generator(self.generator).random(len(x)) < self.p  # N
        out = x.copy()
        out[flip] = np.flip(x[flip], axis=axis)
        return out


class RandomHorizontalFlip(_RandomFlip):
    """Mirror left-right with probability ``p``.

    >>> import numpy as np
    >>> RandomHorizontalFlip(p=1.0)(np.array([[1, 2, 3]], dtype=np.uint8)).tolist()
    [[3, 2, 1]]
    """

    _axis = 1


class RandomVerticalFlip(_RandomFlip):
    """Mirror top-bottom with probability ``p``.

    >>> import numpy as np
    >>> RandomVerticalFlip(p=1.0)(np.array([[1], [2]], dtype=np.uint8)).tolist()
    [[2], [1]]
    """

    _axis = 0


class RandomAffine(Transform):
    """Random rotation, translation and scaling about the image centre, sampled by inverse mapping.

    ``degrees``: d for U(-d, d) or a (min, max) pair, counter-clockwise as in torchvision;
    ``translate``: (a, b) fractions of the width/height, shifts drawn from U(-aW, aW), U(-bH, bH) and
    rounded to whole pixels (as torchvision); ``scale``: (min, max). ``interpolation``: 'nearest' or
    'bilinear'; pixels mapped from outside the image get ``fill``. One gather per batch, no pixel loops.

    >>> import numpy as np, cnnlab
    >>> img = np.array([[1, 2], [3, 4]], dtype=np.uint8)
    >>> RandomAffine(degrees=(90, 90), generator=cnnlab.Generator(0))(img).tolist()
    [[2, 4], [1, 3]]
    """

    def __init__(
        self,
        degrees: float | tuple[float, float],
        translate: tuple[float, float] | None = None,
        scale: tuple[float, float] | None = None,
        interpolation: str = "nearest",
        fill: float = 0,
        generator: _random.Generator | None = None,
    ) -> None:
        name = type(self).__name__
        if isinstance(degrees, (int, float, np.number)):
            if degrees < 0:
                raise ValueError(f"{name}: a single degrees value must be non-negative, got {degrees}")
            degrees = (-float(degrees), float(degrees))
        if len(degrees) != 2:
            raise ValueError(f"{name}: degrees must be a number or a (min, max) pair, got {degrees!r}")
        self.degrees = (float(degrees[0]), float(degrees[1]))
        if translate is not None and (len(translate) != 2 or not all(0.0 <= t <= 1.0 for t in translate)):
            raise ValueError(f"{name}: translate must be a pair of fractions in [0, 1], got {translate!r}")
        if scale is not None and (len(scale) != 2 or not 0 < scale[0] <= scale[1]):
            raise ValueError(f"{name}: scale must be a pair 0 < min <= max, got {scale!r}")
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"{name}: interpolation must be 'nearest' or 'bilinear', got {interpolation!r}")
        self.translate = translate
        self.scale = scale
        self.interpolation = interpolation
        self.fill = fill
        self.generator = generator

    def _apply(self, x: np.ndarray, channels_last: bool) -> np.ndarray:
        h, w = _hw_axes(x, channels_last)
        N, H, W = len(x), x.shape[h], x.shape[w]
        gen = _generator(self.generator)
        angle = np.deg2rad(gen.uniform(*self.degrees, size=N))
        if self.translate is not None:
            tx = np.round(gen.uniform(-self.translate[0] * W, self.translate[0] * W, size=N))
            ty = np.round(gen.uniform(-self.translate[1] * H, self.translate[1] * H, size=N))
        else:
            tx = ty = np.zeros(N)
        s = gen.uniform(*self.scale, size=N) if self.scale is not None else np.ones(N)

        # inverse map: source = centre + R(-angle) (output - centre - t) / s; y points down, so R(-angle)
        # on (x, y) is [[cos, -sin], [sin, cos]] for a counter-clockwise forward rotation. Written as
        # src = A @ (x, y) + b per image, so each coordinate costs one (N,1,W) + (N,H,1) broadcast add.
        cy, cx = (H - 1) / 2.0, (W - 1) / 2.0
        cos, sin = np.cos(angle) / s, np.sin(angle) / s  # N
        ox, oy = cx + tx, cy + ty  # where the centre goes
        bx = cx - cos * ox + sin * oy + 1  # +1: indices into the bordered copy below
        by = cy - sin * ox - cos * oy + 1
        xs = np.arange(W, dtype=np.float64)[None, None, :]  # 1,1,W
        ys = np.arange(H, dtype=np.float64)[None, :, None]  # 1,H,1
        col = lambda v: v[:, None, None]
        src_x = (col(cos) * xs + col(bx)) - col(sin) * ys  # N,H,W, in bordered coordinates
        src_y = (col(sin) * xs + col(by)) + col(cos) * ys

        # gather from a copy with a one-pixel border of `fill`: every coordinate outside the image is
        # clipped onto that border, so no validity masks are needed; flat indices + np.take are the fast gather
        moved = np.moveaxis(x, (h, w), (-2, -1))  # N,*rest,H,W
        rest = moved.shape[1:-2]
        R = int(np.prod(rest, dtype=np.int64))
        work = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
        padded = np.pad(
            moved.reshape(N, R, H, W), ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=self.fill
        )
        flat = padded.reshape(-1)
        base = ((np.arange(N)[:, None] * R + np.arange(R)[None, :]) * (H + 2) * (W + 2))[
            :, :, None, None
        ]  # N,R,1,1

        def gather(iy: np.ndarray, ix: np.ndarray) -> np.ndarray:  # bordered iy, ix: N,H,W -> values N,R,H,W
            offset = np.clip(iy, 0, H + 1) * (W + 2) + np.clip(ix, 0, W + 1)
            return np.take(flat, base + offset[:, None])

        if self.interpolation == "nearest":
            out = gather(np.rint(src_y).astype(np.int64), np.rint(src_x).astype(np.int64))
        else:
            # clip before flooring so far-away coordinates stay small integers on the border
            src_y, src_x = np.clip(src_y, -1, H + 2), np.clip(src_x, -1, W + 2)
            y0, x0 = np.floor(src_y), np.floor(src_x)
            wy, wx = (src_y - y0).astype(work)[:, None], (src_x - x0).astype(work)[:, None]  # N,1,H,W
            y0, x0 = y0.astype(np.int64), x0.astype(np.int64)
            top = (1 - wx) * gather(y0, x0) + wx * gather(y0, x0 + 1)
            bottom = (1 - wx) * gather(y0 + 1, x0) + wx * gather(y0 + 1, x0 + 1)
            out = (1 - wy) * top + wy * bottom
            if x.dtype.kind != "f":
                if x.dtype.kind in "iu":
                    info = np.iinfo(x.dtype)
                    out = np.clip(np.rint(out), info.min, info.max)
                out = out.astype(x.dtype)
        out = out.reshape(N, *rest, H, W)
        return np.moveaxis(out, (-2, -1), (h, w))


class RandomRotation(RandomAffine):
    """Rotate by an angle from U(-degrees, degrees) (or a (min, max) range), counter-clockwise.

    >>> import numpy as np, cnnlab
    >>> img = np.arange(9, dtype=np.uint8).reshape(3, 3)
    >>> bool((RandomRotation((90, 90))(img) == np.rot90(img)).all())
    True
    """

    def __init__(
        self,
        degrees: float | tuple[float, float],
        interpolation: str = "nearest",
        fill: float = 0,
        generator: _random.Generator | None = None,
    ) -> None:
        super().__init__(degrees, interpolation=interpolation, fill=fill, generator=generator)


class Lambda(Transform):
    """Wrap a function as a transform (per image only; it has no batched form).

    >>> Lambda(lambda x: x * 2)(3)
    6
    """

    supports_batch = False

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        if not callable(fn):
            raise TypeError(f"Lambda: expected a callable, got {type(fn).__name__}")
        self.fn = fn

    def __call__(self, img: Any) -> Any:
        return self.fn(img)

    def apply_batch(self, batch: Any) -> Any:
        raise TypeError("Lambda: has no batched form; apply it per image")
