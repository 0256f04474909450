"""``cnnlab visualize``, ``cnnlab filters``, ``cnnlab maximize``: look inside a trained run's model.

``visualize`` explains one image (a file, read as ``cnnlab predict`` reads it, or ``test:N``, the
N-th image of the run's test set) with Grad-CAM, saliency, Integrated Gradients, occlusion or its
feature maps; ``filters`` draws a conv layer's kernels; ``maximize`` draws the inputs that excite
chosen channels most. Each writes one PNG (see :mod:`cnnlab.vis`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from .common import (
    CLIError,
    load_dataset,
    load_run_model,
    make_transform,
    positive_float,
    positive_int,
    require_run_dir,
)

__all__ = ["METHODS", "add_parser", "channel_list", "run_filters", "run_maximize", "run_visualize"]

# command-line method -> (what the picture is called, what it computes)
METHODS = {
    "gradcam": "Grad-CAM",
    "gradcam++": "Grad-CAM++",
    "hirescam": "HiResCAM",
    "saliency": "Gradient (saliency)",
    "gradient-x-input": "Gradient × input",
    "smoothgrad": "SmoothGrad",
    "integrated-gradients": "Integrated Gradients",
    "occlusion": "Occlusion sensitivity",
    "feature-maps": "Feature maps",
    "all": "Every method",
}
_CAMS = {"gradcam": "gradcam", "gradcam++": "gradcam++", "hirescam": "hirescam"}
_SALIENCY = {
    "saliency": "gradient",
    "gradient-x-input": "gradient_x_input",
    "smoothgrad": "smoothgrad",
    "integrated-gradients": "integrated_gradients",
}
_WITH_LAYER = ("gradcam", "gradcam++", "hirescam", "feature-maps", "all")

VISUALIZE_EXAMPLES = """\
examples:
  cnnlab visualize runs/lenet shoe.png --method gradcam --out cam.png
  cnnlab visualize runs/lenet test:0 --method all --out all.png           # the first test image, every method
  cnnlab visualize runs/lenet test:7 --method gradcam++ --layer features.0 --target Sandal --out cam.png
  cnnlab visualize runs/lenet test:7 --method integrated-gradients --steps 100 --out ig.png
  cnnlab visualize runs/lenet test:7 --method occlusion --patch 4,8,14 --out occlusion.png
  cnnlab visualize runs/lenet test:7 --method feature-maps --out maps.png  # every conv and pool layer
  cnnlab visualize runs/lenet test:7 --method feature-maps --layer features.0 --out maps.png

IMAGE is an image file (any size or colour, prepared as 'cnnlab predict' does) or test:N, the N-th
image of the run's test set. --target is a class name or index (default: the predicted class).
"""

FILTERS_EXAMPLES = """\
examples:
  cnnlab filters runs/lenet --out filters.png                         # the first conv layer
  cnnlab filters runs/lenet --layer features.3 --mode norm --out deep.png
"""

MAXIMIZE_EXAMPLES = """\
examples:
  cnnlab maximize runs/lenet --layer features.3 --channels 0,1,2,3 --out channels.png
  cnnlab maximize runs/lenet --layer output --channels 0,5,9 --steps 300 --out classes.png   # class logits
