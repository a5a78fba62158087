"""Tests of gdcourse.functions: every derivative is checked against finite differences and torch.autograd."""

import math
import warnings

import numpy as np
import pytest
import torch
from array_api_compat import device
from scipy.optimize import brentq, minimize
from sklearn.linear_model import LinearRegression as SkLinearRegression

from gdcourse import backend as B
from gdcourse import functions as F

OBJECTIVES = {
    "quadratic": F.Quadratic(kappa=10.0, L=2.0, angle=0.5, center=(1.0, -0.5)),
    "quadratic_nd": F.Quadratic.from_eigenvalues([5.0, 2.0, 1.0, 0.1], rotation_seed=0, center=[1, 2, 3, 4]),
    "rosenbrock": F.Rosenbrock(),
    "rosenbrock_a2": F.Rosenbrock(a=2.0, b=20.0),
    "beale": F.Beale(),
    "himmelblau": F.Himmelblau(),
    "saddle": F.Saddle(),
    "monkey_saddle": F.MonkeySaddle(),
    "double_well": F.DoubleWell(),
    "double_well_neg": F.DoubleWell(tilt=-0.5),
}
WITH_MINIMA = [k for k, f in OBJECTIVES.items() if f.minima]


@pytest.fixture(params=list(OBJECTIVES))
def obj(request):
    return OBJECTIVES[request.param]


def points_in_domain(f, n=6, seed=0):
    lo, hi = np.array(f.domain).T
    return np.random.default_rng(seed).uniform(lo, hi, size=(n, f.dim))


def host(x):
    return np.asarray(B.to_numpy(x), dtype=np.float64)


# ----------------------------------------------------------------------------- finite-difference checks


def fd_grad(f, p, h=1e-5):
    """Central differences of ``f.value`` on the host in float64 (all 2*dim points in one vectorised call)."""
    e = h * np.eye(f.dim)
    vals = host(f.value(np.concatenate([p[:, None] + e, p[:, None] - e], axis=1)))
    return (vals[: f.dim] - vals[f.dim :]) / (2 * h)


def fd_hessian(f, p, h=1e-5):
    """Central differences of ``f.grad`` on the host in float64; column j is d grad / d theta_j."""
    cols = [(host(f.grad(p + h * ej)) - host(f.grad(p - h * ej))) / (2 * h) for ej in np.eye(f.dim)]
    return np.stack(cols, axis=1)


def assert_grad_matches_fd(f, points, to_backend):
    for p in points:
        g = host(f.grad(to_backend(p)))
        np.testing.assert_allclose(g, fd_grad(f, p), rtol=1e-6, atol=1e-6 * (1 + np.abs(g).max()), err_msg=f"at {p}")


def assert_hessian_matches_fd(f, points, to_backend):
    for p in points:
        h = host(f.hessian(to_backend(p)))
        np.testing.assert_allclose(h, fd_hessian(f, p), rtol=1e-6, atol=1e-6 * (1 + np.abs(h).max()), err_msg=f"at {p}")
        np.testing.assert_allclose(h, h.T, rtol=1e-12, atol=1e-12)


def test_gradient_matches_finite_differences(obj, to_backend):
    assert_grad_matches_fd(obj, points_in_domain(obj), to_backend)


def test_hessian_matches_finite_differences_of_gradient(obj, to_backend):
    assert_hessian_matches_fd(obj, points_in_domain(obj, seed=1), to_backend)


class _WrongGrad(F.Rosenbrock):
    def _grad(self, xp, theta):
        return super()._grad(xp, theta) * 1.001  # a planted 0.1 % error


class _WrongHessian(F.Beale):
    def _hessian(self, xp, theta):
        h = super()._hessian(xp, theta)
        return h + 1e-3 * h[0, 1, ...]  # a planted error in every entry


def test_derivative_checks_can_fail():
    with pytest.raises(AssertionError):
        assert_grad_matches_fd(_WrongGrad(), points_in_domain(F.Rosenbrock()), np.asarray)
    with pytest.raises(AssertionError):
        assert_hessian_matches_fd(_WrongHessian(), points_in_domain(F.Beale()), np.asarray)


# ----------------------------------------------------------------------------- known points


