"""gdcourse.exercises.diagnosis: computed diagnoses of wrong answers (relations between got and expected)."""

from __future__ import annotations

import inspect
import time

import numpy as np
import pytest

from gdcourse.exercises import get
from gdcourse.exercises.diagnosis import describe_difference

RNG = np.random.default_rng(20240601)


def vec(*shape: int) -> np.ndarray:
    """Random float64 entries, none near 0 (so relations are never degenerate)."""
    x = RNG.normal(size=shape)
    return x + np.where(x < 0, -0.1, 0.1)


GD_NAMES = ("theta", "grad", "lr")


def gd_case(k: int = 4, lr: float = 0.1) -> tuple[np.ndarray, tuple]:
    theta, grad = vec(k), vec(k)
    return theta - lr * grad, (theta, grad, lr)


# --- sign and factors ---------------------------------------------------------------------------


def test_sign_flip():
    e = vec(5)
    text = describe_difference(e, -e)
    assert text is not None and "sign is flipped" in text and "minus sign" in text
    assert "step" not in text and "ascending" not in text  # a flipped result is not an update that climbs


def test_sign_flip_of_an_integer_result_is_worded_without_steps():
    text = describe_difference(np.array([3, 1, 4]), np.array([-3, -1, -4]))
    assert text is not None and "sign is flipped" in text and "step" not in text


@pytest.mark.parametrize(
    ("factor", "words"),
    [
        (2.0, "Twice the expected value."),
        (0.5, "Half the expected value."),
        (3.0, "3 times the expected value."),
        (0.25, "1/4 of the expected value."),
        (-2.0, "Twice the expected value, with the opposite sign."),
    ],
)
def test_plain_constant_factors(factor, words):
    """A plain constant is named, and nothing more: the values cannot tell a derivative's 2 from a doubling."""
    e = vec(6)
    text = describe_difference(e, factor * e)
    assert text == words


def test_factor_n_and_p_come_from_the_data_matrix():
    X, y, w = vec(50, 3), vec(50), vec(3)
    e = vec(3)
    args, names = (X, y, w, 0.7), ("X", "y", "w", "b")
    n_times = describe_difference(e, 50 * e, args, arg_names=names)
    assert n_times is not None and n_times.startswith("n times the expected value: a sum where a mean was meant")
    assert "n = 50 samples" in n_times
    one_nth = describe_difference(e, e / 50, args, arg_names=names)
    assert one_nth is not None and one_nth.startswith("1/n of the expected value: divided by n once too often")
    p_times = describe_difference(e, 3 * e, args, arg_names=names)
    assert p_times is not None and p_times.startswith("p times") and "p = 3" in p_times
    one_pth = describe_difference(e, e / 3, args, arg_names=names)
    assert one_pth is not None and one_pth.startswith("1/p of")


def test_without_names_the_first_2d_argument_gives_n():
    X, e = vec(20, 2), vec(2)
    text = describe_difference(e, 20 * e, (X, vec(20)))
    assert text is not None and "n = 20" in text


def test_with_names_a_2d_parameter_that_is_not_data_gives_no_n():
    theta, e = vec(7, 7), vec(7, 7)
    assert describe_difference(e, 7 * e, (theta, vec(7, 7), 0.1), arg_names=GD_NAMES).startswith("7 times")


def test_factor_from_a_scalar_argument_and_a_batch_size():
    e = vec(4)
    names = ("theta", "grad", "lr", "beta", "batch_size")
    args = (vec(4), vec(4), 0.03, 0.9, 16)
    assert describe_difference(e, 0.03 * e, args, arg_names=names).startswith("`lr` times the expected value")
    assert describe_difference(e, e / 0.03, args, arg_names=names).startswith("1/`lr` times the expected value")
    assert describe_difference(e, 0.1 * e, args, arg_names=names).startswith("(1 − `beta`) times")
    assert describe_difference(e, 16 * e, args, arg_names=names).startswith("`batch_size` times")
    assert describe_difference(e, e / 16, args, arg_names=names).startswith("1/`batch_size` of")


