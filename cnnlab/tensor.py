"""Tensor: a NumPy array with a gradient, and the operations on it.

Each operation is a private :class:`~cnnlab.autograd.Function` with its forward and backward side by side;
the public face is a Tensor method or operator (``a @ b``, ``x.sum(dim=1)``) or a function of the
``cnnlab`` namespace (``cnnlab.cat``). The default dtype is float32; float64 works end to end.
"""

from __future__ import annotations

import builtins
import math
from collections import namedtuple
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from . import random as _random
from .autograd import Function, backward, is_grad_enabled, unbroadcast
from .parallel import whole

__all__ = [
    "Tensor",
    "abs",
    "arange",
    "argmax",
    "argmin",
    "as_tensor",
    "bool_",
    "cat",
    "clamp",
    "concatenate",
    "empty",
    "exp",
    "eye",
    "flatten",
    "float16",
    "float32",
    "float64",
    "from_numpy",
    "full",
    "full_like",
    "get_default_dtype",
    "int32",
    "int64",
    "is_tensor",
    "linspace",
    "log",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "ones",
    "ones_like",
    "permute",
    "rand",
    "rand_like",
    "randint",
    "randn",
    "randn_like",
    "reshape",
    "result_type",
    "sigmoid",
    "sqrt",
    "squeeze",
    "stack",
    "std",
    "sum",
    "tanh",
    "tensor",
    "transpose",
    "uint8",
    "unsqueeze",
    "var",
    "where",
    "zeros",
    "zeros_like",
]

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
float16 = np.dtype(np.float16)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

ReturnTypes = namedtuple("ReturnTypes", ["values", "indices"])


def get_default_dtype() -> np.dtype:
    return float32