"""


def channel_list(text: str) -> list[int]:
    """argparse type: comma-separated channel indices, such as ``0,1,2``.

    >>> channel_list("0, 2,5")
    [0, 2, 5]
    """
    parts = [p.strip() for p in text.split(",")]
    try:
        channels = [int(p) for p in parts]
    except ValueError:
        channels = []
    if not channels or any(c < 0 for c in channels):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated non-negative channel indices such as 0,1,2, got {text!r}"
        )
    return channels


def _int_list(text: str) -> list[int]:
    """argparse type: comma-separated positive integers, such as ``4,8``."""
    try:
        values = [int(p) for p in text.split(",")]
    except ValueError:
        values = []
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers such as 4,8, got {text!r}"
        )
    return values


def _common_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by 'cnnlab train'")


def _checkpoint_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--checkpoint",
        choices=("auto", "best", "last"),
        default="auto",
        help="which weights: best, last, or auto = best if saved, else last (default: auto)",
    )


def add_parser(subparsers: Any) -> None:
    """Register ``cnnlab visualize``, ``cnnlab filters`` and ``cnnlab maximize``."""
    formatter = argparse.RawDescriptionHelpFormatter
    p = subparsers.add_parser(
        "visualize",
        help="explain one image: Grad-CAM, saliency, Integrated Gradients, occlusion, feature maps",
        description="Explain a trained run's prediction for one image and draw the explanation to a PNG.",
        epilog=VISUALIZE_EXAMPLES,
        formatter_class=formatter,
    )
    _common_arguments(p)
    p.add_argument("image", metavar="IMAGE", help="an image file, or test:N for the N-th test image")
    p.add_argument(
        "--method", choices=list(METHODS), default="gradcam", help="what to compute (default: gradcam)"
    )
    p.add_argument(
        "--layer",
        metavar="NAME",
        help="layer (as in named_modules()) for the CAM methods (default: the last conv layer with spatial "
        "extent) and for feature-maps (default: every conv and pool layer)",
    )
    p.add_argument(
        "--target", metavar="CLASS", help="class name or index to explain (default: the predicted one)"
    )
    p.add_argument("--out", metavar="PNG", required=True, help="the PNG file to write")
    p.add_argument(
        "--no-relu",
        dest="relu",
        action="store_false",
        help="CAM methods: keep the negative evidence (no final ReLU), so the map's 0 is its most negative value",
    )
    p.add_argument(
        "--steps", type=positive_int, default=50, help="Integrated Gradients: path steps (default: 50)"
    )
    p.add_argument("--samples", type=positive_int, default=25, help="SmoothGrad: noisy copies (default: 25)")
    p.add_argument(
        "--noise-level",
        type=positive_float,
        default=0.15,
        help="SmoothGrad: noise std as a share of the image's range (default: 0.15)",
    )
    p.add_argument(
        "--patch",
        type=_int_list,
        default=[4, 8],
        help="occlusion: patch sizes to compare, comma-separated (default: 4,8)",
    )
    p.add_argument("--stride", type=positive_int, help="occlusion: patch stride (default: half the patch)")
    p.add_argument("--seed", type=int, default=0, help="SmoothGrad's noise seed (default: 0)")
    p.add_argument(
        "--invert",
        choices=("auto", "yes", "no"),
        default="auto",
        help="invert an image file's brightness, as in 'cnnlab predict' (default: auto)",
    )
    _checkpoint_argument(p)
    p.set_defaults(run=run_visualize)

    p = subparsers.add_parser(
        "filters",
        help="draw a conv layer's learned kernels",
        description="Draw the kernels of a trained run's conv layer as a grid.",
        epilog=FILTERS_EXAMPLES,
        formatter_class=formatter,
    )
    _common_arguments(p)
    p.add_argument("--layer", metavar="NAME", help="a Conv2d layer (default: the first one)")
    p.add_argument(
        "--mode",
        choices=("auto", "rgb", "channels", "norm"),
        default="auto",
        help="rgb: colour kernels (3 input channels); channels: one cell per input channel; norm: a heat map of "
        "kernel norms; auto: rgb for 3 input channels, channels up to 8, else norm (default: auto)",
    )
    p.add_argument("--out", metavar="PNG", required=True, help="the PNG file to write")
    _checkpoint_argument(p)
    p.set_defaults(run=run_filters)

    p = subparsers.add_parser(
        "maximize",
        help="draw the inputs that excite chosen channels most (activation maximisation)",
        description="Optimise an input image, from noise, to maximise the mean activation of each chosen channel "
        "(or, with --layer output, each class's logit); draw them side by side.",
        epilog=MAXIMIZE_EXAMPLES,
        formatter_class=formatter,
    )
    _common_arguments(p)
    p.add_argument(
        "--layer",
        metavar="NAME",
        required=True,
        help="layer as in named_modules(), or 'output' for the class logits",
    )
    p.add_argument(
        "--channels",
        type=channel_list,
        help="comma-separated channels, e.g. 0,1,2 (default: the first 8; for output, every class)",
    )
    p.add_argument("--steps", type=positive_int, default=200, help="gradient-ascent steps (default: 200)")
    p.add_argument("--seed", type=int, default=0, help="seed of the starting noise and jitter (default: 0)")
    p.add_argument("--out", metavar="PNG", required=True, help="the PNG file to write")
    _checkpoint_argument(p)
    p.set_defaults(run=run_maximize)


# ------------------------------------------------------------------------------------------ helpers


def _classes(config: dict[str, Any]) -> list[str]:
    return list(config.get("classes") or [str(i) for i in range(config["num_classes"])])


def _load_input(spec: str, config: dict[str, Any], invert: str) -> tuple[np.ndarray, str]:
    """IMAGE as the model expects it, (C, H, W) float32, and a caption: a file, or ``test:N``."""
    if spec.startswith("test:"):
        text = spec[len("test:") :]
        try:
            index = int(text)
        except ValueError:
            raise CLIError(
                f"IMAGE {spec!r}: expected test:N with N a test-image index, such as test:0"
            ) from None
        test = load_dataset(config["data"], False, config.get("data_root"), False, make_transform(config))
        if not 0 <= index < len(test):
            raise CLIError(
                f"IMAGE {spec!r}: the {config['data']} test set has {len(test)} images, expected an index in "
                f"[0, {len(test) - 1}], got {index}"
            )
        image, label = test[index]
        return np.asarray(image, dtype=np.float32), f"test image {index} ({_classes(config)[int(label)]})"
    from .predict import load_image

    return load_image(spec, config, invert), Path(spec).name


def _target(text: str | None, classes: list[str]) -> int | None:
    if text is None:
        return None
    lowered = [c.lower() for c in classes]
    if text.lower() in lowered:
        return lowered.index(text.lower())
    try:
        index = int(text)
    except ValueError:
        index = -1
    if not 0 <= index < len(classes):
        raise CLIError(
            f"--target: expected a class name or an index in [0, {len(classes) - 1}], got {text!r}; "
            f"classes: {', '.join(classes)}"
        )
    return index


def _layer(model: Any, name: str | None) -> str | None:
    if name is None:
        return None
    names = [n for n, _ in model.named_modules() if n]
    if name not in names:
        raise CLIError(f"--layer: unknown layer {name!r}; available: {', '.join(names)}")
    return name


def _black(config: dict[str, Any]) -> list[float]:
    """A black pixel in the model's (normalised) units, one value per channel."""
    pre = config.get("preprocessing", {"mean": [0.5], "std": [0.5]})
    return [(0 - m) / s for m, s in zip(pre["mean"], pre["std"])]


