"""Classic image kernels, applied with the library's own ``F.conv2d`` and shown side by side.

Identity, box and Gaussian blur, sharpen, the Laplacian edge detector, Sobel x and y, and the four
line detectors (horizontal, vertical, 45° and 135°). Images are read as greyscale in [0, 1]; borders
are replicated (``F.pad(mode='replicate')``) so the output keeps the input's size. For display, the
smoothing kernels are clipped to [0, 1] and the detectors (whose sums are 0) show |response| scaled
to the largest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..nn import functional as F
from ..tensor import Tensor

__all__ = ["KERNELS", "apply_kernel", "filter_image", "kernel_gallery", "load_image"]

KERNELS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float64),
    "box-blur": np.full((3, 3), 1 / 9),
    "gaussian-blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=np.float64) / 16,
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float64),
    "laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float64),
    "sobel-x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64),
    "sobel-y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float64),
    "horizontal-lines": np.array([[-1, -1, -1], [2, 2, 2], [-1, -1, -1]], dtype=np.float64),
    "vertical-lines": np.array([[-1, 2, -1], [-1, 2, -1], [-1, 2, -1]], dtype=np.float64),
    "lines-45": np.array([[-1, -1, 2], [-1, 2, -1], [2, -1, -1]], dtype=np.float64),
    "lines-135": np.array([[2, -1, -1], [-1, 2, -1], [-1, -1, 2]], dtype=np.float64),
}
_SMOOTH = ("identity", "box-blur", "gaussian-blur", "sharpen")


def load_image(image: Any) -> np.ndarray:
    """A greyscale float64 image (H, W) in [0, 1] from a path, a PIL image or an array.

    Arrays of integers are read as 0…255; (H, W, 3) or (H, W, 4) colour is averaged with the ITU-R 601
    luma weights, as Pillow's ``convert('L')`` does.

    >>> load_image(np.array([[0, 255]], dtype=np.uint8)).tolist()
    [[0.0, 1.0]]
    """
    if isinstance(image, (str, Path)):
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(image) as im:
                return np.asarray(im.convert("L"), dtype=np.float64) / 255
        except FileNotFoundError:
            raise FileNotFoundError(f"load_image: no such file {str(image)!r}") from None
        except UnidentifiedImageError:
            raise ValueError(f"load_image: {str(image)!r} is not an image Pillow can read") from None
    if hasattr(image, "convert") and hasattr(image, "size"):
        return np.asarray(image.convert("L"), dtype=np.float64) / 255
    a = np.asarray(image.data if isinstance(image, Tensor) else image)
    if a.ndim == 3 and a.shape[-1] in (3, 4):
        a = a[..., :3] @ np.array([0.299, 0.587, 0.114])
    if a.ndim != 2:
        raise ValueError(f"load_image: expected an (H, W) or (H, W, 3) image, got shape {a.shape}")
    integer = np.issubdtype(np.asarray(image.data if isinstance(image, Tensor) else image).dtype, np.integer)
    return a.astype(np.float64) / 255 if integer else a.astype(np.float64)


def _kernel(kernel: Any) -> tuple[str, np.ndarray]:
    if isinstance(kernel, str):
        key = kernel.lower().replace("_", "-")
        if key not in KERNELS:
            raise ValueError(f"unknown kernel {kernel!r}; available: {', '.join(KERNELS)}")
        return key, KERNELS[key]
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 2 or k.shape[0] % 2 == 0 or k.shape[1] % 2 == 0:
        raise ValueError(
            f"apply_kernel: expected a kernel name or an odd-sized 2-D array, got shape {k.shape}"
        )
    return "custom", k


def apply_kernel(image: Any, kernel: Any) -> np.ndarray:
    """Correlate a greyscale image with a named kernel (see :data:`KERNELS`) or a 2-D array, with
    ``F.conv2d`` on the replicate-padded image. Returns the raw response (H, W), not rescaled.

    Shape: (H, W) -> (H, W).

    >>> apply_kernel(np.eye(3), "identity").tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    _, k = _kernel(kernel)
    x = load_image(image)
    ph, pw = k.shape[0] // 2, k.shape[1] // 2
    padded = F.pad(Tensor(x[None, None]), (pw, pw, ph, ph), mode="replicate")
    return F.conv2d(padded, Tensor(k[None, None])).data[0, 0]


def _display(name: str, response: np.ndarray) -> np.ndarray:
    if name in _SMOOTH:
        return np.clip(response, 0, 1)
    peak = np.abs(response).max()
    return np.abs(response) / peak if peak > 0 else np.zeros_like(response)


def filter_image(image: Any, kernel: Any, path: str | Path | None = None) -> Any:
    """The filtered image as a greyscale PIL image (saved to ``path`` if given).

    >>> filter_image(np.ones((4, 4)), "box-blur").size
    (4, 4)
    """
    from PIL import Image

    name, _ = _kernel(kernel)
    out = Image.fromarray(np.round(_display(name, apply_kernel(image, kernel)) * 255).astype(np.uint8), "L")
    if path is not None:
        from .render import save_image

        save_image(out, path, optimize=True)
    return out


def kernel_gallery(
    image: Any, names: Any = None, path: str | Path | None = None, tile: int = 150, columns: int = 4
) -> Any:
    """The original and each kernel's result side by side, labelled with its name and its 3×3 weights.

    >>> kernel_gallery(np.zeros((8, 8)), ["identity", "sobel-x"], tile=40).size
    (160, 112)
    """
    from PIL import Image, ImageDraw

    from .render import _font, _text, save_image

    names = list(KERNELS) if names is None else [_kernel(n)[0] if isinstance(n, str) else n for n in names]
    x = load_image(image)
    tiles = [("original", x, None)] + [(n, _display(n, apply_kernel(x, n)), KERNELS[n]) for n in names]
    label_h, pad = 52, 10
    rows = -(-len(tiles) // columns)
    cols = min(columns, len(tiles))
    sheet = Image.new(
        "RGB", (cols * (tile + pad) + pad, rows * (tile + label_h + pad) + pad), (255, 255, 255)
    )
    draw = ImageDraw.Draw(sheet)
    font, small = _font(13), _font(10)
    for i, (name, picture, k) in enumerate(tiles):
        r, c = divmod(i, columns)
        x0, y0 = pad + c * (tile + pad), pad + r * (tile + label_h + pad)
        im = Image.fromarray(np.round(np.clip(picture, 0, 1) * 255).astype(np.uint8), "L").resize(
            (tile, tile), Image.NEAREST
        )
        sheet.paste(im.convert("RGB"), (x0, y0))
        _text(draw, (x0, y0 + tile + 3), name, font=font, fill=(20, 20, 20))
        if k is not None:
            for j, row in enumerate(k * (16 if name == "gaussian-blur" else 9 if name == "box-blur" else 1)):
                text = " ".join(f"{v:>2.0f}" for v in row)
                _text(draw, (x0, y0 + tile + 19 + 10 * j), text, font=small, fill=(90, 90, 90))
            if name in ("gaussian-blur", "box-blur"):
                _text(
                    draw,
                    (x0 + 60, y0 + tile + 29),
                    f"÷ {16 if name == 'gaussian-blur' else 9}",
                    font=small,
                    fill=(90, 90, 90),
                )
    if path is not None:
        save_image(sheet, path, optimize=True)
    return sheet
