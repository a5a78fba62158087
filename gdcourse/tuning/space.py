r"""Search spaces: one dimension per hyperparameter, and the space they make together.

A space is a dict from hyperparameter name to dimension::

    space = {
        "lr": LogUniform(1e-4, 1.0),         # η: every decade equally likely
        "momentum": Uniform(0.0, 0.99),      # β
        "batch_size": Integer(16, 256, log=True),
        "optimizer": Categorical(["sgd", "adam"]),
    }

Every dimension knows three things, one per search method:

* ``sample(rng, n)`` -- ``n`` independent random draws (random search);
* ``levels(k)`` -- ``k`` evenly spaced values, ends included (grid search);
* ``encode(values)`` -- its values as coordinates in :math:`[0, 1]` (one column,
  or one column per choice for a categorical), where a Gaussian process compares
  them (Bayesian optimisation).  Log-scaled dimensions are encoded by
  :math:`u = (\log x - \log a) / (\log b - \log a)`, so that "ten times larger"
  is the same distance anywhere in the range.

:class:`Space` wraps the dict and does the same for whole trials (a dict of values).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Categorical", "Dimension", "Integer", "LogUniform", "Space", "Uniform", "as_space"]


def _check_bounds(kind: str, low: Any, high: Any, *, positive: bool = False) -> tuple[float, float]:
    try:
        low, high = float(low), float(high)
    except (TypeError, ValueError):
        raise TypeError(f"{kind}(low, high) takes two numbers, got {low!r} and {high!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"{kind}(low, high) needs finite low < high, got low={low!r}, high={high!r}")
    if positive and low <= 0:
        raise ValueError(f"{kind}(low, high) is on a log scale and needs low > 0, got low={low!r}")
    return low, high


class Dimension:
    """One hyperparameter's range; see the subclasses."""

    #: number of columns of :meth:`encode`
    width: int = 1

    def sample(self, rng: np.random.Generator, n: int) -> list[Any]:
        """``n`` independent random values drawn with ``rng``.

        Parameters
        ----------
        rng : numpy.random.Generator
            The source of randomness; its state moves on, so a second call draws new values.
        n : int
            How many values (0 gives an empty list).
        """
        raise NotImplementedError

    def levels(self, k: int) -> list[Any]:
        """``k`` evenly spaced values covering the range (ends included; the middle for ``k = 1``)."""
        raise NotImplementedError

    def max_levels(self) -> int | None:
        """How many distinct values the dimension has (``None``: unlimited)."""
        return None

    def encode(self, values: Sequence[Any]) -> np.ndarray:
        """The values as coordinates in :math:`[0, 1]`, shape ``(len(values), width)``."""
        raise NotImplementedError

    def decode(self, u: np.ndarray) -> list[Any]:
        """Inverse of :meth:`encode` (rounding integers, picking the largest column of a categorical)."""
        raise NotImplementedError

    def snap(self, u: np.ndarray) -> np.ndarray:
        """``encode(decode(u))`` for an array ``u`` of shape ``(n, width)``, vectorised: the nearest valid points."""
        return np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)


@dataclass(frozen=True)
class Uniform(Dimension):
    r"""A real number uniformly distributed in ``[low, high]`` (e.g. a momentum :math:`\beta`)."""

    low: float
    high: float

    def __post_init__(self) -> None:
        low, high = _check_bounds("Uniform", self.low, self.high)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    def sample(self, rng: np.random.Generator, n: int) -> list[float]:
        r"""``n`` draws of :math:`\mathcal U[\text{low}, \text{high}]`, as Python floats.

        Parameters
        ----------
        rng : numpy.random.Generator
            One call ``rng.uniform(low, high, size=n)`` makes them all.
        n : int
            Number of draws.
        """
        return [float(v) for v in rng.uniform(self.low, self.high, size=n)]

    def levels(self, k: int) -> list[float]:  # noqa: D102
        return [float(v) for v in self.decode(_unit_levels(k))]

    def encode(self, values: Sequence[Any]) -> np.ndarray:  # noqa: D102
        x = np.asarray(values, dtype=np.float64)
        return ((x - self.low) / (self.high - self.low)).reshape(-1, 1)

    def decode(self, u: np.ndarray) -> list[float]:  # noqa: D102
        u = np.clip(np.asarray(u, dtype=np.float64).reshape(-1), 0.0, 1.0)
        return [float(v) for v in self.low + u * (self.high - self.low)]


