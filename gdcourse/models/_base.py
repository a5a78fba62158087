r"""The training loop shared by every linear estimator: (minibatch) gradient descent on a penalised loss.

A model has weights :math:`W` (``n_features x k``) and an intercept :math:`b` (``k``), scores
:math:`S = XW + b`, and minimises

.. math::
    J(W, b) = \underbrace{D(S, y)}_{\text{data term}}
              + \alpha_1 \lVert W\rVert_1 + \frac{\alpha_2}{2}\lVert W\rVert_2^2

(:func:`gdcourse.regularization.penalty_strengths` turns ``penalty``, ``alpha``, ``l1_ratio`` into
:math:`\alpha_1, \alpha_2`; the intercept is never penalised).  Each update uses the gradient of the
data term on a minibatch plus :math:`\alpha_2 W`; the L1 part is handled by a proximal
(soft-thresholding) step :math:`W \leftarrow S_{\eta\alpha_1}(W)` after the update (``l1_method="prox"``,
proximal gradient descent / ISTA for ``optimizer="gd"``), or by adding the subgradient
:math:`\alpha_1 \operatorname{sign}(W)` (``l1_method="subgradient"``).
"""

from __future__ import annotations

import copy
import math
import warnings
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
from array_api_compat import device
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from gdcourse import divergence, optim
from gdcourse.backend import array_namespace, dtype_of, to_numpy
from gdcourse.data import cut_into_batches, train_val_split
from gdcourse.descent import DivergenceError
from gdcourse.regularization import EarlyStopping, penalty_strengths, soft_threshold

from ._validation import check_fit_data, check_predict_data, is_host

Array = Any

#: Rules whose safe step size is set by the curvature: ``lr="auto"`` gives them 1/L.
CURVATURE_STEP_RULES = ("gd", "sgd", "heavy_ball", "nesterov")

#: Declare divergence when the objective exceeds this factor times its starting value (as in ``descent``).
DIVERGENCE_FACTOR = divergence.DIVERGENCE_FACTOR

#: The estimators' own sentence, added to the verdict of :mod:`gdcourse.divergence` when the learning rate is blamed.
DIVERGENCE_HINT = (
    "For an estimator: pass a smaller lr (or lr='auto'), and standardise the features "
    "(e.g. Pipeline([('scale', StandardScaler()), ('model', ...)]))"
)


def _epoch_batches(xp: Any, rs: np.random.RandomState, n: int, batch: int | None, X: Array) -> list[Array | None]:
    """The row indices of one epoch's minibatches, on ``X``'s device: pieces of a permutation drawn from ``rs``.

    ``[None]`` (all rows, nothing drawn) for full-batch descent.  ``rs`` is scikit-learn's
    ``random_state`` generator, so the order follows scikit-learn's seeding conventions.
    """
    if batch is None:
        return [None]
    return cut_into_batches(xp.asarray(rs.permutation(n), device=device(X)), batch)


@dataclass
class FitHistory:
    r"""What happened during ``fit``, epoch by epoch (host NumPy arrays).

    Index 0 of every per-epoch array is the starting point (all weights 0), index ``e`` the end of
    epoch ``e``; so each has ``n_epochs + 1`` entries.

    Attributes
    ----------
    train_loss : ndarray
        The model's loss (MSE, log loss, cross-entropy, hinge) on the training data, without penalty.
    val_loss : ndarray or None
        The same loss on the validation data (only with ``early_stopping=True``).
    objective : ndarray
        The objective :math:`J` that gradient descent minimises (data term + penalty) on the training data.
    grad_norm : ndarray
        :math:`\lVert\nabla J\rVert_2` on the training data (the minimum-norm subgradient with an L1 penalty),
        which is 0 exactly at the minimum.
    lr : ndarray
        Learning rate of the first update of each epoch (``n_epochs`` entries).
    stop_reason : str
        ``"max_epochs"``, ``"tol"``, ``"early_stopping"`` or ``"diverged"``.
    message : str
        A sentence saying why training stopped.
    best_epoch : int or None
        With early stopping, the epoch whose parameters were kept.
    label : str
        A name for plot legends.
    """

    train_loss: np.ndarray
    val_loss: np.ndarray | None
    objective: np.ndarray
    grad_norm: np.ndarray
    lr: np.ndarray
    stop_reason: str = "max_epochs"
    message: str = ""
    best_epoch: int | None = None
    label: str = ""

    @property
    def losses(self) -> np.ndarray:
        """The objective per epoch, so ``gdcourse.plots`` can draw a history directly."""
        return self.objective

    @property
    def n_epochs(self) -> int:
        """Number of epochs run."""
        return len(self.objective) - 1

    def __repr__(self) -> str:
        return (
            f"FitHistory({self.label + ', ' if self.label else ''}n_epochs={self.n_epochs}, "
            f"final objective={self.objective[-1]:.4g}, stop_reason={self.stop_reason!r})"
        )


