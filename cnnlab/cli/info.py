"""``cnnlab models`` and ``cnnlab datasets``: what is available, with sizes and locations."""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["add_parser", "model_rows", "run_datasets", "run_models"]

MODELS_EXAMPLES = """\
examples:
  cnnlab models           # a table: name, parameters, description
  cnnlab models --json    # the same as JSON
"""

DATASETS_EXAMPLES = """\
examples:
  cnnlab datasets                      # name, classes, image shape and where the files are
  cnnlab datasets --data-root ~/data   # look in another directory
  cnnlab datasets --json
"""


def add_parser(subparsers: Any) -> None:
    """Register ``cnnlab models`` and ``cnnlab datasets``."""
    p = subparsers.add_parser(
        "models",
        help="list the available models with parameter counts",
        description="List the models 'cnnlab train --model' accepts, with their parameter counts "
        "(for 10 classes of 28×28 grey images).",
        epilog=MODELS_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(run=run_models)
    p = subparsers.add_parser(
        "datasets",
        help="list the available datasets and where their files are",
        description="List the datasets 'cnnlab train --data' accepts and where each was found "
        "(or 'not found': it will be downloaded on first use). Looks only; never downloads.",
        epilog=DATASETS_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data-root", metavar="DIR", help="look in this directory instead of the usual places")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(run=run_datasets)


def model_rows() -> list[dict[str, Any]]:
    """Name, trainable parameters and a one-line description of each registered model."""
    from .. import models
    from .common import build_model

    rows = []
    for name in sorted(models.available_models()):
        model = build_model(name, 10, (1, 28, 28))
        doc = (type(model).__doc__ or "").strip().splitlines()
        rows.append(
            {
                "name": name,
                "parameters": sum(int(p.numel()) for p in model.parameters()),
                "class": type(model).__name__,
                "description": doc[0] if doc else "",
            }
        )
    return rows


def run_models(args: argparse.Namespace) -> int:
    """Print the models table."""
    rows = model_rows()
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    width = max(len(r["name"]) for r in rows)
    print(f"{'model':<{width}}  {'parameters':>10}  description")
    for r in rows:
        print(f"{r['name']:<{width}}  {r['parameters']:>10,}  {r['description']}")
    return 0


def run_datasets(args: argparse.Namespace) -> int:
    """Print the datasets table."""
    from ..data import available_datasets

    rows = available_datasets(root=args.data_root)
    if args.json:
        print(
            json.dumps(
                [
                    {**r, "image_shape": list(r["image_shape"]), "num_classes": len(r["classes"])}
                    for r in rows
                ],
                indent=1,
            )
        )
        return 0
    width = max(len(r["name"]) for r in rows)
    print(f"{'dataset':<{width}}  classes  image (C×H×W)  location")
    for r in rows:
        shape = "×".join(str(s) for s in r["image_shape"])
        print(f"{r['name']:<{width}}  {len(r['classes']):>7}  {shape:>13}  {r['location']}")
    return 0
