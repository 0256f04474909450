"""Slow, obvious NumPy references: one loop per output element, written as a textbook would.

They exist only to check the vectorised library against a second, independent derivation (besides
PyTorch). Never use them for anything but small inputs.
"""

from __future__ import annotations

import itertools

import numpy as np


def conv(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation over any number of spatial dims, straight from the definition."""
    nd = x.ndim - 2
    s, p, d = ((v,) * nd if isinstance(v, int) else tuple(v) for v in (stride, padding, dilation))
    x = np.pad(x, [(0, 0), (0, 0)] + [(q, q) for q in p])
    N, C = x.shape[:2]
    OC, Cg = w.shape[:2]
    K = w.shape[2:]
    O = [(n - dd * (k - 1) - 1) // ss + 1 for n, k, ss, dd in zip(x.shape[2:], K, s, d)]
    out = np.zeros((N, OC, *O), dtype=np.float64)
    ocg = OC // groups
    for n, oc in itertools.product(range(N), range(OC)):
        g = oc // ocg
        for o in itertools.product(*map(range, O)):
            total = 0.0
            for c in range(Cg):
                for k in itertools.product(*map(range, K)):
                    pos = tuple(oi * ss + ki * dd for oi, ki, ss, dd in zip(o, k, s, d))
                    total += x[(n, g * Cg + c) + pos] * w[(oc, c) + k]
            out[(n, oc) + o] = total + (0.0 if b is None else b[oc])
    return out


def pool(x, kernel, stride, padding, reduce):
    """Max or average pooling from the definition (average counts the zero padding)."""
    nd = x.ndim - 2
    k, s, p = ((v,) * nd if isinstance(v, int) else tuple(v) for v in (kernel, stride, padding))
    fill = -np.inf if reduce == "max" else 0.0
    xp = np.pad(x.astype(np.float64), [(0, 0), (0, 0)] + [(q, q) for q in p], constant_values=fill)
    O = [(n + 2 * q - kk) // ss + 1 for n, kk, ss, q in zip(x.shape[2:], k, s, p)]
    out = np.zeros(x.shape[:2] + tuple(O))
    for n, c in itertools.product(*map(range, x.shape[:2])):
        for o in itertools.product(*map(range, O)):
            window = xp[(n, c) + tuple(slice(oi * ss, oi * ss + kk) for oi, ss, kk in zip(o, s, k))]
            out[(n, c) + o] = window.max() if reduce == "max" else window.mean()
    return out