def test_a_near_miss_factor_is_not_recognised():
    e = vec(8)
    assert describe_difference(e, 2.0001 * e) is None
    assert describe_difference(e, 2 * e * (1 + 1e-4 * RNG.normal(size=8))) is None
    assert describe_difference(3.0, 6.0001) is None


def test_random_answers_are_not_recognised():
    for _ in range(200):
        k = int(RNG.integers(1, 9))
        e, theta, grad = vec(k), vec(k), vec(k)
        args = (theta, grad, float(RNG.uniform(0.01, 0.9)))
        assert describe_difference(e, vec(k), args, arg_names=GD_NAMES) is None
        assert describe_difference(e, e * (1 + 1e-3 * RNG.normal(size=k)), args, arg_names=GD_NAMES) is None
        assert describe_difference(e, e + RNG.normal(), args, arg_names=GD_NAMES) is None


def test_equal_values_give_none():
    e = vec(3, 2)
    assert describe_difference(e, e.copy()) is None
    assert describe_difference((e, 1.5), (e.copy(), 1.5)) is None
    assert describe_difference([e, 2], (e, 2)) is None
    assert describe_difference(np.array([np.nan, 1.0]), np.array([np.nan, 1.0])) is None


# --- NaN and inf --------------------------------------------------------------------------------


def test_nan_entries():
    e = vec(8)
    got = e.copy()
    got[[1, 4, 6]] = np.nan
    assert describe_difference(e, got) == (
        "3 of 8 entries are NaN where finite values were expected: NaN comes from an invalid operation — 0/0, "
        "∞ − ∞, 0·∞, or the square root or logarithm of a negative number — often after an overflow to ∞."
    )


def test_inf_and_scalar_nan_and_all_nan():
    e = vec(4)
    got = e.copy()
    got[0] = np.inf
    assert describe_difference(e, got).startswith("1 of 4 entries is infinite")
    assert "division by zero" in describe_difference(e, got) and "NaN" not in describe_difference(e, got)
    assert describe_difference(e, np.full(4, np.nan)).startswith("All 4 entries are NaN")
    assert describe_difference(0.3, float("nan")).startswith("The result is NaN where a finite value was expected")


def test_finite_where_the_expected_is_not():
    e = np.array([1.0, np.inf, 2.0])
    text = describe_difference(e, np.array([1.0, 1e308, 2.0]))
    assert text is not None and text.startswith("Finite where 1 of 3 expected entries are NaN or infinite")


def test_matching_nan_positions_leave_the_finite_entries_to_decide():
    e = np.array([np.nan, 1.0, 2.0, -3.0])
    assert describe_difference(e, np.array([np.nan, 2.0, 4.0, -6.0])).startswith("Twice")
    assert describe_difference(np.array([np.inf, 1.0]), np.array([np.nan, 1.0])) is None


# --- transposes, offsets, inputs ----------------------------------------------------------------


def test_transposed_result():
    e = vec(3, 4)
    text = describe_difference(e, e.T)
    assert text is not None and text.startswith("The transpose of the expected: shape (4, 3) instead of (3, 4)")
    square = vec(3, 3)
    text = describe_difference(square, square.T)
    assert text is not None and text.startswith("The transpose of the expected (rows and columns swapped)")


def test_offset_by_an_input():
    e, (theta, grad, lr) = gd_case()
    args = (theta, grad, lr)
    text = describe_difference(e, e + theta, args, arg_names=GD_NAMES)
    assert text == "Differs from the expected by exactly `theta`: is `theta` added once too often?"
    text = describe_difference(e, e - theta, args, arg_names=GD_NAMES)
    assert text is not None and text.startswith("The expected value minus `theta`: is `theta` left out")


def test_an_input_returned_unchanged():
    e, args = gd_case()
    text = describe_difference(e, args[0].copy(), args, arg_names=GD_NAMES)
    assert text is not None and text.startswith("Returns `theta` unchanged")
    assert describe_difference(e, args[1], args).startswith("Returns argument 2 unchanged")


