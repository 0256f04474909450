"""The ``cnnlab`` command line: train, evaluate and predict; inspect and explain; look inside a trained run.

Each subcommand group lives in its own file with an ``add_parser(subparsers)`` and a ``run(args)``.
:func:`main` parses, runs, and turns the errors a user can cause (an unknown model or dataset, a
missing file, an unreadable image, a batch too large for memory, a diverging loss) into one line on
stderr and a non-zero exit status; ``--debug`` shows the traceback instead.

>>> main(["models", "--json"]) == 0  # doctest: +ELLIPSIS
[...
True
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .common import CLIError

__all__ = ["CLIError", "build_parser", "main"]

EPILOG = """\
examples:
  cnnlab train                                    # LeNet-5 on the embedded Fashion-MNIST sample
  cnnlab train --model fashion_cnn --epochs 10 --out runs/cnn
  cnnlab train --resume --out runs/cnn            # go on from the last checkpoint
  cnnlab evaluate runs/cnn                        # test metrics and the confusion matrix
  cnnlab predict runs/cnn shoe.jpg shirt.png      # top-k classes with probabilities
  cnnlab models                                   # available models with parameter counts
  cnnlab datasets                                 # available datasets and where they are
  cnnlab visualize runs/cnn test:0 --method gradcam --out cam.png   # why did it say that?
  cnnlab filters runs/cnn --out filters.png       # the first conv layer's kernels
  cnnlab maximize runs/cnn --layer features.1.3 --channels 0,1,2 --out max.png

'cnnlab COMMAND --help' shows each command's options and examples.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``cnnlab`` with every subcommand."""
    from . import evaluate, explain, info, inspect, predict, train, vis

    parser = argparse.ArgumentParser(
        prog="cnnlab",
        description="Convolutional neural networks from first principles on NumPy: "
        "train, inspect, explain, look inside.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"cnnlab {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for module in (train, evaluate, predict, info, inspect, explain, vis):
        module.add_parser(subparsers)
    return parser


def _one_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    if isinstance(error, KeyError) and len(error.args) == 1 and isinstance(error.args[0], str):
        text = error.args[0]
    return " ".join(text.split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``cnnlab`` with ``argv`` (default ``sys.argv[1:]``); returns the exit status.

    0 on success, 1 for an error (printed as one line), 2 for a usage error, 130 when interrupted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:  # --help, --version, usage errors: argparse has printed what it had to
        return int(exit.code or 0) if not isinstance(exit.code, str) else 2
    if args.command is None:
        parser.print_help()
        return 2
    prog = f"cnnlab {args.command}"
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader has gone (`cnnlab models | head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the interpreter's last flush does not fail again
        os.close(devnull)
        return 0
    except MemoryError as error:
        if args.debug:
            raise
        hint = f" with batch size {args.batch_size}" if getattr(args, "batch_size", None) else ""
        detail = f" ({_one_line(error)})" if str(error) else ""
        print(f"{prog}: error: out of memory{hint}{detail}; try a smaller --batch-size", file=sys.stderr)
        return 1
    except (CLIError, ValueError, OSError, FloatingPointError, KeyError, ImportError) as error:
        if args.debug:
            raise
        print(f"{prog}: error: {_one_line(error)}", file=sys.stderr)
        return 1