def test_known_points_and_attributes(obj):
    assert isinstance(obj.name, str) and obj.name in F.available()
    assert len(obj.domain) == obj.dim and all(lo < hi for lo, hi in obj.domain)
    lo, hi = np.array(obj.domain).T
    for p in (obj.start, *obj.minima, *obj.saddle_points, *obj.maxima):
        assert isinstance(p, np.ndarray) and p.shape == (obj.dim,) and p.dtype == np.float64
        assert np.all((lo <= p) & (p <= hi)), f"{p} outside domain {obj.domain}"
        assert not p.flags.writeable
    if obj.minima:
        assert any(obj.global_minimum is m for m in obj.minima)
        assert obj.f_min == min(float(obj.value(m)) for m in obj.minima)
    else:
        assert obj.global_minimum is None and obj.f_min == -math.inf


def test_minima_are_strict_local_minima(obj, to_backend):
    for m in obj.minima:
        g = host(obj.grad(to_backend(m)))
        np.testing.assert_allclose(g, 0.0, atol=1e-9)
        eig = np.linalg.eigvalsh(host(obj.hessian(to_backend(m))))
        assert np.all(eig > 1e-6), f"Hessian at minimum {m} has eigenvalues {eig}"
    if obj.minima:
        assert float(host(obj.value(to_backend(obj.global_minimum)))) == pytest.approx(obj.f_min, abs=1e-12)


def test_saddle_points_and_maxima(obj, to_backend):
    for s in obj.saddle_points:
        np.testing.assert_allclose(host(obj.grad(to_backend(s))), 0.0, atol=1e-9)
        eig = np.linalg.eigvalsh(host(obj.hessian(to_backend(s))))
        if isinstance(obj, F.MonkeySaddle):
            np.testing.assert_array_equal(eig, 0.0)  # degenerate: third-order saddle
            assert float(obj.value(np.array([0.1, 0.0]))) > 0 > float(obj.value(np.array([-0.1, 0.0])))
        else:
            assert eig.min() < -1e-6 and eig.max() > 1e-6, f"not a saddle at {s}: eigenvalues {eig}"
    for m in obj.maxima:
        np.testing.assert_allclose(host(obj.grad(to_backend(m))), 0.0, atol=1e-9)
        assert np.all(np.linalg.eigvalsh(host(obj.hessian(to_backend(m)))) < -1e-6)


@pytest.mark.parametrize("key", WITH_MINIMA)
def test_global_minimum_is_lowest_on_a_grid_of_the_domain(key):
    f = OBJECTIVES[key]
    axes = [np.linspace(lo, hi, 201 if f.dim <= 2 else 9) for lo, hi in f.domain]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"))
    assert host(f.value(grid)).min() >= f.f_min - 1e-12


@pytest.mark.parametrize("key", WITH_MINIMA)
def test_no_minimum_is_missing(key):
    """BFGS from random starts in the domain only ever stops at a listed minimum (or leaves the domain)."""
    f = OBJECTIVES[key]
    lo, hi = np.array(f.domain).T
    minima = np.array(f.minima)
    for x0 in points_in_domain(f, n=25, seed=2):
        opts = {"gtol": 1e-9, "maxiter": 200}  # Beale: some starts run off along its valley to x -> inf
        res = minimize(lambda p: float(f.value(p)), x0, jac=f.grad, method="BFGS", options=opts)
        if np.all((lo <= res.x) & (res.x <= hi)) and np.linalg.norm(f.grad(res.x)) < 1e-6:
            assert np.linalg.norm(minima - res.x, axis=1).min() < 1e-4, f"unlisted stationary point {res.x}"


# ----------------------------------------------------------------------------- independent literature values


def test_quadratic_spectrum_and_condition_number():
    for kappa, L, angle in [(1.0, 1.0, 0.0), (10.0, 2.0, 0.5), (1e4, 0.3, -2.0)]:
        q = F.Quadratic(kappa=kappa, L=L, angle=angle)
        np.testing.assert_allclose(q.A, q.A.T)
        np.testing.assert_allclose(np.linalg.eigvalsh(q.A), [L / kappa, L], rtol=1e-10)
        assert (q.L, q.mu) == pytest.approx((L, L / kappa)) and q.kappa == pytest.approx(kappa)
        direction = np.array([math.cos(angle), math.sin(angle)])
        np.testing.assert_allclose(q.A @ direction, L * direction, atol=1e-12)  # L along (cos, sin)