class SubgradientSchedule:
    r"""Decreasing steps for subgradient descent on the hinge loss (``lr="auto"``).

    .. math::
        \eta_t = \frac{1}{\alpha_2 (t + t_0)},\quad t_0 = L / \alpha_2
        \qquad\text{or, without an L2 penalty,}\qquad \eta_t = \frac{1}{L\sqrt{1 + t}},

    both starting at :math:`\eta_0 = 1/L`.  The first is the classic rate for an
    :math:`\alpha_2`-strongly convex objective (Pegasos; scikit-learn's ``SGDClassifier`` "optimal"
    schedule), the second the textbook :math:`1/\sqrt t` decay for a merely convex one.

    Parameters
    ----------
    L : float
        Curvature scale :math:`L > 0` (:math:`\lambda_{\max}(\tilde X^\top \tilde X / n)`).
    alpha2 : float
        L2 strength :math:`\alpha_2 \ge 0`.
    """

    def __init__(self, L: float, alpha2: float = 0.0) -> None:
        self.L = float(L)
        self.alpha2 = float(alpha2)

    def __call__(self, step: int) -> float:
        """Learning rate of update ``step`` (0 for the first)."""
        if self.alpha2 > 0:
            return 1.0 / (self.alpha2 * step + self.L)
        return 1.0 / (self.L * math.sqrt(1.0 + step))

    def __repr__(self) -> str:
        return f"SubgradientSchedule(L={self.L:.4g}, alpha2={self.alpha2:.4g})"


COMMON_PARAMETERS = """
    penalty : {None, "l1", "l2", "elasticnet"}
        Regulariser :math:`R(W) = \\alpha_1\\lVert W\\rVert_1 + \\frac{\\alpha_2}{2}\\lVert W\\rVert_2^2` with
        :math:`(\\alpha_1, \\alpha_2) = (0, 0)`, :math:`(\\alpha, 0)`, :math:`(0, \\alpha)` or
        :math:`(\\alpha r, \\alpha(1-r))`; the intercept is not penalised.
    alpha : float, default 1e-4
        Strength :math:`\\alpha \\ge 0` (ignored when ``penalty=None``).
    l1_ratio : float, default 0.15
        :math:`r \\in [0, 1]`, used by ``penalty="elasticnet"`` only.
    fit_intercept : bool, default True
        Learn :math:`b`; otherwise :math:`b = 0`.
    optimizer : str or optimizer object, default "gd"
        A name of :data:`gdcourse.optim.OPTIMIZERS` (``"gd"``, ``"sgd"``, ``"nesterov"``, ``"adam"``, ...),
        built with ``lr`` and ``optimizer_kwargs``; or an object with ``init``/``step`` (e.g.
        ``gdcourse.optim.adam(lr=0.01)``), which brings its own learning rate.
    lr : "auto", float or callable, default "auto"
        Learning rate :math:`\\eta > 0`, or a schedule ``step -> lr`` (``step`` counts updates;
        a :class:`~gdcourse.schedules.ReduceOnPlateau` is told the monitored loss after every epoch).
        ``"auto"``: :math:`1/L` for ``gd``, ``sgd``, ``heavy_ball`` and ``nesterov``, where :math:`L` bounds
        the curvature of the objective (full batch:
        :math:`c\\,\\lambda_{\\max}(\\tilde X^\\top\\tilde X/n) + \\alpha_2`;
        minibatches: :math:`c \\max_i \\lVert\\tilde x_i\\rVert^2 + \\alpha_2`, with :math:`\\tilde X = [X, 1]` and
        :math:`c` the loss's curvature bound); for the hinge loss decreasing steps from :math:`1/L`
        (:class:`SubgradientSchedule`); for adaptive rules (Adam, RMSprop, ...) the rule's own default.
    optimizer_kwargs : dict, optional
        Other hyperparameters of the named optimizer, e.g. ``{"momentum": 0.9}``.
    batch_size : int, optional
        ``None`` (default): full-batch gradient descent, one update per epoch.  Otherwise minibatches of
        this size, reshuffled every epoch with a host generator seeded by ``random_state``.
    max_epochs : int, default 1000
        Passes over the training data.
    tol : float or None, default 1e-4
        Stop when the gradient of the objective on the training data has shrunk to ``tol`` times its
        initial norm, :math:`\\lVert\\nabla J(\\theta_e)\\rVert \\le \\text{tol}\\,\\lVert\\nabla J(\\theta_0)\\rVert`
        (with L1, the minimum-norm subgradient: the optimality condition itself).  A
        ``ConvergenceWarning`` says when ``max_epochs`` ran out first.  ``None``: always run ``max_epochs``.
        Ignored for ``loss="hinge"``, whose subgradient need not vanish at the minimum.
    patience : int, default 5
        With ``early_stopping``: epochs without a lower validation loss before stopping.
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the training data, monitor the loss on it, stop after
        ``patience`` epochs without improvement and keep the parameters of the best epoch.
    validation_fraction : float, default 0.1
        Size of that validation set, in (0, 1).
    l1_method : {"prox", "subgradient"}, default "prox"
        How the L1 part of the penalty is handled: soft-thresholding after each update, i.e. proximal
        gradient descent (ISTA; exact zeros; needs ``optimizer="gd"`` or ``"sgd"`` without momentum), or
        its subgradient added to the gradient (any optimizer; weights hover near zero, never exactly 0).
    random_state : int, RandomState or None
        Seeds the minibatch shuffling and the validation split.
"""

