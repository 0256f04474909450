"""Doctest collection of the package: the module of Numba kernels is left out where Numba is not
installed (nothing else imports it then)."""

import importlib.util

collect_ignore = [] if importlib.util.find_spec("numba") else ["nn/functional/pool_kernels.py"]
