"""Module: the base class of every layer and model.

A Module registers what is assigned to it: a :class:`~cnnlab.nn.Parameter` becomes a learnable parameter,
a Module becomes a child, and tensors registered with :meth:`Module.register_buffer` become buffers
(running statistics and the like). From that registry come ``parameters()``, ``state_dict()``,
``train()``/``eval()``, ``to(dtype)`` and a ``repr`` that prints the same text as PyTorch's.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict, namedtuple
from typing import Any, Callable, Iterator

import numpy as np

from ...autograd import no_grad
from ...tensor import Tensor
from ..parameter import Parameter

__all__ = ["Module", "RemovableHandle"]

_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class RemovableHandle:
    """Handle returned by ``register_forward_hook``; ``handle.remove()`` unregisters the hook."""

    _next_id = itertools.count()

    def __init__(self, hooks: OrderedDict) -> None:
        self.hooks = hooks
        self.id = next(RemovableHandle._next_id)

    def remove(self) -> None:
        self.hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def _addindent(text: str, spaces: int) -> str:
    """Indent every line but the first (PyTorch's layout for nested reprs)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def _check_name(kind: str, name: Any, owner: Module) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain ".", got {name!r}')
    if hasattr(owner, name) and not owner._is_registered(name):
        raise KeyError(f"attribute '{name}' already exists")


class _Registry(OrderedDict):
    """A module's parameters, buffers or child modules, by name, each also kept as an entry of the
    module's own ``__dict__`` (``attributes``): ``module.weight`` is then found by Python's plain
    attribute lookup, without a call to ``Module.__getattr__``. That call took 0.6 µs, and LeNet-5's
    forward pass reads twelve such attributes: 7% of its time on a single image.

    Every way of changing the registry goes through the methods below and changes ``attributes`` the
    same way, so the two cannot disagree, whether the change comes from :class:`Module`, from a
    container renumbering its children, or from code that writes to ``module._modules`` directly.
    """

    _absent = object()  # pop's default: none given

    def __init__(self, attributes: dict | None = None, entries: Any = ()) -> None:
        super().__init__()
        self.attributes = {} if attributes is None else attributes
        self.update(entries)

    def __setitem__(self, name: str, value: Any) -> None:
        super().__setitem__(name, value)
        self.attributes[name] = value

    def __delitem__(self, name: str) -> None:
        super().__delitem__(name)
        self.attributes.pop(name, None)

    def pop(self, name: str, default: Any = _absent) -> Any:
        if name not in self:
            if default is _Registry._absent:
                raise KeyError(name)
            return default
        value = self[name]
        del self[name]
        return value

    def popitem(self, last: bool = True) -> tuple[str, Any]:
        name, value = super().popitem(last)
        self.attributes.pop(name, None)
        return name, value

    def clear(self) -> None:
        for name in self:
            self.attributes.pop(name, None)
        super().clear()

    def setdefault(self, name: str, default: Any = None) -> Any:
        if name not in self:
            self[name] = default
        return self[name]

    def update(self, *others: Any, **entries: Any) -> None:
        for other in others:
            for name, value in (other.items() if hasattr(other, "items") else other):
                self[name] = value
        for name, value in entries.items():
            self[name] = value

    def __ior__(self, other: Any) -> _Registry:
        self.update(other)
        return self

    # a copy, or a merge into a new mapping, is a plain OrderedDict: a registry of its own would mirror
    # its changes into this module's attributes
    def copy(self) -> OrderedDict:
        return OrderedDict(self)

    def __or__(self, other: Any) -> OrderedDict:
        merged = OrderedDict(self)
        merged.update(other)
        return merged

    def __ror__(self, other: Any) -> OrderedDict:
        merged = OrderedDict(other)
        merged.update(self)
        return merged