COMMON_ATTRIBUTES = """
        ``coef_`` and ``intercept_`` are host NumPy arrays (what scikit-learn tools expect), whatever the
        backend of the training data; predictions move them to the input's library and device.
    n_iter_ : int
        Number of epochs run.
    n_features_in_ : int
        Number of features seen by ``fit``.
    history_ : FitHistory
        Per-epoch training loss, objective, validation loss (with early stopping), learning rates, and why
        training stopped.  ``gdcourse.plots.plot_loss(model.history_)`` draws it.
    lr_ : float or callable
        The learning rate actually used (the value of ``lr="auto"``).

    Notes
    -----
    Data that are NumPy arrays (or lists, pandas frames, ...) are validated by scikit-learn and the
    model trains in NumPy; arrays of another array-API library (CuPy, torch, ``array_api_strict``) are
    checked with array-API calls and the whole fit runs in that library, on the data's device.
    NaN or inf in ``X`` or ``y`` is refused before training, with the count and the first position.
    Divergence (a non-finite objective or weights, or an objective grown a millionfold) raises
    :class:`gdcourse.descent.DivergenceError` naming the epoch and the cause, as decided by
    :func:`gdcourse.divergence.classify` for every loop of the course (a learning rate too large, or a
    numerical problem such as ``eps=0`` on an all-zero feature); a run that ends ``max_epochs`` far above
    its starting objective warns with :class:`gdcourse.divergence.UnstableRunWarning`.
"""


def document(extra_parameters: str = "", attributes: str = "") -> Any:
    """Class decorator: insert the shared Parameters/Attributes sections before the docstring's Examples.

    Parameters
    ----------
    extra_parameters : str
        The estimator's own entries, written before :data:`COMMON_PARAMETERS` (numpydoc lines
        indented by 4 spaces, starting with a newline); empty when it has none.
    attributes : str
        Its own ``Attributes`` entries (``coef_``, ``intercept_``, ``classes_``...), written before
        :data:`COMMON_ATTRIBUTES`, in the same form.

    Returns
    -------
    callable
        The decorator, which rewrites ``cls.__doc__`` and returns the class.
    """

    def decorate(cls: type) -> type:
        head, sep, tail = (cls.__doc__ or "").partition("\n    Examples\n")
        sections = (
            "\n\n    Parameters\n    ----------"
            + extra_parameters
            + COMMON_PARAMETERS
            + "\n    Attributes\n    ----------"
            + attributes
            + COMMON_ATTRIBUTES
        )
        cls.__doc__ = head.rstrip() + sections + (sep + tail if sep else "")
        return cls

    return decorate