@dataclass(frozen=True)
class LogUniform(Dimension):
    r"""A positive real number whose logarithm is uniform in ``[log low, log high]`` (e.g. a learning rate).

    Drawing :math:`x = a\,(b/a)^{U}` with :math:`U \sim \mathcal U(0, 1)` makes every
    decade equally likely: in ``LogUniform(1e-4, 1)`` a quarter of the draws fall in
    :math:`[10^{-4}, 10^{-3}]`, where a uniform draw would put 0.09 % of them.
    """

    low: float
    high: float

    def __post_init__(self) -> None:
        low, high = _check_bounds("LogUniform", self.low, self.high, positive=True)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    def sample(self, rng: np.random.Generator, n: int) -> list[float]:
        r"""``n`` values :math:`a\,(b/a)^{U}`, one uniform :math:`U` each: every decade is as likely.

        Parameters
        ----------
        rng : numpy.random.Generator
            Draws the :math:`U \sim \mathcal U[0, 1]`, all at once, which :meth:`decode` maps to the range.
        n : int
            Number of values.
        """
        return self.decode(rng.uniform(0.0, 1.0, size=n))

    def levels(self, k: int) -> list[float]:  # noqa: D102
        return self.decode(_unit_levels(k))

    def encode(self, values: Sequence[Any]) -> np.ndarray:  # noqa: D102
        x = np.log(np.asarray(values, dtype=np.float64))
        return ((x - math.log(self.low)) / (math.log(self.high) - math.log(self.low))).reshape(-1, 1)

    def decode(self, u: np.ndarray) -> list[float]:  # noqa: D102
        u = np.clip(np.asarray(u, dtype=np.float64).reshape(-1), 0.0, 1.0)
        x = self.low * (self.high / self.low) ** u
        x = np.where(u <= 0.0, self.low, np.where(u >= 1.0, self.high, x))  # the ends exactly, despite rounding
        return [float(min(max(v, self.low), self.high)) for v in x]


@dataclass(frozen=True)
class Integer(Dimension):
    """An integer in ``[low, high]`` (both included), uniform or, with ``log=True``, log-uniform (e.g. a batch size)."""

    low: int
    high: int
    log: bool = False

    def __post_init__(self) -> None:
        for name in ("low", "high"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise TypeError(f"Integer({name}=...) must be an int, got {value!r}")
            object.__setattr__(self, name, int(value))
        _check_bounds("Integer", self.low, self.high, positive=self.log)

    def _scale(self) -> tuple[float, float]:
        # the continuous range [low - ½, high + ½] whose rounding gives each integer an equal share
        # (with log=True an equal share of log space; low >= 1 there, so low - ½ > 0)
        if self.log:
            return math.log(self.low - 0.5), math.log(self.high + 0.5)
        return self.low - 0.5, self.high + 0.5

    def sample(self, rng: np.random.Generator, n: int) -> list[int]:
        """``n`` integers in ``[low, high]``, each as likely, or with ``log=True`` log-uniform (each decade as likely).

        Parameters
        ----------
        rng : numpy.random.Generator
            ``rng.integers(low, high + 1)``, or with ``log=True`` uniform numbers decoded on the log scale.
        n : int
            How many integers.
        """
        if not self.log:
            return [int(v) for v in rng.integers(self.low, self.high + 1, size=n)]
        return self.decode(rng.uniform(0.0, 1.0, size=n))

    def levels(self, k: int) -> list[int]:  # noqa: D102
        k = min(k, self.high - self.low + 1)
        u = _unit_levels(k)
        lo, hi = (math.log(self.low), math.log(self.high)) if self.log else (float(self.low), float(self.high))
        x = lo + u * (hi - lo)
        values = np.exp(x) if self.log else x
        return sorted({int(round(v)) for v in values})

    def max_levels(self) -> int:  # noqa: D102
        return self.high - self.low + 1

    def encode(self, values: Sequence[Any]) -> np.ndarray:  # noqa: D102
        x = np.asarray(values, dtype=np.float64)
        lo, hi = self._scale()
        x = np.log(x) if self.log else x
        return ((x - lo) / (hi - lo)).reshape(-1, 1)

    def decode(self, u: np.ndarray) -> list[int]:  # noqa: D102
        u = np.clip(np.asarray(u, dtype=np.float64).reshape(-1), 0.0, 1.0)
        lo, hi = self._scale()
        x = lo + u * (hi - lo)
        values = np.exp(x) if self.log else x
        return [int(min(max(round(v), self.low), self.high)) for v in values]

    def snap(self, u: np.ndarray) -> np.ndarray:  # noqa: D102
        lo, hi = self._scale()
        x = lo + np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0) * (hi - lo)
        k = np.clip(np.round(np.exp(x) if self.log else x), self.low, self.high)
        return ((np.log(k) if self.log else k) - lo) / (hi - lo)


