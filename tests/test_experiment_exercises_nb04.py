"""04.spot_the_bug: its requirement accepts the indices in any form, names missed and false entries, never raises."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from gdcourse.exercises import check, codec, get
from gdcourse.exercises.catalog.nb04 import HandWrittenGradient, RidgeLogisticLoss

EXERCISE = get("04.spot_the_bug")
JUNK = [None, "0.1", True, math.nan, math.inf, -1.0, 1.5, [1.0], np.array([1.0, 2.0]), np.array(np.nan), 1j, 1e300,
        np.ones(7, dtype=bool), [True] * 7, [0, 99], [-1], np.array([[1]]), {"a": 1}, ["1"]]  # fmt: skip


@pytest.mark.parametrize("junk", JUNK, ids=repr)
def test_the_requirement_never_raises_and_says_what_is_wrong(junk):
    for case in EXERCISE.cases():
        reason = EXERCISE.requirement(case, junk)
        assert reason and any(w in reason for w in ("expected", "index must", "right at", "missed"))


def test_the_indices_pass_in_any_form_and_order():
    for case in EXERCISE.cases():
        truth = sorted(case.key)
        for form in (truth, tuple(reversed(truth)), np.array(truth), np.array(truth, dtype=np.int32),
                     [np.int64(k) for k in truth] + truth):  # fmt: skip
            assert EXERCISE.requirement(case, form) is None
    (one,) = EXERCISE.cases()[0].key
    assert EXERCISE.requirement(EXERCISE.cases()[0], one) is None  # a single index


def test_missed_and_false_entries_are_named():
    case = EXERCISE.cases()[1]
    small, large = sorted(case.key, key=lambda k: case.key[k])
    correct = next(k for k in range(7) if k not in case.key)
    reason = EXERCISE.requirement(case, [large, correct])
    assert f"right at entry {correct}" in reason and f"missed entry {small}" in reason
    assert "mask" in EXERCISE.requirement(case, np.isin(np.arange(7), list(case.key)))


def test_the_loss_and_the_gradient_travel_as_data():
    loss, grad, theta = EXERCISE.cases()[2].args
    for obj in (loss, grad):
        back = codec.decode(codec.encode(obj, refs=True), refs=True)
        assert type(back) is type(obj) and codec.same_data(obj, back)
    assert isinstance(loss, RidgeLogisticLoss) and isinstance(grad, HandWrittenGradient)
    assert "seed" not in repr(grad) and "pattern" not in repr(grad)  # feedback does not show where the slips are


def test_a_whole_check_is_fast(capsys):
    start = time.perf_counter()
    assert check("04.spot_the_bug", EXERCISE.reference).passed
    assert time.perf_counter() - start < 1.0
