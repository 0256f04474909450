"""Time cnnlab against PyTorch on convolution and pooling, in the same process, and print the ratios.

Both libraries get the same inputs and the same thread count (all of this machine's cores); runs
alternate between them after a warm-up, and the median of the repetitions is reported.
ratio = cnnlab time / PyTorch time (lower is better).

    python benchmarks/bench_conv.py [--repeat 7] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as TF

import cnnlab
import cnnlab.nn.functional as F

# (name, N, Cin, H, W, Cout, k, stride, padding)
CONV2D = [
    ("conv2d LeNet-1", 64, 1, 28, 28, 6, 5, 1, 2),
    ("conv2d 32->32 28x28", 128, 32, 28, 28, 32, 3, 1, 1),
    ("conv2d 64->64 14x14", 128, 64, 14, 14, 64, 3, 1, 1),
    ("conv2d 64->64 32x32", 32, 64, 32, 32, 64, 3, 1, 1),
    ("conv2d 128->256 s2", 32, 128, 16, 16, 256, 3, 2, 1),
    ("conv2d 3->64 7x7 s2", 8, 3, 224, 224, 64, 7, 2, 3),
]


def timed(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def compare(name: str, ours, theirs, repeat: int) -> dict:
    ours(), theirs()  # warm-up
    t_ours, t_theirs = [], []
    for _ in range(repeat):  # alternate, so drifts in machine load hit both
        t_ours.append(timed(ours, 1))
        t_theirs.append(timed(theirs, 1))
    a, b = statistics.median(t_ours) * 1e3, statistics.median(t_theirs) * 1e3
    return {"workload": name, "cnnlab_ms": round(a, 3), "torch_ms": round(b, 3), "ratio": round(a / b, 2)}


def conv_case(N, C, H, W, OC, k, s, p, backward: bool):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w = (rng.standard_normal((OC, C, k, k)) * 0.1).astype(np.float32)
    b = np.zeros(OC, np.float32)
    xc, wc, bc = (cnnlab.tensor(a, requires_grad=backward) for a in (x, w, b))
    xt, wt, bt = (torch.tensor(a, requires_grad=backward) for a in (x, w, b))

    def ours():
        out = F.conv2d(xc, wc, bc, stride=s, padding=p)
        if backward:
            out.backward(np.ones(out.shape, np.float32))

    def theirs():
        out = TF.conv2d(xt, wt, bt, stride=s, padding=p)
        if backward:
            out.backward(torch.ones(out.shape))

    return ours, theirs


def pool_case(backward: bool):
    x = np.random.default_rng(0).standard_normal((128, 32, 28, 28)).astype(np.float32)
    xc, xt = cnnlab.tensor(x, requires_grad=backward), torch.tensor(x, requires_grad=backward)

    def ours():
        out = F.max_pool2d(xc, 2)
        if backward:
            out.backward(np.ones(out.shape, np.float32))

    def theirs():
        out = TF.max_pool2d(xt, 2)
        if backward:
            out.backward(torch.ones(out.shape))

    return ours, theirs


def nd_case(nd: int):
    rng = np.random.default_rng(0)
    shape = {1: (32, 16, 1024), 3: (4, 8, 16, 32, 32)}[nd]
    x = rng.standard_normal(shape).astype(np.float32)
    w = (rng.standard_normal((16, shape[1]) + (3,) * nd) * 0.1).astype(np.float32)
    xc, wc = cnnlab.tensor(x, requires_grad=True), cnnlab.tensor(w, requires_grad=True)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    f_ours, f_theirs = getattr(F, f"conv{nd}d"), getattr(TF, f"conv{nd}d")

    def ours():
        out = f_ours(xc, wc, padding=1)
        out.backward(np.ones(out.shape, np.float32))

    def theirs():
        out = f_theirs(xt, wt, padding=1)
        out.backward(torch.ones(out.shape))

    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args()
    threads = os.cpu_count() or 1
    torch.set_num_threads(threads)
    rows = []
    for name, *shape in CONV2D:
        rows.append(compare(name + " fwd", *conv_case(*shape, backward=False), args.repeat))
        rows.append(compare(name + " fwd+bwd", *conv_case(*shape, backward=True), args.repeat))
    rows.append(compare("max_pool2d(2) 128x32x28x28 fwd+bwd", *pool_case(True), args.repeat))
    rows.append(compare("conv1d 16->16 k3 L1024 fwd+bwd", *nd_case(1), args.repeat))
    rows.append(compare("conv3d 8->16 k3 16x32x32 fwd+bwd", *nd_case(3), args.repeat))
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return
    print(f"cnnlab {cnnlab.__version__} vs torch {torch.__version__}, {threads} threads, "
          f"{platform.processor() or platform.machine()}, float32, median of {args.repeat}")
    print(f"{'workload':42} {'cnnlab ms':>10} {'torch ms':>10} {'ratio':>6}")
    for r in rows:
        print(f"{r['workload']:42} {r['cnnlab_ms']:10.2f} {r['torch_ms']:10.2f} {r['ratio']:6.2f}")


if __name__ == "__main__":
    main()