def _as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """NumPy array for ``data``: Python floats become float32, ints int64, bools bool (as in PyTorch)."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray):
        return data if dtype is None else data.astype(dtype, copy=False)
    array = np.asarray(data)
    if dtype is not None:
        return array.astype(dtype, copy=False)
    if array.dtype == np.float64 and not isinstance(data, (np.floating, np.generic)):
        return array.astype(np.float32)
    if array.dtype.kind in "iu" and array.dtype != np.uint8:
        return array.astype(np.int64, copy=False)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"tensor: expected numbers, got an array of dtype {array.dtype}")
    return array


def _normalize_dim(dim: int, ndim: int, name: str = "dim") -> int:
    n = ndim or 1  # a 0-d tensor takes dim 0 or -1
    if type(dim) is int and -n <= dim < n:  # (the usual case, first: this runs in every layer's call)
        return dim % n
    lo, hi = -n, n - 1
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool) or not lo <= dim <= hi:
        raise IndexError(
            f"{name}: expected an int in the range [{lo}, {hi}] for a tensor with {ndim} dimensions, got {dim!r}"
        )
    return int(dim) % n


def _dims(dim: Any, ndim: int) -> tuple[int, ...] | None:
    """Axes for a reduction: None for all, an int, or a sequence of ints."""
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        if not dim:
            return None  # dim=() reduces everything, as in PyTorch
        axes = tuple(_normalize_dim(d, ndim) for d in dim)
        if len(set(axes)) != len(axes):
            raise RuntimeError(
                f"dim: each dimension may appear only once, got {tuple(dim)} for {ndim} dimensions"
            )
    else:
        axes = (_normalize_dim(dim, ndim),)
    return axes if ndim else ()  # a 0-d tensor has dim 0 / -1 by courtesy, and nothing to reduce


def _shape_args(shape: Sequence[Any]) -> tuple[int, ...]:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"size: expected a sequence of ints, got {tuple(shape)!r}")
    return tuple(int(s) for s in shape)


class Tensor:
    """An n-dimensional array that can record the operations applied to it and compute gradients.

    >>> import cnnlab
    >>> x = cnnlab.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    tensor([[2., 4.],
            [6., 8.]])
    """

    __slots__ = ("__weakref__", "_ctx", "_requires_grad", "_retains_grad", "data", "grad")
    __array_ufunc__ = None  # NumPy defers to Tensor's reflected operators: ndarray + Tensor -> Tensor

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self.data = _as_array(data, dtype)
        self.grad: Tensor | None = None
        self._ctx: Function | None = None
        self._retains_grad = False
        self._requires_grad = False
        self.requires_grad = requires_grad

    @classmethod
    def _make(cls, data: np.ndarray, ctx: Function | None) -> Tensor:
        t = object.__new__(Tensor)
        t.data = data if isinstance(data, np.ndarray) else np.asarray(data)
        t.grad = None
        t._ctx = ctx
        t._retains_grad = False
        t._requires_grad = ctx is not None
        return t

    # ----------------------------------------------------------------------------------------------
    # gradient bookkeeping

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and self.data.dtype.kind != "f":
            raise RuntimeError(
                f"requires_grad: only floating-point tensors can require gradients, got dtype {self.data.dtype}"
            )
        if not value and self._ctx is not None:
            raise RuntimeError("requires_grad: can only be changed on leaf tensors; use .detach() instead")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad_fn(self) -> Function | None:
        return self._ctx

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep it)."""
        if not self._requires_grad:
            raise RuntimeError(
                "retain_grad: can't retain the gradient of a tensor that does not require grad"
            )
        self._retains_grad = True

    def _accumulate_grad(self, g: np.ndarray) -> None:
        if self.grad is None:
            # a fresh array: the gradient must not alias arrays held by the graph
            self.grad = Tensor._make(np.array(g, dtype=self.data.dtype, copy=True), None)
        else:
            self.grad.data = self.grad.data + g

    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Compute the gradient of this tensor with respect to every leaf that requires one.

        ``gradient`` is d(loss)/d(self); it may be left out only when this tensor holds one element.
        """
        if not self._requires_grad:
            raise RuntimeError(
                "backward: element 0 of tensors does not require grad and does not have a grad_fn"
            )
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward: grad can be implicitly created only for scalar outputs; this tensor has "
                    f"shape {self.shape}. Pass gradient= with that shape."
                )
            g = np.ones_like(self.data)
        else:
            g = _as_array(gradient, self.data.dtype)
            if g.shape != self.data.shape:
                raise RuntimeError(
                    f"backward: gradient must have the tensor's shape {self.shape}, got shape {tuple(g.shape)}"
                )
        backward(self, g, retain_graph=retain_graph)

    def detach(self) -> Tensor:
        """The same data, cut off from the graph."""
        return Tensor._make(self.data, None)

    def detach_(self) -> Tensor:
        self._ctx = None
        self._requires_grad = False
        return self

    # ----------------------------------------------------------------------------------------------
    # NumPy interop and introspection

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def device(self) -> str:
        return "cpu"

    def is_floating_point(self) -> bool:
        """A method, as in PyTorch (``x.is_floating_point()``)."""
        return self.data.dtype.kind == "f"

    def dim(self) -> int:
        return self.data.ndim

    def size(self, dim: int | None = None) -> Any:
        if dim is None:
            return self.data.shape
        return self.data.shape[_normalize_dim(dim, self.ndim)]

    def numel(self) -> int:
        return int(self.data.size)

    def element_size(self) -> int:
        return int(self.data.itemsize)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if dtype is not None:
            return self.data.astype(dtype, copy=bool(copy))
        return self.data.copy() if copy else self.data

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied), as ``torch.Tensor.numpy``."""
        if self._requires_grad:
            raise RuntimeError(
                "numpy: can't call numpy() on a tensor that requires grad; use .detach().numpy()"
            )
        return self.data

    def item(self) -> Any:
        if self.data.size != 1:
            raise ValueError(
                f"item: only one-element tensors can be converted to a number, got shape {self.shape}"
            )
        return self.data.reshape(()).item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(f"bool: a tensor with {self.data.size} elements has no single truth value")
        return bool(self.data.reshape(()))

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.data.reshape(()))

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        body = np.array2string(
            self.data, separator=", ", prefix="tensor(", floatmode="maxprec", precision=4, threshold=1000
        )
        extras = []
        if self.data.dtype not in (float32, int64, bool_):
            extras.append(f"dtype=cnnlab.{self.data.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn={self._ctx!r}")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # ----------------------------------------------------------------------------------------------
    # dtype and copies

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(dtype)`` casts (differentiably); ``to('cpu')`` returns the tensor itself."""
        dtype = kwargs.get("dtype")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, str):
                if a != "cpu":
                    raise ValueError(f"to: cnnlab runs on the CPU only; got device {a!r}")
            elif a is not None:
                dtype = a
        if dtype is None or np.dtype(dtype) == self.data.dtype:
            return self
        return _Cast.apply(self, dtype=np.dtype(dtype))

    def type(self, dtype: Any) -> Tensor:
        return self.to(dtype)

    def float(self) -> Tensor:
        return self.to(float32)

    def double(self) -> Tensor:
        return self.to(float64)

    def half(self) -> Tensor:
        return self.to(float16)

    def long(self) -> Tensor:
        return self.to(int64)

    def int(self) -> Tensor:
        return self.to(int32)

    def bool(self) -> Tensor:
        return self.to(bool_)

    def cpu(self) -> Tensor:
        return self

    def clone(self) -> Tensor:
        return _Clone.apply(self)

    def contiguous(self) -> Tensor:
        return self if self.data.flags.c_contiguous else _Clone.apply(self)

    def is_contiguous(self) -> bool:
        return bool(self.data.flags.c_contiguous)

    # ----------------------------------------------------------------------------------------------
    # in-place updates of the data (no graph); used by initialisers and optimisers

    def _check_inplace(self, name: str) -> None:
        if self._requires_grad and is_grad_enabled():
            if self._ctx is None:
                raise RuntimeError(
                    f"{name}: a leaf tensor that requires grad is being used in an in-place operation; "
                    "wrap it in cnnlab.no_grad()"
                )
            raise RuntimeError(
                f"{name}: in-place operations on a tensor that is part of the graph ({self._ctx.name}) are not "
                "recorded; use the out-of-place form (x = x + y) or cnnlab.no_grad()"
            )

    def _inplace(self, name: str, ufunc: Any, other: Any) -> Tensor:
        """``ufunc(self, other)`` written into this tensor's memory, with PyTorch's shape and dtype rules."""
        self._check_inplace(name)
        value = _operand(other, self)
        if isinstance(value, Tensor):
            value = value.data
        try:
            ufunc(self.data, value, out=self.data, casting="same_kind")
        except TypeError:
            dtype = result_type(self, other if isinstance(other, Tensor) else value)
            if ufunc is np.true_divide and dtype.kind != "f":
                dtype = float32
            raise RuntimeError(
                f"{name}: result type {dtype} can't be cast to the dtype of the tensor being updated, {self.dtype}"
            ) from None
        except ValueError as e:
            shape = np.shape(value)
            if "read-only" in str(e):
                raise RuntimeError(
                    f"{name}: the tensor of shape {self.shape} is read-only (an expanded view?)"
                ) from None
            raise RuntimeError(
                f"{name}: the other operand of shape {shape} does not broadcast to the shape {self.shape} of the "
                f"tensor being updated in place"
            ) from None
        return self

    def fill_(self, value: float) -> Tensor:
        self._check_inplace("fill_")
        self.data[...] = value.data if isinstance(value, Tensor) else value
        return self

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def copy_(self, src: Any) -> Tensor:
        self._check_inplace("copy_")
        src = _as_array(src)
        try:
            self.data[...] = src
        except ValueError:
            raise RuntimeError(
                f"copy_: the source of shape {src.shape} does not broadcast to the destination's shape {self.shape}"
            ) from None
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator: _random.Generator | None = None) -> Tensor:
        self._check_inplace("uniform_")
        rng = (generator or _random.default_generator).numpy
        self.data[...] = rng.uniform(a, b, size=self.shape)
        return self

    def normal_(
        self, mean: float = 0.0, std: float = 1.0, generator: _random.Generator | None = None
    ) -> Tensor:
        self._check_inplace("normal_")
        rng = (generator or _random.default_generator).numpy
        self.data[...] = rng.normal(mean, std, size=self.shape)
        return self

    def add_(self, other: Any, alpha: float = 1) -> Tensor:
        if alpha != 1:
            other = (other.data if isinstance(other, Tensor) else _as_array(other)) * alpha
        return self._inplace("add_", np.add, other)

    def mul_(self, other: Any) -> Tensor:
        return self._inplace("mul_", np.multiply, other)

    def sub_(self, other: Any, alpha: float = 1) -> Tensor:
        return self.add_(other, alpha=-alpha)

    def div_(self, other: Any) -> Tensor:
        return self._inplace("div_", np.true_divide, other)

    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:
        self._check_inplace("clamp_")
        np.clip(self.data, min, max, out=self.data)
        return self

    # ----------------------------------------------------------------------------------------------
    # arithmetic

    def __add__(self, other: Any) -> Tensor:
        return _binary(_Add, self, _operand(other, self))

    def __radd__(self, other: Any) -> Tensor:
        return _binary(_Add, _operand(other, self), self)

    def __sub__(self, other: Any) -> Tensor:
        return _binary(_Sub, self, _operand(other, self))

    def __rsub__(self, other: Any) -> Tensor:
        return _binary(_Sub, _operand(other, self), self)

    def __mul__(self, other: Any) -> Tensor:
        return _binary(_Mul, self, _operand(other, self))

    def __rmul__(self, other: Any) -> Tensor:
        return _binary(_Mul, _operand(other, self), self)

    def __truediv__(self, other: Any) -> Tensor:
        return _binary(_Div, self, _operand(other, self), floating=True)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _binary(_Div, _operand(other, self), self, floating=True)

    def __pow__(self, other: Any) -> Tensor:
        other = _operand(other, self)
        if isinstance(other, Tensor):
            return _binary(_Pow, self, other)
        x = self
        if x.data.dtype.kind != "f" and (isinstance(other, float) or x.data.dtype.kind == "b"):
            x = x.to(result_type(x, other))  # int tensor ** 0.5 is float32, as in PyTorch
        return _PowScalar.apply(x, exponent=other)

    def __rpow__(self, other: Any) -> Tensor:
        return _binary(_Pow, _operand(other, self), self)

    def __neg__(self) -> Tensor:
        if self.data.dtype.kind == "b":
            raise TypeError("neg: negation, the `-` operator, on a bool tensor is not supported; use `~`")
        return _Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __matmul__(self, other: Any) -> Tensor:
        return _matmul(self, _operand(other, self))

    def __rmatmul__(self, other: Any) -> Tensor:
        return _matmul(_operand(other, self), self)

    # x += y updates x's memory, as in PyTorch (so `p -= lr * p.grad` under no_grad updates the
    # parameter); while the graph is recorded it is rebound to the out-of-place result instead
    def _records(self, other: Any) -> bool:
        return is_grad_enabled() and (
            self._requires_grad or (isinstance(other, Tensor) and other._requires_grad)
        )

    def __iadd__(self, other: Any) -> Tensor:  # noqa: PYI034 - rebinds while recording
        if self._records(other):
            self._check_leaf_inplace("+=")
            return self.__add__(other)
        return self._inplace("+=", np.add, other)

    def __isub__(self, other: Any) -> Tensor:  # noqa: PYI034 - rebinds while recording
        if self._records(other):
            self._check_leaf_inplace("-=")
            return self.__sub__(other)
        return self._inplace("-=", np.subtract, other)

    def __imul__(self, other: Any) -> Tensor:  # noqa: PYI034 - rebinds while recording
        if self._records(other):
            self._check_leaf_inplace("*=")
            return self.__mul__(other)
        return self._inplace("*=", np.multiply, other)

    def __itruediv__(self, other: Any) -> Tensor:  # noqa: PYI034 - rebinds while recording
        if self._records(other):
            self._check_leaf_inplace("/=")
            return self.__truediv__(other)
        return self._inplace("/=", np.true_divide, other)

    def _check_leaf_inplace(self, name: str) -> None:
        if self._requires_grad and self._ctx is None:
            self._check_inplace(name)

    add = __add__
    sub = __sub__
    mul = __mul__
    div = __truediv__
    matmul = __matmul__
    true_divide = __truediv__

    def pow(self, exponent: Any) -> Tensor:
        return self.__pow__(exponent)

    # comparisons: boolean tensors, no gradient
    def _compare(self, other: Any, op: Any) -> Tensor:
        return Tensor._make(op(self.data, _as_array(other) if isinstance(other, Tensor) else other), None)

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal)

    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.equal)

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.not_equal)

    def __invert__(self) -> Tensor:
        return Tensor._make(np.invert(self.data), None)

    def __and__(self, other: Any) -> Tensor:
        return self._compare(other, np.logical_and if self.dtype == bool_ else np.bitwise_and)

    def __or__(self, other: Any) -> Tensor:
        return self._compare(other, np.logical_or if self.dtype == bool_ else np.bitwise_or)

    lt, le, gt, ge, eq, ne = __lt__, __le__, __gt__, __ge__, __eq__, __ne__

    def isnan(self) -> Tensor:
        return Tensor._make(np.isnan(self.data), None)

    def isfinite(self) -> Tensor:
        return Tensor._make(np.isfinite(self.data), None)

    def all(self) -> Tensor:
        return Tensor._make(np.asarray(self.data.all()), None)

    def any(self) -> Tensor:
        return Tensor._make(np.asarray(self.data.any()), None)

    def equal(self, other: Any) -> bool:
        return bool(np.array_equal(self.data, _as_array(other)))

    def allclose(self, other: Any, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
        return bool(np.allclose(self.data, _as_array(other), rtol=rtol, atol=atol))

    # ----------------------------------------------------------------------------------------------
    # elementwise functions

    def _floating(self) -> Tensor:
        # functions with real outputs turn integer and bool tensors into float32, as in PyTorch
        return self if self.data.dtype.kind == "f" else self.to(float32)

    def exp(self) -> Tensor:
        return _Exp.apply(self._floating())

    def log(self) -> Tensor:
        return _Log.apply(self._floating())

    def sqrt(self) -> Tensor:
        return _Sqrt.apply(self._floating())

    def abs(self) -> Tensor:
        return _Abs.apply(self)

    def tanh(self) -> Tensor:
        return _Tanh.apply(self._floating())

    def sigmoid(self) -> Tensor:
        return _Sigmoid.apply(self._floating())

    def relu(self) -> Tensor:
        return _Relu.apply(self)

    def sign(self) -> Tensor:
        return Tensor._make(np.sign(self.data), None)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        bounds = []
        for name, bound in (("min", min), ("max", max)):
            if bound is not None and not isinstance(bound, Tensor):
                bound = _operand(bound, self)
            if isinstance(bound, Tensor) and bound.shape != self.shape:
                _check_broadcast(f"clamp: input and {name}", self.shape, bound.shape)
            bounds.append(bound)
        x = self
        dtype = result_type(self, *bounds)
        if dtype != x.dtype:
            x = x.to(dtype)
        bounds = [b.to(dtype) if isinstance(b, Tensor) and b.dtype != dtype else b for b in bounds]
        return _Clamp.apply(x, *bounds)

    clip = clamp

    def maximum(self, other: Any) -> Tensor:
        return _binary(_Maximum, self, _operand(other, self))

    def minimum(self, other: Any) -> Tensor:
        return _binary(_Minimum, self, _operand(other, self))

    # ----------------------------------------------------------------------------------------------
    # reductions

    def sum(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
        x = self if dtype is None else self.to(dtype)
        return _Sum.apply(x, axes=_dims(dim, self.ndim), keepdim=keepdim)

    def mean(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        if self.data.dtype.kind != "f":
            raise RuntimeError(f"mean: expected a floating-point tensor, got dtype {self.dtype}")
        return _Mean.apply(self, axes=_dims(dim, self.ndim), keepdim=keepdim)

    def var(
        self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: Any = None
    ) -> Tensor:
        if correction is None:
            correction = 1 if unbiased is None or unbiased else 0
        return _Var.apply(self, axes=_dims(dim, self.ndim), correction=correction, keepdim=keepdim)

    def std(
        self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: Any = None
    ) -> Tensor:
        if correction is None:
            correction = 1 if unbiased is None or unbiased else 0
        return _Std.apply(self, axes=_dims(dim, self.ndim), correction=correction, keepdim=keepdim)

    def _extreme(self, dim: Any, keepdim: bool, largest: bool) -> Any:
        if dim is None:
            return _AllReduceExtreme.apply(self, largest=largest)
        d = _normalize_dim(dim, self.ndim)
        if self.data.size == 0:
            raise IndexError(
                f"{'max' if largest else 'min'}: cannot reduce over dim {dim} of an empty tensor of shape {self.shape}"
            )
        if self.ndim == 0:
            values, indices = self.reshape(1)._extreme(0, False, largest)
            return ReturnTypes(values, indices)
        index = self.data.argmax(axis=d) if largest else self.data.argmin(axis=d)
        values = _GatherAlong.apply(self, index=np.expand_dims(index, d), axis=d)
        if not keepdim:
            values = values.squeeze(d)
        else:
            index = np.expand_dims(index, d)
        return ReturnTypes(values, Tensor._make(index.astype(np.int64), None))

    def max(self, dim: Any = None, keepdim: bool = False) -> Any:
        """Largest element, or ``(values, indices)`` along ``dim``; ``max(other)`` is elementwise."""
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        return self._extreme(dim, keepdim, largest=True)

    def min(self, dim: Any = None, keepdim: bool = False) -> Any:
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        return self._extreme(dim, keepdim, largest=False)

    def amax(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _AmaxAmin.apply(self, axes=_dims(dim, self.ndim), keepdim=keepdim, largest=True)

    def amin(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _AmaxAmin.apply(self, axes=_dims(dim, self.ndim), keepdim=keepdim, largest=False)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        if dim is None:
            return Tensor._make(np.asarray(self.data.argmax(), dtype=np.int64), None)
        d = _normalize_dim(dim, self.ndim)
        if self.ndim == 0:
            return Tensor._make(np.zeros((), dtype=np.int64), None)
        return Tensor._make(self.data.argmax(axis=d, keepdims=keepdim).astype(np.int64), None)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        if dim is None:
            return Tensor._make(np.asarray(self.data.argmin(), dtype=np.int64), None)
        d = _normalize_dim(dim, self.ndim)
        if self.ndim == 0:
            return Tensor._make(np.zeros((), dtype=np.int64), None)
        return Tensor._make(self.data.argmin(axis=d, keepdims=keepdim).astype(np.int64), None)

    # ----------------------------------------------------------------------------------------------
    # shape

    def reshape(self, *shape: Any) -> Tensor:
        shape = _shape_args(shape)
        try:
            if -1 > builtins.min(shape, default=0):  # NumPy would read any negative size as -1
                raise ValueError
            return _Reshape.apply(self, shape=shape)  # NumPy checks the rest; we only reword its message
        except ValueError:
            raise RuntimeError(
                f"reshape: shape {list(shape)} is invalid for input of size {self.numel()}"
            ) from None

    def view(self, *shape: Any) -> Tensor:
        return self.reshape(*shape)

    def view_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    reshape_as = view_as

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        if self.ndim == 0:
            return self.reshape(1)
        s = _normalize_dim(start_dim, self.ndim, "start_dim")
        e = _normalize_dim(end_dim, self.ndim, "end_dim")
        if s > e:
            raise RuntimeError(f"flatten: start_dim ({start_dim}) cannot come after end_dim ({end_dim})")
        shape = self.data.shape
        return _Reshape.apply(self, shape=shape[:s] + (math.prod(shape[s : e + 1]),) + shape[e + 1 :])

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Tensor:
        d = _normalize_dim(dim, self.ndim)
        return self.reshape(self.shape[:d] + tuple(sizes) + self.shape[d + 1 :])

    def permute(self, *dims: Any) -> Tensor:
        dims = _shape_args(dims)
        if len(dims) != self.ndim:
            raise RuntimeError(
                f"permute: dims {list(dims)} must name each of the {self.ndim} dimensions of shape {self.shape} once"
            )
        axes = tuple(_normalize_dim(d, self.ndim, "permute") for d in dims)
        if sorted(axes) != list(range(self.ndim)):
            raise RuntimeError(
                f"permute: dims {list(dims)} is not a permutation of the {self.ndim} dimensions"
            )
        return _Permute.apply(self, dims=axes)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        d0, d1 = _normalize_dim(dim0, self.ndim, "dim0"), _normalize_dim(dim1, self.ndim, "dim1")
        dims = list(range(self.ndim))
        dims[d0], dims[d1] = dims[d1], dims[d0]
        return _Permute.apply(self, dims=tuple(dims))

    swapaxes = transpose

    def t(self) -> Tensor:
        if self.ndim > 2:
            raise RuntimeError(f"t: expects a tensor with <= 2 dimensions, got {self.ndim}")
        return self if self.ndim < 2 else self.transpose(0, 1)

    @property
    def T(self) -> Tensor:
        return _Permute.apply(self, dims=tuple(reversed(range(self.ndim))))

    def squeeze(self, dim: Any = None) -> Tensor:
        if dim is None:
            shape = tuple(n for n in self.shape if n != 1)
        else:
            axes = _dims(dim, self.ndim)
            shape = tuple(n for i, n in enumerate(self.shape) if not (i in axes and n == 1))
        return _Reshape.apply(self, shape=shape)

    def unsqueeze(self, dim: int) -> Tensor:
        d = _normalize_dim(dim, self.ndim + 1)
        return _Reshape.apply(self, shape=self.shape[:d] + (1,) + self.shape[d:])

    def expand(self, *sizes: Any) -> Tensor:
        sizes = _shape_args(sizes)
        if len(sizes) < self.ndim:
            raise RuntimeError(
                f"expand: the number of sizes ({len(sizes)}) must be at least the number of dimensions ({self.ndim})"
            )
        lead = len(sizes) - self.ndim
        shape = tuple(self.shape[i - lead] if (s == -1 and i >= lead) else s for i, s in enumerate(sizes))
        if builtins.any(s < 0 for s in shape):
            raise RuntimeError(
                f"expand: sizes {list(sizes)} must be non-negative (-1 keeps an existing dimension, and only for "
                f"the last {self.ndim} of them); tensor of shape {self.shape}"
            )
        for i in range(self.ndim):
            if self.shape[i] != 1 and self.shape[i] != shape[lead + i]:
                raise RuntimeError(
                    f"expand: the size of dimension {lead + i} ({self.shape[i]}) must match the expanded "
                    f"size ({shape[lead + i]}) or be 1; expanding {self.shape} to {shape}"
                )
        return _Expand.apply(self, shape=shape)

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(*other.shape)

    def repeat(self, *sizes: Any) -> Tensor:
        sizes = _shape_args(sizes)
        if len(sizes) < self.ndim:
            raise RuntimeError("repeat: the number of repeats can't be smaller than the number of dimensions")
        return _Repeat.apply(self, reps=sizes)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        d = _normalize_dim(dim, self.ndim)
        if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
            raise RuntimeError(f"chunk: chunks must be a positive int, got {chunks!r}")
        size = builtins.max(-(-self.shape[d] // chunks), 1)
        return self.split(size, d)

    def split(self, split_size: Any, dim: int = 0) -> tuple[Tensor, ...]:
        d = _normalize_dim(dim, self.ndim)
        n = self.shape[d]
        if isinstance(split_size, (int, np.integer)):
            if split_size <= 0:
                raise RuntimeError(f"split: split_size must be a positive int, got {split_size}")
            sizes = [split_size] * (n // split_size) + ([n % split_size] if n % split_size else [])
        else:
            sizes = list(split_size)
            if builtins.sum(sizes) != n or builtins.min(sizes, default=0) < 0:
                raise RuntimeError(
                    f"split: sizes {sizes} must be non-negative and sum to {n}, the size of dimension {d} of the "
                    f"tensor of shape {self.shape}"
                )
        out, start = [], 0
        for s in sizes:
            index = (slice(None),) * d + (slice(start, start + s),)
            out.append(self[index])
            start += s
        return tuple(out)

    # ----------------------------------------------------------------------------------------------
    # indexing

    def __getitem__(self, index: Any) -> Tensor:
        try:
            return _Index.apply(self, index=_index_arrays(index))
        except IndexError as e:
            raise IndexError(
                f"index: {e} (indexing a tensor of shape {self.shape} with {_describe(index)})"
            ) from None

    def __iter__(self) -> Any:
        if self.ndim == 0:
            raise TypeError("iter: iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    def __setitem__(self, index: Any, value: Any) -> None:
        if self._requires_grad and is_grad_enabled():
            raise RuntimeError(
                "setitem: in-place assignment into a tensor that requires grad is not recorded; "
                "build a new tensor (cnnlab.where, cnnlab.cat) or use cnnlab.no_grad()"
            )
        value = _as_array(value)
        try:
            self.data[_index_arrays(index)] = value
        except (IndexError, ValueError) as e:
            raise type(e)(
                f"setitem: {e} (assigning a value of shape {value.shape} into a tensor of shape {self.shape} "
                f"at {_describe(index)})"
            ) from None

    def gather(self, dim: int, index: Any) -> Tensor:
        """``out[i][j] = self[i][index[i][j]]`` along ``dim`` (for dim=1); the output has index's shape."""
        d = _normalize_dim(dim, self.ndim)
        index = _as_array(index)
        if index.dtype.kind not in "iu":
            raise TypeError(f"gather: expected an integer index, got dtype {index.dtype}")
        if index.ndim != self.ndim:
            raise RuntimeError(
                f"gather: index must have as many dimensions as the input; got index of shape {index.shape} "
                f"for input of shape {self.shape}"
            )
        if any(i != d and m > n for i, (m, n) in enumerate(zip(index.shape, self.shape))):
            raise RuntimeError(
                f"gather: index of shape {index.shape} is larger than the input of shape {self.shape} "
                f"outside dimension {d}"
            )
        if index.size and (index.min() < 0 or index.max() >= self.shape[d]):
            raise IndexError(
                f"gather: index out of range [0, {self.shape[d] - 1}] for dimension {d} of the "
                f"input of shape {self.shape}; got values from {index.min()} to {index.max()}"
            )
        x = self
        if any(i != d and m != n for i, (m, n) in enumerate(zip(index.shape, self.shape))):
            # PyTorch reads only the leading part of the other dimensions
            x = self[tuple(slice(None) if i == d else slice(0, m) for i, m in enumerate(index.shape))]
        return _GatherAlong.apply(x, index=index, axis=d)

    def masked_fill(self, mask: Any, value: float) -> Tensor:
        return where(mask, Tensor._make(np.asarray(value, dtype=self.dtype), None), self)


