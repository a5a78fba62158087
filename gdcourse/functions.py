"""Test objectives for gradient descent: value, gradient, Hessian and known minima.

Every objective follows the data it is given: ``value``, ``grad`` and ``hessian``
take ``theta`` from any array-API library (NumPy, CuPy, PyTorch,
``array_api_strict``) and return arrays of the same library, device and dtype.
Constants (the matrix of a quadratic, a centre) are moved to the input's
namespace and device on every call.  Known points (minima, saddle points, the
starting point) are host NumPy arrays, read-only so that an in-place update in a
notebook cannot corrupt them.

``value`` is vectorised over trailing axes: ``theta`` of shape ``(dim, *grid)``
gives values of shape ``grid``, which is how contour plots evaluate a whole grid
at once.  ``grad`` and ``hessian`` are vectorised the same way (shapes
``(dim, *grid)`` and ``(dim, dim, *grid)``).

NaN and infinity in ``theta`` propagate silently (floating-point warnings are
suppressed): detecting divergence is the job of the descent loop, which stops
with a message instead of a stream of overflow warnings.

Examples
--------
>>> import numpy as np
>>> from gdcourse import functions
>>> f = functions.get("rosenbrock")
>>> float(f(np.array([1.0, 1.0])))
0.0
>>> f.grad(np.array([0.0, 0.0])).tolist()
[-2.0, 0.0]
>>> functions.available()
('quadratic', 'rosenbrock', 'beale', 'himmelblau', 'saddle', 'monkey_saddle', 'double_well')
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
from array_api_compat import device, is_array_api_obj

from gdcourse.backend import array_namespace, to_numpy

__all__ = [
    "Beale",
    "DoubleWell",
    "Himmelblau",
    "LinearMSE",
    "MonkeySaddle",
    "Objective",
    "Quadratic",
    "Rosenbrock",
    "Saddle",
    "available",
    "get",
]

Array = Any


# ----------------------------------------------------------------------------- helpers


def _host(x: Any, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """A read-only float64 host copy of ``x`` (constructor data), checked finite."""
    try:
        arr = np.array(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be an array of real numbers; got {x!r}") from err
    if shape is not None and arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}; got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got {x!r}")
    arr.flags.writeable = False
    return arr


def _real(x: Any, name: str, expected: str, ok: Callable[[float], bool] = lambda v: True) -> float:
    """``x`` as a finite Python float satisfying ``ok``, else a ValueError naming ``name``."""
    if isinstance(x, bool) or not isinstance(x, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be {expected}; got {x!r}")
    value = float(x)
    if not math.isfinite(value) or not ok(value):
        raise ValueError(f"{name} must be {expected}; got {x!r}")
    return value


def _host_vector(values: Any, name: str) -> np.ndarray:
    """One feature (shape ``(n,)`` or ``(n, 1)``, any backend) as a read-only float64 host vector, checked finite."""
    try:
        arr = np.array(to_numpy(values), dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be an array of real numbers, got {type(values).__name__}") from err
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one feature, shape (n,) or (n, 1), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity")
    arr.flags.writeable = False
    return arr


def _quiet(method: Callable[..., Array]) -> Callable[..., Array]:
    """Let NaN/inf propagate without NumPy's floating-point warnings (the loop detects divergence)."""

    @functools.wraps(method)
    def wrapper(self: Objective, theta: Any) -> Array:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            return method(self, theta)

    return wrapper


def _matrix(xp: Any, rows: Sequence[Sequence[Array]]) -> Array:
    """Stack a nested list of equally shaped arrays into shape ``(n, n, *grid)``."""
    return xp.stack([xp.stack(list(row), axis=0) for row in rows], axis=0)


# ----------------------------------------------------------------------------- base class