def test_the_change_from_an_input():
    e, args = gd_case(lr=0.2)
    theta, grad, lr = args
    ascent = describe_difference(e, theta + lr * grad, args, arg_names=GD_NAMES)
    assert ascent is not None and ascent.startswith("The change from `theta` has the opposite sign")
    assert "ascending" in ascent
    no_lr = describe_difference(e, theta - grad, args, arg_names=GD_NAMES)
    assert no_lr == "The change from `theta` is 1/`lr` times the expected change."
    lr_twice = describe_difference(e, theta - lr * lr * grad, args, arg_names=GD_NAMES)
    assert lr_twice is not None and lr_twice.startswith("The change from `theta` is `lr` times the expected change")
    double_step = describe_difference(e, theta - 2 * lr * grad, args, arg_names=GD_NAMES)
    assert double_step is not None and double_step.startswith("The change from `theta` is twice the expected change")


def test_a_missing_or_sign_flipped_term():
    w, grad, lr, alpha = vec(5), vec(5), 0.3, 0.05
    names, args = ("w", "grad", "lr", "alpha"), (w, grad, lr, alpha)
    e = w - lr * (grad + alpha * w)
    missing = describe_difference(e, w - lr * grad, args, arg_names=names)
    assert missing == "Your result minus the expected is exactly `lr`·`alpha`·`w`: is a term −`lr`·`alpha`·`w` missing?"
    flipped = describe_difference(e, w - lr * (grad - alpha * w), args, arg_names=names)
    assert flipped is not None and "2·`lr`·`alpha`·`w`" in flipped and "wrong sign" in flipped


# --- integers -----------------------------------------------------------------------------------


def test_off_by_one():
    assert describe_difference(19, 20) == "One more than expected (off by one)."
    assert describe_difference(7, 6) == "One less than expected (off by one)."
    text = describe_difference(np.array([3, 5, 8]), np.array([4, 6, 9]))
    assert text == "Every entry is one more than expected (off by one)."
    assert describe_difference(2.5, 3.5) is None  # not an integer result: no off-by-one claimed


def test_integer_truncation_and_integer_factors():
    text = describe_difference(0.0672, 0)
    assert text is not None and text.startswith("An integer result where fractional values were expected")
    assert "rounded down" in text
    assert describe_difference(np.array([1.5, 2.5]), np.array([1, 2])).startswith("Integers (int64)")
    assert "//" in text
    assert describe_difference(0.52, 7) is None  # an integer, but no rounding of the expected
    assert describe_difference(np.array([1.5, -2.5]), np.array([1, -2])).startswith("Integers (int64)")
    assert "truncated towards 0" in describe_difference(np.array([1.5, -2.5]), np.array([1, -2]))
    assert "round()" in describe_difference(np.array([1.7, 2.6]), np.array([2, 3]))
    assert describe_difference(np.array([19, 7]), np.array([38, 14])) == "Twice the expected value."
    assert describe_difference(19, 38) is None  # one pair of integers: some ratio by chance (12 and 6 ...)
    assert describe_difference(12, 6) is None
    assert describe_difference(5, 15) is None  # small integers: 3, 4, ... times is too often chance


def test_no_cause_is_guessed_for_a_bare_relation():
    """A relation whose cause the values cannot show is named without one (no "counting from 1", no "derivative")."""
    for expected, got in ((7, 8), (np.array([4, 9]), np.array([3, 8]))):
        text = describe_difference(expected, got)
        assert text is not None and "off by one" in text
        assert "counting from 1" not in text and "<=" not in text
    e = vec(4)
    for factor in (2.0, 0.5, 5.0):
        text = describe_difference(e, factor * e)
        assert "derivative" not in text and "square" not in text and "?" not in text
    assert describe_difference(0.5625, 0.09375) is None  # one number 1/6 of another: too often chance
    assert describe_difference(0.5625, 2 * 0.5625) == "Twice the expected value."
    assert describe_difference(0.25, 0.0).startswith("Returns 0 where a non-zero value was expected")
    assert "//" in describe_difference(0.25, 0.0)  # a zero: a factor 0 (1 // n) or a value never computed


