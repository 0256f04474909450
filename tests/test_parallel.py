"""cnnlab.parallel: chunks dealt out to threads give the same numbers as one thread, every split op.

The op tests lower the work threshold to 0, so that even small arrays are split between two threads,
and compare each op's output and gradients with the same op on one thread.
"""

import functools
import threading
import time

import numpy as np
import pytest

import cnnlab
import cnnlab.nn.functional as F
from cnnlab import parallel


@pytest.fixture
def threads():
    """Runs ``fn`` under n threads with every op split (work threshold 0); the thread count restored after."""
    before, min_work = parallel.get_num_threads(), parallel.MIN_WORK

    def run(n, fn):
        parallel.set_num_threads(n)
        parallel.MIN_WORK = 0
        try:
            return fn()
        finally:
            parallel.MIN_WORK = min_work

    yield run
    parallel.set_num_threads(before)


def test_starmap_returns_results_in_chunk_order_from_several_threads(threads):
    chunks = [(i,) for i in range(7)]
    results = threads(3, lambda: parallel.starmap(lambda i: (i * i, threading.get_ident()), chunks))
    assert [r[0] for r in results] == [i * i for i in range(7)]
    assert len({r[1] for r in results}) == 3
    assert results[-1][1] == threading.get_ident()  # the caller runs the last run of chunks itself


def test_starmap_raises_what_a_chunk_on_another_thread_raised(threads):
    def fail_first(i):
        if i == 0:
            raise KeyError("chunk 0 failed")
        return i

    with pytest.raises(KeyError, match="chunk 0 failed"):
        threads(2, lambda: parallel.starmap(fail_first, [(0,), (1,)]))
    assert threads(2, lambda: parallel.starmap(fail_first, [(1,), (2,)])) == [1, 2]  # the workers still serve


def test_starmap_inside_a_chunk_runs_on_that_chunk_s_thread(threads):
    def outer(i):
        inner = parallel.starmap(lambda j: threading.get_ident(), [(0,), (1,)])
        return set(inner) == {threading.get_ident()}

    assert threads(2, lambda: parallel.starmap(outer, [(0,), (1,)])) == [True, True]


def test_shares_cover_the_batch_once_and_leave_small_work_whole(threads):
    assert threads(3, lambda: parallel.shares(10, 1 << 30)) == [(0, 3), (3, 7), (7, 10)]  # (the extra: 0.002 rows)
    assert threads(3, lambda: parallel.shares(2, 1 << 30)) == [(0, 1), (1, 2)]
    assert threads(3, lambda: parallel.shares(10, 1)) == [(0, 2), (2, 3), (3, 10)]  # half the work the caller's
    parallel.set_num_threads(3)
    assert parallel.shares(10, parallel.MIN_WORK - 1) == [(0, 10)]
    assert parallel.shares(0, 0) == [(0, 0)]


@pytest.mark.parametrize(
    "n, parts, work, bounds",
    [
        (64, 2, 64 * 84_000, [0, 30, 64]),  # 256 kB extra: 3 samples of 84 kB, the worker 30, the caller 34
        (64, 2, 64 << 20, [0, 32, 64]),  # 64 MB: the extra is a quarter of a row
        (100, 4, 100 << 10, [0, 12, 25, 38, 100]),  # 100 kB of work: the caller takes half (the cap), the others 12.5
        (2, 2, 1, [0, 1, 2]),  # every share keeps a row
        (3, 3, 1, [0, 1, 2, 3]),
        (7, 1, 1 << 30, [0, 7]),
    ],
)
def test_cuts_give_the_calling_thread_caller_extra_bytes_more(n, parts, work, bounds):
    assert parallel.cuts(n, parts, work) == bounds
    sizes = np.diff(bounds)
    assert sizes.sum() == n and (sizes >= 1).all() and sizes[-1] == sizes.max()
    extra = min(parallel.CALLER_EXTRA, work / 2) * n / work  # in rows
    assert abs(sizes[-1] - (n - extra) / parts - extra) <= 1


def test_starmap_deals_chunks_by_cost_with_the_caller_s_extra(threads):
    from cnnlab.nn.functional.conv import sample_blocks

    blocks = threads(2, lambda: sample_blocks(64, 84_000, budget=1 << 20))
    assert len(blocks) == 6 and blocks[2][1] == 30  # three blocks a thread, the worker's 30 samples
    costs = [(b - a) * 84_000 for a, b in blocks]
    ran_on = threads(2, lambda: parallel.starmap(lambda a, b: threading.get_ident(), blocks, costs=costs))
    assert ran_on[3:] == [threading.get_ident()] * 3 and threading.get_ident() not in ran_on[:3]
    even = threads(2, lambda: parallel.starmap(lambda: threading.get_ident(), [()] * 8, costs=[1 << 20] * 8))
    assert even[4:] == [threading.get_ident()] * 4 and threading.get_ident() not in even[:4]  # 4 MB a thread, 256 kB short