class Objective:
    """Base class of the test objectives ``J : R^dim -> R``.

    Subclasses implement ``_value``, ``_grad`` and ``_hessian`` for an input that
    has already been validated (shape ``(dim, *grid)``, real floating dtype) and
    fill in the known points in their constructor.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"rosenbrock"``.
    dim : int
        Number of parameters.
    minima : tuple of numpy.ndarray
        All known local minima (host arrays of shape ``(dim,)``).
    global_minimum : numpy.ndarray or None
        The minimiser with the lowest value (``None`` when unbounded below).
    f_min : float
        The minimum value (``-inf`` when unbounded below).
    saddle_points : tuple of numpy.ndarray
        Known saddle points (may be empty).
    maxima : tuple of numpy.ndarray
        Known local maxima (may be empty).
    domain : tuple of (float, float)
        A good plotting window, one ``(low, high)`` per dimension.
    start : numpy.ndarray
        The classic starting point used in the course.
    """

    name: ClassVar[str] = "objective"
    dim: int = 2
    minima: tuple[np.ndarray, ...] = ()
    global_minimum: np.ndarray | None = None
    f_min: float = -math.inf
    saddle_points: tuple[np.ndarray, ...] = ()
    maxima: tuple[np.ndarray, ...] = ()
    domain: tuple[tuple[float, float], ...] = ()
    start: np.ndarray

    # -- public API --------------------------------------------------------------------

    @_quiet
    def value(self, theta: Any) -> Array:
        """Objective value ``J(theta)``.

        Parameters
        ----------
        theta : array of shape ``(dim,)`` or ``(dim, *grid)``
            Any array-API array (or a list); integers are converted to float64.

        Returns
        -------
        array of shape ``()`` or ``grid``
            Same library, device and floating dtype as ``theta``.
        """
        xp, theta = self._check(theta)
        out = self._value(xp, theta)
        if isinstance(out, np.generic):  # NumPy turns 0-d results into scalars; return a 0-d array
            out = np.asarray(out)
        return out

    __call__ = value

    @_quiet
    def grad(self, theta: Any) -> Array:
        """Gradient ``∇J(theta)``, shape ``(dim,)`` (or ``(dim, *grid)``)."""
        xp, theta = self._check(theta)
        return self._grad(xp, theta)

    @_quiet
    def hessian(self, theta: Any) -> Array:
        """Hessian ``∇²J(theta)``, shape ``(dim, dim)`` (or ``(dim, dim, *grid)``)."""
        xp, theta = self._check(theta)
        return self._hessian(xp, theta)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    # -- to implement ------------------------------------------------------------------

    def _value(self, xp: Any, theta: Array) -> Array:
        raise NotImplementedError

    def _grad(self, xp: Any, theta: Array) -> Array:
        raise NotImplementedError

    def _hessian(self, xp: Any, theta: Array) -> Array:
        raise NotImplementedError

    # -- helpers -----------------------------------------------------------------------

    def _check(self, theta: Any) -> tuple[Any, Array]:
        """Namespace and validated ``theta`` (shape ``(dim, ...)``, real floating dtype)."""
        if not is_array_api_obj(theta):
            try:
                theta = np.asarray(theta, dtype=np.float64)
            except (TypeError, ValueError) as err:
                raise TypeError(f"theta must be an array of real numbers; got {type(theta).__name__}") from err
        xp = array_namespace(theta)
        if not xp.isdtype(theta.dtype, "real floating"):
            if xp.isdtype(theta.dtype, ("bool", "integral")):
                theta = xp.astype(theta, xp.float64)
            else:
                raise TypeError(f"theta must have a real floating dtype; got {theta.dtype}")
        shape = tuple(theta.shape)
        if len(shape) == 0 or shape[0] != self.dim:
            raise ValueError(f"theta must have shape ({self.dim},) or ({self.dim}, ...); got {shape}")
        return xp, theta

    def _set_points(
        self,
        minima: Sequence[Any] = (),
        saddle_points: Sequence[Any] = (),
        maxima: Sequence[Any] = (),
        *,
        domain: Sequence[tuple[float, float]],
        start: Any,
    ) -> None:
        """Store the known points as read-only host arrays; derive ``global_minimum`` and ``f_min``."""
        shape = (self.dim,)
        self.minima = tuple(_host(m, "minimum", shape) for m in minima)
        self.saddle_points = tuple(_host(s, "saddle point", shape) for s in saddle_points)
        self.maxima = tuple(_host(m, "maximum", shape) for m in maxima)
        self.domain = tuple((float(lo), float(hi)) for lo, hi in domain)
        self.start = _host(start, "start", shape)
        if self.minima:
            values = [float(self.value(m)) for m in self.minima]
            best = int(np.argmin(values))
            self.global_minimum = self.minima[best]
            self.f_min = values[best]
        else:
            self.global_minimum = None
            self.f_min = -math.inf

    def _newton(self, guess: Any, steps: int = 50) -> np.ndarray:
        """Polish a stationary point on the host with Newton's method (float64)."""
        x = np.array(guess, dtype=np.float64)
        for _ in range(steps):
            step = np.linalg.solve(self.hessian(x), self.grad(x))
            x = x - step
            if np.max(np.abs(step)) <= 1e-15 * (1.0 + np.max(np.abs(x))):
                break
        return x