def _operand(other: Any, like: Tensor) -> Any:
    """The other operand of a binary op: tensors pass, Python numbers stay weakly typed (float32 stays
    float32), NumPy values become tensors."""
    if isinstance(other, Tensor):
        return other
    if isinstance(other, (int, float, bool)) and not isinstance(other, np.generic):
        return other
    if isinstance(other, np.ndarray):
        array = other
    else:
        try:
            array = _as_array(other)  # lists of Python floats become float32, as in PyTorch
        except TypeError:
            raise TypeError(
                f"unsupported operand: expected a tensor, a number or an array, got {type(other).__name__}"
            ) from None
    if array.ndim == 0 and array.dtype.kind in "fiub":
        # a NumPy scalar: take its value, not its dtype (np.float64(2) * float32 stays float32)
        return array.item()
    if array.dtype.kind not in "fiub":
        raise TypeError(f"unsupported operand: expected numbers, got an array of dtype {array.dtype}")
    return Tensor._make(array, None)


# PyTorch's type promotion: a category (bool < integer < floating) outranks width, and dimensioned
# tensors outrank 0-d tensors, which outrank Python numbers, within a category. So float32 + int64 is
# float32, float32 + 0-d float64 is float32, int64 + 2.5 is float32 (the default dtype).
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def _promote(a: np.dtype, b: np.dtype) -> np.dtype:
    """torch.promote_types: the higher category wins outright, the same category widens."""
    if a == b:
        return a
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """Fold a lower-priority operand's dtype in: it matters only when it is of a higher category."""
    if higher is None:
        return lower
    if lower is None or higher.kind == "f":
        return higher
    if higher.kind == "b" or lower.kind == "f":
        return _promote(higher, lower)
    return higher