def test_rounded_values():
    e = np.array([0.12345, -1.98765, 3.14159])
    assert describe_difference(e, np.round(e, 2)).startswith("The expected value rounded to 2 decimal places")
    assert describe_difference(1.0909090909, 1.09).startswith("The expected value rounded to 2 decimal places")
    assert describe_difference(118.9916, 120.0).startswith("The expected value rounded to 2 significant digits")
    assert describe_difference(0.5625, 1.0) is None  # a whole number: rounding to 0 decimals is too often chance
    assert describe_difference(e, np.round(e, 2) + 0.01) is None
    one_changed = np.array([1.5, 2.0, 3.0])
    assert describe_difference(one_changed, np.round(one_changed)) is None  # one entry rounded: too little


def test_a_number_as_a_string_and_complex_numbers():
    assert describe_difference(0.5, "0.5").startswith("A string (text in quotes) where a number was expected")
    assert describe_difference(0.5, "half") is None
    text = describe_difference(0.5625, complex(0.5625, 0.0))
    assert text is not None and text.startswith("A complex number, whose real part is the expected value,")
    text = describe_difference(np.array([1.0, 2.0]), np.array([1j, 2.0]))
    assert text is not None and text.startswith("Complex numbers where a real result was expected")


def test_an_iterator_where_a_list_was_expected():
    batches = [np.arange(3), np.arange(3, 6)]
    generator = (b for b in batches)
    text = describe_difference(batches, generator)
    assert text is not None and text.startswith("A generator object (an iterator, read only once)")
    assert next(generator) is batches[0]  # not consumed
    assert describe_difference(batches, map(list, batches)).startswith("A map object")


def test_items_joined_into_one_flat_array():
    w, b = vec(3), 0.7
    text = describe_difference((w, b), np.concatenate([w, [b]]))
    assert text is not None and text.startswith("The 2 expected items joined end to end into one flat array of 4")
    assert describe_difference((w, b), np.concatenate([w, [b + 1]])) is None


def test_samples_where_features_were_expected_and_factors_n_over_p():
    X, y, w = vec(13, 3), vec(13), vec(3)
    args, names = (X, y, w, 0.7), ("X", "y", "w", "b")
    text = describe_difference(vec(3), vec(13), args, arg_names=names)
    assert text is not None and text.startswith("Shape (13,) where (3,) was expected: one entry per sample (13)")
    assert "one per feature (3)" in text
    e = vec(3)
    assert describe_difference(e, e * 13 / 3, args, arg_names=names).startswith("n/p times the expected value")
    root = describe_difference(e, e / np.sqrt(13), args, arg_names=names)
    assert root is not None and root.startswith("1/√n of the expected value") and "square root of a sum" in root


def test_a_squared_scalar_factor_and_a_transposed_change():
    theta, grad, lr = vec(3), vec(3), 0.3
    args = (theta, grad, lr)
    e = theta - lr * grad
    text = describe_difference(e, theta - grad / lr, args, arg_names=GD_NAMES)
    assert text is not None and text.startswith("The change from `theta` is 1/`lr`² times the expected change")
    square, step = vec(3, 3), vec(3, 3)
    text = describe_difference(square - lr * step, square - lr * step.T, (square, step, lr), arg_names=GD_NAMES)
    assert text is not None and text.startswith("The change from `theta` is the transpose of the expected change")


def test_a_square_typed_for_a_double_and_the_reverse():
    names, args = ("scale", "good_steps"), (1024.0, 3)
    text = describe_difference(2048.0, 1024.0**2, args, arg_names=names)
    assert text == "`scale` squared where twice `scale` was expected: ** 2 typed for * 2?"
    v = vec(3)
    text = describe_difference(v * v, 2 * v, (v,), arg_names=("grad",))
    assert text == "Twice `grad` where `grad` squared was expected: * 2 typed for ** 2?"
    assert describe_difference(4.0, 4.0 + 1e-3, (2.0,), arg_names=("x",)) is None  # 2² = 2·2: no claim


