"""Doctest collection of the package: the modules of Numba kernels (``*_kernels.py``) are left out
where Numba is not installed (nothing else imports them then)."""

import importlib.util
from pathlib import Path

HERE = Path(__file__).parent
KERNELS = sorted(str(p.relative_to(HERE)) for p in HERE.glob("cnnlab/nn/functional/*_kernels.py"))
collect_ignore = [] if importlib.util.find_spec("numba") else KERNELS