# ----------------------------------------------------------------------------- quadratic


class Quadratic(Objective):
    r"""The quadratic bowl with a chosen condition number.

    .. math::

        J(\theta) = \tfrac12 (\theta-\theta^*)^\top A (\theta-\theta^*), \qquad
        \nabla J(\theta) = A (\theta-\theta^*), \qquad \nabla^2 J = A,

    with :math:`A = R\,\mathrm{diag}(L, \mu)\,R^\top`, :math:`R` the rotation by
    ``angle`` and :math:`\mu = L/\kappa`.  :math:`L` and :math:`\mu` are the
    largest and smallest curvatures; gradient descent with step ``2/(L+mu)``
    contracts by ``(kappa-1)/(kappa+1)`` per step (see e.g. Nesterov, *Introductory
    Lectures on Convex Optimization*, 2004, Thm. 2.1.15).  An n-dimensional bowl
    with given eigenvalues is made by :meth:`from_eigenvalues`.

    Parameters
    ----------
    kappa : float, default 10.0
        Condition number ``L/mu``, at least 1.
    L : float, default 1.0
        Largest eigenvalue of ``A`` (> 0).
    angle : float, default 0.0
        Rotation of the principal axes, in radians; the ``L`` direction is
        ``(cos angle, sin angle)``.
    center : pair of float, default (0, 0)
        The minimiser ``theta*``.

    Attributes
    ----------
    A : numpy.ndarray
        The (host, read-only) matrix.
    L, mu, kappa : float
        Largest, smallest eigenvalue and their ratio.
    center : numpy.ndarray
        The minimiser.
    eigenvalues : numpy.ndarray
        Eigenvalues of ``A`` in decreasing order.
    eigenvectors : numpy.ndarray
        Matching unit eigenvectors, one per column.
    angle : float or None
        The rotation (``None`` for a bowl built by :meth:`from_eigenvalues`).
    """

    name = "quadratic"

    def __init__(
        self,
        kappa: float = 10.0,
        L: float = 1.0,
        angle: float = 0.0,
        center: Sequence[float] = (0.0, 0.0),
    ) -> None:
        kappa = _real(kappa, "kappa", "a finite number >= 1 (the condition number L/mu)", lambda v: v >= 1.0)
        L = _real(L, "L", "a finite number > 0 (the largest curvature)", lambda v: v > 0.0)
        angle = _real(angle, "angle", "a finite angle in radians")
        c, s = math.cos(angle), math.sin(angle)
        rotation = np.array([[c, -s], [s, c]])
        self._setup(np.array([L, L / kappa]), rotation, _host(center, "center", (2,)), angle)

    @classmethod
    def from_eigenvalues(
        cls,
        eigs: Sequence[float],
        rotation_seed: int | None = None,
        center: Sequence[float] | None = None,
    ) -> Quadratic:
        """An n-dimensional bowl ``A = Q diag(eigs) Q^T``.

        Parameters
        ----------
        eigs : sequence of float
            The eigenvalues of ``A``, all finite and > 0.
        rotation_seed : int, optional
            ``None`` keeps the axes (``A`` diagonal); an integer draws ``Q``
            uniformly from the orthogonal matrices with a seeded host generator.
        center : sequence of float, optional
            The minimiser (default: the origin).

        Returns
        -------
        Quadratic
        """
        eigs_arr = _host(eigs, "eigs")
        if eigs_arr.ndim != 1 or eigs_arr.size == 0 or not np.all(eigs_arr > 0):
            raise ValueError(f"eigs must be a non-empty 1-D sequence of positive numbers; got {eigs!r}")
        n = eigs_arr.size
        if rotation_seed is None:
            q = np.eye(n)
        else:
            if isinstance(rotation_seed, bool) or not isinstance(rotation_seed, int | np.integer) or rotation_seed < 0:
                raise ValueError(f"rotation_seed must be None or a non-negative integer; got {rotation_seed!r}")
            gen = np.random.default_rng(int(rotation_seed))
            q, r = np.linalg.qr(gen.normal(size=(n, n)))
            q = q * np.where(np.diag(r) < 0, -1.0, 1.0)  # Haar-uniform (Mezzadri 2007)
        center_arr = _host(np.zeros(n) if center is None else center, "center", (n,))
        self = cls.__new__(cls)
        self._setup(eigs_arr, q, center_arr, None)
        return self

    def _setup(self, eigs: np.ndarray, q: np.ndarray, center: np.ndarray, angle: float | None) -> None:
        order = np.argsort(-eigs, kind="stable")
        self.dim = int(eigs.size)
        self.eigenvalues = _host(eigs[order], "eigs")
        self.eigenvectors = _host(q[:, order], "eigenvectors")
        a = (q * eigs) @ q.T
        self.A = _host((a + a.T) / 2.0, "A")
        self.L = float(self.eigenvalues[0])
        self.mu = float(self.eigenvalues[-1])
        self.kappa = self.L / self.mu
        self.angle = angle
        self.center = center
        if self.dim == 2:
            start = center + q @ np.array([-1.5, 2.0])
        else:
            start = center + np.ones(self.dim)
        self._set_points(
            minima=[center],
            domain=[(ci - 3.0, ci + 3.0) for ci in center],
            start=start,
        )

    def __repr__(self) -> str:
        if self.angle is None:
            return f"Quadratic.from_eigenvalues({self.eigenvalues.tolist()})"
        return f"Quadratic(kappa={self.kappa:g}, L={self.L:g}, angle={self.angle:g}, center={self.center.tolist()})"

    def _consts(self, xp: Any, theta: Array) -> tuple[Array, Array]:
        # copy=True: the host constants are read-only, and the result must be the caller's to modify
        kw = {"dtype": theta.dtype, "device": device(theta), "copy": True}
        a = xp.asarray(self.A, **kw)
        c = xp.reshape(xp.asarray(self.center, **kw), (self.dim,) + (1,) * (theta.ndim - 1))
        return a, theta - c

    def _value(self, xp: Any, theta: Array) -> Array:
        a, d = self._consts(xp, theta)
        return 0.5 * xp.sum(d * xp.tensordot(a, d, axes=1), axis=0)

    def _grad(self, xp: Any, theta: Array) -> Array:
        a, d = self._consts(xp, theta)
        return xp.tensordot(a, d, axes=1)

    def _hessian(self, xp: Any, theta: Array) -> Array:
        a, _ = self._consts(xp, theta)
        grid = tuple(theta.shape[1:])
        if not grid:
            return a
        return xp.broadcast_to(xp.reshape(a, (self.dim, self.dim) + (1,) * len(grid)), (self.dim, self.dim) + grid)