def test_right_except_some_zeros():
    counts = np.array([[3, 1, 2], [1, 4, 0], [2, 0, 5]])
    skipped = counts.copy()
    skipped[0, :] = 0
    skipped[:, 0] = 0
    text = describe_difference(counts, skipped)
    assert text is not None and text.startswith("Right except 5 of 9 entries, all at index 0 of an axis")
    assert "yours are 0 there" in text
    e = np.array([0.0, 1.5, -2.0, 0.0, 0.7])
    kept = e.copy()
    kept[[0, 3]] = [0.2, -0.1]
    text = describe_difference(e, kept)
    assert text == "Right except 2 of 5 entries: the expected is exactly 0 there and yours is not."
    x = np.array([1.0, -2.0, 0.5, -0.1, 3.0])
    grad_out = vec(5)
    flipped = describe_difference(np.where(x > 0, grad_out, 0.0), grad_out * np.sign(x), (x, grad_out), arg_names="xg")
    assert flipped is not None and flipped.startswith("Right except 2 of 5 entries, exactly those where `x` < 0:")


def test_boolean_indexing_and_a_norm_factor():
    e = np.array([[0.0, 1.5], [-2.0, 0.0]])
    text = describe_difference(e, np.array([1.5, -2.0]))
    assert text is not None and text.startswith("A flat array of the 2 non-zero entries of the expected")
    theta, grad, lr = vec(4), vec(4), 0.2
    norm = float(np.sqrt(np.sum(grad * grad)))
    text = describe_difference(theta - lr * grad, theta - lr * grad / norm, (theta, grad, lr), arg_names=GD_NAMES)
    assert text is not None and text.startswith("The change from `theta` is 1/‖`grad`‖ times the expected change")


def test_counts_set_once_a_leading_block_and_per_column_relations():
    counts = np.array([[3, 0, 1], [0, 2, 0], [1, 0, 4]])
    text = describe_difference(counts, (counts > 0).astype(np.int64))
    assert text is not None and text.startswith("1 wherever the expected count is positive") and "np.add.at" in text
    big = np.zeros((4, 4), dtype=np.int64)
    big[:3, :3] = counts
    text = describe_difference(big, counts, (np.arange(5), np.arange(5), 4), arg_names=("y_true", "y_pred", "k"))
    assert text is not None and text.startswith("Shape (3, 3) where (4, 4) was expected: your entries are the expected")
    assert text.endswith("instead of the size argument `k`?")
    e = vec(6, 3)
    per_column = describe_difference(e, e * np.array([1.5, 0.7, 2.2]))
    assert per_column is not None and per_column.startswith("Every column is the expected column times a constant")
    affine = describe_difference(e, e * np.array([1.5, 0.7, 2.2]) + np.array([0.3, -1.0, 2.0]))
    assert affine is not None and affine.startswith("Every column is a shifted and scaled copy")
    assert describe_difference(e, 1.37 * e).startswith("Proportional to the expected")
    assert describe_difference(e, e * np.array([1.5, 0.7, 2.2]) + 1e-3 * vec(6, 3)) is None


def test_the_same_entries_in_another_order():
    batches = [np.array([3, 1, 2]), np.array([5, 4])]
    text = describe_difference(batches, [np.array([5, 1, 2]), np.array([3, 4])])
    assert text is not None and text.startswith("The same entries as the expected, with the same sizes, but in")
    assert describe_difference(batches, [np.array([5, 1, 2]), np.array([3, 6])]) is None
    e = vec(5)
    assert describe_difference(e, e[::-1].copy()).startswith("The same entries as the expected, in another order")


# --- shapes -------------------------------------------------------------------------------------


def test_column_vector_where_a_flat_array_was_expected():
    e = vec(5)
    text = describe_difference(e, e.reshape(-1, 1))
    assert text is not None and text.startswith("A column vector (5, 1) where a flat array (5,) was expected")
    assert "broadcasting can silently turn a difference of shapes (5, 1) − (5,) into a (5, 5) matrix" in text
    assert describe_difference(e, e.reshape(1, -1)).startswith("A row vector (1, 5)")
    assert describe_difference(e.reshape(-1, 1), e).startswith("A flat array (5,) where a column vector (5, 1)")


