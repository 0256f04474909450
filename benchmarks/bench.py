"""Time cnnlab against PyTorch on the same workloads, in the same run, and print the ratios.

Both libraries get the same inputs, the same weights and the same number of threads (this machine's
cores, unless ``--threads`` says otherwise). The two alternate in blocks of steps run back to back
after a warm-up step, with a rest between blocks (the worker threads of both libraries busy-wait for a
while after their work, and would otherwise steal the cores of the block that follows). Seven rounds (``--rounds``)
sweep over all the workloads in turn, each giving every workload one block per library.
ratio = cnnlab time / PyTorch time, taken within each round and reported as the median over the
rounds: lower is better, below 1 means cnnlab is faster. (On a shared host the machine's speed drifts
by up to 2× over seconds: a ratio of adjacent blocks survives that, and spreading a workload's rounds
over the whole run lets the median drop the round a slow spell spoiled.)

Peak memory is measured apart, one fresh process per workload and library: the process imports its
library, resets the kernel's high-water mark of resident memory, builds the workload, runs three
steps, and reports the growth of that high-water mark (model, inputs, activations, gradients,
temporaries) in MB. The libraries' own import footprints are left out, so the figure is what the
workload costs; cnnlab's includes Numba and its compiled kernels, loaded before the reset
(``cnnlab.compiled.load``, about 100 MB, as PyTorch's includes its own libraries). Compiled kernels
are on where Numba is installed; ``CNNLAB_COMPILED=0`` times cnnlab on NumPy alone.

    python benchmarks/bench.py                  # every workload, the table
    python benchmarks/bench.py --only lenet5    # workloads whose name contains 'lenet5'
    python benchmarks/bench.py --json           # one JSON list, for machines
    make bench
"""

from __future__ import annotations

import argparse
import os
import sys

# Thread counts must be fixed before NumPy (and its BLAS) and cnnlab are imported.
_threads = next((int(a.split("=", 1)[1]) for a in sys.argv if a.startswith("--threads=")), os.cpu_count() or 1)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "CNNLAB_NUM_THREADS"):
    os.environ[_var] = str(_threads)

import json
import platform
import resource
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import nets

Step = Callable[[], Any]


@dataclass(frozen=True)
class Workload:
    """One line of the table: ``make(lib, weights)`` returns a zero-argument step for ``lib``.

    ``network`` names the network of :mod:`nets` whose weights both libraries share, if any.
    """

    name: str
    make: Callable[[str, dict | None], Step]
    target: float | None = None
    network: str | None = None


# ---------------------------------------------------------------- the two libraries, side by side


def _lib(lib: str) -> tuple[Any, Any, Any, Any]:
    """(top-level module, nn, functional, optim) of ``lib``."""
    if lib == "torch":
        import torch

        return torch, torch.nn, torch.nn.functional, torch.optim
    import cnnlab
    import cnnlab.nn.functional as F

    return cnnlab, cnnlab.nn, F, cnnlab.optim


def _tensor(lib: str, array: np.ndarray, requires_grad: bool = False) -> Any:
    top = _lib(lib)[0]
    t = top.from_numpy(array.copy()) if lib == "torch" else top.tensor(array)
    return t.requires_grad_(requires_grad) if requires_grad else t


def _ones_like(lib: str, t: Any) -> Any:
    return _lib(lib)[0].ones(tuple(t.shape))


def _model(name: str, lib: str, weights: dict | None) -> Any:
    """The network ``name`` in ``lib``; cnnlab's comes from ``cnnlab.models`` where it lives there."""
    nn = _lib(lib)[1]
    if lib == "cnnlab" and name in ("lenet5", "fashion_cnn"):
        import cnnlab.models

        model = cnnlab.models.get_model(name)
    else:
        model = nets.build(name, nn)
    if weights is not None:
        model.load_state_dict({k: _tensor(lib, v) for k, v in weights.items()})
    return model


def _weights(name: str) -> dict[str, np.ndarray]:
    """Initial weights for ``name``, drawn once (by cnnlab, seed 0) and given to both libraries."""
    import cnnlab

    cnnlab.manual_seed(0)
    return {k: np.array(v.data, copy=True) for k, v in _model(name, "cnnlab", None).state_dict().items()}


def _data(shape: tuple[int, ...], classes: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape, dtype=np.float32), rng.integers(0, classes, shape[0])


def train_step(name: str, shape: tuple[int, ...]) -> Callable[[str, dict | None], Step]:
    """Forward, cross-entropy, backward and an SGD-momentum step on one batch."""

    def make(lib: str, weights: dict | None) -> Step:
        _, _, F, optim = _lib(lib)
        model = _model(name, lib, weights).train()
        optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x, y = _data(shape)
        x, y = _tensor(lib, x), _tensor(lib, y)

        def step() -> None:
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()

        return step

    return make