@dataclass(frozen=True)
class Categorical(Dimension):
    """One of a few unordered choices (e.g. the optimizer's name); encoded one-hot for the GP."""

    choices: tuple

    def __post_init__(self) -> None:
        choices = tuple(self.choices)
        if not choices:
            raise ValueError("Categorical(choices) needs at least one choice")
        if len(set(map(repr, choices))) != len(choices):
            raise ValueError(f"Categorical(choices) has repeated choices: {choices!r}")
        object.__setattr__(self, "choices", choices)

    @property
    def width(self) -> int:  # type: ignore[override]  # noqa: D102
        return len(self.choices)

    def sample(self, rng: np.random.Generator, n: int) -> list[Any]:
        """``n`` choices, each picked with probability ``1 / len(choices)``, independently.

        Parameters
        ----------
        rng : numpy.random.Generator
            Picks the indices into ``choices``.
        n : int
            The number of picks.
        """
        return [self.choices[int(i)] for i in rng.integers(0, len(self.choices), size=n)]

    def levels(self, k: int) -> list[Any]:  # noqa: D102
        k = min(k, len(self.choices))
        index = np.round(np.linspace(0, len(self.choices) - 1, k)).astype(int) if k > 1 else [0]
        return [self.choices[i] for i in sorted(set(int(i) for i in index))]

    def max_levels(self) -> int:  # noqa: D102
        return len(self.choices)

    def _index(self, value: Any) -> int:
        for i, choice in enumerate(self.choices):
            if choice == value and type(choice) is type(value):
                return i
        for i, choice in enumerate(self.choices):
            if choice == value:
                return i
        raise ValueError(f"{value!r} is not one of the choices {self.choices!r}")

    def encode(self, values: Sequence[Any]) -> np.ndarray:  # noqa: D102
        out = np.zeros((len(values), len(self.choices)))
        for row, value in enumerate(values):
            out[row, self._index(value)] = 1.0
        return out

    def decode(self, u: np.ndarray) -> list[Any]:  # noqa: D102
        u = np.asarray(u, dtype=np.float64).reshape(-1, len(self.choices))
        return [self.choices[int(i)] for i in np.argmax(u, axis=1)]

    def snap(self, u: np.ndarray) -> np.ndarray:  # noqa: D102
        u = np.asarray(u, dtype=np.float64).reshape(-1, len(self.choices))
        return np.eye(len(self.choices))[np.argmax(u, axis=1)]


def _unit_levels(k: int) -> np.ndarray:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"the number of levels must be a positive integer, got {k!r}")
    return np.array([0.5]) if k == 1 else np.linspace(0.0, 1.0, int(k))