def _scalar_dtype(value: Any) -> np.dtype:
    return bool_ if isinstance(value, bool) else int64 if isinstance(value, int) else float32


def result_type(*operands: Any) -> np.dtype:
    """The dtype PyTorch gives an operation on ``operands`` (tensors, arrays and Python numbers).

    >>> result_type(tensor([1, 2]), 2.5)
    dtype('float32')
    >>> result_type(ones(3), tensor(1.0, dtype=float64))
    dtype('float32')
    """
    dims = zeros = scalars = None
    for x in operands:
        if isinstance(x, (Tensor, np.ndarray)):
            dt = x.dtype
            if x.ndim:
                dims = dt if dims is None else _promote(dims, dt)
            else:
                zeros = dt if zeros is None else _promote(zeros, dt)
        elif x is not None:
            dt = _scalar_dtype(x)
            scalars = dt if scalars is None else _promote(scalars, dt)
    return _combine(dims, _combine(zeros, scalars))


def _check_broadcast(name: str, *shapes: tuple[int, ...]) -> None:
    """Raise PyTorch's message, naming the shapes, when ``shapes`` don't broadcast together."""
    ndim = builtins.max(len(s) for s in shapes)
    for i in range(1, ndim + 1):
        sizes = {s[-i] for s in shapes if len(s) >= i} - {1}
        if len(sizes) > 1:
            a, b = sorted(sizes)[:2]
            raise RuntimeError(
                f"{name}: the size of tensor a ({a}) must match the size of tensor b ({b}) at "
                f"non-singleton dimension {ndim - i}; got shapes {', '.join(str(tuple(s)) for s in shapes)}"
            )


