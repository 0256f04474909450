"""Layers (``cnnlab.nn``), the functional ops (``cnnlab.nn.functional``), initialisers and utilities."""

from . import functional, init, utils
from .modules import *  # noqa: F403
from .modules import __all__ as _modules_all
from .parameter import Parameter

__all__ = ["functional", "init", "utils", "Parameter", *_modules_all]