def test_quadratic_from_eigenvalues():
    eigs = [0.5, 4.0, 1.0]
    q = F.Quadratic.from_eigenvalues(eigs, rotation_seed=3)
    np.testing.assert_allclose(np.linalg.eigvalsh(q.A), sorted(eigs), rtol=1e-12)
    assert (q.L, q.mu, q.kappa, q.dim) == pytest.approx((4.0, 0.5, 8.0, 3))
    np.testing.assert_allclose(q.A @ q.eigenvectors, q.eigenvectors * q.eigenvalues, atol=1e-12)
    assert abs(q.A[0, 1]) > 1e-3  # actually rotated
    np.testing.assert_array_equal(F.Quadratic.from_eigenvalues(eigs, rotation_seed=3).A, q.A)
    np.testing.assert_array_equal(F.Quadratic.from_eigenvalues(eigs).A, np.diag(eigs))
    np.testing.assert_array_equal(F.Quadratic.from_eigenvalues(eigs).center, np.zeros(3))


def test_rosenbrock_and_beale_literature_values():
    assert float(F.Rosenbrock()(np.array([1.0, 1.0]))) == 0.0
    assert float(F.Rosenbrock()(np.array([-1.5, 2.0]))) == pytest.approx(12.5)  # 2.5**2 + 100 * 0.25**2
    assert float(F.Rosenbrock(a=2.0, b=7.0)(np.array([2.0, 4.0]))) == 0.0
    np.testing.assert_array_equal(F.Rosenbrock().global_minimum, [1.0, 1.0])
    assert float(F.Beale()(np.array([3.0, 0.5]))) == 0.0
    assert float(F.Beale()(np.array([0.0, 0.0]))) == pytest.approx(1.5**2 + 2.25**2 + 2.625**2)
    np.testing.assert_array_equal(F.Beale().global_minimum, [3.0, 0.5])


def test_himmelblau_literature_points():
    f = F.Himmelblau()
    literature_minima = [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)]
    literature_max = (-0.270845, -0.923039)
    for ref, got in zip(literature_minima, f.minima, strict=True):
        np.testing.assert_allclose(got, ref, atol=1e-5)
        assert float(f(np.array(ref))) < 1e-9
        assert float(f(got)) < 1e-24
    assert f.f_min == pytest.approx(0.0, abs=1e-24)
    np.testing.assert_allclose(f.maxima[0], literature_max, atol=1e-5)
    assert float(f(f.maxima[0])) == pytest.approx(181.617, abs=1e-3)
    assert len(f.saddle_points) == 4


def test_double_well_minima_are_the_roots_of_the_derivative():
    f = F.DoubleWell(tilt=1.0)

    def dj(t):
        return 4 * t**3 - 6 * t + 1

    roots = [brentq(dj, a, b, xtol=1e-15) for a, b in [(-2, -1), (0, 0.5), (1, 1.5)]]
    np.testing.assert_allclose([m[0] for m in f.minima], [roots[0], roots[2]], atol=1e-13)
    np.testing.assert_allclose(f.maxima[0], [roots[1]], atol=1e-13)
    np.testing.assert_array_equal(f.global_minimum, f.minima[0])  # tilt > 0: the left well is deeper
    assert float(f(f.minima[1])) > f.f_min
    np.testing.assert_array_equal(F.DoubleWell(tilt=-1.0).global_minimum, -f.global_minimum)


# ----------------------------------------------------------------------------- torch.autograd


def _torch_reference(f):
    """The objectives written again, independently, in torch (from the literature formulas)."""
    if isinstance(f, F.Quadratic):
        a, c = torch.tensor(f.A), torch.tensor(f.center)
        return lambda t: 0.5 * (t - c) @ a @ (t - c)
    formulas = {
        F.Rosenbrock: lambda t: (f.a - t[0]) ** 2 + f.b * (t[1] - t[0] ** 2) ** 2,
        F.Beale: lambda t: (1.5 - t[0] + t[0] * t[1]) ** 2
        + (2.25 - t[0] + t[0] * t[1] ** 2) ** 2
        + (2.625 - t[0] + t[0] * t[1] ** 3) ** 2,
        F.Himmelblau: lambda t: (t[0] ** 2 + t[1] - 11) ** 2 + (t[0] + t[1] ** 2 - 7) ** 2,
        F.Saddle: lambda t: t[0] ** 2 - t[1] ** 2,
        F.MonkeySaddle: lambda t: t[0] ** 3 - 3 * t[0] * t[1] ** 2,
        F.DoubleWell: lambda t: t[0] ** 4 - 3 * t[0] ** 2 + f.tilt * t[0],
    }
    return formulas[type(f)]


