"""Parameter: a tensor that a Module registers as learnable."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A tensor that is a learnable parameter of a Module; requires grad unless told otherwise.

    >>> import cnnlab
    >>> p = Parameter(cnnlab.zeros(2))
    >>> p.requires_grad
    True
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = Tensor([])
        super().__init__(data.data if isinstance(data, Tensor) else data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
