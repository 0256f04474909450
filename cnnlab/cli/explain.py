"""``cnnlab explain`` (a convolution or pooling worked out by hand) and ``cnnlab filter`` (image kernels).

Matrices are written as text: numbers separated by spaces or commas, rows by ``;``, channels by ``|``,
depth slices (3-D) by ``/`` and, in a kernel, output channels by ``||``:
``"0 1 2; 3 4 5; 6 7 8"`` is a 3×3 image, ``"1 0; 0 1 | 0 1; 1 0"`` two 2×2 channels.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

import numpy as np

from .common import CLIError
from .inspect import _padding, emit, int_tuple

__all__ = ["EXPLAIN_OPS", "add_parser", "parse_matrix", "run_explain", "run_filter"]

EXPLAIN_EXAMPLES = """\
examples:
  cnnlab explain conv2d --input "0 1 2; 3 4 5; 6 7 8" --kernel "0 1; 2 3"
  cnnlab explain conv2d --input "0 1 2; 3 4 5; 6 7 8" --kernel "0 1; 2 3" --padding 1 --stride 2 --gif conv.gif
  cnnlab explain conv2d --input "1 2; 3 4 | 0 1; 1 0" --kernel "1 0; 0 1 | 1 1; 1 1" --bias 1
  cnnlab explain max_pool2d --input "1 3 2 0; 4 6 5 7; 8 1 0 2; 3 9 4 1" --kernel 2
  cnnlab explain avg_pool2d --input "1 2 3; 4 5 6; 7 8 9" --kernel 2 --stride 1
  cnnlab explain conv_transpose2d --input "1 2; 3 4" --kernel "1 0; 0 1" --stride 2
  cnnlab explain im2col --input "0 1 2; 3 4 5; 6 7 8" --kernel "0 1; 2 3"
  cnnlab explain conv1d --input "0 1 2 3 4 5" --kernel "1 -1" --dilation 2
"""

FILTER_EXAMPLES = """\
examples:
  cnnlab filter photo.jpg --kernel sobel-x --out edges.png
  cnnlab filter photo.jpg --kernel all --out kernels.png       # every kernel, side by side
  cnnlab filter photo.jpg --kernel sharpen,laplacian --out two.png
  cnnlab filter --list                                         # the kernels and their weights
