"""``cnnlab summary``, ``cnnlab shape`` and ``cnnlab receptive-field``: shapes, costs and fields of view."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from .common import CLIError, build_model, positive_int, require_run_dir

__all__ = ["add_parser", "emit", "int_tuple", "load_model", "run_receptive_field", "run_shape", "run_summary"]

SUMMARY_EXAMPLES = """\
examples:
  cnnlab summary lenet5                        # layers, shapes, parameters, MACs, memory
  cnnlab summary fashion_cnn --depth 1 --json  # the same as JSON, one row per block
  cnnlab summary runs/cnn                      # the model of a trained run
"""

SHAPE_EXAMPLES = """\
examples:
  cnnlab shape conv2d --input 1,7,7 --kernel 3 --stride 2
  cnnlab shape conv2d --input 16,64,64 --kernel 3 --out-channels 32 --padding same
  cnnlab shape max_pool2d --input 6,28,28 --kernel 2
  cnnlab shape conv_transpose2d --input 8,7,7 --kernel 3 --stride 2 --padding 1 --output-padding 1
"""

RF_EXAMPLES = """\
examples:
  cnnlab receptive-field lenet5                                   # the table, layer by layer
  cnnlab receptive-field lenet5 --layer features.3 --unit 4,6     # the input region of one unit
  cnnlab receptive-field lenet5 --layer features.3 --unit 4,6 --image boot.png --out rf.png