def _binary(op: type[Function], a: Any, b: Any, floating: bool = False) -> Tensor:
    """Apply a broadcasting binary op after PyTorch's type promotion, refusing shapes that don't
    broadcast with PyTorch's message. ``floating`` ops (true division) turn integers into float32."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a.data.dtype != b.data.dtype or (floating and a.data.dtype.kind != "f"):
            a, b = _cast_operands(a, b, floating)
        if a.data.shape != b.data.shape:
            _check_broadcast(op.__name__.lstrip("_").lower(), a.data.shape, b.data.shape)
    else:
        t = a if isinstance(a, Tensor) else b
        # a Python number changes the dtype only when it is of a higher category (int tensor + 2.5)
        if t.data.dtype.kind != "f" and (
            floating or not isinstance(a if t is b else b, int) or t.data.dtype.kind == "b"
        ):
            a, b = _cast_operands(a, b, floating)
    return op.apply(a, b)


def _cast_operands(a: Any, b: Any, floating: bool) -> tuple[Any, Any]:
    dtype = result_type(a, b)
    if floating and dtype.kind != "f":
        dtype = float32
    if isinstance(a, Tensor) and a.data.dtype != dtype:
        a = _Cast.apply(a, dtype=dtype)
    if isinstance(b, Tensor) and b.data.dtype != dtype:
        b = _Cast.apply(b, dtype=dtype)
    return a, b


def _matmul(a: Any, b: Any) -> Tensor:
    """Check the shapes as PyTorch does (naming both), then multiply."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor) or a.ndim == 0 or b.ndim == 0:
        shapes = [x.shape if isinstance(x, Tensor) else type(x).__name__ for x in (a, b)]
        raise RuntimeError(
            f"matmul: both arguments need to be at least 1-D tensors, got {shapes[0]} and {shapes[1]}"
        )
    sa, sb = a.shape, b.shape
    k_a, k_b = sa[-1], sb[-2] if b.ndim > 1 else sb[0]
    if k_a != k_b:
        raise RuntimeError(
            f"matmul: shapes {sa} and {sb} cannot be multiplied (the last dimension of the first, {k_a}, "
            f"must equal the {'second-to-last' if b.ndim > 1 else 'only'} dimension of the second, {k_b})"
        )
    if a.ndim > 2 or b.ndim > 2:
        _check_broadcast("matmul: batch dimensions", sa[:-2], sb[:-2])
    if a.dtype != b.dtype:
        a, b = _cast_operands(a, b, floating=False)
    return _MatMul.apply(a, b)


