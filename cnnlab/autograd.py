"""Reverse-mode automatic differentiation.

An operation is a :class:`Function` with a ``forward`` and a ``backward`` on NumPy arrays, side by side.
``Function.apply`` runs the forward and, when gradients are wanted, records the function as the creator
of its output. ``backward`` walks that graph once, iteratively, in reverse topological order, so a network
of any depth never meets Python's recursion limit.

The engine does the bookkeeping so that ops stay short: it skips inputs that need no gradient, reduces a
gradient back to the shape of a broadcast input, casts it to the input's dtype and accumulates gradients
that reach one tensor along several paths.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import parallel

__all__ = [
    "Function",
    "GradcheckError",
    "backward",
    "enable_grad",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
    "unbroadcast",
]

_grad_enabled = True


def is_grad_enabled() -> bool:
    """True while operations record the graph (outside :class:`no_grad`)."""
    return _grad_enabled


class set_grad_enabled:
    """Context manager (and decorator) that turns graph recording on or off.

    >>> import cnnlab
    >>> x = cnnlab.ones(2, requires_grad=True)
    >>> with cnnlab.set_grad_enabled(False):
    ...     (x * 2).requires_grad
    False
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.previous = _grad_enabled

    def __enter__(self) -> None:
        global _grad_enabled
        self.previous = _grad_enabled
        _grad_enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled
        _grad_enabled = self.previous

    def __call__(self, func: Callable) -> Callable:
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return func(*args, **kwargs)

        return wrapper


class no_grad(set_grad_enabled):
    """Context manager (and decorator) in which operations record no graph.

    >>> import cnnlab
    >>> x = cnnlab.ones(2, requires_grad=True)
    >>> with cnnlab.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Context manager (and decorator) that records the graph even inside :class:`no_grad`."""

    def __init__(self) -> None:
        super().__init__(True)


_NO_GRADS = [(False,) * n for n in range(8)]


