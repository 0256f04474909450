"""Doctest collection of the package: the modules of Numba kernels are left out where Numba is not
installed (nothing else imports them then)."""

import importlib.util

KERNELS = ["nn/functional/pool_kernels.py", "nn/functional/activation_kernels.py", "nn/functional/norm_kernels.py"]
collect_ignore = [] if importlib.util.find_spec("numba") else KERNELS