class LinearMSE(Quadratic):
    r"""The mean squared error of the line :math:`\hat y = w x + b`, as an objective of :math:`\theta = (w, b)`.

    .. math::
        J(w, b) = \frac1n \sum_{i=1}^n (w x_i + b - y_i)^2, \qquad
        \nabla J = \frac2n \begin{pmatrix} \sum_i r_i x_i \\ \sum_i r_i \end{pmatrix},\quad r_i = w x_i + b - y_i,

    .. math::
        \nabla^2 J = H = \frac2n \tilde X^\top \tilde X
                   = 2\begin{pmatrix} \overline{x^2} & \bar x \\ \bar x & 1 \end{pmatrix},
        \qquad \tilde X = [x, \mathbf 1].

    A quadratic with a positive definite Hessian (whenever :math:`x` is not constant), so it is
    strictly convex with one global minimum :math:`\theta^*`, the least-squares solution of the normal
    equations :math:`\tilde X^\top\tilde X\theta^* = \tilde X^\top y`.  It is evaluated in the exact form
    :math:`J(\theta) = J^* + \tfrac12(\theta-\theta^*)^\top H (\theta-\theta^*)` (the cross term vanishes
    because :math:`\tilde X^\top r^* = 0`), which is vectorised over a grid for contour plots and has no
    cancellation near the minimum.  Everything a :class:`~gdcourse.functions.Quadratic` has comes with it:
    ``L``, ``mu``, ``kappa`` (the condition number of :math:`\tilde X^\top\tilde X/n`), ``eigenvalues``.

    Parameters
    ----------
    x : array, shape (n,) or (n, 1)
        The feature (any backend; kept as a host copy).  Must not be constant.
    y : array, shape (n,)
        The targets.

    Attributes
    ----------
    x, y : ndarray
        Read-only host copies of the data.
    n : int
        Number of samples.
    global_minimum : ndarray
        :math:`\theta^* = (w^*, b^*)`.
    f_min : float
        :math:`J^* = J(\theta^*)`, the smallest MSE a line can reach.
    start : ndarray
        :math:`(0, 0)`, where the estimators of :mod:`gdcourse.models` start.
    domain : tuple
        A square window centred on the minimum that holds the start (for contour plots).

    Examples
    --------
    >>> import numpy as np
    >>> surface = LinearMSE(np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 5.0]))
    >>> surface.global_minimum.round(6).tolist(), round(surface.f_min, 12)
    ([2.0, 1.0], 0.0)
    >>> round(float(surface(np.array([0.0, 0.0]))), 10)  # (1 + 9 + 25) / 3
    11.6666666667
    """

    name = "linear_mse"

    def __init__(self, x: Any, y: Any) -> None:
        x_host, y_host = _host_vector(x, "x"), _host_vector(y, "y")
        n = x_host.size
        if y_host.size != n:
            raise ValueError(f"x has {n} samples but y has {y_host.size}; they must have the same length")
        if n < 2 or float(np.ptp(x_host)) == 0.0:
            raise ValueError("x must take at least two different values, or the slope is not determined")
        design = np.column_stack([x_host, np.ones(n)])
        theta_star = np.linalg.lstsq(design, y_host, rcond=None)[0]
        hessian = 2.0 * (design.T @ design) / n
        eigs, q = np.linalg.eigh((hessian + hessian.T) / 2.0)
        if not eigs[0] > 0:
            raise ValueError("x is (numerically) constant: the MSE has no single minimum")
        self.x, self.y, self.n = x_host, y_host, n
        self._j_star = float(np.mean((design @ theta_star - y_host) ** 2))
        self._setup(eigs, q, theta_star, None)
        start = np.zeros(2)
        half = 1.25 * float(np.max(np.abs(theta_star - start))) + 0.5
        self.domain = tuple((float(c - half), float(c + half)) for c in theta_star)
        start.flags.writeable = False
        self.start = start

    def __repr__(self) -> str:
        return f"LinearMSE(n={self.n}, x̄={float(np.mean(self.x)):.3g}, sd(x)={float(np.std(self.x)):.3g})"

    def _value(self, xp: Any, theta: Array) -> Array:
        return super()._value(xp, theta) + self._j_star