class Function:
    """One differentiable operation: ``forward`` and ``backward`` on NumPy arrays.

    ``forward(*inputs, **params)`` receives the positional inputs as arrays (tensors are unwrapped,
    anything else is passed as it is) and the keyword parameters unchanged; it returns one array and
    saves on ``self`` what ``backward`` will need. ``backward(grad)`` receives the gradient of the
    output and returns one gradient per positional input (a single array when there is one input), or
    ``None`` for inputs that take none. ``self.needs_input_grad`` says, before ``forward`` runs, which
    inputs want a gradient, so that an op can skip saving what nobody will use.
    """

    needs_input_grad: tuple[bool, ...] = ()
    inputs: tuple = ()
    released = False

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Tensor:
        fn = cls()
        # list comprehensions, not generators: this runs once per operation
        arrays = [x.data if isinstance(x, Tensor) else x for x in inputs]
        if _grad_enabled:
            needs = tuple([isinstance(x, Tensor) and x._requires_grad for x in inputs])
            record = True in needs
        else:
            record = False
        fn.needs_input_grad = (
            needs if record else _NO_GRADS[len(inputs)] if len(inputs) < 8 else (False,) * len(inputs)
        )
        out = fn.forward(*arrays, **params)
        if record:
            fn.inputs = inputs
            return Tensor._make(out, fn)
        return Tensor._make(out, None)

    def forward(self, *inputs: Any, **params: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def release(self) -> None:
        """Drop what forward saved, once backward has used it (unless the graph is retained)."""
        self.__dict__.clear()
        self.released = True

    @property
    def name(self) -> str:
        return type(self).__name__.lstrip("_") + "Backward"

    def __repr__(self) -> str:
        return f"<{self.name}>"


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes along which an input of ``shape`` was broadcast.

    >>> unbroadcast(np.ones((2, 3, 4)), (3, 1)).tolist()
    [[8.0], [8.0], [8.0]]
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra < 0:
        raise ValueError(
            f"unbroadcast: a gradient of shape {grad.shape} can't come from an input of shape {shape}"
        )
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if grad.shape != shape:
        raise ValueError(
            f"unbroadcast: a gradient of shape {grad.shape} can't come from an input of shape {shape}"
        )
    return grad


def masked(grad: np.ndarray, keep: np.ndarray, finite: bool | None = None) -> np.ndarray:
    """``grad`` where ``keep`` (a boolean array of the same shape), else 0: the gradient of ReLU, of
    max pooling, of every op that lets some elements through and stops the others.

    A multiplication by the mask is several times faster than ``np.where``; where ``grad`` holds Inf
    or NaN (Inf·0 would make NaN where PyTorch gives 0), the stopped elements are zeroed explicitly.
    ``finite`` says whether ``grad`` is known to be all finite (a caller masking it many times).
    """
    out = np.empty(grad.shape, dtype=grad.dtype)

    def part(o: np.ndarray, g: np.ndarray, k: np.ndarray) -> None:
        with np.errstate(invalid="ignore"):  # Inf·0: mended just below
            np.multiply(g, k, out=o, dtype=grad.dtype)
        if finite is False or (finite is None and not np.isfinite(o).all()):
            np.copyto(o, 0, where=~k)

    parallel.split_rows(part, out, grad, keep)
    return out


def _topological_order(root: Tensor) -> list[Tensor]:
    """Tensors reachable from ``root`` that need a gradient, each after every tensor it was made from."""
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        t, done = stack.pop()
        if done:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        fn = t._ctx
        if fn is not None:
            for x, need in zip(fn.inputs, fn.needs_input_grad):
                if need and id(x) not in seen:
                    stack.append((x, False))
    return order


def backward(root: Tensor, grad: np.ndarray, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) · grad into ``.grad`` of every leaf that requires a gradient."""
    global _grad_enabled
    grads: dict[int, np.ndarray] = {id(root): grad}
    order = _topological_order(root)
    previous, _grad_enabled = _grad_enabled, False  # backward functions record nothing
    try:
        for t in reversed(order):
            g = grads.pop(id(t), None)
            if g is None:
                continue
            fn = t._ctx
            if fn is None or t._retains_grad:
                t._accumulate_grad(g)
            if fn is None:
                continue
            if fn.released:
                raise RuntimeError(
                    "backward: trying to backward through the graph a second time; its saved arrays were "
                    "freed by the first call. Pass retain_graph=True to the first backward() to keep them."
                )
            in_grads = fn.backward(g)
            if type(in_grads) is not tuple:
                in_grads = tuple(in_grads) if type(in_grads) is list else (in_grads,)
            if len(in_grads) != len(fn.inputs):
                raise RuntimeError(
                    f"{fn.name}: backward returned {len(in_grads)} gradients for {len(fn.inputs)} inputs"
                )
            for x, need, gx in zip(fn.inputs, fn.needs_input_grad, in_grads):
                if not need or gx is None:
                    continue
                if type(gx) is not np.ndarray:
                    gx = np.asarray(gx)
                if gx.shape != x.data.shape:
                    gx = _fit(gx, x.data.shape, fn)
                if gx.dtype != x.data.dtype:
                    gx = gx.astype(x.data.dtype)
                key = id(x)
                grads[key] = grads[key] + gx if key in grads else gx
            if not retain_graph:
                fn.release()
    finally:
        _grad_enabled = previous


def _fit(grad: np.ndarray, shape: tuple[int, ...], fn: Function) -> np.ndarray:
    """Reduce a broadcast gradient to its input's shape, or say which backward got the shape wrong."""
    try:
        return unbroadcast(grad, shape)
    except ValueError:
        raise RuntimeError(
            f"{fn.name}: backward returned a gradient of shape {grad.shape} for an input of shape {shape}"
        ) from None


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when analytic and numerical gradients disagree."""


def gradcheck(
    func: Callable[..., Tensor],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check the gradients of ``func`` against central finite differences, in float64.

    Every input tensor with ``requires_grad`` is perturbed element by element. The scalar compared is
    ``sum(func(*inputs) * r)`` for a fixed random ``r``, so the whole Jacobian takes part. Returns True,
    or raises :class:`GradcheckError` naming the input and the worst element.

    >>> import cnnlab
    >>> x = cnnlab.randn(3, 4, dtype=cnnlab.float64, requires_grad=True)
    >>> gradcheck(lambda t: (t * t).tanh(), [x])
    True
    """
    checked = [(i, x) for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: expected at least one input tensor with requires_grad=True, got none")
    for i, x in checked:
        if x.dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} must be float64 for finite differences, got {x.dtype}")
    tensors = [x for _, x in checked]

    out = func(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: func must return a Tensor, got {type(out).__name__}")
    weights = np.random.default_rng(seed).standard_normal(out.shape)

    def objective() -> float:
        with no_grad():
            return float((np.asarray(func(*inputs).data, dtype=np.float64) * weights).sum())

    for x in tensors:
        x.grad = None
    (out * Tensor(weights)).sum().backward()
    for index, x in checked:
        analytic = np.zeros(x.shape) if x.grad is None else x.grad.data
        numeric = np.zeros(x.shape)
        x.data = np.ascontiguousarray(x.data)
        flat = x.data.reshape(-1)  # a view: perturbing it perturbs x
        for k in range(flat.size):
            original = flat[k]
            flat[k] = original + eps
            plus = objective()
            flat[k] = original - eps
            minus = objective()
            flat[k] = original
            numeric.reshape(-1)[k] = (plus - minus) / (2 * eps)
        if not np.allclose(analytic, numeric, atol=atol, rtol=rtol):
            worst = np.unravel_index(np.argmax(np.abs(analytic - numeric)), x.shape)
            raise GradcheckError(
                f"gradcheck: gradient of input {index} (shape {x.shape}) disagrees with finite differences; "
                f"worst at {tuple(int(i) for i in worst)}: analytic {analytic[worst]:.10g}, "
                f"numerical {numeric[worst]:.10g}"
            )
    return True


from .tensor import Tensor
