"""Train the models of ``cnnlab.models`` on the full Fashion-MNIST and report accuracy per epoch and wall time.

Each model is trained through the ``cnnlab train`` command (so this measures exactly what a user runs),
with the whole training set (no validation hold-out) and the 10,000 test images evaluated after
every epoch. Results go to ``benchmarks/results/fashion_mnist.json`` and a Markdown table is printed.

    python benchmarks/fashion_mnist.py                       # all three models, their default epochs
    python benchmarks/fashion_mnist.py --models lenet5 --epochs 15

The full data is found as ``cnnlab datasets`` says (``apt-get install dataset-fashion-mnist`` puts it in
/usr/share/datasets/fashion-mnist); targets from the course material: fashion_cnn >= 93.5%,
lenet5 >= 90%, the MLP baseline near 88%.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from cnnlab.cli import main as cnnlab

# model: (epochs, batch size, optimiser, learning rate, schedule)
PLANS = {
    "mlp": (10, 128, "adam", 1e-3, "cosine"),
    "lenet5": (10, 128, "adam", 2e-3, "cosine"),
    "fashion_cnn": (12, 128, "adam", 1e-3, "cosine"),
}
TARGETS = {"mlp": 88.0, "lenet5": 90.0, "fashion_cnn": 93.5}


def train(model: str, epochs: int, out: Path) -> dict:
    default_epochs, batch, optimizer, lr, schedule = PLANS[model]
    epochs = epochs or default_epochs
    run = out / f"fashion-mnist-{model}"
    start = time.perf_counter()
    status = cnnlab([
        "train", "--model", model, "--data", "fashion-mnist", "--epochs", str(epochs),
        "--batch-size", str(batch), "--optimizer", optimizer, "--lr", str(lr), "--scheduler", schedule,
        "--val-split", "0", "--out", str(run), "--overwrite", "--progress", "line",
    ])
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"training {model} failed with status {status}")
    history = json.loads((run / "history.json").read_text())
    metrics = json.loads((run / "metrics.json").read_text())
    return {"model": model, "epochs": epochs, "wall_seconds": round(seconds, 1), "history": history, "metrics": metrics}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(PLANS), choices=list(PLANS))
    parser.add_argument("--epochs", type=int, default=0, help="override every model's number of epochs")
    parser.add_argument("--out", type=Path, default=Path("runs"))
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "results" / "fashion_mnist.json")
    args = parser.parse_args()
    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    for model in args.models:
        results[model] = train(model, args.epochs, args.out)
        results[model]["machine"] = f"{os.cpu_count()} cores, {platform.machine()}"
        args.results.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.results.with_suffix(".tmp")
        tmp.write_text(json.dumps(results, indent=1))
        os.replace(tmp, args.results)  # atomic: a killed run never leaves half a file
    print("| model | epochs | test accuracy | target | wall time |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for model, r in results.items():
        accuracy = 100 * r["metrics"]["test"]["accuracy"]
        print(f"| {model} | {r['epochs']} | {accuracy:.2f}% | {TARGETS[model]}% | {r['wall_seconds'] / 60:.1f} min |")


if __name__ == "__main__":
    main()