def test_value_gradient_hessian_match_torch_autograd(obj):
    ref = _torch_reference(obj)
    for p in points_in_domain(obj, n=4, seed=3):
        t = torch.tensor(p, requires_grad=True)
        v = ref(t)
        (g,) = torch.autograd.grad(v, t)
        h = torch.autograd.functional.hessian(ref, torch.tensor(p))
        assert float(obj.value(p)) == pytest.approx(v.item(), rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(obj.grad(p), g.numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(obj.hessian(p), h.numpy(), rtol=1e-12, atol=1e-12)


def test_objectives_run_on_torch_tensors_and_autograd_agrees(obj):
    t = torch.tensor(obj.start + 0.1, requires_grad=True)
    v = obj.value(t)
    assert isinstance(v, torch.Tensor) and v.shape == ()
    v.backward()
    np.testing.assert_allclose(t.grad.numpy(), obj.grad(obj.start + 0.1), rtol=1e-12, atol=1e-12)
    assert obj.grad(torch.tensor(obj.start, dtype=torch.float32)).dtype == torch.float32


# ----------------------------------------------------------------------------- array semantics


def test_vectorised_grid_equals_pointwise(obj, to_backend):
    lo, hi = np.array(obj.domain).T
    grid = np.random.default_rng(4).uniform(lo, hi, size=(4, 3, obj.dim)).transpose(2, 0, 1)  # (dim, 4, 3)
    values = host(obj.value(to_backend(grid)))
    grads = host(obj.grad(to_backend(grid)))
    hessians = host(obj.hessian(to_backend(grid)))
    assert values.shape == (4, 3) and grads.shape == (obj.dim, 4, 3) and hessians.shape == (obj.dim, obj.dim, 4, 3)
    for i, j in np.ndindex(4, 3):
        p = to_backend(grid[:, i, j])
        np.testing.assert_allclose(values[i, j], host(obj.value(p)), rtol=1e-14, atol=1e-14)
        np.testing.assert_allclose(grads[:, i, j], host(obj.grad(p)), rtol=1e-14, atol=1e-14)
        np.testing.assert_allclose(hessians[:, :, i, j], host(obj.hessian(p)), rtol=1e-14, atol=1e-14)


def test_output_shapes_device_and_dtype_follow_the_input(obj, backend, to_backend):
    for dtype, rtol in [("float64", 1e-14), ("float32", 1e-5)]:
        theta = to_backend(obj.start, dtype=dtype)
        outs = obj.value(theta), obj.grad(theta), obj.hessian(theta)
        for out, shape in zip(outs, [(), (obj.dim,), (obj.dim, obj.dim)], strict=True):
            assert tuple(out.shape) == shape
            assert B.dtype_of(out) == dtype
            assert device(out) == device(theta)
            assert B.array_namespace(out) is B.array_namespace(theta)
        np.testing.assert_allclose(host(outs[1]), obj.grad(obj.start), rtol=rtol, atol=rtol)
    assert obj(to_backend(obj.start)) is not None  # __call__ is value


def test_integer_input_is_converted_and_nan_propagates(to_backend):
    f = F.Rosenbrock()
    v = f.value(to_backend(np.array([0, 0])))
    assert B.dtype_of(v) == "float64" and float(host(v)) == 1.0
    assert float(F.Himmelblau()([3, 2])) == 0.0  # a plain list works too
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(host(f.value(to_backend(np.array([np.nan, 0.0])))))
        assert np.all(np.isnan(host(f.grad(to_backend(np.array([np.nan, 0.0]))))))
        assert np.isinf(host(f.value(to_backend(np.array([1e200, 0.0])))))  # overflow: no warning


def test_returned_arrays_are_the_callers():
    q = F.Quadratic(kappa=4.0)
    h = q.hessian(np.zeros(2))
    h[0, 0] = 99.0
    assert q.A[0, 0] == 1.0
    with pytest.raises(ValueError, match="read-only"):
        q.start[0] = 5.0


# ----------------------------------------------------------------------------- errors and registry


@pytest.mark.parametrize(
    ("f", "bad", "message"),
    [
        (F.Rosenbrock(), np.zeros(3), r"theta must have shape \(2,\) or \(2, \.\.\.\); got \(3,\)"),
        (F.Rosenbrock(), np.zeros((3, 2)), r"theta must have shape \(2,\) or \(2, \.\.\.\); got \(3, 2\)"),
        (F.Beale(), np.float64(1.0), r"theta must have shape \(2,\) .*got \(\)"),
        (F.DoubleWell(), np.zeros(2), r"theta must have shape \(1,\) or \(1, \.\.\.\); got \(2,\)"),
        (F.Quadratic.from_eigenvalues([1, 2, 3]), np.zeros(2), r"theta must have shape \(3,\)"),
    ],
)
def test_wrong_theta_shape_is_named(f, bad, message, to_backend):
    for method in (f.value, f.grad, f.hessian, f):
        with pytest.raises(ValueError, match=message):
            method(to_backend(bad))


def test_non_real_theta_is_named():
    with pytest.raises(TypeError, match="theta"):
        F.Saddle().value(np.array([1 + 1j, 0]))
    with pytest.raises(TypeError, match="theta"):
        F.Saddle().value(["a", "b"])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: F.Quadratic(kappa=0.5), r"kappa must be a finite number >= 1.*got 0.5"),
        (lambda: F.Quadratic(kappa=float("nan")), r"kappa must be"),
        (lambda: F.Quadratic(kappa="10"), r"kappa must be"),
        (lambda: F.Quadratic(L=0.0), r"^L must be a finite number > 0.*got 0.0"),
        (lambda: F.Quadratic(L=-1.0), r"^L must be"),
        (lambda: F.Quadratic(angle=float("inf")), r"angle must be"),
        (lambda: F.Quadratic(center=(1.0, 2.0, 3.0)), r"center must have shape \(2,\); got \(3,\)"),
        (lambda: F.Quadratic(center=(1.0, float("nan"))), r"center must be finite"),
        (lambda: F.Quadratic.from_eigenvalues([1.0, -1.0]), r"eigs must be .*positive"),
        (lambda: F.Quadratic.from_eigenvalues([]), r"eigs must be"),
        (lambda: F.Quadratic.from_eigenvalues([[1.0, 2.0]]), r"eigs must be"),
        (lambda: F.Quadratic.from_eigenvalues([1.0, 2.0], rotation_seed=-1), r"rotation_seed must be"),
        (lambda: F.Quadratic.from_eigenvalues([1.0, 2.0], rotation_seed=1.5), r"rotation_seed must be"),
        (lambda: F.Quadratic.from_eigenvalues([1.0, 2.0], center=[0.0]), r"center must have shape \(2,\)"),
        (lambda: F.Rosenbrock(b=0.0), r"^b must be a finite number > 0"),
        (lambda: F.Rosenbrock(a=float("nan")), r"^a must be"),
        (lambda: F.DoubleWell(tilt=3.0), r"tilt must be .*2\*sqrt\(2\)"),
    ],
)
def test_bad_constructor_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_registry():
    names = ("quadratic", "rosenbrock", "beale", "himmelblau", "saddle", "monkey_saddle", "double_well")
    assert F.available() == names
    for name in names:
        f = F.get(name)
        assert isinstance(f, F.Objective) and f.name == name
    assert isinstance(F.get("Double-Well"), F.DoubleWell)
    assert F.get("quadratic", kappa=50.0, angle=0.1).kappa == pytest.approx(50.0)
    assert F.get("rosenbrock", b=10.0).b == 10.0
    for bad in ("rosenbrok", 3):
        with pytest.raises(ValueError, match="unknown objective name") as info:
            F.get(bad)
        assert all(name in str(info.value) for name in names)


