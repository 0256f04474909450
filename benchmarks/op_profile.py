"""Where a workload's time goes in cnnlab, op by op: the forward and backward of every autograd
Function, per step, and what is left outside them (Python, the optimiser, the graph walk).

    python benchmarks/op_profile.py --only "fashion_cnn train"      # any workload of bench.py
    python benchmarks/op_profile.py --only "resnet18-32 train" --steps 5

The times are wall-clock around each op's ``forward`` and ``backward`` (NumPy and BLAS inside them
included), summed over ``--steps`` steps after two warm-up steps, and divided by the step count.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import bench  # noqa: E402  (sets the thread counts before NumPy is imported)


def _function_classes(root: type) -> list[type]:
    found, todo = [], [root]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


@contextlib.contextmanager
def timed_ops(totals: dict[str, float]) -> Iterator[None]:
    """While active, every Function's forward and backward adds its seconds to
    ``totals['<Op> forward']`` / ``totals['<Op> backward']`` (the op named by its class)."""
    from cnnlab.autograd import Function

    originals: list[tuple[type, str, Any]] = []

    def wrap(method: Any, phase: str) -> Any:
        def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return method(self, *args, **kwargs)
            finally:
                totals[f"{type(self).__name__.lstrip('_')} {phase}"] += time.perf_counter() - start

        return timed

    for cls in _function_classes(Function):
        for phase in ("forward", "backward"):
            if phase in cls.__dict__:
                originals.append((cls, phase, cls.__dict__[phase]))
                setattr(cls, phase, wrap(cls.__dict__[phase], phase))
    try:
        yield
    finally:
        for cls, phase, method in originals:
            setattr(cls, phase, method)


def profile(workload: bench.Workload, steps: int) -> list[tuple[str, float]]:
    """(label, ms per step) for each op that took time, slowest first, then the rest and the total."""
    weights = bench._weights(workload.network) if workload.network else None
    step = workload.make("cnnlab", weights)
    step()
    step()
    totals: dict[str, float] = collections.defaultdict(float)
    with timed_ops(totals):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        total = time.perf_counter() - start
    rows = sorted(((k, v / steps * 1e3) for k, v in totals.items()), key=lambda kv: -kv[1])
    inside = sum(ms for _, ms in rows)
    return rows + [("outside the ops", total / steps * 1e3 - inside), ("step", total / steps * 1e3)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", required=True, help="profile the workloads whose name contains this text")
    parser.add_argument("--steps", type=int, default=10, help="timed steps (after two warm-up steps)")
    args = parser.parse_args([a for a in sys.argv[1:] if not a.startswith("--threads=")])
    if args.steps < 1:
        raise SystemExit(f"--steps must be positive, got {args.steps}")
    workloads = [w for w in bench.WORKLOADS if args.only in w.name]
    if not workloads:
        names = ", ".join(w.name for w in bench.WORKLOADS)
        raise SystemExit(f"--only {args.only!r} matches no workload; they are: {names}")
    for w in workloads:
        rows = profile(w, args.steps)
        step_ms = rows[-1][1]
        print(f"{w.name}: {step_ms:.2f} ms per step ({args.steps} steps)")
        print("| op | ms per step | share |")
        print("| --- | ---: | ---: |")
        for label, ms in rows[:-1]:
            if ms >= 0.005 * step_ms or label == "outside the ops":
                print(f"| {label} | {ms:.2f} | {ms / step_ms:.0%} |")
        print()


if __name__ == "__main__":
    main()