def test_shape_note_and_value_relation_together():
    e = vec(4)
    text = describe_difference(e, 2 * e.reshape(-1, 1))
    assert text is not None and text.startswith("A column vector (4, 1)") and "Twice the expected value" in text


def test_broadcasting_blow_up():
    e = vec(6)
    text = describe_difference(e, e[:, None] - e[None, :])
    assert text is not None and text.startswith("A matrix of shape (6, 6) where (6,) was expected")


def test_scalar_and_one_element_arrays():
    assert describe_difference(1.5, np.array([1.5])).startswith("An array of shape (1,) where a single number")
    assert describe_difference(np.array([1.5]), 1.5).startswith("A single number where an array of shape (1,)")
    e = vec(4)
    assert "whose sum is the expected value" in describe_difference(float(e.sum()), e)
    assert "the mean of the expected entries" in describe_difference(e, float(e.mean()))
    assert describe_difference(3.0, vec(4)).startswith("An array of shape (4,) where a single number")


def test_a_missing_reduction_over_an_axis():
    x, grad_out = vec(4, 3), vec(4, 3)
    text = describe_difference(grad_out.sum(axis=0), grad_out, (x, vec(3, 3), vec(3), grad_out), arg_names="xWbg")
    assert text is not None and "the sum over axis 0" in text and "n, the number of samples" in text


def test_other_shapes():
    e = vec(2, 6)
    assert describe_difference(e, e.reshape(3, 4)).startswith("The right entries in shape (3, 4)")
    short = describe_difference(np.arange(5), np.arange(4))
    assert short is not None and "one entry too few at the end along axis 0" in short
    assert describe_difference(np.arange(3), np.array([7, 0, 1, 2])).startswith(
        "Shape (4,) where (3,) was expected, one entry too many at the start"
    )
    assert describe_difference(np.arange(3), np.array([9, 9, 9, 9])) is None


# --- dtypes -------------------------------------------------------------------------------------


def test_float64_from_float32_inputs():
    x = vec(4).astype(np.float32)
    e = (2 * x).astype(np.float32)
    text = describe_difference(e, 2 * x.astype(np.float64), (x,), arg_names=("x",))
    assert text is not None and text.startswith("The values are right but the result is float64 from float32 inputs")


def test_floats_where_integers_were_expected_and_float32_precision():
    counts = np.array([[3, 0], [1, 4]])
    assert describe_difference(counts, counts.astype(float)).startswith("The values are right but they are floats")
    e = np.array([1 / 3, 2 / 3, 1e-3 / 7])
    text = describe_difference(e, (e + 1e-7).astype(np.float32))
    assert text is not None and text.startswith("A float32 result, close to the expected")


# --- zeros, None, bools -------------------------------------------------------------------------


def test_all_zeros():
    text = describe_difference(vec(5), np.zeros(5))
    assert text is not None and text.startswith("Returns all zeros") and "never run" in text
    assert describe_difference(0.25, 0.0).startswith("Returns 0 where a non-zero value was expected")
    assert describe_difference(np.zeros(3), np.ones(3)) is None


def test_none_and_numpy_bools():
    assert describe_difference(vec(3), None).startswith("Returns None: is a `return` missing?")
    assert describe_difference(True, np.True_).startswith("A NumPy boolean")
    assert describe_difference(True, False) is None


# --- tuples and lists ---------------------------------------------------------------------------


def test_items_of_a_tuple():
    a, b = vec(3), vec(3)
    assert describe_difference((a, b), (a, -b)).startswith("Item 1: the sign is flipped")
    assert describe_difference((a, b, 2.0), (a, b, 4.0)).startswith("Item 2: twice the expected value")
    assert describe_difference((a, b), (b, a)) == "The two items are swapped: return them in the documented order."
    c = vec(3)
    assert describe_difference((a, b, c), (b, c, a)).startswith("The right items in another order")
    assert describe_difference((a, (1.0, 2.0)), (a, (1.0, 4.0))).startswith("Item 1: item 1: twice")