# ----------------------------------------------------------------------------- LinearMSE (data-defined)


def line_data(seed=3, n=30, offset=2.0, scale=1.5):
    g = np.random.default_rng(seed)
    x = offset + scale * g.normal(size=n)
    return x, 0.7 * x - 1.0 + 0.3 * g.normal(size=n)


def direct_mse(x, y, w, b):
    return np.mean((w * x + b - y) ** 2)


def test_linear_mse_value_is_the_mean_squared_error_everywhere():
    x, y = line_data()
    surface = F.LinearMSE(x, y)
    g = np.random.default_rng(0)
    for w, b in g.normal(scale=3.0, size=(20, 2)):
        assert float(surface(np.array([w, b]))) == pytest.approx(direct_mse(x, y, w, b), rel=1e-12)
    grid = g.normal(size=(2, 4, 5))
    expected = np.array([[direct_mse(x, y, grid[0, i, j], grid[1, i, j]) for j in range(5)] for i in range(4)])
    np.testing.assert_allclose(surface.value(grid), expected, rtol=1e-12)


def test_linear_mse_gradient_and_hessian_match_the_formulas_and_finite_differences():
    x, y = line_data()
    surface = F.LinearMSE(x, y)
    design = np.column_stack([x, np.ones_like(x)])
    theta = np.array([0.3, -0.4])
    r = design @ theta - y
    np.testing.assert_allclose(surface.grad(theta), 2 / len(x) * design.T @ r, rtol=1e-12)
    np.testing.assert_allclose(surface.hessian(theta), 2 / len(x) * design.T @ design, rtol=1e-12)
    h = 1e-6
    numeric = [
        (direct_mse(x, y, *(theta + h * e)) - direct_mse(x, y, *(theta - h * e))) / (2 * h) for e in np.eye(2)
    ]
    np.testing.assert_allclose(surface.grad(theta), numeric, rtol=1e-7)


