"""Doctest collection of the package: the modules of Numba kernels are left out where Numba is not
installed (nothing else imports them then)."""

import importlib.util

KERNELS = [f"cnnlab/nn/functional/{name}_kernels.py" for name in ("pool", "activation", "norm", "winograd", "depthwise")]
collect_ignore = [] if importlib.util.find_spec("numba") else KERNELS