@pytest.mark.skipif(parallel._blas.set is None, reason="NumPy's BLAS is not an OpenBLAS whose threads can be set")
def test_blas_is_held_at_one_thread_while_cnnlab_splits_and_given_back_after(threads):
    parallel.set_num_threads(1)
    parallel._blas.set(2)
    threads(2, lambda: parallel.starmap(lambda i: i, [(0,), (1,)]))
    assert parallel._blas.get() == 1
    parallel.set_num_threads(1)
    assert parallel._blas.get() == 2


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_set_num_threads_refuses_what_is_not_a_positive_int(bad):
    with pytest.raises(ValueError, match=r"set_num_threads: expected a positive int, got"):
        parallel.set_num_threads(bad)


# ------------------------------------------------------------------------------------------------
# every split op: two threads against one


def _outputs_and_grads(op, shapes, seed=0):
    """op's output and the gradients of (output · a fixed random tensor).sum() for inputs of ``shapes``."""
    rng = np.random.default_rng(seed)
    inputs = [cnnlab.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True) for s in shapes]
    out = op(*inputs)
    weight = cnnlab.tensor(rng.standard_normal(out.shape).astype(np.float32))
    (out * weight).sum().backward()
    return [out.detach().numpy()] + [t.grad.numpy() for t in inputs]


CONV_CASES = {
    # thin kernel (C·K < 256): per-sample products, the flat grid
    "thin 5x5": (lambda x, w, b: F.conv2d(x, w, b, padding=2), [(6, 1, 12, 12), (4, 1, 5, 5), (4,)]),
    # wide kernel: one product per block of samples; col2im input gradient; strided
    "wide strided": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [(5, 32, 9, 9), (8, 32, 3, 3), (8,)]),
    # stride 1, wide: the flat grid and its col2im
    "wide flat": (lambda x, w, b: F.conv2d(x, w, b, padding=1), [(5, 32, 8, 8), (8, 32, 3, 3), (8,)]),
    # expanding layer: the flipped-kernel input gradient
    "expanding": (lambda x, w, b: F.conv2d(x, w, b, padding=1), [(5, 4, 8, 8), (40, 4, 3, 3), (40,)]),
    "pointwise": (lambda x, w, b: F.conv2d(x, w, b), [(5, 16, 6, 6), (24, 16, 1, 1), (24,)]),
    # twice the channels out: the input gradient is W^T·y on the image itself
    "pointwise expanding": (lambda x, w, b: F.conv2d(x, w, b), [(5, 8, 6, 6), (16, 8, 1, 1), (16,)]),
    "grouped": (lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=4), [(5, 32, 7, 7), (16, 8, 3, 3), (16,)]),
    "depthwise flat": (lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=8), [(5, 8, 9, 9), (16, 1, 3, 3), (16,)]),
    "depthwise strided": (lambda x, w, b: F.conv2d(x, w, b, stride=2, groups=8), [(5, 8, 9, 9), (8, 1, 3, 3), (8,)]),
    "conv1d": (lambda x, w, b: F.conv1d(x, w, b, padding=1), [(5, 16, 40), (8, 16, 3), (8,)]),
    "conv3d": (lambda x, w, b: F.conv3d(x, w, b, padding=1), [(3, 4, 5, 6, 6), (6, 4, 3, 3, 3), (6,)]),
    "transposed": (lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1), [(5, 16, 6, 6), (16, 8, 3, 3), (8,)]),
}

OTHER_CASES = {
    "relu": (F.relu, [(5, 3, 6, 6)]),
    "max_pool2d(2)": (lambda x: F.max_pool2d(x, 2), [(5, 3, 8, 8)]),
    "max_pool2d(3, 2, 1)": (lambda x: F.max_pool2d(x, 3, 2, 1), [(5, 3, 9, 9)]),
    "batch_norm": (
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        [(5, 3, 6, 6), (3,), (3,)],
    ),
    "batch_norm eval": (  # the fixed statistics' scale and shift, and its input gradient
        lambda x, w, b: F.batch_norm(x, cnnlab.tensor(np.linspace(-1, 1, 3, dtype=np.float32)),
                                     cnnlab.tensor(np.linspace(0.5, 2, 3, dtype=np.float32)), w, b, training=False),
        [(5, 3, 6, 6), (3,), (3,)],
    ),
    "linear": (F.linear, [(7, 12), (5, 12), (5,)]),
}


@pytest.mark.parametrize("case", list(CONV_CASES) + list(OTHER_CASES))
def test_split_op_equals_the_op_on_one_thread(case, threads, kernels):
    op, shapes = {**CONV_CASES, **OTHER_CASES}[case]
    one = threads(1, lambda: _outputs_and_grads(op, shapes))
    two = threads(2, lambda: _outputs_and_grads(op, shapes))
    # equal up to rounding: BLAS may order a product's sums differently for fewer columns, and sums
    # over the batch (weight gradients, batch statistics) add the threads' shares
    for a, b in zip(two, one):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", ["relu", "max_pool2d(2)", "max_pool2d(3, 2, 1)", "batch_norm"])