# ----------------------------------------------------------------------------- classic 2-D test functions


class Rosenbrock(Objective):
    r"""Rosenbrock's banana-shaped valley (Rosenbrock 1960).

    .. math::

        J(x, y) = (a - x)^2 + b\,(y - x^2)^2, \qquad
        \nabla J = \begin{pmatrix} -2(a - x) - 4 b x (y - x^2) \\ 2 b (y - x^2) \end{pmatrix}.

    The unique minimum is :math:`(a, a^2)` with value 0, at the end of a long,
    curved, flat valley: gradient descent finds the valley fast and then crawls.

    Parameters
    ----------
    a : float, default 1
        Position of the minimum.
    b : float, default 100
        Steepness of the valley walls (> 0).

    References
    ----------
    H. H. Rosenbrock, "An automatic method for finding the greatest or least value
    of a function", The Computer Journal 3(3):175-184, 1960.
    """

    name = "rosenbrock"

    def __init__(self, a: float = 1.0, b: float = 100.0) -> None:
        self.a = _real(a, "a", "a finite number")
        self.b = _real(b, "b", "a finite number > 0", lambda v: v > 0.0)
        r = abs(self.a)
        self._set_points(
            minima=[(self.a, self.a**2)],
            domain=[(-r - 1.0, r + 1.0), (-1.0, self.a**2 + 2.0)],
            start=(-(r + 0.5), self.a**2 + 1.0),  # (-1.5, 2) for the classic a = 1
        )

    def __repr__(self) -> str:
        return f"Rosenbrock(a={self.a:g}, b={self.b:g})"

    def _value(self, xp: Any, theta: Array) -> Array:
        x, y = theta[0, ...], theta[1, ...]
        return (self.a - x) ** 2 + self.b * (y - x**2) ** 2

    def _grad(self, xp: Any, theta: Array) -> Array:
        x, y = theta[0, ...], theta[1, ...]
        dx = -2.0 * (self.a - x) - 4.0 * self.b * x * (y - x**2)
        dy = 2.0 * self.b * (y - x**2)
        return xp.stack([dx, dy], axis=0)

    def _hessian(self, xp: Any, theta: Array) -> Array:
        x, y = theta[0, ...], theta[1, ...]
        hxx = 2.0 - 4.0 * self.b * y + 12.0 * self.b * x**2
        hxy = -4.0 * self.b * x
        hyy = xp.full_like(x, 2.0 * self.b)
        return _matrix(xp, [[hxx, hxy], [hxy, hyy]])


