"""07.adam_lr: the requirement never raises, names the cause, and no single learning rate passes every case."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdcourse.backend import to_numpy
from gdcourse.exercises import get
from gdcourse.exercises.catalog.nb07 import _adam_loss

EXERCISE = get("07.adam_lr")
JUNK = [None, "0.1", True, math.nan, math.inf, -0.1, 0.0, [0.1], (0.1, 0.2), np.zeros(2), np.array([0.1]),
        0.1 + 0j, object(), 1e308, 1e-300]  # fmt: skip


@pytest.mark.parametrize("value", JUNK, ids=repr)
def test_junk_is_refused_with_a_reason_and_never_raises(value):
    for case in EXERCISE.cases():
        why = EXERCISE.requirement(case, value)
        assert isinstance(why, str) and why


def test_the_reason_says_which_way_to_go():
    for case in EXERCISE.cases():
        far = max(abs(w) for w in case.key.minimiser)
        assert "larger" in EXERCISE.requirement(case, far / 1e4)
        assert "smaller" in EXERCISE.requirement(case, far * 1e4)
        assert EXERCISE.requirement(case, np.array(far / 3)) is None  # a 0-d array, in the middle of the window


def test_no_single_learning_rate_passes_every_public_case():
    """The notebook says so: the good rates scale with the weights, which differ by factors of 1000."""
    cases = EXERCISE.cases()
    for lr in np.geomspace(1e-6, 1e5, 45):
        passed = [_adam_loss(to_numpy(c.args[0]), to_numpy(c.args[1]), lr, c.args[2]) <= c.args[3] for c in cases]
        assert not all(passed), lr
