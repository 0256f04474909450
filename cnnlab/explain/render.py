"""Pictures of an :class:`~cnnlab.explain.Explanation`: PNG frames and animated GIFs (Pillow).

In the spirit of Dumoulin and Visin's convolution-arithmetic animations: the (padded) input grid with
the padding greyed, the kernel window in blue with its weights in the corner of each cell, the max
pool's winner in orange, and the output filling in cell by cell, the current one dark green; under the
grids, the written-out arithmetic of the current value. 1-D and 2-D (3-D explanations are text only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .arithmetic import Explanation, _num

__all__ = ["COLORS", "Layout", "draw_frame", "render", "save_image"]

COLORS = {
    "background": (255, 255, 255),
    "cell": (255, 255, 255),
    "padding": (226, 226, 226),
    "window": (158, 202, 225),
    "winner": (253, 174, 107),
    "done": (199, 233, 192),
    "current": (116, 196, 118),
    "line": (90, 90, 90),
    "text": (20, 20, 20),
    "faint": (120, 120, 120),
    "weight": (8, 69, 148),
}


@dataclass
class Layout:
    """Where each grid cell was drawn: (x0, y0, x1, y1) per (channel, *position), for tests and reuse."""

    input_boxes: dict[tuple, tuple[int, int, int, int]] = field(default_factory=dict)
    kernel_boxes: dict[tuple, tuple[int, int, int, int]] = field(default_factory=dict)
    output_boxes: dict[tuple, tuple[int, int, int, int]] = field(default_factory=dict)


_PLAIN = {"×": "x", "∞": "inf", "·": "."}  # for a fallback font that lacks these glyphs


def save_image(image: Any, path: str | Path, **options: Any) -> None:
    """Save a PIL image atomically (encoded in memory, written beside ``path``, renamed into place), in
    the format its suffix names: a reader never sees half a file.

    >>> from PIL import Image
    >>> save_image(Image.new("L", (2, 2)), "picture.bmpx")
    Traceback (most recent call last):
    ValueError: save_image: can't tell an image format from 'picture.bmpx'; use a suffix such as .png or .gif
    """
    import io

    from PIL import Image

    from ..train.checkpoint import atomic_write_bytes

    fmt = Image.registered_extensions().get(Path(path).suffix.lower())
    if fmt is None:
        raise ValueError(
            f"save_image: can't tell an image format from {str(path)!r}; use a suffix such as .png or .gif"
        )
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    atomic_write_bytes(path, buffer.getvalue())


def _font(size: int) -> Any:
    """DejaVu Sans where the system has it (it has × and ∞), else Pillow's own font."""
    from PIL import ImageFont

    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        pass
    try:
        font = ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: a fixed bitmap font
        font = ImageFont.load_default()
    font.plain = True
    return font


def _text(draw: Any, xy: Any, text: str, font: Any, **kwargs: Any) -> None:
    if getattr(font, "plain", False):
        for a, b in _PLAIN.items():
            text = text.replace(a, b)
    draw.text(xy, text, font=font, **kwargs)


def _as2d(a: np.ndarray) -> np.ndarray:
    """(C, *S) with 1 or 2 spatial axes -> (C, H, W)."""
    return a[:, None, :] if a.ndim == 2 else a