class LinearGDModel(BaseEstimator):
    """Base class: the fit loop; subclasses supply the data term, target encoding and predictions."""

    #: Bound :math:`c` on the curvature of the data term per unit :math:`\\lVert\\tilde x\\rVert^2`; None: not smooth.
    _curvature: float | None = 1.0
    #: Name of the loss reported in ``history_.train_loss``.
    _loss_label = "loss"
    #: The reported loss is this multiple of the data term (2 for the half-MSE of regression).
    _loss_scale = 1.0
    _is_classifier = False

    # -- hooks -----------------------------------------------------------------------------------

    def _encode_targets(self, y: Array, X: Array) -> tuple[Array, int]:
        """Targets in the form the data term takes, and the number of score columns ``k``."""
        raise NotImplementedError

    def _data_term(self, xp: Any, S: Array, T: Array) -> Array:
        """The data term :math:`D(S, T)` of the objective (0-d array)."""
        raise NotImplementedError

    def _data_grad(self, xp: Any, S: Array, T: Array) -> Array:
        r""":math:`\partial D / \partial S`, shape ``(n, k)``."""
        raise NotImplementedError

    def _loss(self, xp: Any, S: Array, T: Array) -> Array:
        """The loss reported in the history: ``_loss_scale`` times the data term."""
        return self._loss_scale * self._data_term(xp, S, T)

    def _store_coef(self, W: np.ndarray, b: np.ndarray) -> None:
        """Set ``coef_`` and ``intercept_`` from host ``W`` (p, k) and ``b`` (k,)."""
        self.coef_ = np.ascontiguousarray(W.T)
        self.intercept_: np.ndarray | float = b  # LinearRegression stores a float

    # -- hyperparameters -------------------------------------------------------------------------

    def _check_params(self) -> dict[str, Any]:
        p: dict[str, Any] = {}
        p["alpha1"], p["alpha2"] = penalty_strengths(self.penalty, self.alpha, self.l1_ratio)
        lr = self.lr
        # The ignores below: typeshed's numbers.Real declares only < and <=, while every real number type
        # (int, float, Fraction, NumPy and SymPy numbers...) also has > and >=.
        if not (lr == "auto" if isinstance(lr, str) else callable(lr)):
            if (
                isinstance(lr, bool)
                or not isinstance(lr, Real)
                or not (
                    math.isfinite(lr) and lr > 0  # type: ignore[operator]
                )
            ):
                raise ValueError(f"lr must be 'auto', a positive finite number or a schedule (step -> lr), got {lr!r}")
        p["batch_size"] = _optional_int("batch_size", self.batch_size, 1)
        p["max_epochs"] = _int("max_epochs", self.max_epochs, 1)
        p["patience"] = _int("patience", self.patience, 1)
        tol = self.tol
        if tol is not None and (
            isinstance(tol, bool) or not isinstance(tol, Real) or not tol >= 0  # type: ignore[operator]
        ):
            raise ValueError(f"tol must be a number >= 0 or None, got {self.tol!r}")
        for name in ("early_stopping", "fit_intercept"):
            if not isinstance(getattr(self, name), bool | np.bool_):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        vf = self.validation_fraction
        if isinstance(vf, bool) or not isinstance(vf, Real) or not 0 < vf < 1:  # type: ignore[operator]
            raise ValueError(f"validation_fraction must be a number in (0, 1), got {vf!r}")
        if self.l1_method not in ("prox", "subgradient"):
            raise ValueError(f"l1_method must be 'prox' or 'subgradient', got {self.l1_method!r}")
        kwargs = self.optimizer_kwargs
        if kwargs is not None and not isinstance(kwargs, dict):
            raise ValueError(f"optimizer_kwargs must be a dict or None, got {type(kwargs).__name__}")
        return p

    def _make_optimizer(self, X: Array, p: dict[str, Any]) -> tuple[Any, Any]:
        kwargs = dict(self.optimizer_kwargs or {})
        if isinstance(self.optimizer, str):
            if "lr" in kwargs:
                raise ValueError("optimizer_kwargs must not contain 'lr'; pass lr=... to the estimator")
            if "weight_decay" in kwargs:
                raise ValueError(
                    "optimizer_kwargs must not contain 'weight_decay'; use penalty='l2' and alpha (weight decay "
                    "would also shrink the intercept and would be missing from the objective)"
                )
            name = self.optimizer.lower()
            if name not in optim.OPTIMIZERS:
                raise ValueError(
                    f"unknown optimizer {self.optimizer!r}; known optimizers: {', '.join(optim.OPTIMIZERS)}"
                )
            lr = copy.deepcopy(self.lr)  # a stateful schedule (ReduceOnPlateau) starts afresh every fit
            if hasattr(lr, "observe") and hasattr(lr, "reset"):
                lr.reset()
            if isinstance(lr, str):  # "auto"
                lr = self._auto_lr(X, p) if name in CURVATURE_STEP_RULES else None
            if lr is not None:
                kwargs["lr"] = lr
            try:
                opt = optim.get(name, **kwargs)
            except (TypeError, ValueError) as err:
                raise ValueError(f"optimizer {name!r} with optimizer_kwargs={self.optimizer_kwargs!r}: {err}") from None
            return opt, opt.lr
        if hasattr(self.optimizer, "init") and hasattr(self.optimizer, "step"):
            if not (isinstance(self.lr, str) and self.lr == "auto") or kwargs:
                raise ValueError(
                    "optimizer is an optimizer object, which carries its own learning rate and hyperparameters; "
                    "leave lr='auto' and optimizer_kwargs=None"
                )
            opt = copy.deepcopy(self.optimizer)
            return opt, getattr(opt, "lr", None)
        raise ValueError(
            "optimizer must be a name such as 'gd' or 'adam', or an optimizer from gdcourse.optim; "
            f"got {self.optimizer!r}"
        )

    def _auto_lr(self, X: Array, p: dict[str, Any]) -> Any:
        xp = array_namespace(X)
        n = X.shape[0]
        Xt = X
        if self.fit_intercept:
            Xt = xp.concat([X, xp.ones((n, 1), dtype=X.dtype, device=device(X))], axis=1)
        if p["batch_size"] is None or p["batch_size"] >= n:
            gram = (Xt.T @ Xt) / n if Xt.shape[1] <= n else (Xt @ Xt.T) / n
            curvature = float(xp.max(xp.linalg.eigvalsh(gram)))
        else:
            curvature = float(xp.max(xp.sum(Xt * Xt, axis=1)))
        c = 1.0 if self._curvature is None else self._curvature
        L = c * curvature + p["alpha2"]
        if not (math.isfinite(L) and L > 0):
            raise ValueError(f"lr='auto' found no curvature in X (L = {L}); pass lr explicitly")
        return SubgradientSchedule(L, p["alpha2"]) if self._curvature is None else 1.0 / L

    # -- fit -------------------------------------------------------------------------------------

    def fit(self, X: Any, y: Any) -> LinearGDModel:
        """Train by gradient descent on ``X`` (n_samples, n_features) and ``y`` (n_samples,); return ``self``.

        Parameters
        ----------
        X : array-like or array-API array, shape (n_samples, n_features)
            Training inputs: host data (NumPy, lists, pandas) or an array of another array-API
            library, where the whole fit then runs.  NaN or inf is refused (``ValueError``).
        y : array-like or array-API array, shape (n_samples,)
            Targets (class labels for a classifier), from the same library as ``X``.

        Returns
        -------
        self
            The fitted estimator (``coef_``, ``intercept_``, ``history_``...).
        """
        p = self._check_params()
        divergence.check_data("X", X)
        divergence.check_data("y", y)
        X, y = check_fit_data(self, X, y, classifier=self._is_classifier)
        xp = array_namespace(X)
        T, k = self._encode_targets(y, X)
        rs = check_random_state(self.random_state)
        X_val = T_val = None
        if self.early_stopping:
            seed = int(rs.randint(np.iinfo(np.int32).max))
            X, X_val, T, T_val = train_val_split(X, T, self.validation_fraction, seed=seed)
        opt, lr = self._make_optimizer(X, p)
        W = xp.zeros((X.shape[1], k), dtype=X.dtype, device=device(X))
        b = xp.zeros((k,), dtype=X.dtype, device=device(X))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # overflow is reported as divergence
            W, b, history = self._descend(xp, opt, p, rs, X, T, X_val, T_val, W, b)
        self._store_coef(to_numpy(W), to_numpy(b))
        self.lr_ = lr
        self.n_iter_ = history.n_epochs
        self.history_ = history
        return self

    def _penalty(self, W: Array, p: dict[str, Any]) -> float:
        xp = array_namespace(W)
        value = 0.0
        if p["alpha1"]:
            value += p["alpha1"] * float(xp.sum(xp.abs(W)))
        if p["alpha2"]:
            value += 0.5 * p["alpha2"] * float(xp.sum(W * W))
        return value

    def _gradients(self, xp: Any, Xb: Array, Tb: Array, W: Array, b: Array, p: dict[str, Any]) -> list[Array]:
        dS = self._data_grad(xp, Xb @ W + b, Tb)
        gW = Xb.T @ dS
        if p["alpha2"]:
            gW = gW + p["alpha2"] * W
        if p["alpha1"] and self.l1_method == "subgradient":
            gW = gW + p["alpha1"] * xp.sign(W)
        return [gW, xp.sum(dS, axis=0)] if self.fit_intercept else [gW]

    def _descend(
        self,
        xp: Any,
        opt: Any,
        p: dict[str, Any],
        rs: np.random.RandomState,
        X: Array,
        T: Array,
        X_val: Array | None,
        T_val: Array | None,
        W: Array,
        b: Array,
    ) -> tuple[Array, Array, FitHistory]:
        r"""Gradient descent from ``W, b`` on ``(X, T)``, an epoch at a time; the final ``W, b`` and the history.

        The loop (``run`` is a :class:`_Descent`: the records, and how an epoch ends)::

            run.start(W, b, params)                                 # epoch 0: the first record
            for epoch in range(1, max_epochs + 1):
                run.curves["lr"].append(_lr_of(opt, state))         # the rate of the epoch's first update
                for idx in _epoch_batches(xp, rs, n, batch, X):     # a fresh permutation in minibatches
                    params, state = self._step(..., idx, prox)      # θ ← θ − η ∇J_B (then the soft-threshold)
                run.record(W, b)                                    # loss, objective J, ‖∇J‖, validation loss
                if run.end_of_epoch(epoch, params) is not None:     # diverged (raises), early stopping or tol
                    break

        Running out of epochs warns (:meth:`_warn_unfinished`).
        """
        n = X.shape[0]
        batch = p["batch_size"] if p["batch_size"] is not None and p["batch_size"] < n else None
        prox = _uses_prox(opt, p, self.l1_method)
        run = _Descent(self, xp, opt, p, X, T, X_val, T_val)
        params = [W, b] if self.fit_intercept else [W]
        run.start(W, b, params)
        state = opt.init(params)
        for epoch in range(1, p["max_epochs"] + 1):
            run.curves["lr"].append(_lr_of(opt, state))
            for idx in _epoch_batches(xp, rs, n, batch, X):
                params, state = self._step(xp, opt, p, params, state, X, T, b, idx, prox)
            W, b = self._unpack(params, b)
            run.record(W, b)
            kept = run.end_of_epoch(epoch, params)
            if kept is not None:
                W, b = self._unpack(kept, b)
                break
        else:
            obj0, g0 = run.curves["objective"][0], run.curves["grad_norm"][0]
            self._warn_unfinished(run.curves, p, obj0, g0, minibatches=batch is not None)
        return W, b, run.history()

    def _unpack(self, params: list[Array], b: Array) -> tuple[Array, Array]:
        """``W`` and ``b`` from the optimizer's parameter list (``b`` unchanged without an intercept)."""
        return params[0], (params[1] if self.fit_intercept else b)

    def _step(
        self,
        xp: Any,
        opt: Any,
        p: dict[str, Any],
        params: list[Array],
        state: Any,
        X: Array,
        T: Array,
        b: Array,
        idx: Array | None,
        prox: bool,
    ) -> tuple[list[Array], Any]:
        r"""One update on the rows ``idx`` (all when ``None``): :math:`\theta \leftarrow \theta - \eta\,\nabla J_B`.

        With ``prox`` (L1 by proximal gradient descent) the step is followed by the soft-threshold
        :math:`W \leftarrow \operatorname{sign}(W)\max(|W| - \eta\alpha_1, 0)`.
        """
        Xb = X if idx is None else xp.take(X, idx, axis=0)
        Tb = T if idx is None else xp.take(T, idx, axis=0)
        lookahead = getattr(opt, "needs_lookahead", False)
        point = opt.lookahead(params, state) if lookahead else params  # Nesterov's look-ahead form
        grads = self._gradients(xp, Xb, Tb, point[0], point[1] if self.fit_intercept else b, p)
        eta = opt.lr_at(state.t) if prox else None
        params, state = opt.step(params, grads, state)
        if prox:
            params = [soft_threshold(params[0], eta * p["alpha1"]), *params[1:]]
        return params, state

    def _warn_unfinished(
        self, curves: dict[str, list[float]], p: dict[str, Any], obj0: float, g0: float, *, minibatches: bool
    ) -> None:
        """At ``max_epochs``: warn about a run that ended far above its start, else about one that did not converge."""
        unstable = divergence.warn_if_unstable(
            obj0,
            curves["objective"][-1],
            step=p["max_epochs"],
            lr=curves["lr"][-1],
            unit="epoch",
            hint=DIVERGENCE_HINT,
            stacklevel=4,
        )
        if unstable is None and self._curvature is not None and self.tol is not None:
            noise = " (minibatch gradients are noisy: decay lr or enlarge batch_size)" if minibatches else ""
            warnings.warn(
                f"{type(self).__name__} did not converge in max_epochs={p['max_epochs']} epochs: the gradient norm "
                f"is still {curves['grad_norm'][-1]:.3g} > tol * {g0:.3g}{noise}; increase max_epochs, use a "
                "momentum optimizer, or standardise the features",
                ConvergenceWarning,
                stacklevel=4,
            )

    def _stationarity(self, xp: Any, X: Array, S: Array, T: Array, W: Array, p: dict[str, Any]) -> float:
        r"""Norm of the (minimum-norm sub)gradient of :math:`J` on the full training set: 0 exactly at the minimum.

        For the L1 part the minimum-norm subgradient is :math:`g_j + \alpha_1 \operatorname{sign}(w_j)` where
        :math:`w_j \ne 0` and :math:`S_{\alpha_1}(g_j)` where :math:`w_j = 0` (the lasso's optimality condition).
        """
        dS = self._data_grad(xp, S, T)
        gW = X.T @ dS
        if p["alpha2"]:
            gW = gW + p["alpha2"] * W
        if p["alpha1"]:
            gW = xp.where(W != 0, gW + p["alpha1"] * xp.sign(W), soft_threshold(gW, p["alpha1"]))
        total = float(xp.sum(gW * gW))
        if self.fit_intercept:
            total += float(xp.sum(xp.sum(dS, axis=0) ** 2))
        return math.sqrt(total)

    def _history(self, curves: dict[str, list[float]], stop_reason: str, message: str, best: int | None) -> FitHistory:
        opt_name = self.optimizer if isinstance(self.optimizer, str) else getattr(self.optimizer, "name", "optimizer")
        return FitHistory(
            train_loss=np.asarray(curves["train"]),
            grad_norm=np.asarray(curves["grad_norm"]),
            val_loss=np.asarray(curves["val"]) if self.early_stopping else None,
            objective=np.asarray(curves["objective"]),
            lr=np.asarray(curves["lr"], dtype=np.float64),
            stop_reason=stop_reason,
            message=message,
            best_epoch=best,
            label=f"{type(self).__name__} ({opt_name})",
        )

    # -- prediction helpers ----------------------------------------------------------------------

    def _scores(self, X: Any) -> Array:
        """Validated ``X`` times the weights plus intercept: scores ``(n, k)`` in ``X``'s library."""
        check_is_fitted(self, "coef_")
        X = check_predict_data(self, X)
        xp = array_namespace(X)
        W, b = self._weights()
        kw = {"dtype": X.dtype, "device": device(X)}
        return X @ xp.asarray(W, **kw) + xp.asarray(b, **kw)

    def _weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Host ``W`` (p, k) and ``b`` (k,) from ``coef_`` / ``intercept_``."""
        coef = np.asarray(self.coef_)
        W = coef.reshape(-1, 1) if coef.ndim == 1 else coef.T
        return W, np.asarray(self.intercept_, dtype=W.dtype).reshape(-1)

    @staticmethod
    def _sklearn_scores(X: Any, y: Any, sample_weight: Any) -> bool:
        """Whether scikit-learn's ``score`` applies (host data or sample weights) rather than the array-API one."""
        return sample_weight is not None or is_host(X) or is_host(y)