def inference(name: str, shape: tuple[int, ...]) -> Callable[[str, dict | None], Step]:
    """Eval-mode forward without gradients."""

    def make(lib: str, weights: dict | None) -> Step:
        top = _lib(lib)[0]
        model = _model(name, lib, weights).eval()
        x = _tensor(lib, _data(shape)[0])

        def step() -> Any:
            with top.no_grad():
                return model(x)

        return step

    return make


def module_case(name: str, shape: tuple[int, ...], backward: bool) -> Callable[[str, dict | None], Step]:
    """A module's forward, or forward and backward of the sum of its outputs' gradient ones."""

    def make(lib: str, weights: dict | None) -> Step:
        model = _model(name, lib, weights)
        x = _tensor(lib, _data(shape)[0], requires_grad=backward)

        def step() -> None:
            out = model(x)
            if backward:
                out.backward(_ones_like(lib, out))

        return step

    return make


def functional_case(op: str, x_shape: tuple[int, ...], w_shape: tuple[int, ...] | None, backward: bool,
                    **kwargs: Any) -> Callable[[str, dict | None], Step]:
    """``F.<op>(x, w, **kwargs)`` (``w`` omitted for pooling), forward or forward and backward."""

    def make(lib: str, weights: dict | None) -> Step:
        F = _lib(lib)[2]
        rng = np.random.default_rng(0)
        x = _tensor(lib, rng.standard_normal(x_shape, dtype=np.float32), requires_grad=backward)
        args = [x]
        if w_shape is not None:
            w = (rng.standard_normal(w_shape, dtype=np.float32) * 0.1).astype(np.float32)
            args += [_tensor(lib, w, requires_grad=backward), _tensor(lib, np.zeros(w_shape[0], np.float32))]
        fn = getattr(F, op)

        def step() -> None:
            out = fn(*args, **kwargs)
            if backward:
                out.backward(_ones_like(lib, out))

        return step

    return make


# ---------------------------------------------------------------- the workloads of the speed issue

# (N, Cin, H, W, Cout, k, stride, padding)
CONV2D = [
    (64, 1, 28, 28, 6, 5, 1, 2),
    (128, 32, 28, 28, 32, 3, 1, 1),
    (128, 64, 14, 14, 64, 3, 1, 1),
    (32, 64, 32, 32, 64, 3, 1, 1),
    (32, 128, 16, 16, 256, 3, 2, 1),
    (8, 3, 224, 224, 64, 7, 2, 3),
]


def _conv_workloads() -> list[Workload]:
    out = []
    for n, c, h, w, oc, k, s, p in CONV2D:
        label = f"conv2d {n}x{c}x{h}x{w} -> {oc} k{k} s{s} p{p}"
        for backward in (False, True):
            make = functional_case("conv2d", (n, c, h, w), (oc, c, k, k), backward, stride=s, padding=p)
            out.append(Workload(label + (" fwd+bwd" if backward else " fwd"), make, 1.5 if backward else None))
    return out


WORKLOADS: list[Workload] = [
    Workload("lenet5 train step b64", train_step("lenet5", (64, 1, 28, 28)), 1.0, network="lenet5"),
    Workload("lenet5 train step b256", train_step("lenet5", (256, 1, 28, 28)), 1.2, network="lenet5"),
    Workload("lenet5 inference b256", inference("lenet5", (256, 1, 28, 28)), network="lenet5"),
    Workload("lenet5 latency b1", inference("lenet5", (1, 1, 28, 28)), 0.5, network="lenet5"),
    Workload("fashion_cnn train step b128", train_step("fashion_cnn", (128, 1, 28, 28)), 1.2, network="fashion_cnn"),
    Workload("fashion_cnn inference b256", inference("fashion_cnn", (256, 1, 28, 28)), 1.5, network="fashion_cnn"),
    Workload("resnet18-32 train step b32", train_step("resnet18", (32, 3, 32, 32)), 1.5, network="resnet18"),
    Workload("resnet18-32 inference b64", inference("resnet18", (64, 3, 32, 32)), network="resnet18"),
    Workload("depthwise block 64x32x56x56 fwd", module_case("depthwise", (64, 32, 56, 56), False), network="depthwise"),
    Workload("depthwise block 64x32x56x56 fwd+bwd", module_case("depthwise", (64, 32, 56, 56), True), 1.2, network="depthwise"),
    *_conv_workloads(),
    Workload("max_pool2d(2) 128x32x28x28 fwd+bwd",
             functional_case("max_pool2d", (128, 32, 28, 28), None, True, kernel_size=2), 1.5),
    Workload("conv1d 32x16x1024 -> 16 k3 fwd+bwd",
             functional_case("conv1d", (32, 16, 1024), (16, 16, 3), True, padding=1), 1.5),
    Workload("conv3d 4x8x16x32x32 -> 16 k3 fwd+bwd",
             functional_case("conv3d", (4, 8, 16, 32, 32), (16, 8, 3, 3, 3), True, padding=1), 1.5),
]