class Beale(Objective):
    r"""Beale's function (Beale 1958): flat plateaus and steep ridges.

    .. math::

        J(x, y) = t_1^2 + t_2^2 + t_3^2, \quad
        t_1 = 1.5 - x + xy,\; t_2 = 2.25 - x + xy^2,\; t_3 = 2.625 - x + xy^3,

    .. math::

        \nabla J = \begin{pmatrix}
            2 t_1 (y - 1) + 2 t_2 (y^2 - 1) + 2 t_3 (y^3 - 1) \\
            2 t_1 x + 4 t_2 x y + 6 t_3 x y^2
        \end{pmatrix}.

    The global minimum is :math:`(3, 0.5)` with value 0.  In the window
    :math:`[-4.5, 4.5]^2` there are two saddle points, :math:`(0, 1)` and one near
    :math:`(0.1005, -2.6445)` (computed by Newton's method in the constructor).

    References
    ----------
    E. M. L. Beale, "On an iterative method for finding a local minimum of a
    function of more than one variable", Technical Report 25, Statistical
    Techniques Research Group, Princeton University, 1958.
    """

    name = "beale"

    def __init__(self) -> None:
        self._set_points(
            minima=[(3.0, 0.5)],
            saddle_points=[(0.0, 1.0), self._newton((0.1, -2.64))],
            domain=[(-4.5, 4.5), (-4.5, 4.5)],
            start=(1.0, 1.5),
        )

    def _terms(self, theta: Array) -> tuple[Array, ...]:
        x, y = theta[0, ...], theta[1, ...]
        t1 = 1.5 - x + x * y
        t2 = 2.25 - x + x * y**2
        t3 = 2.625 - x + x * y**3
        return x, y, t1, t2, t3

    def _value(self, xp: Any, theta: Array) -> Array:
        _, _, t1, t2, t3 = self._terms(theta)
        return t1**2 + t2**2 + t3**2

    def _grad(self, xp: Any, theta: Array) -> Array:
        x, y, t1, t2, t3 = self._terms(theta)
        dx = 2.0 * t1 * (y - 1.0) + 2.0 * t2 * (y**2 - 1.0) + 2.0 * t3 * (y**3 - 1.0)
        dy = 2.0 * t1 * x + 4.0 * t2 * x * y + 6.0 * t3 * x * y**2
        return xp.stack([dx, dy], axis=0)

    def _hessian(self, xp: Any, theta: Array) -> Array:
        x, y, t1, t2, t3 = self._terms(theta)
        hxx = 2.0 * (y - 1.0) ** 2 + 2.0 * (y**2 - 1.0) ** 2 + 2.0 * (y**3 - 1.0) ** 2
        hxy = (
            2.0 * (x * (y - 1.0) + t1)
            + 2.0 * (2.0 * x * y * (y**2 - 1.0) + 2.0 * y * t2)
            + 2.0 * (3.0 * x * y**2 * (y**3 - 1.0) + 3.0 * y**2 * t3)
        )
        hyy = 2.0 * x**2 + 8.0 * x**2 * y**2 + 4.0 * x * t2 + 18.0 * x**2 * y**4 + 12.0 * x * y * t3
        return _matrix(xp, [[hxx, hxy], [hxy, hyy]])