def _uses_prox(opt: Any, p: dict[str, Any], l1_method: str) -> bool:
    """Whether the L1 part is handled by the soft-threshold; refuses optimizers whose steps it does not fit."""
    prox = p["alpha1"] > 0 and l1_method == "prox"
    if prox and not _plain_step(opt):
        raise ValueError(
            f"l1_method='prox' is proximal gradient descent: it needs plain gradient steps (optimizer 'gd', or "
            f"'sgd' without momentum), got {opt!r}. With momentum or adaptive rules the soft-threshold does not "
            "match the step and the fixed point is not the L1 solution; use l1_method='subgradient' "
            "(no exact zeros) or optimizer='gd'"
        )
    return prox


class _Descent:
    """The records of one :meth:`LinearGDModel._descend` and how each epoch ends it.

    ``curves`` holds the lists of :class:`FitHistory` (``train``, ``objective``, ``val``, ``grad_norm``,
    ``lr``); :meth:`end_of_epoch` gives the divergence verdict, tells a ``ReduceOnPlateau`` rate the
    monitored loss, and asks early stopping and ``tol`` whether to stop.
    """

    def __init__(
        self,
        model: LinearGDModel,
        xp: Any,
        opt: Any,
        p: dict[str, Any],
        X: Array,
        T: Array,
        X_val: Array | None,
        T_val: Array | None,
    ) -> None:
        self.model, self.xp, self.p = model, xp, p
        self.X, self.T, self.X_val, self.T_val = X, T, X_val, T_val
        self.plateau = getattr(getattr(opt, "lr", None), "observe", None)  # a ReduceOnPlateau schedule
        self.eps, self.dtype = divergence.optimizer_eps(opt), dtype_of(X)
        self.curves: dict[str, list[float]] = {"train": [], "objective": [], "val": [], "grad_norm": [], "lr": []}
        self.stopper: EarlyStopping | None = None
        self.stop_reason, self.message = "max_epochs", f"reached max_epochs={p['max_epochs']}"

    def record(self, W: Array, b: Array) -> None:
        """Append the training loss, the objective, the validation loss and the gradient norm at ``W, b``."""
        model, xp, X, T, curves = self.model, self.xp, self.X, self.T, self.curves
        S = X @ W + b
        term = float(model._data_term(xp, S, T))
        curves["train"].append(model._loss_scale * term)
        curves["objective"].append(term + model._penalty(W, self.p))
        val = math.nan if self.X_val is None else float(model._loss(xp, self.X_val @ W + b, self.T_val))
        curves["val"].append(val)
        curves["grad_norm"].append(model._stationarity(xp, X, S, T, W, self.p))

    def start(self, W: Array, b: Array, params: list[Array]) -> None:
        """Record the starting point (epoch 0), and show it to early stopping when the model asks for it."""
        self.record(W, b)
        if self.model.early_stopping:
            self.stopper = EarlyStopping(self.p["patience"], restore_best=True)
            self.stopper.update(self.curves["val"][0], params)

    def end_of_epoch(self, epoch: int, params: list[Array]) -> list[Array] | None:
        """After the record of ``epoch``: ``None`` to go on, else the parameters to keep (training stops).

        Raises :class:`~gdcourse.descent.DivergenceError` with the verdict of :func:`gdcourse.divergence.classify`.
        """
        curves = self.curves  # non-finite weights make the objective NaN too: one verdict covers both
        problem = divergence.classify(
            curves["objective"],
            True,
            epoch,
            curves["lr"][-1],
            self.dtype,
            eps=self.eps,
            unit="epoch",
            hint=DIVERGENCE_HINT,
        )
        if problem is not None:
            message = f"{type(self.model).__name__} {problem.message}"
            raise DivergenceError(message, self.model._history(curves, "diverged", message, None), problem)
        if self.plateau is not None:
            self.plateau(curves["val"][-1] if self.model.early_stopping else curves["objective"][-1])
        if self.stopper is not None and self.stopper.update(curves["val"][-1], params):
            return self._stop_early(params)
        if self._converged(epoch):
            return params
        return None

    def _stop_early(self, params: list[Array]) -> list[Array]:
        """Early stopping said stop: the parameters of the best epoch, and why."""
        assert self.stopper is not None
        self.stop_reason = "early_stopping"
        self.message = (
            f"validation loss did not improve for {self.p['patience']} epochs; kept the parameters of "
            f"epoch {self.stopper.best_epoch} (validation loss {self.stopper.best_loss:.4g})"
        )
        return self.stopper.restore(params)

    def _converged(self, epoch: int) -> bool:
        """Whether the gradient norm has shrunk to ``tol`` times its first value (smooth losses only)."""
        tol, g0, g = self.model.tol, self.curves["grad_norm"][0], self.curves["grad_norm"][-1]
        if self.model._curvature is None or tol is None or not g <= tol * g0:
            return False
        self.stop_reason = "tol"
        self.message = f"gradient norm {g:.3g} <= tol * initial gradient norm ({tol:g} * {g0:.3g}) at epoch {epoch}"
        return True

    def history(self) -> FitHistory:
        """The :class:`FitHistory` of the run as it ended."""
        best = self.stopper.best_epoch if self.stopper is not None else None
        return self.model._history(self.curves, self.stop_reason, self.message, best)


def _plain_step(opt: Any) -> bool:
    """Whether ``opt`` takes plain steps ``theta - lr * g`` (so a proximal step after it is exact ISTA)."""
    hyper = getattr(opt, "hyperparams", {})
    if not hasattr(opt, "lr_at") or hyper.get("weight_decay") or hyper.get("maximize"):
        return False
    return getattr(opt, "name", None) == "gd" or (getattr(opt, "name", None) == "sgd" and not hyper.get("momentum"))


def _lr_of(opt: Any, state: Any) -> float:
    try:
        return float(opt.lr_at(state.t))
    except AttributeError:
        lr = getattr(opt, "lr", None)
        return float(lr) if isinstance(lr, Real) else math.nan


def _int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _optional_int(name: str, value: Any, low: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{name} must be None or an integer >= {low}, got {value!r}")
    return int(value)


__all__ = ["FitHistory", "SubgradientSchedule", "LinearGDModel", "document"]
