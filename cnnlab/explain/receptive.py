"""A picture of a receptive field: the input region one unit sees, shaded on a real image."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .. import nn
from ..inspect.receptive import receptive_field, receptive_field_for_unit
from .kernels import load_image

__all__ = ["receptive_field_image"]


def _sample_image(size: tuple[int, int]) -> np.ndarray:
    """The first test image of the embedded Fashion-MNIST sample (an ankle boot), resized to ``size``."""
    from PIL import Image

    from ..data.datasets.idx import read_idx
    from ..data.datasets.sample import SAMPLE_DIR

    images = read_idx(SAMPLE_DIR / "t10k-images-idx3-ubyte.gz", ndim=3)
    first = Image.fromarray(images[0])
    return np.asarray(first.resize((size[1], size[0]), Image.BILINEAR), dtype=np.float64) / 255


def receptive_field_image(
    model: nn.Module,
    input_size: tuple[int, ...],
    layer: str,
    position: tuple[int, int],
    image: Any = None,
    path: str | Path | None = None,
    scale: int = 12,
) -> Any:
    """The image (resized to the model's input) with the region seen by unit ``position`` of ``layer``
    shaded and outlined, the unit's centre marked, and a caption with the field's size.

    ``image`` is a path, an array or a PIL image (default: a Fashion-MNIST ankle boot). 2-D inputs only.

    >>> from cnnlab.models import lenet5
    >>> receptive_field_image(lenet5(), (1, 28, 28), "features.3", (2, 2), scale=4).size
    (112, 146)
    """
    from PIL import Image, ImageDraw

    from .render import _font, _text, save_image

    if len(input_size) != 3:
        raise ValueError(f"receptive_field_image: expected input_size (C, H, W), got {input_size!r}")
    H, W = int(input_size[1]), int(input_size[2])
    region = receptive_field_for_unit(model, input_size, layer, position)
    rows_by_name = {r.name: r for r in receptive_field(model, input_size).rows}
    field = rows_by_name.get(layer)
    if image is None:
        picture = _sample_image((H, W))
    else:
        from PIL import Image as _Image

        loaded = load_image(image)
        picture = (
            np.asarray(
                _Image.fromarray(np.round(np.clip(loaded, 0, 1) * 255).astype(np.uint8)).resize(
                    (W, H), _Image.BILINEAR
                ),
                dtype=np.float64,
            )
            / 255
        )
    grey = Image.fromarray(np.round(picture * 255).astype(np.uint8), "L").resize(
        (W * scale, H * scale), Image.NEAREST
    )
    rgb = grey.convert("RGB")
    overlay = Image.new("RGB", rgb.size, (33, 113, 181))
    mask = Image.new("L", rgb.size, 0)
    rows, cols = region
    box = (cols.start * scale, rows.start * scale, cols.stop * scale - 1, rows.stop * scale - 1)
    ImageDraw.Draw(mask).rectangle(box, fill=110)
    rgb = Image.composite(overlay, rgb, mask)
    caption_h = 34
    sheet = Image.new("RGB", (rgb.width, rgb.height + caption_h), (255, 255, 255))
    sheet.paste(rgb, (0, 0))
    draw = ImageDraw.Draw(sheet)
    draw.rectangle(box, outline=(253, 141, 60), width=max(scale // 6, 1))
    if field is not None and not field.is_global:
        cy = field.start[0] + position[0] * field.jump[0]
        cx = field.start[1] + position[1] * field.jump[1]
        r = max(scale // 3, 2)
        px, py = (cx + 0.5) * scale, (cy + 0.5) * scale
        draw.ellipse((px - r, py - r, px + r, py + r), fill=(253, 141, 60))
        size = f"field {int(field.rf[0])}×{int(field.rf[1])}, jump {field.jump[0]:g}"
    else:
        size = "field: the whole input"
    font = _font(12 if scale >= 8 else 9)
    _text(draw, (4, rgb.height + 3), f"{layer} unit {tuple(position)}", font=font, fill=(20, 20, 20))
    _text(
        draw,
        (4, rgb.height + 18),
        f"rows {rows.start}-{rows.stop - 1}, cols {cols.start}-{cols.stop - 1}; {size}",
        font=font,
        fill=(20, 20, 20),
    )
    if path is not None:
        save_image(sheet, path, optimize=True)
    return sheet