class Himmelblau(Objective):
    r"""Himmelblau's function (Himmelblau 1972): four minima of equal value.

    .. math::

        J(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2, \qquad
        \nabla J = \begin{pmatrix} 4x(x^2 + y - 11) + 2(x + y^2 - 7) \\
                                   2(x^2 + y - 11) + 4y(x + y^2 - 7) \end{pmatrix}.

    Minima (all with value 0): :math:`(3, 2)`, :math:`\approx(-2.805118, 3.131312)`,
    :math:`\approx(-3.779310, -3.283186)`, :math:`\approx(3.584428, -1.848126)`;
    a local maximum :math:`\approx(-0.270845, -0.923039)` and four saddle points.
    The irrational points are polished to machine precision by Newton's method in
    the constructor.  Which minimum gradient descent finds depends on the start.

    References
    ----------
    D. M. Himmelblau, *Applied Nonlinear Programming*, McGraw-Hill, 1972.
    """

    name = "himmelblau"

    def __init__(self) -> None:
        polish = self._newton
        self._set_points(
            minima=[
                (3.0, 2.0),
                polish((-2.805118, 3.131312)),
                polish((-3.779310, -3.283186)),
                polish((3.584428, -1.848126)),
            ],
            saddle_points=[
                polish((0.086677, 2.884254)),
                polish((-3.073026, -0.081353)),
                polish((3.385154, 0.073852)),
                polish((-0.127961, -1.953715)),
            ],
            maxima=[polish((-0.270845, -0.923039))],
            domain=[(-5.0, 5.0), (-5.0, 5.0)],
            start=(0.0, 0.0),
        )

    def _value(self, xp: Any, theta: Array) -> Array:
        x, y = theta[0, ...], theta[1, ...]
        return (x**2 + y - 11.0) ** 2 + (x + y**2 - 7.0) ** 2

    def _grad(self, xp: Any, theta: Array) -> Array:
        x, y = theta[0, ...], theta[1, ...]
        u, v = x**2 + y - 11.0, x + y**2 - 7.0
        return xp.stack([4.0 * x * u + 2.0 * v, 2.0 * u + 4.0 * y * v], axis=0)

    def _hessian(self, xp: Any, theta: Array) -> Array:
        x, y = theta[0, ...], theta[1, ...]
        u, v = x**2 + y - 11.0, x + y**2 - 7.0
        hxx = 4.0 * u + 8.0 * x**2 + 2.0
        hxy = 4.0 * (x + y)
        hyy = 2.0 + 4.0 * v + 8.0 * y**2
        return _matrix(xp, [[hxx, hxy], [hxy, hyy]])


class Saddle(Objective):
    r"""The simplest saddle: a minimum along x, a maximum along y.

    .. math::

        J(x, y) = x^2 - y^2, \qquad \nabla J = (2x, -2y), \qquad
        \nabla^2 J = \mathrm{diag}(2, -2).

    The origin is a saddle point; J is unbounded below (no minima,
    ``f_min = -inf``).  From the classic start, just off the x axis, gradient
    descent first heads for the saddle and only slowly escapes along y.
    """

    name = "saddle"

    def __init__(self) -> None:
        self._set_points(saddle_points=[(0.0, 0.0)], domain=[(-2.0, 2.0), (-2.0, 2.0)], start=(1.5, 1e-3))

    def _value(self, xp: Any, theta: Array) -> Array:
        x, y = theta[0, ...], theta[1, ...]
        return x**2 - y**2

    def _grad(self, xp: Any, theta: Array) -> Array:
        x, y = theta[0, ...], theta[1, ...]
        return xp.stack([2.0 * x, -2.0 * y], axis=0)

    def _hessian(self, xp: Any, theta: Array) -> Array:
        x = theta[0, ...]
        two, zero = xp.full_like(x, 2.0), xp.zeros_like(x)
        return _matrix(xp, [[two, zero], [zero, -two]])


