"""Property-based tests (hypothesis): the exercise codec and comparator on values nobody wrote down.

The grader and the self-check both send every value an answer returns through the codec
(:mod:`gdcourse.exercises.codec`) and judge it with :func:`gdcourse.exercises.core.compare_values`; these
properties must hold for every value of the kinds an answer can return.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gdcourse.exercises import codec
from gdcourse.exercises.core import compare_values, real_scalar

FLOAT_DTYPES = st.sampled_from([np.float16, np.float32, np.float64])
ARRAYS = hnp.arrays(
    dtype=st.one_of(FLOAT_DTYPES, st.sampled_from([np.int8, np.int64, np.bool_])),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**62), 2**62), st.floats(), st.text(max_size=10))
VALUES = st.recursive(
    st.one_of(SCALARS, ARRAYS),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.text(max_size=5), inner, max_size=3),
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_the_codec_round_trip_keeps_the_data(value):
    back = codec.loads(codec.dumps(value))
    assert codec.same_data(value, back)


@settings(max_examples=300, deadline=None)
@given(hnp.arrays(dtype=FLOAT_DTYPES, shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=5)))
def test_an_array_always_matches_itself_and_its_round_trip(array):
    assert compare_values(array, array, rtol=1e-6, atol=0.0, check_dtype=True) is None
    assert compare_values(array, codec.round_trip(array), rtol=1e-6, atol=0.0, check_dtype=True) is None


@settings(max_examples=300, deadline=None)
@given(
    hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=5), elements=st.floats(-1e6, 1e6)),
    st.floats(1.1, 10.0),
)
def test_a_scaled_answer_never_passes(expected, factor):
    if not np.any(np.abs(expected) > 1e-3):
        return  # all (near) zeros: scaling changes nothing the tolerance sees
    problem = compare_values(expected, expected * factor, rtol=1e-6, atol=1e-9, check_dtype=False)
    assert problem is not None and "differ" in problem


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.floats(), st.integers(-(10**12), 10**12)))
def test_real_scalar_agrees_with_float_for_every_number_type(x):
    for form in (x, np.float64(x), np.asarray(x, dtype=np.float64)):
        got = real_scalar(form)
        assert got == float(x) or (math.isnan(got) and math.isnan(float(x)))