"""

EXPLAIN_OPS = (
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "im2col",
    "unfold",
)
_NUMBER = re.compile(r"[\s,]+")


def _rect(items: list, what: str, text: str) -> np.ndarray:
    shapes = {np.shape(i) for i in items}
    if len(shapes) != 1:
        sizes = ", ".join("×".join(map(str, s)) for s in (np.shape(i) for i in items))
        raise CLIError(
            f"{what}: the {len(items)} parts of {text!r} differ in size ({sizes}); they must match"
        )
    return np.stack(items)


def parse_matrix(text: str, what: str, nd: int, kernel: bool = False) -> np.ndarray:
    """Parse the text form of an array: (*S), (C, *S) with ``|``, and for a kernel (OC, C, *S) with ``||``.

    >>> parse_matrix("0 1 2; 3 4 5", "--input", 2).tolist()
    [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    >>> parse_matrix("1 2 | 3 4", "--input", 1).shape
    (2, 2)
    """
    if not text or not text.strip():
        raise CLIError(f'{what}: expected numbers such as "0 1; 2 3", got an empty string')

    def rows(part: str) -> np.ndarray:
        lines = [r for r in part.split(";")]
        out = []
        for line in lines:
            tokens = [t for t in _NUMBER.split(line.strip()) if t]
            if not tokens:
                raise CLIError(f"{what}: an empty row in {text!r} (a stray ';'?)")
            try:
                out.append([float(t) for t in tokens])
            except ValueError:
                bad = next(t for t in tokens if not _is_number(t))
                raise CLIError(f"{what}: {bad!r} is not a number, in {text!r}") from None
        lengths = {len(r) for r in out}
        if len(lengths) != 1:
            raise CLIError(
                f"{what}: rows of different lengths ({', '.join(str(len(r)) for r in out)}) in {text!r}; "
                "every row needs as many numbers"
            )
        a = np.array(out)
        if nd == 1:
            if a.shape[0] != 1:
                raise CLIError(
                    f"{what}: a 1-D operand is one row of numbers, got {a.shape[0]} rows in {text!r}"
                )
            return a[0]
        return a

    def channel(part: str) -> np.ndarray:
        if nd == 3:
            return _rect([rows(s) for s in part.split("/")], what, text)
        if "/" in part:
            raise CLIError(f"{what}: '/' separates depth slices of 3-D operands only, got {text!r}")
        return rows(part)

    def channels(part: str) -> np.ndarray:
        pieces = part.split("|")
        if len(pieces) == 1:
            return channel(part)
        return _rect([channel(p) for p in pieces], what, text)

    if "||" in text:
        if not kernel:
            raise CLIError(f"{what}: '||' separates the output channels of a kernel only, got {text!r}")
        outs = [channels(p) for p in text.split("||")]
        outs = [o if o.ndim == nd + 1 else o[None] for o in outs]
        return _rect(outs, what, text)
    return channels(text)


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def add_parser(subparsers: Any) -> None:
    """Register ``cnnlab explain`` and ``cnnlab filter``."""
    fmt = argparse.RawDescriptionHelpFormatter
    p = subparsers.add_parser(
        "explain",
        help="a convolution or pooling worked out by hand, value by value",
        description="Write out the computation of every output value, as on a whiteboard, with the numbers "
        "computed by cnnlab's own ops; optionally draw it as a PNG or an animated GIF.",
        epilog=EXPLAIN_EXAMPLES,
        formatter_class=fmt,
    )
    p.add_argument("op", choices=EXPLAIN_OPS, metavar="OP", help=", ".join(EXPLAIN_OPS))
    p.add_argument("--input", required=True, help='the input, e.g. "0 1 2; 3 4 5; 6 7 8"')
    p.add_argument("--kernel", required=True, help='the kernel, e.g. "0 1; 2 3" (pooling: its size, e.g. 2)')
    p.add_argument("--bias", help="one number per output channel, comma-separated")
    p.add_argument("--stride", type=int_tuple, default=None)
    p.add_argument("--padding", type=_padding, default=0)
    p.add_argument("--dilation", type=int_tuple, default=(1,))
    p.add_argument("--output-padding", type=int_tuple, default=(0,), help="transposed convolution only")
    p.add_argument("--ceil-mode", action="store_true", help="pooling: round the output size up")
    p.add_argument(
        "--exclude-pad", action="store_true", help="average pooling: don't count padding in the divisor"
    )
    p.add_argument("--gif", help="write an animation (one frame per output value) to this GIF")
    p.add_argument("--png", help="write one frame to this PNG (see --step)")
    p.add_argument(
        "--step",
        type=int,
        default=None,
        help="which output value the PNG shows (default: the finished output)",
    )
    p.set_defaults(run=run_explain)

    p = subparsers.add_parser(
        "filter",
        help="apply a classic image kernel (blur, sharpen, Sobel, line detectors) to an image",
        description="Correlate a greyscale image with classic 3×3 kernels using cnnlab's conv2d.",
        epilog=FILTER_EXAMPLES,
        formatter_class=fmt,
    )
    p.add_argument("image", metavar="IMAGE", nargs="?", help="an image file Pillow can read")
    p.add_argument(
        "--kernel", default="all", help="a kernel name, several comma-separated, or 'all' (default)"
    )
    p.add_argument("--out", help="the PNG to write (required unless --list)")
    p.add_argument("--list", action="store_true", help="list the kernels and their weights")
    p.set_defaults(run=run_filter)


def run_explain(args: argparse.Namespace) -> int:
    from .. import explain

    op = args.op
    nd = 2 if op in ("im2col", "unfold") else int(op[-2])
    if nd == 3 and (args.gif or args.png):
        raise CLIError(
            f"{'--gif' if args.gif else '--png'}: 3-D explanations are text only; drop it to print {op}"
        )
    x = parse_matrix(args.input, "--input", nd)
    bias = None
    if args.bias is not None:
        try:
            bias = [float(v) for v in _NUMBER.split(args.bias.strip()) if v]
        except ValueError:
            raise CLIError(f"--bias: expected comma-separated numbers, got {args.bias!r}") from None
    stride = args.stride if args.stride is None or len(args.stride) > 1 else args.stride[0]
    dilation = args.dilation if len(args.dilation) > 1 else args.dilation[0]
    if "pool" in op:
        if bias is not None:
            raise CLIError("--bias: pooling has no bias")
        kernel = int_tuple(args.kernel) if re.fullmatch(r"\s*\d+(\s*,\s*\d+)*\s*", args.kernel) else None
        if kernel is None:
            raise CLIError(f"--kernel: pooling takes the kernel size (e.g. 2 or 2,3), got {args.kernel!r}")
        ex = explain.pool(
            x,
            kernel if len(kernel) > 1 else kernel[0],
            stride,
            args.padding,
            dilation,
            mode=op.split("_")[0],
            ceil_mode=args.ceil_mode,
            count_include_pad=not args.exclude_pad,
            nd=nd,
        )
    else:
        w = parse_matrix(args.kernel, "--kernel", nd, kernel=True)
        if op.startswith("conv_transpose"):
            o = args.output_padding if len(args.output_padding) > 1 else args.output_padding[0]
            if isinstance(args.padding, str):
                raise CLIError("--padding: a transposed convolution takes numbers, not 'same' or 'valid'")
            ex = explain.conv_transpose(
                x, w, bias, 1 if stride is None else stride, args.padding, o, dilation, nd=nd
            )
        elif op in ("im2col", "unfold"):
            ex = explain.unfold(x, w, bias, 1 if stride is None else stride, args.padding, dilation, nd=nd)
        else:
            ex = explain.conv(x, w, bias, 1 if stride is None else stride, args.padding, dilation, nd=nd)
    if args.png and args.step is not None and not -len(ex.steps) <= args.step < len(ex.steps):
        raise CLIError(f"--step: expected 0 to {len(ex.steps) - 1} (one per output value), got {args.step}")
    emit(ex)
    if args.gif:
        explain.render(ex, args.gif)
        emit(f"wrote {args.gif}")
    if args.png:
        explain.render(ex, args.png, step=args.step)
        emit(f"wrote {args.png}")
    return 0


def run_filter(args: argparse.Namespace) -> int:
    from ..explain import KERNELS, filter_image, kernel_gallery

    if args.list:
        for name, k in KERNELS.items():
            rows = "; ".join(" ".join(f"{v:g}" for v in row) for row in k)
            emit(f"{name:<17} {rows}")
        return 0
    if args.image is None or args.out is None:
        raise CLIError("filter: give an IMAGE and --out PNG (or --list)")
    names = [n.strip() for n in args.kernel.split(",") if n.strip()]
    if names == ["all"]:
        kernel_gallery(args.image, None, path=args.out)
    elif len(names) == 1:
        filter_image(args.image, names[0], path=args.out)
    else:
        kernel_gallery(args.image, names, path=args.out)
    emit(f"wrote {args.out}")
    return 0