def test_split_op_with_a_compiled_kernel_equals_one_thread(case, kernels, threads):
    op, shapes = OTHER_CASES[case]
    one = threads(1, lambda: _outputs_and_grads(op, shapes))
    two = threads(2, lambda: _outputs_and_grads(op, shapes))
    # the compiled kernels give each thread whole rows or channels: the same numbers bit for bit (the
    # NumPy batch norm adds the threads' partial sums, equal up to rounding)
    exact = kernels == "compiled" or case != "batch_norm"
    for a, b in zip(two, one):
        np.testing.assert_allclose(a, b, rtol=0 if exact else 1e-5, atol=0 if exact else 1e-6)


def test_split_max_pool_keeps_nan_and_tie_rules(threads, kernels):
    x = np.zeros((4, 1, 4, 4), np.float32)
    x[1, 0, 0, 0] = np.nan
    x[3, 0, 2:, 2:] = 7.0  # a tie: the first offset wins

    def run():
        t = cnnlab.tensor(x, requires_grad=True)
        F.max_pool2d(t, 2).sum().backward()
        return t.grad.numpy()

    grad = threads(2, run)
    np.testing.assert_array_equal(grad, threads(1, run))
    assert grad[1, 0, 0, 0] == 1 and grad[3, 0, 2, 2] == 1 and grad[3, 0, 3, 3] == 0


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="no fork here")
def test_a_forked_child_starts_its_own_workers(threads):
    import os

    threads(2, lambda: parallel.starmap(lambda i: i, [(0,), (1,)]))  # the parent's workers are running
    pid = os.fork()
    if pid == 0:  # the child: its copies of the workers have no threads behind them
        ok = False
        try:
            ok = threads(2, lambda: parallel.starmap(lambda i: i + 1, [(0,), (1,)])) == [1, 2]
        finally:
            os._exit(0 if ok else 1)
    for _ in range(200):  # up to 20 s: a child waiting on workers that do not exist would hang
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung on its parent's workers")
    assert os.waitstatus_to_exitcode(status) == 0


def test_starmap_balances_runs_by_cost(threads):
    costs = [c << 20 for c in (90, 5, 5, 5, 5, 90)]  # MB
    owners = threads(2, lambda: parallel.starmap(lambda i: threading.get_ident(), [(i,) for i in range(6)], costs))
    assert owners[:3] == [owners[0]] * 3 and owners[3:] == [threading.get_ident()] * 3  # 100 MB and 100 MB
    parallel.set_num_threads(2)
    assert set(parallel.starmap(lambda i: threading.get_ident(), [(0,), (1,)], [1, 1])) == {threading.get_ident()}


@pytest.mark.parametrize("make", [
    lambda ps: cnnlab.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-3),
    lambda ps: cnnlab.optim.Adam(ps, lr=0.01, amsgrad=True),
], ids=["sgd", "adam"])
def test_optimizer_steps_on_threads_equal_one_thread(make, threads):
    def train():
        rng = np.random.default_rng(1)
        params = [cnnlab.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True) for s in [(7, 3), (5,), (40,), (2, 2)]]
        opt = make(params)
        for _ in range(3):
            for p in params:
                p.grad = cnnlab.tensor(rng.standard_normal(p.shape).astype(np.float32))
            opt.step()
        return [p.detach().numpy() for p in params] + [v for s in opt.state.values() for v in s.values() if isinstance(v, np.ndarray)]

    one, two = threads(1, train), threads(2, train)
    assert len(one) == len(two) > 4
    for a, b in zip(two, one):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(parallel._blas.set is None, reason="NumPy's BLAS is not an OpenBLAS whose threads can be set")
def test_a_single_large_chunk_gets_blas_threads_back_for_the_while(threads):
    threads(2, lambda: parallel.starmap(lambda i: i, [(0,), (1,)]))  # BLAS now held at one thread
    parallel.set_num_threads(2)
    assert parallel.starmap(parallel._blas.get, [()], costs=[parallel.MIN_WORK]) == [2]
    assert parallel.starmap(parallel._blas.get, [()], costs=[parallel.MIN_WORK - 1]) == [1]
    assert parallel.whole(parallel._blas.get, work=parallel.MIN_WORK) == 2  # as a general matmul runs
    assert parallel._blas.get() == 1


def test_the_thread_count_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("CNNLAB_NUM_THREADS", "3")
    assert parallel._threads_from_environment(False) == 3
    monkeypatch.setenv("CNNLAB_NUM_THREADS", "")
    assert parallel._threads_from_environment(False) == 1
    assert parallel._threads_from_environment(True) == parallel._cores()
    for bad in ("0", "two", "-1", "1.5"):
        monkeypatch.setenv("CNNLAB_NUM_THREADS", bad)
        with pytest.raises(ValueError, match=rf"CNNLAB_NUM_THREADS: expected a positive int, got '{bad}'"):
            parallel._threads_from_environment(True)


def test_the_workers_let_go_of_the_arrays_of_a_finished_op(threads):
    import gc
    import weakref

    a = np.ones((4, 1000), np.float32)
    gone = weakref.ref(a)
    threads(2, functools.partial(parallel.split_rows, lambda part: part[:1], a))  # results: views of a
    del a
    gc.collect()
    assert gone() is None  # no worker still holds the op's closure, its chunks or their results