# ---------------------------------------------------------------- measuring


SETTLE = 0.15  # seconds of rest between blocks: OpenBLAS threads busy-wait up to ~0.1 s (2^28 cycles)
WARM_SECONDS = 0.1  # warm-up calls before each block's timed steps, for at least this long
ROUNDS = 7
BLOCK_SECONDS = 0.05  # quick steps are repeated until a block lasts about this long


def block(fn: Step, steps: int) -> float:
    """Warm-up calls for ``WARM_SECONDS`` (at least one), then the median seconds of ``steps`` calls
    run back to back, then a rest so that the worker threads, which busy-wait after their work, have
    stopped before the next block.

    The warm-up is timed, not counted: after the rest this VM takes about 50 ms of work to come back
    to speed where a library's threads sleep between ops (they halt their vCPU). Measured on LeNet-5's
    step at batch 64: cnnlab's first 8 steps after a 0.15 s rest took 8-11 ms, its steady steps 6.1;
    PyTorch, whose threads spin, was slow for its first step only. One warm-up call left the block
    measuring the machine's wake-up instead of the library.
    """
    start = time.perf_counter()
    fn()
    while time.perf_counter() - start < WARM_SECONDS:
        fn()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    time.sleep(SETTLE)
    return statistics.median(times)


def steps_per_block(fn: Step, repeat: int) -> int:
    """At least ``repeat``; more for quick steps, so that a block lasts about ``BLOCK_SECONDS``."""
    start = time.perf_counter()
    fn()
    return max(repeat, min(200, int(BLOCK_SECONDS / max(time.perf_counter() - start, 1e-6))))


def compare(
    pairs: list[tuple[Step, Step]], repeat: int, rounds: int = ROUNDS
) -> list[tuple[float, float, float]]:
    """For each (ours, theirs): (median ms of ours, median ms of theirs, median of the rounds' ratios).

    A round gives every pair one block of each library, back to back, the order swapped from round to
    round, and the ratio is taken within the round. The rounds sweep over all the pairs in turn, so
    that each pair's rounds are spread over the whole run: the machine's speed drifts over seconds (other
    tenants of a shared host), and a slow spell then spoils one round of a pair, which the median drops,
    instead of all of them.
    """
    steps = [(steps_per_block(ours, repeat), steps_per_block(theirs, repeat)) for ours, theirs in pairs]
    medians: list[tuple[list[float], list[float]]] = [([], []) for _ in pairs]
    for r in range(rounds):
        for (ours, theirs), (n_ours, n_theirs), (m_ours, m_theirs) in zip(pairs, steps, medians):
            if r % 2 == 0:
                m_ours.append(block(ours, n_ours))
                m_theirs.append(block(theirs, n_theirs))
            else:
                m_theirs.append(block(theirs, n_theirs))
                m_ours.append(block(ours, n_ours))
        print(f"round {r + 1} of {rounds} done", file=sys.stderr, flush=True)
    return [
        (statistics.median(a) * 1e3, statistics.median(b) * 1e3, statistics.median(x / y for x, y in zip(a, b)))
        for a, b in medians
    ]


def _status_kb(field: str) -> int:
    """A memory figure of this process in kB, from /proc/self/status: VmRSS now, VmHWM its peak
    (without /proc, the peak from getrusage stands in for both)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure_memory_here(workload: Workload, lib: str) -> float:
    """Growth of this process's resident high-water mark, in MB, over building and three steps."""
    import gc

    top = _lib(lib)[0]
    if lib == "torch":
        top.set_num_threads(_threads)
    else:  # Numba and the compiled kernels, if on: part of the library's footprint, as PyTorch's own libraries
        top.compiled.load()
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current resident size
    except OSError:
        pass
    baseline = _status_kb("VmRSS")
    step = workload.make(lib, None)
    for _ in range(3):
        step()
    return max(_status_kb("VmHWM") - baseline, 0) / 1024


