"""The :class:`Module` base class (parameters as a list of arrays, buffers) and :class:`Sequential`."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from array_api_compat import is_array_api_obj

from gdcourse.autodiff.array import Tensor
from gdcourse.backend import array_namespace

__all__ = ["Module", "Sequential"]

Array = Any
Seed = int | np.random.Generator | None


class Module:
    """Base class of layers and models: holds parameters, buffers and sub-modules, in assignment order.

    A subclass calls ``super().__init__()``, assigns its parameters as tensors with
    ``requires_grad=True`` and its sub-modules as attributes, declares its buffers with
    :meth:`register_buffer`, and defines ``forward``.

    **Buffers** are a layer's state that is not learned: arrays without gradient that the forward
    pass may update, such as :class:`~gdcourse.nn.BatchNorm1d`'s running statistics (PyTorch's
    buffers).  Once registered, a buffer is an ordinary attribute: reading it gives the array, and
    assigning a new array to it (``self.running_mean = ...``) replaces the buffer.  Buffers are not
    parameters: :meth:`parameters`, :meth:`grads`, :meth:`set_parameters` and :meth:`num_parameters`
    leave them out, so no optimizer touches them; :meth:`named_buffers`, :meth:`buffers`,
    :meth:`state_dict`, :meth:`load_state_dict` and the checkpoints of :mod:`gdcourse.train` include
    them.  Every buffer is saved (torch's ``persistent=False`` is not offered).
    """

    # Set in __init__ with object.__setattr__ (this class's __setattr__ needs them).
    _params: dict[str, Tensor]
    _buffers: dict[str, Array]
    _modules: dict[str, Module]
    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_params", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if "_params" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() before assigning {name}")
        if isinstance(value, Tensor) and value.requires_grad:
            self._buffers.pop(name, None)  # a parameter now, as in torch
            self._params[name] = value
        elif isinstance(value, Module):
            self._buffers.pop(name, None)
            self._modules[name] = value
        elif name in self._buffers:  # a registered buffer: the new array replaces it
            self._buffers[name] = _buffer_array(name, value)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._buffers.pop(name, None)  # a deleted buffer is no longer saved
        object.__delattr__(self, name)

    def forward(self, *args: Any) -> Any:
        """The layer's computation; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} defines no forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run :meth:`forward`."""
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ parameters

    def named_tensors(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """``(name, tensor)`` for every parameter, own ones first, then each sub-module's (``"0.weight"``...)."""
        for name, t in self._params.items():
            yield prefix + name, t
        for name, m in self._modules.items():
            yield from m.named_tensors(f"{prefix}{name}.")

    def named_parameters(self) -> list[tuple[str, Array]]:
        """``(name, array)`` pairs in the order of :meth:`parameters`; names as in PyTorch's ``state_dict``."""
        return [(name, t.data) for name, t in self.named_tensors()]

    def parameters(self) -> list[Array]:
        """The parameter arrays, in a fixed order (the ``params`` of an optimizer)."""
        return [t.data for _, t in self.named_tensors()]

    def grads(self) -> list[Array]:
        """Gradients after ``loss.backward()``, in the order of :meth:`parameters` (zeros where none flowed)."""
        return [t.grad if t.grad is not None else t.xp.zeros_like(t.data) for _, t in self.named_tensors()]

    def set_parameters(self, params: Sequence[Array]) -> None:
        """Load new parameter arrays, in the order of :meth:`parameters` (e.g. from ``opt.step``).

        The arrays are used as they are (not copied, not modified); their shapes are checked.
        """
        tensors = list(self.named_tensors())
        if isinstance(params, Tensor) or is_array_api_obj(params) or len(params) != len(tensors):
            n = 1 if is_array_api_obj(params) else len(params)
            raise ValueError(f"set_parameters needs a list of {len(tensors)} arrays (as parameters()), got {n}")
        for (name, t), p in zip(tensors, params, strict=True):
            p = p.data if isinstance(p, Tensor) else p
            if not is_array_api_obj(p) or tuple(p.shape) != t.shape:
                got = tuple(p.shape) if is_array_api_obj(p) else type(p).__name__
                raise ValueError(f"parameter {name!r} has shape {t.shape}, got {got}")
        for (_, t), p in zip(tensors, params, strict=True):
            p = p.data if isinstance(p, Tensor) else p
            if type(p) is not type(t.data):  # another array library: look its namespace up
                t.xp = array_namespace(p)
            t.data = p

    # ------------------------------------------------------------------ buffers

    def register_buffer(self, name: str, array: Array) -> None:
        """Declare ``array`` as the buffer ``name`` of this module, reachable as the attribute ``name``.

        Afterwards ``self.<name> = new_array`` replaces the buffer (it must be an array too).

        Parameters
        ----------
        name : str
            The attribute's name: not empty, without ``"."``, not already an attribute (other than
            a buffer of that name, which is replaced).
        array : array
            A plain array of any supported library (not a :class:`~gdcourse.autodiff.Tensor`:
            buffers have no gradient); kept as it is, not copied.

        Raises
        ------
        TypeError
            If ``name`` is not text or ``array`` is not an array.
        KeyError
            If ``name`` is empty, contains ``"."`` or is already an attribute of another kind.
        """
        if "_params" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() before register_buffer")
        if not isinstance(name, str):
            raise TypeError(f"a buffer's name must be text, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"a buffer's name must be non-empty and without '.', got {name!r}")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute {name!r} already exists; a buffer needs a name of its own")
        self._buffers[name] = _buffer_array(name, array)
        object.__setattr__(self, name, array)

    def _walk_buffers(self, prefix: str) -> Iterator[tuple[str, Array]]:
        for name, b in self._buffers.items():
            yield prefix + name, b
        for name, m in self._modules.items():
            yield from m._walk_buffers(f"{prefix}{name}.")

    def named_buffers(self) -> list[tuple[str, Array]]:
        """``(name, array)`` for every buffer, own ones first (registration order), then each sub-module's.

        Names are dotted like the parameters' (``"1.running_mean"``), as in PyTorch's ``state_dict``.
        """
        return list(self._walk_buffers(""))

    def buffers(self) -> list[Array]:
        """The buffer arrays, in the order of :meth:`named_buffers` (not copied)."""
        return [b for _, b in self._walk_buffers("")]

    def _walk_state(self, prefix: str) -> Iterator[tuple[str, Array]]:
        """Each module's parameters, then its buffers, then its sub-modules': PyTorch's ``state_dict`` order."""
        for name, t in self._params.items():
            yield prefix + name, t.data
        for name, b in self._buffers.items():
            yield prefix + name, b
        for name, m in self._modules.items():
            yield from m._walk_state(f"{prefix}{name}.")

    def state_dict(self) -> dict[str, Array]:
        """``{name: array}`` of every parameter and buffer (for checkpoints; arrays are not copied).

        In PyTorch's order: module by module, its parameters then its buffers, then its sub-modules'
        (``"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "3.weight"...``).
        """
        return dict(self._walk_state(""))

    def load_state_dict(self, state: dict[str, Array]) -> None:
        """Load parameters and buffers by name from :meth:`state_dict` (every name must be present, no other).

        Every shape is checked before anything changes; the arrays are used as they are (not copied,
        dtype and device as given), as by :meth:`set_parameters`.
        """
        names = [name for name, _ in self._walk_state("")]
        missing, extra = set(names) - set(state), set(state) - set(names)
        if missing or extra:
            raise KeyError(f"state does not match the model: missing {sorted(missing)}, unexpected {sorted(extra)}")
        buffers = []
        for name, current in self._walk_buffers(""):
            new = state[name].data if isinstance(state[name], Tensor) else state[name]
            if not is_array_api_obj(new) or tuple(new.shape) != tuple(current.shape):
                got = tuple(new.shape) if is_array_api_obj(new) else type(new).__name__
                raise ValueError(f"buffer {name!r} has shape {tuple(current.shape)}, got {got}")
            buffers.append((name, new))
        self.set_parameters([state[name] for name, _ in self.named_tensors()])  # checks, then sets
        for name, new in buffers:
            *path, leaf = name.split(".")
            owner: Module = self
            for part in path:
                owner = owner._modules[part]
            setattr(owner, leaf, new)

    def zero_grad(self) -> None:
        """Forget the gradients (``grad = None``) before the next ``backward()``."""
        for _, t in self.named_tensors():
            t.grad = None

    def num_parameters(self) -> int:
        """Total number of scalar parameters."""
        return sum(math.prod(t.shape) for _, t in self.named_tensors())

    # ------------------------------------------------------------------ modes

    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active) for this module and all sub-modules; returns ``self``."""
        object.__setattr__(self, "training", bool(mode))
        for m in self._modules.values():
            m.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode (dropout off); returns ``self``."""
        return self.train(False)

    def __repr__(self) -> str:
        if not self._modules:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"  ({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"

    def extra_repr(self) -> str:
        """Arguments shown by ``repr``."""
        return ""


def _buffer_array(name: str, value: Any) -> Array:
    """``value``, checked to be a plain array that can be the buffer ``name``."""
    if isinstance(value, Tensor):
        raise TypeError(f"buffer {name!r} must be a plain array, got a Tensor (a buffer has no gradient: use .data)")
    if not is_array_api_obj(value):
        raise TypeError(f"buffer {name!r} must be an array, got {type(value).__name__}")
    return value


def _param(data: Array) -> Tensor:
    return Tensor(data, requires_grad=True)


def _check_input(x: Tensor, ndim: int, what: str, dtype: Any, layer: str) -> None:
    if x.ndim != ndim:
        raise ValueError(f"{layer} expects input of shape {what}, got shape {x.shape}")
    if x.dtype != dtype:
        raise TypeError(f"{layer} has {dtype} parameters but the input has dtype {x.dtype}; cast one of them")


class Sequential(Module):
    """Modules applied one after the other; parameters named ``"0.weight"``, ``"0.bias"``, ``"2.weight"``..."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential takes Modules, argument {i} is {type(m).__name__}")
            setattr(self, str(i), m)

    def forward(self, x: Any) -> Any:
        """Apply each module in turn."""
        for m in self._modules.values():
            x = m(x)
        return x

    def __getitem__(self, i: int) -> Module:
        return list(self._modules.values())[i]

    if TYPE_CHECKING:  # iteration goes through __getitem__ (the sequence protocol), which mypy does not follow

        def __iter__(self) -> Iterator[Module]: ...

    def __len__(self) -> int:
        return len(self._modules)