def test_missing_extra_and_single_items():
    a, b, c = vec(3), vec(3), vec(3)
    assert describe_difference((a, b, c), (a, c)).startswith("Item 1 of the 3 expected items is missing")
    assert describe_difference((a, b), (a, b, c)).startswith("An extra item at position 2")
    assert describe_difference((a, b), a).startswith("Returns only item 0 of the 2 expected items")
    assert describe_difference(a, (a, b)).startswith("Returns a tuple of 2 items whose item 0 is the expected value")
    assert describe_difference((a, b), np.stack([a, b])).startswith("The 2 expected items stacked into one array")
    assert describe_difference(a, list(a)).startswith("Returns a Python list where an array was expected")
    batches = [np.arange(i, i + 3) for i in range(0, 30, 3)]
    text = describe_difference(batches, batches[:-2] + [np.arange(100, 103)])
    assert text is not None and text.startswith("9 items where 10 were expected, one item too few")


# --- other backends -----------------------------------------------------------------------------


def test_non_numpy_arrays():
    torch = pytest.importorskip("torch")
    e = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64, requires_grad=True)
    assert describe_difference(e, -e).startswith("The sign is flipped")
    theta = torch.tensor([0.5, 1.5, -1.0], dtype=torch.float64)
    assert describe_difference(e * 0 + theta, theta, (theta,), arg_names=("theta",)) is None  # equal values
    assert describe_difference(2 * theta, theta, (theta,), arg_names=("theta",)).startswith("Returns `theta`")


def test_array_api_strict_arrays():
    xp = pytest.importorskip("array_api_strict")
    e = xp.asarray([1.0, 2.0, 4.0])
    assert describe_difference(e, 2 * e).startswith("Twice")


# --- robustness ---------------------------------------------------------------------------------


class Hostile:
    """An object whose every protocol raises."""

    shape = (3,)
    dtype = "float64"

    def __array__(self, *args, **kwargs):
        raise RuntimeError("no")

    def __eq__(self, other):
        raise RuntimeError("no")

    def __len__(self):
        raise RuntimeError("no")

    __hash__ = None


@pytest.mark.parametrize(
    ("expected", "got"),
    [
        (np.arange(3.0), np.array([object(), object(), object()], dtype=object)),
        (np.array([object()], dtype=object), np.array([1.0])),
        (np.arange(3.0), "theta"),
        ("a", "b"),
        (None, np.arange(3.0)),
        (np.arange(3.0), {"a": 1}),
        ({"a": 1}, {"a": 2}),
        ((np.arange(3.0), (1, 2)), (np.arange(3.0), [1, [2, 3]])),
        ((1, (2, (3, (4, (5, (6, (7, (8,)))))))), (1, (2, (3, (4, (5, (6, (7, (9,))))))))),
        ([np.arange(2.0), np.arange(3.0)], [[0.0, 1.0], [0.0, 1.0, 2.0, 3.0]]),
        (np.arange(3.0), [[1.0], [2.0, 3.0]]),
        (np.arange(3.0), np.array([1 + 1j, 2j, 3.0])),
        (np.arange(3.0), Hostile()),
        (Hostile(), np.arange(3.0)),
        (np.arange(0.0), np.arange(0.0)),
        (np.arange(3.0), np.array([])),
        (np.arange(3.0), np.array([True, False, True])),
        (np.arange(3.0), (x for x in range(3))),
        (1e308, 1e308 * 10),
        (np.array([1e308, -1e308]), np.array([-np.inf, np.inf])),
    ],
)
def test_never_raises(expected, got):
    text = describe_difference(expected, got, (Hostile(), "s", None, (1, [2]), object()), {"k": Hostile()}, "abc")
    assert text is None or isinstance(text, str)


def test_strange_inputs_are_ignored_but_the_relation_still_found():
    e = vec(3)
    args = (Hostile(), [[1.0], [2.0, 3.0]], "text", None, np.array([object()]), e * 5)
    assert describe_difference(e, -e, args, arg_names=("a",)).startswith("The sign is flipped")