def test_linear_mse_minimum_is_the_least_squares_line_of_scikit_learn():
    x, y = line_data()
    surface = F.LinearMSE(x, y)
    sk = SkLinearRegression().fit(x[:, None], y)
    np.testing.assert_allclose(surface.global_minimum, [sk.coef_[0], sk.intercept_], rtol=1e-10)
    assert surface.f_min == pytest.approx(direct_mse(x, y, sk.coef_[0], sk.intercept_), rel=1e-12)
    np.testing.assert_allclose(surface.grad(surface.global_minimum), [0.0, 0.0], atol=1e-12)
    design = np.column_stack([x, np.ones_like(x)])
    assert surface.kappa == pytest.approx(np.linalg.cond(design.T @ design), rel=1e-9)
    assert surface.L == pytest.approx(2 * np.linalg.eigvalsh(design.T @ design / len(x)).max(), rel=1e-12)


def test_linear_mse_start_domain_and_repr():
    x, y = line_data()
    surface = F.LinearMSE(x[:, None], y)  # a column works too
    assert surface.start.tolist() == [0.0, 0.0] and not surface.start.flags.writeable
    (w_lo, w_hi), (b_lo, b_hi) = surface.domain
    assert w_hi - w_lo == pytest.approx(b_hi - b_lo)  # square, for equal axes
    for (lo, hi), start, best in zip(surface.domain, surface.start, surface.global_minimum, strict=True):
        assert lo < start < hi and (lo + hi) / 2 == pytest.approx(best)
    assert repr(surface) == f"LinearMSE(n=30, x̄={np.mean(x):.3g}, sd(x)={np.std(x):.3g})"
    assert not surface.x.flags.writeable and surface.n == 30


@pytest.mark.parametrize(
    ("x", "y", "match"),
    [
        (np.ones(5), np.arange(5.0), "two different values"),
        (np.arange(5.0), np.arange(4.0), "same length"),
        (np.array([0.0, np.nan, 1.0]), np.zeros(3), "NaN"),
        (np.zeros((3, 2)), np.zeros(3), "one feature"),
    ],
)
def test_linear_mse_rejects_bad_data(x, y, match):
    with pytest.raises(ValueError, match=match):
        F.LinearMSE(x, y)


def test_linear_mse_follows_the_backend(backend, to_backend):
    x, y = line_data()
    surface = F.LinearMSE(x, y)
    theta = np.array([0.5, 0.25])
    value = surface.value(to_backend(theta))
    assert type(value) is type(to_backend(theta))
    np.testing.assert_allclose(float(value), direct_mse(x, y, *theta), rtol=1e-12)
    np.testing.assert_allclose(B.to_numpy(surface.grad(to_backend(theta))),
                               surface.grad(theta), rtol=1e-12)
