"""Per-channel sums of (N, C, *) activations, as BLAS products.

Batch norm and every bias gradient sum over all axes but the channel one. NumPy reduces over axes
(0, 2, ...) on one core in a strided loop; the same sums as a product with a vector of ones (and a
batch of dot products for Σ a·b) run in BLAS, several times faster. Large batches are summed in
shares on cnnlab's threads (:mod:`cnnlab.parallel`), the shares' sums added in order.

>>> import numpy as np
>>> a = np.arange(12.0).reshape(2, 3, 2)
>>> channel_sums(a).tolist(), a.sum(axis=(0, 2)).tolist()
([14.0, 22.0, 30.0], [14.0, 22.0, 30.0])
"""

from __future__ import annotations

import numpy as np

from ... import parallel


def channel_sums(a: np.ndarray) -> np.ndarray:
    """Σ over every axis but 1 of ``a`` (N, C, *): (C,), one matrix-vector product and a short sum."""
    N, C = a.shape[:2]
    if a.size == 0:
        return np.zeros(C, dtype=a.dtype)
    L = a.size // (N * C)
    if L == 1:
        return a.reshape(N, C).sum(axis=0)
    ones = np.ones(L, dtype=a.dtype)
    return parallel.added(parallel.split_rows(lambda part: (part.reshape(-1, L) @ ones).reshape(-1, C).sum(axis=0), a))


def channel_dots(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Σ over every axis but 1 of ``a · b`` (both (N, C, *)): (C,), one dot product per (n, c)."""
    N, C = a.shape[:2]
    if a.size == 0:
        return np.zeros(C, dtype=np.result_type(a, b))
    L = a.size // (N * C)
    if L == 1:
        return np.einsum("nc,nc->c", a.reshape(N, C), b.reshape(N, C))

    def dots(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        return np.matmul(p.reshape(-1, C, 1, L), q.reshape(-1, C, L, 1)).sum(axis=(0, 2, 3))

    return parallel.added(parallel.split_rows(dots, a, b))
