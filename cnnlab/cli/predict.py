"""``cnnlab predict``: the top-k classes of image files, with probabilities, from a trained run.

Any image Pillow reads works, of any size or colour: it is converted to the run's channels (grey or
RGB), cropped to the object (what differs from the border colour), padded to a square with the border
colour (so the object keeps its proportions), resized to
the model's input size, inverted when the model was trained on light things on a dark background
and the photo has a light background (``--invert auto``), then normalised as in training.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from .common import CLIError, load_run_model, positive_int, require_run_dir

__all__ = ["add_parser", "load_image", "run"]

EXAMPLES = """\
examples:
  cnnlab predict runs/lenet shoe.jpg                 # the 3 likeliest classes
  cnnlab predict runs/lenet photos/*.png --top-k 5
  cnnlab predict runs/lenet scan.png --invert no     # never invert the image's brightness
  cnnlab predict runs/lenet a.png b.jpg --json       # one JSON object per image
"""


def add_parser(subparsers: Any) -> None:
    """Register ``cnnlab predict``."""
    p = subparsers.add_parser(
        "predict",
        help="top-k classes with probabilities for image files",
        description="Classify image files (any size, any colour) with a trained run's model.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by 'cnnlab train'")
    p.add_argument(
        "images", metavar="IMAGE", nargs="+", help="image files (PNG, JPEG, BMP, GIF, TIFF, WebP …)"
    )
    p.add_argument(
        "--top-k", type=positive_int, default=3, help="how many classes to show per image (default: 3)"
    )
    p.add_argument(
        "--checkpoint",
        choices=("auto", "best", "last"),
        default="auto",
        help="which weights: best, last, or auto = best if saved, else last (default: auto)",
    )
    p.add_argument(
        "--invert",
        choices=("auto", "yes", "no"),
        default="auto",
        help="invert brightness: auto = when the image's background is light and the training "
        "images' was dark (default: auto)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object per image")
    p.set_defaults(run=run)


def load_image(path: str | Path, config: dict[str, Any], invert: str = "auto") -> np.ndarray:
    """Read ``path`` and prepare it as the run's model expects: float32 (C, H, W), normalised."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.exists():
        raise CLIError(f"image file {str(path)!r} not found")
    if path.is_dir():
        raise CLIError(f"{str(path)!r} is a directory, expected an image file")
    channels, height, width = config["input_shape"]
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            if image.mode in ("I", "I;16", "I;16B", "F"):  # 16-bit and float images: scale to 8 bits
                data = np.asarray(image, dtype=np.float64)
                span = data.max() - data.min()
                data = (data - data.min()) / span * 255 if span > 0 else np.zeros_like(data)
                image = Image.fromarray(data.astype(np.uint8))
            if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
                background = Image.new("RGBA", image.size, (255, 255, 255, 255))
                image = Image.alpha_composite(background, image.convert("RGBA"))  # transparency -> white
            image = image.convert("L" if channels == 1 else "RGB")
    except UnidentifiedImageError:
        raise CLIError(f"cannot read {str(path)!r}: not an image file Pillow recognises") from None
    except (OSError, ValueError, SyntaxError) as error:  # truncated or corrupt files
        raise CLIError(f"cannot read image {str(path)!r}: {error}") from None
    pixels = np.asarray(image)
    pixels = pixels[..., None] if pixels.ndim == 2 else pixels  # H, W, C
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])  # (P, C)
    fill = tuple(int(v) for v in np.median(border, axis=0))
    # crop to the object (pixels unlike the background), as Fashion-MNIST's images were trimmed, then pad
    # to a square with the background colour, so resizing keeps the object's proportions
    differs = np.abs(pixels.astype(np.int16) - np.asarray(fill, np.int16)).max(axis=2) > 24  # H, W
    rows, cols = np.flatnonzero(differs.any(axis=1)), np.flatnonzero(differs.any(axis=0))
    if len(rows) and len(cols):
        image = image.crop((int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1))
    side = max(image.size)
    square = Image.new(image.mode, (side, side), fill[0] if channels == 1 else fill)
    square.paste(image, ((side - image.width) // 2, (side - image.height) // 2))
    resized = np.asarray(square.resize((width, height), Image.Resampling.LANCZOS), dtype=np.float32) / 255
    resized = resized[..., None] if resized.ndim == 2 else resized
    dark_model = config.get("preprocessing", {}).get("dark_background", False)
    if invert == "yes" or (invert == "auto" and dark_model and np.mean(border) > 127):
        resized = 1 - resized
    pre = config.get("preprocessing", {"mean": [0.5], "std": [0.5]})
    mean = np.asarray(pre["mean"], np.float32)
    std = np.asarray(pre["std"], np.float32)
    return np.ascontiguousarray(((resized - mean) / std).transpose(2, 0, 1))  # H,W,C -> C,H,W


def run(args: argparse.Namespace) -> int:
    """Print the ``--top-k`` classes of each image with their probabilities."""
    from ..train import predict

    run_dir, config = require_run_dir(args.run_dir)
    batch = np.stack([load_image(p, config, args.invert) for p in args.images])  # N, C, H, W
    model, _ = load_run_model(run_dir, config, args.checkpoint)
    probabilities = predict(model, batch)
    classes = list(config.get("classes") or [str(i) for i in range(config["num_classes"])])
    k = min(args.top_k, len(classes))
    for name, p in zip(args.images, probabilities):
        top = np.argsort(-p, kind="stable")[:k]
        if args.json:
            print(
                json.dumps(
                    {
                        "image": name,
                        "top": [
                            {"class": classes[i], "index": int(i), "probability": float(p[i])} for i in top
                        ],
                    }
                )
            )
        else:
            print(f"{name}: " + ", ".join(f"{classes[i]} {100 * p[i]:.1f}%" for i in top))
    return 0