def _index_arrays(index: Any) -> Any:
    """Replace tensors inside an index with their arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def _describe(index: Any) -> str:
    """A short description of an index for error messages: arrays by shape and dtype."""
    items = index if isinstance(index, tuple) else (index,)
    parts = []
    for i in items:
        if isinstance(i, (Tensor, np.ndarray)):
            parts.append(
                f"<{'tensor' if isinstance(i, Tensor) else 'array'} of shape {i.shape}, dtype {i.dtype}>"
            )
        else:
            parts.append(repr(i))
    return "[" + ", ".join(parts) + "]"


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)) for i in items)


# ==================================================================================================
# operations: forward and backward side by side


class _Cast(Function):
    def forward(self, x, dtype):
        self.dtype = x.dtype
        return x.astype(dtype)

    def backward(self, grad):
        return grad.astype(self.dtype)


class _Clone(Function):
    def forward(self, x):
        return np.array(x, copy=True, order="C")

    def backward(self, grad):
        return grad


class _Add(Function):
    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        return grad, grad


class _Sub(Function):
    def forward(self, a, b):
        return a - b

    def backward(self, grad):
        return grad, -grad


class _Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, grad):
        ga = grad * self.b if self.needs_input_grad[0] else None
        gb = grad * self.a if self.needs_input_grad[1] else None
        return ga, gb


class _Div(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, grad):
        ga = grad / self.b if self.needs_input_grad[0] else None
        gb = -grad * self.a / (self.b * self.b) if self.needs_input_grad[1] else None
        return ga, gb


class _Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, grad):
        return -grad


class _PowScalar(Function):
    def forward(self, x, exponent):
        self.x, self.p = x, exponent
        return x**exponent

    def backward(self, grad):
        if self.p == 0:
            return np.zeros_like(grad)
        with np.errstate(divide="ignore", invalid="ignore"):
            return grad * self.p * self.x ** (self.p - 1)


class _Pow(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = np.power(a, b)
        return self.out

    def backward(self, grad):
        ga = gb = None
        if self.needs_input_grad[0]:
            with np.errstate(divide="ignore", invalid="ignore"):
                # PyTorch takes 0 where the exponent is 0 (not 0 * inf at a == 0)
                ga = np.where(self.b == 0, 0, grad * self.b * np.power(self.a, self.b - 1))
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                # d(a^b)/db = a^b log a; PyTorch takes 0 where a == 0 and b >= 0
                gb = grad * np.where((self.a == 0) & (self.b >= 0), 0, self.out * np.log(self.a))
        return ga, gb


class _MatMul(Function):
    # not split between cnnlab's threads (any shapes broadcast); BLAS gets the threads instead
    def forward(self, a, b):
        self.a, self.b = a, b
        return whole(np.matmul, a, b, work=a.nbytes + b.nbytes)

    def backward(self, grad):
        a, b = self.a, self.b
        if a.ndim == 1 and b.ndim == 1:  # a dot product: grad is 0-d
            return grad * b if self.needs_input_grad[0] else None, grad * a if self.needs_input_grad[
                1
            ] else None
        # promote vectors to matrices, as matmul does, then undo it
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        if b.ndim == 1:
            g = np.expand_dims(g, -1)
        ga = gb = None
        work = a.nbytes + b.nbytes + g.nbytes
        if self.needs_input_grad[0]:
            ga = unbroadcast(whole(np.matmul, g, b2.swapaxes(-1, -2), work=work), a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            gb = unbroadcast(whole(np.matmul, a2.swapaxes(-1, -2), g, work=work), b2.shape).reshape(b.shape)
        return ga, gb


class _Exp(Function):
    def forward(self, x):
        self.out = np.exp(x)
        return self.out

    def backward(self, grad):
        return grad * self.out


class _Log(Function):
    def forward(self, x):
        self.x = x
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    def backward(self, grad):
        with np.errstate(divide="ignore"):
            return grad / self.x


class _Sqrt(Function):
    def forward(self, x):
        with np.errstate(invalid="ignore"):
            self.out = np.sqrt(x)
        return self.out

    def backward(self, grad):
        with np.errstate(divide="ignore"):
            return grad / (2 * self.out)


class _Abs(Function):
    def forward(self, x):
        self.x = x
        return np.abs(x)

    def backward(self, grad):
        return grad * np.sign(self.x)


class _Tanh(Function):
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, grad):
        return grad * (1 - self.out * self.out)


def _stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) without overflow: e^-|x| is at most 1."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


class _Sigmoid(Function):
    def forward(self, x):
        self.out = _stable_sigmoid(x)
        return self.out

    def backward(self, grad):
        return grad * self.out * (1 - self.out)


class _Relu(Function):
    def forward(self, x):
        self.mask = x > 0
        return np.maximum(x, x.dtype.type(0))  # NaN stays NaN, as in PyTorch

    def backward(self, grad):
        return grad * self.mask


class _Clamp(Function):
    """Bounds are numbers, None or (differentiable) tensors. As in PyTorch, the input keeps the gradient
    at the boundaries, and when min > max the output is max."""

    def forward(self, x, lo, hi):
        self.x, self.lo, self.hi = x, lo, hi
        return np.clip(x, lo, hi).astype(x.dtype, copy=False)

    def backward(self, grad):
        x, lo, hi = self.x, self.lo, self.hi
        zero = grad.dtype.type(0)
        inside = True
        if lo is not None:
            inside = inside & (x >= lo)
        if hi is not None:
            inside = inside & (x <= hi)
        gx = np.where(inside, grad, zero)
        glo = ghi = None
        if self.needs_input_grad[1]:
            below = x < lo if hi is None else (x < lo) & (lo < hi)
            glo = np.where(below, grad, zero)
        if self.needs_input_grad[2]:
            above = x > hi if lo is None else (x > hi) | (hi < lo)
            ghi = np.where(above, grad, zero)
        return gx, glo, ghi


class _Maximum(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return np.maximum(a, b)

    def backward(self, grad):
        # ties share the gradient equally, as in PyTorch
        a, b = self.a, self.b
        half = np.where(a == b, grad / 2, grad)
        return np.where(a < b, 0, half), np.where(a > b, 0, half)


class _Minimum(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return np.minimum(a, b)

    def backward(self, grad):
        a, b = self.a, self.b
        half = np.where(a == b, grad / 2, grad)
        return np.where(a > b, 0, half), np.where(a < b, 0, half)


class _Where(Function):
    def forward(self, a, b, condition):
        self.condition = condition
        return np.where(condition, a, b)

    def backward(self, grad):
        zero = grad.dtype.type(0)
        return np.where(self.condition, grad, zero), np.where(self.condition, zero, grad)


def _expand_reduced(grad: np.ndarray, shape: tuple[int, ...], axes: tuple[int, ...] | None, keepdim: bool):
    """Give a reduced gradient back its reduced axes (as size 1) so it broadcasts over the input."""
    if axes is None:
        return np.reshape(grad, (1,) * len(shape))
    if not keepdim:
        grad = np.expand_dims(grad, axes)
    return grad


class _Sum(Function):
    def forward(self, x, axes, keepdim):
        self.shape, self.axes, self.keepdim = x.shape, axes, keepdim
        return np.asarray(x.sum(axis=axes, keepdims=keepdim))

    def backward(self, grad):
        return np.broadcast_to(_expand_reduced(grad, self.shape, self.axes, self.keepdim), self.shape)


class _Mean(Function):
    def forward(self, x, axes, keepdim):
        self.shape, self.axes, self.keepdim = x.shape, axes, keepdim
        self.count = x.size if axes is None else math.prod(x.shape[a] for a in axes)
        return np.asarray(x.mean(axis=axes, keepdims=keepdim), dtype=x.dtype)

    def backward(self, grad):
        g = _expand_reduced(grad, self.shape, self.axes, self.keepdim) / grad.dtype.type(self.count)
        return np.broadcast_to(g, self.shape)


class _Var(Function):
    def forward(self, x, axes, correction, keepdim):
        self.axes, self.keepdim, self.shape = axes, keepdim, x.shape
        count = x.size if axes is None else math.prod(x.shape[a] for a in axes)
        self.denominator = builtins.max(count - correction, 0)
        self.centered = x - x.mean(axis=axes, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (self.centered * self.centered).sum(axis=axes, keepdims=keepdim) / x.dtype.type(
                self.denominator
            )
        return np.asarray(out, dtype=x.dtype)

    def backward(self, grad):
        g = _expand_reduced(grad, self.shape, self.axes, self.keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            return g * self.centered * grad.dtype.type(2.0 / self.denominator if self.denominator else np.inf)


class _Std(_Var):
    def forward(self, x, axes, correction, keepdim):
        self.out = np.sqrt(super().forward(x, axes, correction, keepdim))
        return self.out

    def backward(self, grad):
        # PyTorch takes 0 where std is 0 (a constant input), not 0 * inf
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where(self.out == 0, grad.dtype.type(0), grad / (2 * self.out))
        return super().backward(g)


class _AllReduceExtreme(Function):
    """max() / min() of all elements; ties share the gradient evenly, as in PyTorch."""

    def forward(self, x, largest):
        if x.size == 0:
            name = "max" if largest else "min"
            raise RuntimeError(
                f"{name}: expected a non-empty tensor, got shape {x.shape} (reduction over zero elements)"
            )
        out = x.max() if largest else x.min()
        self.mask = (x == out) | (np.isnan(x) & np.isnan(out))
        return np.asarray(out)

    def backward(self, grad):
        return self.mask * (grad / self.mask.sum()).astype(grad.dtype)


class _AmaxAmin(Function):
    def forward(self, x, axes, keepdim, largest):
        self.shape, self.axes, self.keepdim = x.shape, axes, keepdim
        out = x.max(axis=axes, keepdims=True) if largest else x.min(axis=axes, keepdims=True)
        self.mask = x == out
        return out if keepdim else np.squeeze(out, axis=axes)

    def backward(self, grad):
        g = _expand_reduced(grad, self.shape, self.axes, self.keepdim)
        return self.mask * g / self.mask.sum(axis=self.axes, keepdims=True).astype(grad.dtype)


class _GatherAlong(Function):
    def forward(self, x, index, axis):
        self.shape, self.index, self.axis = x.shape, index, axis
        return np.take_along_axis(x, index, axis=axis)

    def backward(self, grad):
        g = np.zeros(self.shape, dtype=grad.dtype)
        # put_along_axis would drop repeated indices; add.at sums them
        idx = list(np.indices(self.index.shape, sparse=True))
        idx[self.axis] = self.index
        np.add.at(g, tuple(idx), grad)
        return g


class _Reshape(Function):
    def forward(self, x, shape):
        self.shape = x.shape
        return x.reshape(shape)

    def backward(self, grad):
        return grad.reshape(self.shape)


class _Permute(Function):
    def forward(self, x, dims):
        self.inverse = tuple(np.argsort(dims))
        return x.transpose(dims)

    def backward(self, grad):
        return grad.transpose(self.inverse)


class _Expand(Function):
    def forward(self, x, shape):
        return np.broadcast_to(x, shape)

    def backward(self, grad):
        return grad  # the engine sums it back to the input's shape


class _Repeat(Function):
    def forward(self, x, reps):
        self.shape = (1,) * (len(reps) - x.ndim) + x.shape
        self.reps = reps
        return np.tile(x, reps)

    def backward(self, grad):
        # (r0*n0, r1*n1, ...) -> (r0, n0, r1, n1, ...) -> sum over the r axes
        split = tuple(v for r, n in zip(self.reps, self.shape) for v in (r, n))
        return grad.reshape(split).sum(axis=tuple(range(0, 2 * len(self.reps), 2)))


class _Index(Function):
    def forward(self, x, index):
        self.shape, self.index = x.shape, index
        return x[index]

    def backward(self, grad):
        g = np.zeros(self.shape, dtype=grad.dtype)
        if _is_basic(self.index):
            g[self.index] = grad
        else:
            np.add.at(g, self.index, grad)  # repeated integer indices accumulate
        return g


class _Cat(Function):
    def forward(self, *xs, axis):
        self.axis = axis
        self.bounds = np.cumsum([x.shape[axis] for x in xs])[:-1]
        return np.concatenate(xs, axis=axis)

    def backward(self, grad):
        return tuple(np.split(grad, self.bounds, axis=self.axis))


class _Stack(Function):
    def forward(self, *xs, axis):
        self.axis = axis
        return np.stack(xs, axis=axis)

    def backward(self, grad):
        return tuple(np.moveaxis(grad, self.axis, 0))


# ==================================================================================================
# functions of the cnnlab namespace


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (lists, numbers, arrays or tensors).

    >>> tensor([1.0, 2.0]).dtype
    dtype('float32')
    >>> tensor([1, 2]).dtype
    dtype('int64')
    """
    array = _as_array(data, dtype)
    if isinstance(data, (np.ndarray, Tensor)) and array is (data.data if isinstance(data, Tensor) else data):
        array = array.copy()
    return Tensor(array, requires_grad=requires_grad)


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """A tensor sharing ``data``'s memory where it can."""
    if isinstance(data, Tensor) and (dtype is None or np.dtype(dtype) == data.dtype):
        return data
    return Tensor(_as_array(data, dtype))


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor that shares the array's memory and keeps its dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(array).__name__}")
    if array.dtype.kind not in "fiub":
        raise TypeError(f"from_numpy: expected an array of numbers, got dtype {array.dtype}")
    return Tensor._make(array, None)