def _explanations(
    args: argparse.Namespace,
    model: Any,
    x: np.ndarray,
    target: int,
    layer: str | None,
    config: dict[str, Any],
) -> tuple[dict[str, Any], float | None]:
    """{caption: map} of the methods ``args.method`` asks for, for the batch of one image ``x``, and
    Integrated Gradients' (completeness error, score difference) when it ran."""
    import cnnlab

    from .. import vis

    method = args.method
    chosen = list(METHODS)[:-2] if method == "all" else [method]  # 'all': every method but feature maps
    black = _black(config)
    panels: dict[str, Any] = {}
    delta = None
    for m in chosen:
        if m in _CAMS:
            panels[METHODS[m]] = vis.grad_cam(model, x, target, layer, method=_CAMS[m], relu=args.relu)[0]
        elif m == "smoothgrad":
            generator = cnnlab.Generator(args.seed)
            panels[METHODS[m]] = vis.smoothgrad(model, x, target, args.noise_level, args.samples, generator)[
                0
            ]
        elif m == "integrated-gradients":
            baseline = np.asarray(black, np.float32)[:, None, None]
            attributions, delta = vis.integrated_gradients(
                model, x, target, baseline, args.steps, return_delta=True
            )
            panels[METHODS[m]] = attributions[0]
            delta = (
                float(delta[0]),
                float(attributions[0].sum()) - float(delta[0]),
            )  # (error, S(x) - S(baseline))
        elif m in _SALIENCY:
            panels[METHODS[m]] = vis.saliency(model, x, target, _SALIENCY[m])[0]
        elif m == "occlusion":
            H, W = x.shape[2:]
            for size in args.patch:
                if size > min(H, W):
                    raise CLIError(f"--patch: expected sizes no larger than the image ({H}×{W}), got {size}")
                stride = args.stride or max(size // 2, 1)
                caption = f"patch {size}, stride {stride}" if method == "occlusion" else METHODS[m]
                panels[caption] = (vis.occlusion(model, x, target, size, stride, black)[0], "signed")
                if method != "occlusion":
                    break
    return panels, delta


# --------------------------------------------------------------------------------------- commands


def run_visualize(args: argparse.Namespace) -> int:
    """Compute ``--method`` for IMAGE and write the picture to ``--out``."""
    from .. import vis
    from ..train import predict

    run_dir, config = require_run_dir(args.run_dir)
    image, caption = _load_input(args.image, config, args.invert)
    model, _ = load_run_model(run_dir, config, args.checkpoint)
    classes = _classes(config)
    layer = _layer(model, args.layer)
    if layer is not None and args.method not in _WITH_LAYER:
        raise CLIError(
            f"--layer: method {args.method!r} explains the input pixels and takes no layer; "
            f"--layer applies to {', '.join(_WITH_LAYER)}"
        )
    x = image[None]  # (1, C, H, W)
    probabilities = predict(model, x)[0]
    predicted = int(probabilities.argmax())
    target = _target(args.target, classes)
    target = predicted if target is None else target
    about = (
        f"{caption}: class {classes[target]!r} ({100 * probabilities[target]:.1f}%), "
        f"predicted {classes[predicted]!r} ({100 * probabilities[predicted]:.1f}%)"
    )
    label = f"{caption}\npredicted {classes[predicted]} ({100 * probabilities[predicted]:.0f}%)"
    out = Path(args.out)
    if args.method == "feature-maps":
        maps = vis.feature_maps(model, x, [layer] if layer else None)
        if layer is not None:
            if np.ndim(maps[layer]) != 4:
                raise CLIError(
                    f"--layer: feature-maps needs a layer with (C, H, W) outputs; {layer!r} gives "
                    f"shape {np.shape(maps[layer])[1:]}"
                )
            vis.plot_feature_maps(
                maps[layer],
                out,
                title=f"Feature maps of {layer} for {caption}",
                image=image,
                shared_scale=True,
            )
        else:
            vis.plot_feature_overview(
                maps,
                out,
                image=image,
                title=f"Feature maps of {caption}, layer by layer (strongest channels, each on its own scale)",
            )
        print(f"wrote {out}: feature maps of {', '.join(maps)} for {caption}")
        return 0
    panels, delta = _explanations(args, model, x, target, layer, config)
    which = f" at {layer}" if layer and args.method in _CAMS else ""
    title = f"{METHODS[args.method]}{which} for class {classes[target]!r}"
    if args.method in _CAMS:
        name = next(iter(panels))
        vis.plot_grad_cam(image[None], panels[name][None], out, labels=[label], title=title)
    elif args.method == "occlusion":
        vis.plot_occlusion(
            image,
            {k: v for k, (v, _) in panels.items()},
            out,
            title=f"{title} (drop in its probability)",
            label=label,
        )
    elif args.method in _SALIENCY:
        vis.plot_saliency(image[None], next(iter(panels.values()))[None], out, labels=[label], title=title)
    else:
        vis.plot_methods(
            image,
            panels,
            out,
            title=f"Why {classes[predicted]!r}? Explanations of {caption}" if target == predicted else title,
            label=label,
        )
    print(f"wrote {out}: {METHODS[args.method]} of {about}")
    if delta is not None:
        error, difference = delta
        share = f" = {100 * abs(error / difference):.2g}% of" if difference else ", against"
        print(
            f"Integrated Gradients completeness error: {error:+.3g} (sum of attributions minus score difference)"
            f"{share} the score difference {difference:.4g}"
        )
    return 0


def run_filters(args: argparse.Namespace) -> int:
    """Draw the kernels of ``--layer`` (default: the first conv layer) to ``--out``."""
    from .. import vis

    run_dir, config = require_run_dir(args.run_dir)
    model, _ = load_run_model(run_dir, config, args.checkpoint)
    layer = _layer(model, args.layer)
    convs = vis.conv_layers(model)
    if not convs:
        raise CLIError(f"model {config['model']!r} has no Conv2d layer, so no filters to draw")
    layer = layer or convs[0]
    if layer not in convs:
        raise CLIError(f"--layer: expected a Conv2d layer ({', '.join(convs)}), got {layer!r}")
    weight = vis.filters(model, layer)
    if args.mode == "rgb" and weight.shape[1] != 3:
        raise CLIError(f"--mode rgb needs a layer with 3 input channels; {layer!r} has {weight.shape[1]}")
    OC, IC, KH, KW = weight.shape
    title = f"Filters of {layer} ({config['model']}): {OC} × {IC} × {KH}×{KW}"
    vis.plot_filters(weight, args.out, mode=args.mode, title=title)
    print(f"wrote {args.out}: the {OC} filters of {layer} ({OC} × {IC} × {KH}×{KW})")
    return 0


def run_maximize(args: argparse.Namespace) -> int:
    """Optimise one input per channel of ``--layer`` and draw them side by side to ``--out``."""
    import cnnlab

    from .. import vis

    run_dir, config = require_run_dir(args.run_dir)
    model, _ = load_run_model(run_dir, config, args.checkpoint)
    classes = _classes(config)
    C, H, W = config["input_shape"]
    if args.layer == "output":
        layer, count, where = None, len(classes), "the model's output"
    else:
        layer = _layer(model, args.layer)
        shape = vis.feature_maps(model, np.zeros((1, C, H, W), np.float32), [layer])[layer].shape
        if len(shape) < 2:
            raise CLIError(f"--layer: {layer!r} outputs shape {shape[1:]}, which has no channels to maximise")
        count, where = shape[1], f"layer {layer!r}"
    default = min(count, 16 if layer is None else 8)  # every class (up to 16), or the first 8 channels
    channels = args.channels if args.channels is not None else list(range(default))
    bad = [c for c in channels if c >= count]
    if bad:
        raise CLIError(f"--channels: {where} has {count} channels (0 to {count - 1}), got {bad[0]}")
    pre = config.get("preprocessing", {"mean": [0.5], "std": [0.5]})
    mean, std = np.asarray(pre["mean"], np.float64), np.asarray(pre["std"], np.float64)
    value_range = ((0 - mean) / std, (1 - mean) / std)  # the pixels' [0, 1] in the model's units
    images, start, final = vis.maximize(
        model,
        layer,
        channels,
        steps=args.steps,
        size=(H, W),
        value_range=value_range,
        in_channels=C,
        generator=cnnlab.Generator(args.seed),
        return_activations=True,
    )
    pixels = images * std[:, None, None] + mean[:, None, None]  # back to [0, 1] for drawing
    if layer is None:
        titles = [f"{classes[c]}\nlogit {a:.3g}" for c, a in zip(channels, final)]
        title = f"Inputs that maximise each class's logit ({config['model']}, {args.steps} steps)"
    else:
        titles = [f"channel {c}\nmean {a:.3g}" for c, a in zip(channels, final)]
        title = f"Inputs that maximise channels of {layer} ({config['model']}, {args.steps} steps)"
    vis.plot_maximized(pixels, args.out, titles=titles, title=title)
    names = [classes[c] for c in channels] if layer is None else [str(c) for c in channels]
    gains = ", ".join(f"{name}: {a:.3g} -> {b:.3g}" for name, a, b in zip(names, start, final))
    what = "logit" if layer is None else "mean activation"
    print(f"wrote {args.out}: activation maximisation of {where}, {what} before -> after ({gains})")
    return 0