class Space(Mapping):
    """Named dimensions: the space a search explores.

    Parameters
    ----------
    dimensions : mapping of str to Dimension
        Hyperparameter name -> its range.  The order is kept: it is the order of the
        columns of :meth:`encode` and of the axes of :meth:`grid`.
    """

    def __init__(self, dimensions: Mapping[str, Dimension]) -> None:
        if isinstance(dimensions, Space):
            dimensions = dict(dimensions.items())
        if not isinstance(dimensions, Mapping) or not dimensions:
            raise ValueError("a search space is a non-empty dict {name: dimension}, e.g. {'lr': LogUniform(1e-4, 1)}")
        for name, dim in dimensions.items():
            if not isinstance(name, str) or not name.isidentifier():
                raise ValueError(f"hyperparameter names must be Python identifiers, got {name!r}")
            if not isinstance(dim, Dimension):
                raise TypeError(f"space[{name!r}] must be a Uniform, LogUniform, Integer or Categorical, got {dim!r}")
        self._dims = dict(dimensions)

    def __getitem__(self, name: str) -> Dimension:
        return self._dims[name]

    def __iter__(self):
        return iter(self._dims)

    def __len__(self) -> int:
        return len(self._dims)

    def __repr__(self) -> str:
        return "Space({" + ", ".join(f"{k!r}: {v!r}" for k, v in self._dims.items()) + "})"

    @property
    def width(self) -> int:
        """Number of columns of :meth:`encode` (one per dimension, one per choice of a categorical)."""
        return sum(dim.width for dim in self._dims.values())

    def sample(self, rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
        """``n`` random trials, each dimension drawn independently.

        The draws are made trial by trial (every dimension of trial 0, then of trial 1...),
        so the first ``m`` trials of ``sample(rng, n)`` are ``sample(rng, m)`` for a
        generator in the same state: a longer search extends a shorter one.

        Parameters
        ----------
        rng : numpy.random.Generator
            Shared by the dimensions, in the order of the space.
        n : int
            Number of trials.

        Returns
        -------
        list of dict
            ``n`` trials ``{name: value}``.
        """
        return [{name: dim.sample(rng, 1)[0] for name, dim in self._dims.items()} for _ in range(n)]

    def grid_shape(self, budget: int) -> dict[str, int]:
        """Levels per dimension of the largest balanced grid with at most ``budget`` points.

        Starting from one level each, one more level goes, again and again, to the
        dimension with the fewest levels (the first of them on a tie) among those that
        can grow without the product of the levels exceeding ``budget`` and that have
        values left (a categorical has ``len(choices)``); it stops when none can grow.
        """
        shape = {name: 1 for name in self._dims}
        while True:
            open_ = [n for n, d in self._dims.items() if (levels := d.max_levels()) is None or shape[n] < levels]
            grown = False
            for name in sorted(open_, key=lambda n: shape[n]):  # stable: ties keep the space's order
                total = math.prod(v + (name == n) for n, v in shape.items())
                if total <= budget:
                    shape[name] += 1
                    grown = True
                    break
            if not grown:
                return shape

    def grid(self, budget: int) -> list[dict[str, Any]]:
        """Every point of the :meth:`grid_shape` grid, the last dimension varying fastest."""
        shape = self.grid_shape(budget)
        axes = [self._dims[name].levels(k) for name, k in shape.items()]
        mesh = np.stack(np.meshgrid(*[np.arange(len(a)) for a in axes], indexing="ij"), -1).reshape(-1, len(axes))
        return [{name: axes[j][int(row[j])] for j, name in enumerate(shape)} for row in mesh]

    def encode(self, trials: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Trials as points of the unit cube, shape ``(len(trials), width)``."""
        if not trials:
            return np.zeros((0, self.width))
        return np.hstack([dim.encode([t[name] for t in trials]) for name, dim in self._dims.items()])

    def snap(self, u: np.ndarray) -> np.ndarray:
        """The valid points nearest to the rows of ``u`` (``encode(decode(u))``, vectorised)."""
        u = np.atleast_2d(np.asarray(u, dtype=np.float64))
        out, start = np.empty_like(u), 0
        for dim in self._dims.values():
            out[:, start : start + dim.width] = dim.snap(u[:, start : start + dim.width]).reshape(len(u), -1)
            start += dim.width
        return out

    def decode(self, u: np.ndarray) -> list[dict[str, Any]]:
        """Points of the unit cube (rows) back to trials; inverse of :meth:`encode`."""
        u = np.atleast_2d(np.asarray(u, dtype=np.float64))
        columns, start = {}, 0
        for name, dim in self._dims.items():
            columns[name] = dim.decode(u[:, start : start + dim.width])
            start += dim.width
        return [{name: columns[name][i] for name in self._dims} for i in range(u.shape[0])]


def as_space(space: Mapping[str, Dimension] | Space) -> Space:
    """``space`` as a :class:`Space` (a dict of dimensions is wrapped; a Space is returned as is)."""
    return space if isinstance(space, Space) else Space(space)
