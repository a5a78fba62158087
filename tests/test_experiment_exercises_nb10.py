"""10.tune_budget: the requirement judges only the returned setting, refuses one outside the box, never raises."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdcourse.exercises import codec, get
from gdcourse.exercises.catalog.nb10 import ValidationSurface

EXERCISE = get("10.tune_budget")


@pytest.mark.parametrize(
    "junk",
    [None, "0.1", True, 0.01, math.nan, [0.01], [0.01, 0.001, 0.1], (0.01, "0.001"), {"lr": 0.01},
     {"lr": 0.01, "wd": 0.001}, np.array([0.01]), np.array([[0.01, 0.001]]), np.array(["a", "b"]), 1j],
)  # fmt: skip
def test_junk_never_raises_and_says_what_was_expected(junk):
    for case in EXERCISE.cases():
        reason = EXERCISE.requirement(case, junk)
        assert reason and "expected the pair" in reason


@pytest.mark.parametrize(
    "point", [(-3.7, -2.0), (0.0, 1e-3), (2.0, 1e-3), (1e-3, 0.5), (math.inf, 1e-3), (math.nan, 1e-3), (1e-8, 1e-3)]
)
def test_a_point_outside_the_box_is_refused(point):
    for case in EXERCISE.cases():
        reason = EXERCISE.requirement(case, point)
        assert reason and "outside the search space" in reason


def test_only_the_returned_point_counts_whatever_the_search_did():
    for case in EXERCISE.cases():
        surface = case.args[0]
        best = (10**surface.log_lr, 10**surface.log_wd)  # no evaluation at all, yet the best point
        for form in (best, list(best), np.array(best), {"lr": best[0], "weight_decay": best[1]}):
            assert EXERCISE.requirement(case, form) is None
        assert EXERCISE.requirement(case, (best[0] * 10, best[1])) is not None  # a decade off: above the target


def test_the_surface_travels_as_data_and_hides_its_minimum():
    surface = EXERCISE.cases()[0].args[0]
    copy = codec.decode(codec.encode(surface, refs=True), refs=True)
    assert isinstance(copy, ValidationSurface) and copy(lr=1e-3, weight_decay=1e-3) == surface(
        lr=1e-3, weight_decay=1e-3
    )
    assert str(surface.log_lr)[:5] not in repr(surface)
    values = surface(lr=np.array([1e-3, -1.0]), weight_decay=np.array([1e-3, 1e-3]))
    assert values.shape == (2,) and math.isfinite(values[0]) and math.isnan(values[1])