class Module:
    """Base class for all layers and models: subclass it, assign layers in ``__init__``, write ``forward``.

    Shape: whatever the subclass's ``forward`` takes and returns.

    >>> import cnnlab
    >>> from cnnlab import nn
    >>> class TwoLayer(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc1 = nn.Linear(4, 8)
    ...         self.fc2 = nn.Linear(8, 2)
    ...     def forward(self, x):
    ...         return self.fc2(self.fc1(x).relu())
    >>> model = TwoLayer()
    >>> list(model.state_dict())
    ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
    >>> model(cnnlab.ones(3, 4)).shape
    (3, 2)
    """

    training: bool

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:
            raise TypeError(
                f"{type(self).__name__}.__init__() got unexpected arguments {args!r} {kwargs!r}; "
                "Module.__init__ takes none"
            )
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", _Registry(self.__dict__))
        object.__setattr__(self, "_buffers", _Registry(self.__dict__))
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", _Registry(self.__dict__))
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    # ----------------------------------------------------------------------------------------------
    # registration

    def _is_registered(self, name: str) -> bool:
        d = self.__dict__
        return any(name in d.get(k, ()) for k in ("_parameters", "_buffers", "_modules"))

    def _require_init(self) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign to {type(self).__name__} before Module.__init__() call; "
                "call super().__init__() first"
            )

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or a ``None`` placeholder, as ``bias=False`` layers do) under ``name``."""
        self._require_init()
        _check_name("parameter", name, self)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(cnnlab.nn.Parameter or None required)"
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a buffer: state that is saved in ``state_dict`` (when persistent) but is not learned."""
        self._require_init()
        _check_name("buffer", name, self)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' (Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name``; it can then be reached as an attribute."""
        self._require_init()
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module subclass")
        _check_name("module", name, self)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        module = self
        for item in target.split(".") if target else []:
            if item not in module._modules:
                raise AttributeError(f"{module._get_name()} has no attribute `{item}`")
            module = module._modules[item]
        return module

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            self._require_init()
            self._remove_from(name, d, self._buffers, self._modules)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(cnnlab.nn.Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            self._require_init()
            self._remove_from(name, d, self._parameters, self._buffers)
            self._modules[name] = value
        elif d.get("_modules") is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' (Module or None expected)"
                )
            d["_modules"][name] = None
        elif d.get("_buffers") is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' (Tensor or None expected)"
                )
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    @staticmethod
    def _remove_from(name: str, d: dict, *registries: dict) -> None:
        d.pop(name, None)
        for registry in registries:
            registry.pop(name, None)

    def __setstate__(self, state: dict) -> None:
        # copy.copy and copy.deepcopy: registries of the copy's own, kept in the copy's own __dict__
        self.__dict__.update(state)
        for key in ("_parameters", "_buffers", "_modules"):
            if key in state:
                object.__setattr__(self, key, _Registry(self.__dict__, state[key]))

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails: look in the registries
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            registry = d.get(key)
            if registry is not None and name in registry:
                return registry[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for key in ("_parameters", "_buffers", "_modules"):
            registry = self.__dict__.get(key)
            if registry is not None and name in registry:
                del registry[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        attrs = set(object.__dir__(self))
        attrs |= set(self._parameters) | set(self._buffers) | set(self._modules)
        return sorted(a for a in attrs if not a[:1].isdigit())

    # ----------------------------------------------------------------------------------------------
    # iteration over what is registered

    def _named_members(
        self, get: Callable[[Module], Any], prefix: str, recurse: bool, remove_duplicate: bool = True
    ):
        seen: set[int] = set()
        modules = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for module_prefix, module in modules:
            for name, value in get(module).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (module_prefix + "." if module_prefix else "") + name, value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(name, parameter) pairs; a parameter shared by two layers comes once, under its first name."""
        return self._named_members(lambda m: m._parameters, prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        return self._named_members(lambda m: m._buffers, prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """(name, module) pairs for this module and every descendant, depth first; shared ones once."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub_prefix = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub_prefix, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    # ----------------------------------------------------------------------------------------------
    # state

    def state_dict(
        self, destination: OrderedDict | None = None, prefix: str = "", keep_vars: bool = False
    ) -> OrderedDict:
        """Parameters and persistent buffers by dotted name, detached (sharing data with the model)."""
        destination = OrderedDict() if destination is None else destination
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def _load_from_state_dict(
        self, state_dict: dict, prefix: str, missing: list[str], errors: list[str]
    ) -> None:
        """Copy this module's own entries (not its children's) from ``state_dict`` in place."""
        persistent = {k: v for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set}
        for name, target in itertools.chain(self._parameters.items(), persistent.items()):
            if target is None:
                continue
            key = prefix + name
            if key not in state_dict:
                missing.append(key)
                continue
            value = state_dict[key]
            if hasattr(value, "detach") and hasattr(value, "numpy") and not isinstance(value, Tensor):
                value = value.detach().cpu().numpy()  # a tensor of another library (PyTorch)
            array = value.data if isinstance(value, Tensor) else np.asarray(value)
            if array.shape != target.shape:
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {tuple(array.shape)} from checkpoint, "
                    f"the shape in current model is {tuple(target.shape)}."
                )
                continue
            target.data[...] = array  # in place: the dtype of the model is kept

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> Any:
        """Copy parameters and buffers from ``state_dict`` (cnnlab Tensors or NumPy arrays) in place.

        Returns ``(missing_keys, unexpected_keys)``. With ``strict``, either being non-empty raises;
        a size mismatch always raises, with PyTorch's wording.
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}.")
        state_dict = OrderedDict(state_dict)
        missing: list[str] = []
        errors: list[str] = []
        expected: set[str] = set()
        for prefix_name, module in self.named_modules(remove_duplicate=False):
            prefix = prefix_name + "." if prefix_name else ""
            module._load_from_state_dict(state_dict, prefix, missing, errors)
            expected.update(prefix + k for k, v in module._parameters.items() if v is not None)
            expected.update(
                prefix + k
                for k, v in module._buffers.items()
                if v is not None and k not in module._non_persistent_buffers_set
            )
        unexpected = [k for k in state_dict if k not in expected]
        if strict:
            if unexpected:
                errors.insert(
                    0, "Unexpected key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in unexpected))
                )
            if missing:
                errors.insert(
                    0, "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing))
                )
        if errors:
            raise RuntimeError(
                "Error(s) in loading state_dict for {}:\n\t{}".format(self._get_name(), "\n\t".join(errors))
            )
        return _IncompatibleKeys(missing, unexpected)

    # ----------------------------------------------------------------------------------------------
    # modes, gradients, dtype

    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch statistics) on this module and every descendant."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.data[...] = 0

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every descendant, then on this module (as PyTorch does, children first)."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """``to(dtype)`` casts floating parameters and buffers in place; ``to('cpu')`` does nothing."""
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, str) or a is None:
                device = a if a is not None else device
            elif isinstance(a, Tensor):
                dtype = a.dtype
            else:
                dtype = a
        if device is not None and str(device) != "cpu":
            raise ValueError(f"to: cnnlab runs on the CPU only; got device {device!r}")
        if dtype is None:
            return self
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Module.to only accepts floating point dtypes, but got desired dtype={dtype}")
        with no_grad():
            for t in itertools.chain(self.parameters(), self.buffers()):
                if t.dtype.kind == "f" and t.dtype != dtype:
                    t.data = t.data.astype(dtype)
                    if t.grad is not None:
                        t.grad.data = t.grad.data.astype(dtype)
        return self

    def float(self) -> Module:
        return self.to(np.float32)

    def double(self) -> Module:
        return self.to(np.float64)

    def cpu(self) -> Module:
        return self

    # ----------------------------------------------------------------------------------------------
    # calling, hooks

    def register_forward_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(module, args)`` runs before ``forward``; a non-None return replaces the arguments."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    def register_forward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(module, args, output)`` runs after ``forward``; a non-None return replaces the output."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not (self._forward_pre_hooks or self._forward_hooks):  # the usual case, once per layer per step
            return self.forward(*args, **kwargs)
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    # ----------------------------------------------------------------------------------------------
    # printing

    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The hyperparameters shown inside ``Name(...)``; layers override this."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(module), 2) for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"
