"""Learner answers to notebook 04's experiment exercise, 04.spot_the_bug (see tests/learner_answers.py)."""

from __future__ import annotations

from learner_answers import right, wrong

E = "04.spot_the_bug"

wrong(
    E,
    "checks-a-sample",
    "checks only the first three entries, as one might on a large network",
    """
    def spot_the_bug(loss_fn, grad_fn, theta):
        from gdcourse.gradcheck import numerical_grad, relative_error

        error = relative_error(grad_fn(theta), numerical_grad(loss_fn, theta, entries=[0, 1, 2]))
        return np.flatnonzero(error[:3] > 1e-6)
""",
    expect=("missed",),
)

wrong(
    E,
    "one-based-indices",
    "counts the entries from 1, as a person would, not from 0",
    """
    def spot_the_bug(loss_fn, grad_fn, theta):
        from gdcourse.gradcheck import numerical_grad, relative_error

        error = relative_error(grad_fn(theta), numerical_grad(loss_fn, theta))
        return [int(k) + 1 for k in np.flatnonzero(error > 1e-6)]
""",
    expect=("missed",),
)

wrong(
    E,
    "returns-the-mask",
    "returns the boolean mask of wrong entries instead of their indices",
    """
    def spot_the_bug(loss_fn, grad_fn, theta):
        from gdcourse.gradcheck import numerical_grad, relative_error

        return relative_error(grad_fn(theta), numerical_grad(loss_fn, theta)) > 1e-6
""",
    expect=("mask",),
)

wrong(
    E,
    "inverted-test",
    "keeps the entries whose error is below the tolerance: the ones that are right",
    """
    def spot_the_bug(loss_fn, grad_fn, theta):
        from gdcourse.gradcheck import numerical_grad, relative_error

        error = relative_error(grad_fn(theta), numerical_grad(loss_fn, theta))
        return np.flatnonzero(error < 1e-6)
""",
    expect=("right at",),
)

wrong(
    E,
    "sign-check-only",
    "flags only the entries whose sign disagrees with finite differences",
    """
    def spot_the_bug(loss_fn, grad_fn, theta):
        from gdcourse.gradcheck import numerical_grad

        numeric = numerical_grad(loss_fn, theta)
        return np.flatnonzero(np.sign(to_numpy(grad_fn(theta))) != np.sign(numeric))
""",
    expect=("missed",),
)

wrong(
    E,
    "large-step-central",
    "central differences with h = 1e-3, too coarse where the loss curves strongly",
    """
    def spot_the_bug(loss_fn, grad_fn, theta):
        analytic = to_numpy(grad_fn(theta))
        wrong_entries = []
        for k in range(theta.shape[0]):
            e = xp.zeros_like(theta)
            e[k] = 1e-3
            numeric = (loss_fn(theta + e) - loss_fn(theta - e)) / 2e-3
            if abs(analytic[k] - numeric) > 1e-6 * max(abs(analytic[k]), abs(numeric)):
                wrong_entries.append(k)
        return wrong_entries
""",
    expect=("central|step",),
)

right(
    E,
    "own-loop-list-of-ints",
    "its own loop of central differences, a list of Python ints",
    """
    def spot_the_bug(loss_fn, grad_fn, theta):
        analytic = to_numpy(grad_fn(theta))
        h = 1e-6
        wrong_entries = []
        for k in range(theta.shape[0]):
            e = xp.zeros_like(theta)
            e[k] = h
            numeric = (loss_fn(theta + e) - loss_fn(theta - e)) / (2 * h)
            if abs(analytic[k] - numeric) / max(abs(analytic[k]), abs(numeric)) > 1e-6:
                wrong_entries.append(k)
        return wrong_entries
""",
)

right(
    E,
    "other-step-and-tolerance",
    "h = 1e-5 and a tolerance of 1e-5, still between rounding and the slips",
    """
    def spot_the_bug(loss_fn, grad_fn, theta):
        from gdcourse.gradcheck import numerical_grad, relative_error

        error = relative_error(grad_fn(theta), numerical_grad(loss_fn, theta, h=1e-5))
        return tuple(int(k) for k in np.where(error > 1e-5)[0])
""",
)