def measure_memory(workload: Workload, lib: str) -> float | None:
    """Peak MB of ``workload`` in ``lib``, measured in a fresh process; None if that process failed."""
    cmd = [sys.executable, __file__, f"--threads={_threads}", "--memory-child", workload.name, lib]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    try:
        return float(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        print(f"memory of {workload.name!r} in {lib} failed: {done.stderr.strip()[-300:]}", file=sys.stderr)
        return None


def run(workloads: list[Workload], repeat: int, memory: bool, rounds: int = ROUNDS) -> list[dict[str, Any]]:
    import torch

    torch.set_num_threads(_threads)
    weight_cache: dict[str, dict] = {}
    pairs = []
    for w in workloads:
        weights = None
        if w.network is not None:
            if w.network not in weight_cache:
                weight_cache[w.network] = _weights(w.network)
            weights = weight_cache[w.network]
        pairs.append((w.make("cnnlab", weights), w.make("torch", weights)))
    rows = []
    for w, (ours_ms, theirs_ms, ratio) in zip(workloads, compare(pairs, repeat, rounds)):
        row = {"workload": w.name, "cnnlab_ms": round(ours_ms, 3), "torch_ms": round(theirs_ms, 3),
               "ratio": round(ratio, 2), "target": w.target}
        if memory:
            row["cnnlab_peak_mb"] = measure_memory(w, "cnnlab")
            row["torch_peak_mb"] = measure_memory(w, "torch")
        rows.append(row)
        print(_format_row(row), file=sys.stderr if _JSON else sys.stdout, flush=True)
    return rows


def _mb(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def _format_row(r: dict[str, Any]) -> str:
    target = "" if r["target"] is None else f"≤ {r['target']}"
    met = "" if r["target"] is None else (" ✓" if r["ratio"] <= r["target"] else " ✗")
    memory = ""
    if "cnnlab_peak_mb" in r:
        memory = f" | {_mb(r['cnnlab_peak_mb'])} | {_mb(r['torch_peak_mb'])}"
    return (f"| {r['workload']} | {r['cnnlab_ms']:.2f} | {r['torch_ms']:.2f} | {r['ratio']:.2f}{met} | "
            f"{target}{memory} |")


_JSON = False


def main() -> None:
    global _JSON
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="least timed steps per block")
    parser.add_argument("--rounds", type=int, default=ROUNDS,
                        help="rounds over all the workloads (one block per library each)")
    parser.add_argument("--only", default="", help="run the workloads whose name contains this text")
    parser.add_argument("--threads", type=int, default=_threads,
                        help="threads for both libraries (intra-op threads of each)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory processes")
    parser.add_argument("--json", action="store_true", help="print the rows as one JSON list")
    parser.add_argument("--memory-child", nargs=2, metavar=("WORKLOAD", "LIB"), help=argparse.SUPPRESS)
    args = parser.parse_args([a for a in sys.argv[1:] if not a.startswith("--threads=")])
    _JSON = args.json
    if args.memory_child:
        name, lib = args.memory_child
        print(measure_memory_here(next(w for w in WORKLOADS if w.name == name), lib))
        return
    workloads = [w for w in WORKLOADS if args.only in w.name]
    if not workloads:
        raise SystemExit(f"--only {args.only!r} matches no workload; they are: " + ", ".join(w.name for w in WORKLOADS))
    import torch

    import cnnlab

    header = (f"cnnlab {cnnlab.__version__} vs PyTorch {torch.__version__}, {_threads} threads, "
              f"{platform.machine()}, {os.cpu_count()} cores, float32, {args.rounds} rounds of one block each "
              f"(at least {args.repeat} steps, after {WARM_SECONDS:g} s of warm-up), medians; ratio: the median of the rounds' ratios; "
              + ("freed memory reused (cnnlab.set_memory_reuse), by both libraries in this process"
                 if cnnlab.get_memory_reuse() else "the C library's default allocator")
              + ("; compiled kernels (Numba)" if cnnlab.compiled.load() else "; NumPy alone (no compiled kernels)"))
    out = sys.stderr if args.json else sys.stdout
    print(header, file=out)
    print("| workload | cnnlab ms | PyTorch ms | ratio | target" + (" | cnnlab MB | PyTorch MB" if not args.no_memory else "")
          + " |", file=out)
    print("| --- | ---: | ---: | ---: | ---:" + (" | ---: | ---:" if not args.no_memory else "") + " |", file=out)
    if args.rounds < 1 or args.repeat < 1:
        raise SystemExit(f"--rounds and --repeat must be positive, got {args.rounds} and {args.repeat}")
    rows = run(workloads, args.repeat, not args.no_memory, args.rounds)
    if args.json:
        print(json.dumps({"setup": header, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