class MonkeySaddle(Objective):
    r"""The monkey saddle: a degenerate saddle with three valleys.

    .. math::

        J(x, y) = x^3 - 3 x y^2, \qquad \nabla J = (3x^2 - 3y^2,\; -6xy), \qquad
        \nabla^2 J = \begin{pmatrix} 6x & -6y \\ -6y & -6x \end{pmatrix}.

    The origin is a stationary point whose Hessian is zero, so second-order
    tests cannot classify it; J is unbounded below.
    """

    name = "monkey_saddle"

    def __init__(self) -> None:
        self._set_points(saddle_points=[(0.0, 0.0)], domain=[(-1.5, 1.5), (-1.5, 1.5)], start=(1.0, 0.5))

    def _value(self, xp: Any, theta: Array) -> Array:
        x, y = theta[0, ...], theta[1, ...]
        return x**3 - 3.0 * x * y**2

    def _grad(self, xp: Any, theta: Array) -> Array:
        x, y = theta[0, ...], theta[1, ...]
        return xp.stack([3.0 * x**2 - 3.0 * y**2, -6.0 * x * y], axis=0)

    def _hessian(self, xp: Any, theta: Array) -> Array:
        x, y = theta[0, ...], theta[1, ...]
        return _matrix(xp, [[6.0 * x, -6.0 * y], [-6.0 * y, -6.0 * x]])


# ----------------------------------------------------------------------------- 1-D non-convex


class DoubleWell(Objective):
    r"""A tilted double well in one dimension: one local and one global minimum.

    .. math::

        J(\theta) = \theta^4 - 3\theta^2 + t\,\theta, \qquad
        J'(\theta) = 4\theta^3 - 6\theta + t, \qquad J''(\theta) = 12\theta^2 - 6.

    The stationary points are the roots of :math:`J'`, computed with
    :func:`numpy.roots` in the constructor (and polished by Newton's method).
    For the default tilt :math:`t = 1` the global minimum is near -1.30, the local
    one near 1.13 and the local maximum between them near 0.17: gradient descent
    from the classic start ``2.0`` stops in the local minimum.

    ``theta`` has shape ``(1,)`` (or ``(1, *grid)``), like every objective.

    Parameters
    ----------
    tilt : float, default 1.0
        The linear term ``t``; two minima need ``|t| < 2*sqrt(2)``.  ``t = 0`` is
        the symmetric double well (two global minima).
    """

    name = "double_well"
    dim = 1

    def __init__(self, tilt: float = 1.0) -> None:
        bound = 2.0 * math.sqrt(2.0)
        expected = f"a finite number with |tilt| < 2*sqrt(2) = {bound:.6f}"
        self.tilt = _real(tilt, "tilt", expected, lambda v: abs(v) < bound)
        roots = np.roots([4.0, 0.0, -6.0, self.tilt])
        real = np.sort(roots.real[np.abs(roots.imag) <= 1e-9 * (1.0 + np.abs(roots.real))])
        if real.size != 3:  # pragma: no cover - excluded by the bound on tilt
            raise ValueError(f"tilt={tilt!r} leaves fewer than two minima")
        left, middle, right = (self._newton([r]) for r in real)
        self._set_points(
            minima=[left, right],
            maxima=[middle],
            domain=[(-2.0, 2.0)],
            start=(2.0,),
        )

    def __repr__(self) -> str:
        return f"DoubleWell(tilt={self.tilt:g})"

    def _value(self, xp: Any, theta: Array) -> Array:
        t = theta[0, ...]
        return t**4 - 3.0 * t**2 + self.tilt * t

    def _grad(self, xp: Any, theta: Array) -> Array:
        t = theta[0, ...]
        return xp.stack([4.0 * t**3 - 6.0 * t + self.tilt], axis=0)

    def _hessian(self, xp: Any, theta: Array) -> Array:
        t = theta[0, ...]
        return _matrix(xp, [[12.0 * t**2 - 6.0]])


# ----------------------------------------------------------------------------- registry

_REGISTRY: dict[str, type[Objective]] = {
    cls.name: cls for cls in (Quadratic, Rosenbrock, Beale, Himmelblau, Saddle, MonkeySaddle, DoubleWell)
}


def available() -> tuple[str, ...]:
    """Names accepted by :func:`get`."""
    return tuple(_REGISTRY)


def get(name: str, **kwargs: Any) -> Objective:
    """Create the objective registered as ``name``, e.g. ``get("quadratic", kappa=50)``.

    Parameters
    ----------
    name : str
        One of :func:`available` (case-insensitive; ``-`` may stand for ``_``).
    **kwargs
        Passed to the class's constructor.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones).
    """
    key = name.strip().lower().replace("-", "_") if isinstance(name, str) else None
    if key not in _REGISTRY:
        raise ValueError(f"unknown objective name {name!r}; known names: {', '.join(_REGISTRY)}")
    return _REGISTRY[key](**kwargs)