def _factory(array: np.ndarray, dtype: Any, requires_grad: bool) -> Tensor:
    array = array.astype(float32 if dtype is None else dtype, copy=False)
    return Tensor(array, requires_grad=requires_grad)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _factory(np.zeros(_shape_args(size), dtype=dtype or float32), dtype, requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _factory(np.ones(_shape_args(size), dtype=dtype or float32), dtype, requires_grad)


def empty(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _factory(np.empty(_shape_args(size), dtype=dtype or float32), dtype, requires_grad)


def full(size: Sequence[int], fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    if dtype is None:
        dtype = bool_ if isinstance(fill_value, bool) else int64 if isinstance(fill_value, int) else float32
    return _factory(np.full(_shape_args((size,)), fill_value, dtype=dtype), dtype, requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _factory(np.eye(n, m), dtype, requires_grad)


def rand(*size: Any, dtype: Any = None, requires_grad: bool = False, generator: Any = None) -> Tensor:
    """Uniform on [0, 1), from the default generator (or ``generator``)."""
    rng = (generator or _random.default_generator).numpy
    return _factory(rng.random(_shape_args(size), dtype=np.float64), dtype, requires_grad)


def randn(*size: Any, dtype: Any = None, requires_grad: bool = False, generator: Any = None) -> Tensor:
    """Standard normal, from the default generator (or ``generator``)."""
    rng = (generator or _random.default_generator).numpy
    return _factory(rng.standard_normal(_shape_args(size)), dtype, requires_grad)


def randint(
    low: int, high: int | None = None, size: Sequence[int] = (), generator: Any = None, dtype: Any = None
) -> Tensor:
    if high is None:
        low, high = 0, low
    rng = (generator or _random.default_generator).numpy
    return Tensor._make(rng.integers(low, high, size=tuple(size)).astype(dtype or int64), None)


def arange(
    start: float, end: float | None = None, step: float = 1, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    values = np.arange(start, end, step)
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = int64 if is_int else float32
    return _factory(values, dtype, requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _factory(np.linspace(start, end, steps), dtype, requires_grad)


def _like(x: Tensor, dtype: Any) -> Any:
    return x.dtype if dtype is None else dtype


def zeros_like(x: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros(*x.shape, dtype=_like(x, dtype), requires_grad=requires_grad)


def ones_like(x: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return ones(*x.shape, dtype=_like(x, dtype), requires_grad=requires_grad)


def full_like(x: Tensor, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return full(x.shape, fill_value, dtype=_like(x, dtype), requires_grad=requires_grad)


def rand_like(x: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return rand(*x.shape, dtype=_like(x, dtype), requires_grad=requires_grad)


def randn_like(x: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return randn(*x.shape, dtype=_like(x, dtype), requires_grad=requires_grad)


def _tensors(tensors: Iterable[Any], name: str) -> list[Tensor]:
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError(f"{name}: expected a non-empty sequence of tensors")
    return tensors


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension.

    >>> cat([zeros(2, 3), ones(1, 3)]).shape
    (3, 3)
    """
    tensors = _tensors(tensors, "cat")
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"cat: zero-dimensional tensor (at position {i}) cannot be concatenated")
    d = _normalize_dim(dim, tensors[0].ndim)
    first = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.ndim != len(first) or any(a != b for j, (a, b) in enumerate(zip(t.shape, first)) if j != d):
            raise RuntimeError(
                f"cat: sizes of tensors must match except in dimension {d}; tensor 0 has shape {first}, "
                f"tensor {i} has shape {t.shape}"
            )
    return _Cat.apply(*_same_dtype(tensors), axis=d)


def _same_dtype(tensors: list[Tensor]) -> list[Tensor]:
    """Cast a list of tensors to their promoted dtype (PyTorch's rule for cat and stack)."""
    dtype = tensors[0].dtype
    if all(t.dtype == dtype for t in tensors):
        return tensors
    for t in tensors[1:]:
        dtype = _promote(dtype, t.dtype)
    return [t if t.dtype == dtype else t.to(dtype) for t in tensors]


concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors of equal shape along a new dimension."""
    tensors = _tensors(tensors, "stack")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack: expects each tensor to be equal size, but got {tensors[0].shape} at entry 0 "
                f"and {t.shape} at entry {i}"
            )
    return _Stack.apply(*_same_dtype(tensors), axis=_normalize_dim(dim, tensors[0].ndim + 1))


def where(condition: Any, input: Any, other: Any) -> Tensor:
    """Elements of ``input`` where ``condition`` holds, else of ``other``."""
    cond = _as_array(condition).astype(bool, copy=False)
    a, b = _operand(input, None), _operand(other, None)
    dtype = result_type(a, b)  # where(mask, x, 0.0) keeps x's dtype
    a, b = (
        x.to(dtype) if isinstance(x, Tensor) else Tensor._make(np.asarray(x, dtype=dtype), None)
        for x in (a, b)
    )
    if not cond.shape == a.shape == b.shape:
        _check_broadcast("where: condition, input and other", cond.shape, a.shape, b.shape)
    return _Where.apply(a, b, condition=cond)


def maximum(input: Tensor, other: Any) -> Tensor:
    return input.maximum(other)


def minimum(input: Tensor, other: Any) -> Tensor:
    return input.minimum(other)


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with PyTorch's rules for 1-D operands and broadcast batch dimensions."""
    return _matmul(_operand(input, None), _operand(other, None))


def _method(name: str) -> Any:
    def function(input: Tensor, *args: Any, **kwargs: Any) -> Any:
        return getattr(input, name)(*args, **kwargs)

    function.__name__ = name
    function.__doc__ = f"``cnnlab.{name}(x, ...)`` is ``x.{name}(...)``."
    return function


exp = _method("exp")
log = _method("log")
sqrt = _method("sqrt")
abs = _method("abs")
tanh = _method("tanh")
sigmoid = _method("sigmoid")
clamp = _method("clamp")
sum = _method("sum")
mean = _method("mean")
var = _method("var")
std = _method("std")
max = _method("max")
min = _method("min")
argmax = _method("argmax")
argmin = _method("argmin")
reshape = _method("reshape")
flatten = _method("flatten")
permute = _method("permute")
transpose = _method("transpose")
squeeze = _method("squeeze")
unsqueeze = _method("unsqueeze")