def test_pure_no_output_no_mutation_no_global_state(capsys):
    e, args = gd_case()
    snapshot = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    before = np.geterr()
    got = e * 2
    got_copy = got.copy()
    assert describe_difference(e, got, args, arg_names=GD_NAMES).startswith("Twice")
    assert all(
        np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b for a, b in zip(args, snapshot, strict=True)
    )
    assert np.array_equal(got, got_copy)
    assert np.geterr() == before
    assert capsys.readouterr() == ("", "")


def test_a_million_entries_in_well_under_a_second():
    n = 1_000_000
    theta, grad = RNG.normal(size=n), RNG.normal(size=n)
    e = theta - 0.1 * grad
    args = (theta, grad, 0.1)
    answers = {
        "random": (RNG.normal(size=n), None),
        "noise": (e * (1 + 1e-3 * RNG.normal(size=n)), None),
        "ascent": (theta + 0.1 * grad, "The change from `theta` has the opposite sign"),
        "double": (2 * e, "Twice"),
    }
    for name, (got, start) in answers.items():
        t0 = time.perf_counter()
        text = describe_difference(e, got, args, arg_names=GD_NAMES)
        elapsed = time.perf_counter() - t0
        assert elapsed < 1.0, f"{name}: {elapsed:.3f} s"
        assert (text is None) if start is None else text.startswith(start), name
    t0 = time.perf_counter()
    assert describe_difference(RNG.normal(size=(1000, 1000)), RNG.normal(size=(1000, 1000))) is None
    assert time.perf_counter() - t0 < 1.0


# --- real exercises: wrong answers built from the reference -------------------------------------


def first_failure_diagnosis(exercise_id: str, answer) -> str | None:
    """Judge ``answer`` and describe the first failing case, the way the judge is meant to call it."""
    exercise = get(exercise_id)
    cases = exercise.cases()
    got = exercise.outcomes(answer, cases)
    verdict = exercise.assess(cases, got)
    assert not verdict.passed
    i = verdict.case_index
    expected = exercise.outcomes(exercise.planted(exercise.reference), cases)
    assert expected[i].error is None and got[i].error is None
    names = list(inspect.signature(exercise.reference).parameters)
    return describe_difference(expected[i].value, got[i].value, cases[i].args, cases[i].kwargs, names)


def test_catalog_gd_step_doubled_and_sign_flipped():
    ref = get("01.gd_step").reference
    assert first_failure_diagnosis("01.gd_step", lambda *a: 2 * ref(*a)).startswith("Twice the expected value")
    assert first_failure_diagnosis("01.gd_step", lambda *a: -ref(*a)).startswith("The sign is flipped")
    double_lr = first_failure_diagnosis("01.gd_step", lambda theta, grad, lr: ref(theta, grad, 2 * lr))
    assert double_lr.startswith("The change from `theta` is twice the expected change")


def test_catalog_mse_grad_sum_instead_of_mean():
    ref = get("02.mse_grad").reference

    def summed(X, y, w, b):
        return tuple(X.shape[0] * g for g in ref(X, y, w, b))

    text = first_failure_diagnosis("02.mse_grad", summed)
    n = get("02.mse_grad").cases()[0].args[0].shape[0]
    assert text == f"Item 0: n times the expected value: a sum where a mean was meant (n = {n} samples)?"


def test_catalog_linear_backward_transposed_weight_gradient():
    ref = get("04.linear_backward").reference

    def transposed(x, W, b, grad_out):
        gx, gw, gb = ref(x, W, b, grad_out)
        return gx, gw.T, gb

    assert first_failure_diagnosis("04.linear_backward", transposed).startswith("Item 1: the transpose of the expected")


def test_catalog_conv_output_size_off_by_one():
    ref = get("12.conv_output_size").reference
    text = first_failure_diagnosis("12.conv_output_size", lambda *a: ref(*a) + 1)
    assert text == "One more than expected (off by one)."