"""

_SHAPE_OPS = (
    "conv",
    "conv_transpose",
    "pool",
    "max_pool",
    "avg_pool",
    *(f"{f}{nd}d" for f in ("conv", "conv_transpose", "max_pool", "avg_pool") for nd in (1, 2, 3)),
)


def emit(text: Any) -> None:
    """Print ``text``; when the reader has gone (``cnnlab explain ... | head``), go on quietly.

    The rest of the output goes to the null device, so neither this nor the interpreter's last flush
    fails again; files the command writes are still written.
    """
    try:
        print(text, flush=True)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def int_tuple(text: str) -> tuple[int, ...]:
    """argparse type: '1,28,28' (or '1x28x28') -> (1, 28, 28)."""
    parts = [p for p in text.replace("x", ",").replace("×", ",").split(",") if p.strip()]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers such as 1,28,28, got {text!r}"
        ) from None
    if not values:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers such as 1,28,28, got {text!r}")
    return values


def _padding(text: str) -> Any:
    if text in ("same", "valid"):
        return text
    values = int_tuple(text)
    return values[0] if len(values) == 1 else values


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "model", metavar="MODEL|RUN_DIR", help="a model name (see 'cnnlab models') or a run directory"
    )
    p.add_argument(
        "--input-size",
        type=int_tuple,
        default=None,
        help="C,H,W without the batch (default: 1,28,28 or the run's)",
    )
    p.add_argument(
        "--num-classes", type=positive_int, default=10, help="classes for a model name (default: 10)"
    )


def add_parser(subparsers: Any) -> None:
    """Register ``cnnlab summary``, ``cnnlab shape`` and ``cnnlab receptive-field``."""
    fmt = argparse.RawDescriptionHelpFormatter
    p = subparsers.add_parser(
        "summary",
        help="a model's layers: output shapes, parameters, MACs, memory",
        description="One row per layer: output shape, parameters and multiply-accumulates; then trainable, "
        "frozen and buffer totals and memory.",
        epilog=SUMMARY_EXAMPLES,
        formatter_class=fmt,
    )
    _common(p)
    p.add_argument(
        "--depth", type=positive_int, default=3, help="levels of nested modules shown (default: 3)"
    )
    p.add_argument(
        "--macs", choices=("exact", "torchinfo"), default="exact", help="MAC convention (default: exact)"
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(run=run_summary)

    p = subparsers.add_parser(
        "shape",
        help="the output shape of a convolution or pooling, with the formula filled in",
        description="Output shape, formula, parameters and MACs of one layer, and what a fully connected layer "
        "with the same input and output would cost.",
        epilog=SHAPE_EXAMPLES,
        formatter_class=fmt,
    )
    p.add_argument(
        "op",
        choices=_SHAPE_OPS,
        metavar="OP",
        help="conv2d, max_pool2d, avg_pool2d, conv_transpose2d "
        "(1d/3d too; conv, pool and conv_transpose take the dimension from --input)",
    )
    p.add_argument("--input", type=int_tuple, required=True, help="input shape C,H,W (or C,L / C,D,H,W)")
    p.add_argument("--kernel", type=int_tuple, required=True, help="kernel size: 3 or 3,5")
    p.add_argument("--stride", type=int_tuple, default=None, help="default 1 (pooling: the kernel size)")
    p.add_argument("--padding", type=_padding, default=0, help="an int, a tuple, 'same' or 'valid'")
    p.add_argument("--dilation", type=int_tuple, default=(1,))
    p.add_argument("--out-channels", type=positive_int, default=None, help="default: the input's channels")
    p.add_argument("--groups", type=positive_int, default=1)
    p.add_argument("--output-padding", type=int_tuple, default=(0,), help="transposed convolution only")
    p.add_argument("--ceil-mode", action="store_true", help="pooling: round the output size up")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_shape)

    p = subparsers.add_parser(
        "receptive-field",
        help="what part of the input each layer's units see",
        description="Per layer: output size, jump (effective stride), receptive-field size and start. With "
        "--layer and --unit: the input region of that unit; with --out, a picture of it.",
        epilog=RF_EXAMPLES,
        formatter_class=fmt,
    )
    _common(p)
    p.add_argument("--layer", help="a module name from the table (e.g. features.3)")
    p.add_argument("--unit", type=int_tuple, help="the unit's position in the layer's output map: Y,X")
    p.add_argument("--image", help="an image to draw the field on (default: a Fashion-MNIST ankle boot)")
    p.add_argument("--out", help="write the picture to this PNG (needs --layer and --unit)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_receptive_field)


def load_model(
    spec: str, input_size: tuple[int, ...] | None, num_classes: int
) -> tuple[Any, tuple[int, ...]]:
    """A model by name or from a run directory's configuration, and the input size to use.

    Shapes, costs and fields of view do not depend on the weights, so no checkpoint is read: a run
    that has not finished an epoch yet can be inspected too.
    """
    path = Path(spec)
    if path.exists() or "/" in spec or os.sep in spec:
        _, config = require_run_dir(spec)
        size = tuple(input_size or config["input_shape"])
        return build_model(config["model"], config["num_classes"], size), size
    size = tuple(input_size or (1, 28, 28))
    if len(size) != 3:
        raise CLIError(f"--input-size: the models take C,H,W, got {','.join(map(str, size))}")
    return build_model(spec, num_classes, size), size


def run_summary(args: argparse.Namespace) -> int:
    from ..inspect import summary

    model, size = load_model(args.model, args.input_size, args.num_classes)
    result = summary(model, size, depth=args.depth, macs=args.macs)
    emit(result.to_json() if args.json else result)
    return 0


def run_shape(args: argparse.Namespace) -> int:
    from ..inspect import shape

    op = args.op
    if not op[-2:-1].isdigit():
        nd = len(args.input) - 1
        if nd not in (1, 2, 3):
            raise CLIError(f"--input: expected C,L or C,H,W or C,D,H,W, got {','.join(map(str, args.input))}")
        op = {"pool": "max_pool"}.get(op, op) + f"{nd}d"
    result = shape(
        op,
        args.input,
        args.kernel,
        out_channels=args.out_channels,
        stride=args.stride,
        padding=args.padding,
        dilation=args.dilation,
        groups=args.groups,
        output_padding=args.output_padding,
        ceil_mode=args.ceil_mode,
    )
    emit(json.dumps(result.to_dict(), indent=1) if args.json else result)
    return 0


def run_receptive_field(args: argparse.Namespace) -> int:
    from ..inspect import receptive_field, receptive_field_for_unit

    model, size = load_model(args.model, args.input_size, args.num_classes)
    if (args.layer is None) != (args.unit is None):
        raise CLIError("--layer and --unit go together: give both, e.g. --layer features.3 --unit 4,6")
    if args.out and args.layer is None:
        raise CLIError("--out draws one unit's field: give --layer and --unit too")
    if args.layer is None:
        table = receptive_field(model, size)
        emit(json.dumps(table.to_dict(), indent=1) if args.json else table)
        return 0
    region = receptive_field_for_unit(model, size, args.layer, args.unit)
    if args.json:
        emit(
            json.dumps(
                {
                    "layer": args.layer,
                    "unit": list(args.unit),
                    "region": [[r.start, r.stop - 1] for r in region],
                }
            )
        )
    else:
        axes = ("rows", "cols") if len(region) == 2 else tuple(f"axis {i}" for i in range(len(region)))
        emit(
            f"{args.layer} unit {tuple(args.unit)} sees input "
            + ", ".join(f"{a} {r.start}-{r.stop - 1}" for a, r in zip(axes, region))
        )
    if args.out:
        from ..explain import receptive_field_image

        receptive_field_image(model, size, args.layer, args.unit, image=args.image, path=args.out)
        emit(f"wrote {args.out}")
    return 0
