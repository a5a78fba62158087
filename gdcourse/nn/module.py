"""The :class:`Module` base class (parameters as a list of arrays) and :class:`Sequential`."""

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
    """Base class of layers and models: holds parameters and sub-modules, in assignment order.

    A subclass calls ``super().__init__()``, assigns its parameters as tensors with
    ``requires_grad=True`` and its sub-modules as attributes, and defines ``forward``.
    """

    # Set in __init__ with object.__setattr__ (this class's __setattr__ needs them).
    _params: dict[str, Tensor]
    _modules: dict[str, Module]
    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_params", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if "_params" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() before assigning {name}")
        if isinstance(value, Tensor) and value.requires_grad:
            self._params[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

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

    def state_dict(self) -> dict[str, Array]:
        """``{name: array}`` of every parameter (for checkpoints; arrays are not copied)."""
        return dict(self.named_parameters())

    def load_state_dict(self, state: dict[str, Array]) -> None:
        """Load parameters by name from :meth:`state_dict` (every name must be present)."""
        names = [name for name, _ in self.named_tensors()]
        missing, extra = set(names) - set(state), set(state) - set(names)
        if missing or extra:
            raise KeyError(f"state does not match the model: missing {sorted(missing)}, unexpected {sorted(extra)}")
        self.set_parameters([state[name] for name in names])

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