def _cell_size(ex: Explanation) -> int:
    biggest = max(_as2d(ex.padded).shape[1:] + _as2d(ex.output).shape[1:])
    return int(np.clip(320 // max(biggest, 1), 22, 48))


class _Canvas:
    def __init__(self, ex: Explanation) -> None:
        self.ex = ex
        self.cell = _cell_size(ex)
        self.font = _font(max(self.cell * 2 // 5, 10))
        self.small = _font(max(self.cell // 4, 8))
        self.label_font = _font(15)
        self.gap = 28
        self.margin = 20
        xp = _as2d(ex.padded)
        y = _as2d(ex.output)
        self.xp, self.y = xp, y
        self.kernel = None
        if ex.kernel is not None:
            k = ex.kernel if not ex.op.startswith("conv_transpose") else ex.kernel.swapaxes(0, 1)
            self.kernel = _as2d(k.reshape((-1,) + k.shape[2:]))  # (OC·C, KH, KW)
        self.input_size = self._stack_size(xp)
        self.kernel_size = self._stack_size(self.kernel) if self.kernel is not None else (0, 0)
        self.output_size = self._stack_size(y)
        self.top = self.margin + 26
        grids_w = self.input_size[0] + self.output_size[0] + self.gap * 2
        if self.kernel is not None:
            grids_w += self.kernel_size[0] + self.gap
        grids_h = max(self.input_size[1], self.kernel_size[1], self.output_size[1])
        lines = max((len(s.expression.split("\n")) for s in ex.steps), default=1)
        self.text_top = self.top + grids_h + 16
        widest = max((len(line) for s in ex.steps for line in s.expression.split("\n")), default=10)
        text_w = int(widest * 8.2) + 2 * self.margin
        self.width = max(grids_w + 2 * self.margin, text_w, 360)
        self.height = self.text_top + lines * 20 + self.margin

    def _stack_size(self, a: np.ndarray) -> tuple[int, int]:
        C, H, W = a.shape
        return W * self.cell, C * H * self.cell + (C - 1) * 10

    def grid(
        self,
        draw: Any,
        a: np.ndarray,
        x0: int,
        y0: int,
        fills: dict,
        weights: dict,
        boxes: dict,
        show: Any = None,
        pad: tuple | None = None,
    ) -> None:
        C, H, W = a.shape
        c = self.cell
        for ch in range(C):
            top = y0 + ch * (H * c + 10)
            for i in range(H):
                for j in range(W):
                    key = (ch, i, j)
                    box = (x0 + j * c, top + i * c, x0 + (j + 1) * c, top + (i + 1) * c)
                    boxes[key] = box
                    is_pad = pad is not None and not (
                        pad[0][0] <= i < H - pad[0][1] and pad[1][0] <= j < W - pad[1][1]
                    )
                    fill = fills.get(key, COLORS["padding"] if is_pad else COLORS["cell"])
                    draw.rectangle(box, fill=fill, outline=COLORS["line"])
                    if show is None or show(key):
                        text = _num(a[key])
                        colour = COLORS["faint"] if is_pad else COLORS["text"]
                        _text(
                            draw,
                            ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2),
                            text,
                            fill=colour,
                            font=self.font,
                            anchor="mm",
                        )
                    if key in weights:
                        _text(
                            draw,
                            (box[2] - 3, box[3] - 2),
                            _num(weights[key]),
                            fill=COLORS["weight"],
                            font=self.small,
                            anchor="rd",
                        )


def _key(index: tuple[int, ...]) -> tuple[int, int, int]:
    return (index[0], 0, index[1]) if len(index) == 2 else tuple(index)  # 1-D cells sit on one row


def draw_frame(ex: Explanation, step: int | None = 0) -> tuple[Any, Layout]:
    """One picture of ``ex``: the computation of output ``step`` (an index into ``ex.steps``), or with
    ``step=None`` the finished output and no window. Returns the PIL image and the :class:`Layout`.

    >>> from cnnlab import explain
    >>> image, layout = draw_frame(explain.conv([[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[0, 1], [2, 3]]), 0)
    >>> image.size, len(layout.output_boxes)
    ((460, 246), 4)
    """
    from PIL import Image, ImageDraw

    if ex.nd == 3:
        raise ValueError(f"render: 3-D explanations are text only; print the explanation of {ex.op} instead")
    if step is not None and not (isinstance(step, int) and -len(ex.steps) <= step < len(ex.steps)):
        raise ValueError(
            f"render: expected step to be an index into the {len(ex.steps)} steps, or None, got {step!r}"
        )
    cv = _Canvas(ex)
    image = Image.new("RGB", (cv.width, cv.height), COLORS["background"])
    draw = ImageDraw.Draw(image)
    layout = Layout()
    current = ex.steps[step] if step is not None else None
    order = {s.output_index: i for i, s in enumerate(ex.steps)}
    done_until = len(ex.steps) if step is None else step % len(ex.steps)

    x = cv.margin
    in_fills, weights = {}, {}
    if current is not None:
        for n, cell in enumerate(current.input_cells):
            in_fills[_key(cell)] = COLORS["window"]
            if n < len(current.weights):
                weights[_key(cell)] = current.weights[n]
        if current.winner is not None:
            in_fills[_key(current.winner)] = COLORS["winner"]
    pads = ex.pads if ex.nd == 2 else ((0, 0),) + tuple(ex.pads)
    _text(
        draw,
        (x, cv.margin),
        "input" + (" (padded)" if any(v for p in ex.pads for v in p) else ""),
        fill=COLORS["text"],
        font=cv.label_font,
    )
    cv.grid(draw, cv.xp, x, cv.top, in_fills, weights, layout.input_boxes, pad=pads)
    x += cv.input_size[0] + cv.gap
    if cv.kernel is not None:
        _text(draw, (x, cv.margin), "kernel", fill=COLORS["text"], font=cv.label_font)
        k_fills = {}
        if current is not None:  # the kernel slices that make the current output channel
            C = ex.input.shape[0]
            first = current.output_index[0] * C
            k_fills = {
                key: COLORS["window"] for key in np.ndindex(*cv.kernel.shape) if first <= key[0] < first + C
            }
        cv.grid(draw, cv.kernel, x, cv.top, k_fills, {}, layout.kernel_boxes)
        x += cv.kernel_size[0] + cv.gap
    _text(draw, (x, cv.margin), "output", fill=COLORS["text"], font=cv.label_font)
    out_fills = {}
    for index, i in order.items():
        if i < done_until:
            out_fills[_key(index)] = COLORS["done"]
    if current is not None:
        out_fills[_key(current.output_index)] = COLORS["current"]
    visible = {k for k in out_fills}
    cv.grid(draw, cv.y, x, cv.top, out_fills, {}, layout.output_boxes, show=lambda k: k in visible)
    if current is not None:
        for n, line in enumerate(current.expression.split("\n")):
            _text(draw, (cv.margin, cv.text_top + 20 * n), line, fill=COLORS["text"], font=cv.label_font)
    else:
        _text(
            draw,
            (cv.margin, cv.text_top),
            f"{ex.op}: output {'×'.join(map(str, ex.output.shape))}",
            fill=COLORS["text"],
            font=cv.label_font,
        )
    return image, layout


def render(ex: Explanation, path: str | Path | None = None, step: int | None = 0, duration: int = 900) -> Any:
    """Draw ``ex``: an animated GIF (one frame per output value, then the finished output) when
    ``path`` ends in ``.gif``, else one PNG frame (``step``). Returns the image (the first frame of a GIF).

    >>> from cnnlab import explain
    >>> render(explain.pool([[1, 3], [4, 2]], 2), step=None).size
    (360, 198)
    """
    if path is not None and str(path).lower().endswith(".gif"):
        frames = [draw_frame(ex, i)[0] for i in range(len(ex.steps))] + [draw_frame(ex, None)[0]]
        from PIL import Image

        frames = [f.convert("P", palette=Image.Palette.ADAPTIVE, colors=32) for f in frames]
        save_image(
            frames[0], path, save_all=True, append_images=frames[1:], duration=duration, loop=0, optimize=True
        )
        return frames[0]
    image, _ = draw_frame(ex, step)
    if path is not None:
        save_image(image, path, optimize=True)
    return image
