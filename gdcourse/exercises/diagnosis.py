r"""Computed diagnoses: say in words how a wrong answer's value relates to the expected one.

An :class:`~gdcourse.exercises.core.Exercise` diagnoses a wrong answer only when it behaves like one of
its *planted* mistakes.  :func:`describe_difference` covers the other wrong answers: it compares the value
the learner's answer returned with the value the reference returned **on the same case** and, when an exact
relation holds between them, names it, e.g. "Twice the expected value." or "The change from `theta` has the
opposite sign".  It returns ``None`` when nothing specific is recognised: it never guesses.  Every relation
is checked with a tolerance relative to the expected values (1e-6, a little looser for float32), so an
answer that is merely wrong (random noise, a factor 2.0001) is not "recognised".

The relation is a fact; a *cause* is added only where it holds for any exercise or where the case's inputs
show it.  "Twice the expected value" gets no cause: a factor 2 comes from a derivative, a counter or a
doubling alike, and the values cannot tell which.  "n times the expected value" with ``n`` read from the
data matrix gets "a sum where a mean was meant?"; NaN gets the complete list of the operations that make
NaN; an integer result equal to the expected fraction rounded down names ``//``.  An integer result one
more than expected is "off by one", without a guess at where the one came from.

How it is meant to be called (by the judge, in :meth:`Exercise.assess`, *after* the planted mistakes were
tried and none matched), with the outcome values of the **first failing case**::

    import inspect

    cases = exercise.cases(seed)
    expected = exercise.outcomes(exercise.planted(exercise.reference), cases)  # the reference's outcomes
    got = learner_outcomes                                                     # the learner's outcomes
    i = verdict.case_index                                                     # the first failing case
    if verdict.diagnosis is None and expected[i].error is None and got[i].error is None:
        try:
            names = list(inspect.signature(exercise.reference).parameters) if exercise.kind == "function" else []
        except (TypeError, ValueError):  # a builtin or a callable without a signature
            names = []
        diagnosis = describe_difference(
            expected[i].value, got[i].value, cases[i].args, cases[i].kwargs, arg_names=names
        )

``args`` and ``kwargs`` are the case's inputs (``cases[i].args``, ``cases[i].kwargs``) and ``arg_names`` the
reference's parameter names (``inspect.signature(exercise.reference).parameters``), so that a relation to an
input can name it ("returns `theta` unchanged") and the number of samples ``n`` and of features ``p`` can be
read from the data matrix (the first 2-D array argument whose name starts with ``x``/``X``; without names,
the first 2-D array argument).  For ``"value"`` exercises pass no inputs.

The text names arguments, shapes, dtypes, entry counts and ``n``/``p``; it never quotes an expected value or
an input's value, so it is as safe for graded feedback (hidden cases) as :attr:`Verdict.detail`.

Recognised, most specific first (each also inside a returned tuple or list, "Item 2: ...", counting
from 0 like :func:`~gdcourse.exercises.core.compare_values`):

- ``None`` returned (a missing ``return``); a NumPy bool where a Python bool was expected;
- tuples and lists: the right items in another order, one item missing or extra (which one, when the
  others are right), one item too many or too few, a single item returned where a tuple was expected
  (or a tuple holding the expected value), the items stacked into one array or joined end to end into
  one flat array, a list where an array was expected, an iterator (a generator, ``map``...) where a list
  was expected;
- a string holding a number where a number was expected; complex numbers where real ones were expected
  (saying when their real part is the expected value);
- shapes: a column ``(k, 1)`` or a row ``(1, k)`` where a flat ``(k,)`` was expected and the reverse, a
  broadcasting blow-up ``(k, k)``, an extra axis (naming the missing ``sum``/``mean`` over it when the
  values show it, and whether its length is ``n`` or ``p``), a scalar where an array was expected and the
  reverse (naming the missing or extra sum/mean when the values show it), a transposed ``(b, a)`` result,
  the right entries in another shape, one entry too many or too few at an end of an axis, one entry per
  sample (``n``) where one per feature (``p``) was expected and the reverse, a flat array of the expected's
  non-zero entries (boolean indexing), the expected's leading block where the rest of the expected is 0 (a
  size read from the data);
- dtypes: right values in another dtype (a float64 result from float32 inputs, floats where integers
  were expected), integers equal to the expected fractions rounded down, truncated or rounded (``//``,
  ``int()``), a float32 result that is right only to float32's precision;
- NaN or ±inf where finite values were expected, and finite values where the expected is not finite;
- all zeros where non-zero values were expected;
- off by one (``got == expected ± 1`` for integer results);
- floats equal to the expected rounded to a number of decimals (or, for one number, of significant digits);
- an input returned unchanged;
- a flipped sign (``got == -expected``);
- a constant factor ``got == c·expected`` for ``c`` in ±{n, 1/n, p, 1/p (when above 2), n/p, p/n, √n,
  1/√n, a batch size and its inverse, each float argument ``a`` as a, 1/a (and 1 − a, 1/(1 − a) for
  0 < a < 1), 2, 1/2, for float results with two non-zero entries or more 3…10, 1/3…1/10, and a², 1/a²,
  ‖a‖, 1/‖a‖ for input arrays} (an integer result needs two non-zero entries in the ratio);
- the transpose of a square result;
- an input squared where twice it was expected, and the reverse (``** 2`` and ``* 2`` typed for each other);
- right except some entries: 0 where non-zero values were expected, or not 0 where 0 was (saying when they
  are exactly where an input is negative, zero or positive, or all at index 0 of an axis);
- counts set to 1 wherever the expected count is positive (a fancy-index ``+=`` with repeated indices);
- every column of a 2-D result a scaled and/or shifted copy of the expected column, with its own constants;
- the expected entries in another order (within an array, or across the items of a list of arrays);
- an offset of exactly ± one input (``got − expected == theta``);
- relative to an input array of the same shape (the parameters of an update): the change ``got − theta``
  is the opposite of the expected change ``expected − theta`` (ascent instead of descent), a named
  factor of it (``lr`` applied twice, ``lr`` forgotten, ...) or its transpose;
- a missing or sign-flipped term: ``got − expected == k·s·a`` for an input array ``a``, ``s`` one float
  input or the product of two (``lr``·``alpha``), and ``k`` in {±1, ±2}.

Integer inputs (sizes, counts, steps) are not used as factors or offsets, except a batch size: small
integers stand in such ratios too often by chance.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from gdcourse.backend import to_numpy

__all__ = ["describe_difference"]

_RTOL = 1e-6  # tolerance of a recognised relation, relative to the expected values
_MAX_DEPTH = 6  # nesting depth of tuples/lists looked into
_MAX_PERMUTED = 64  # longest tuple/list checked for a reordering (quadratic)
_DATA_NAMES = ("data", "inputs", "features", "design")


def describe_difference(
    expected: Any,
    got: Any,
    args: tuple = (),
    kwargs: dict | None = None,
    arg_names: Sequence[str] = (),
) -> str | None:
    r"""Describe how ``got`` relates to ``expected``, when an exact relation holds; else ``None``.

    A relation is recognised only when it holds to a relative tolerance of about 1e-6 on every entry,
    e.g. a factor :math:`c` is recognised when :math:`|g_i - c\,e_i| \le 10^{-6}(|c\,e_i| + 10^{-2}\max_j|c\,e_j|)`
    for all :math:`i` and :math:`c` is one of a few named constants (see the module docstring for the list).

    Parameters
    ----------
    expected : Any
        What the reference returned on the case (number, array of any backend, tuple/list of those, ...).
    got : Any
        What the learner's answer returned on the same case; assumed to differ from ``expected``.
    args : tuple
        The case's positional inputs (``Case.args``).
    kwargs : dict, optional
        The case's keyword inputs (``Case.kwargs``).
    arg_names : sequence of str
        The reference's parameter names, in order, used to name ``args`` (``theta``, ``X``, ...).

    Returns
    -------
    str or None
        One or two sentences naming the relation and, where the inputs show it or it holds for any
        exercise, its cause (as a question), or ``None`` when nothing specific is recognised.  Never raises:
        any internal error gives ``None``.  Pure: reads its arguments, changes nothing, prints nothing.
    """
    try:
        with np.errstate(all="ignore"):
            inputs = _Inputs(args, kwargs or {}, arg_names)
            return _describe(expected, got, inputs, 0)
    except Exception:  # noqa: BLE001 - a learner's value may be anything; no diagnosis is better than a crash
        return None


# --- the inputs of the case ---------------------------------------------------------------------


class _Inputs:
    """The case's inputs, as the checks use them.

    ``arrays`` holds ``(label, float64 array)`` for numeric array inputs, ``scalars`` holds
    ``(label, value, is_int)`` for numeric scalar inputs; ``n``/``p`` are the sample and feature
    counts of the data matrix, ``batch`` a batch size (``(label, value)``), ``float32`` whether any input
    array is float32.
    """

    def __init__(self, args: tuple, kwargs: dict, arg_names: Sequence[str]) -> None:
        names = [str(a) for a in arg_names] if arg_names else []
        named: list[tuple[str | None, Any]] = []
        for i, value in enumerate(tuple(args)):
            named.append((names[i] if i < len(names) else None, value))
        named.extend((str(k), v) for k, v in dict(kwargs).items())
        self.arrays: list[tuple[str, np.ndarray]] = []
        self.scalars: list[tuple[str, float, bool]] = []
        self.n: int | None = None
        self.p: int | None = None
        self.batch: tuple[str, int] | None = None
        self.float32 = False
        first_2d: np.ndarray | None = None
        data: np.ndarray | None = None
        for position, (name, value) in enumerate(named):
            label = f"`{name}`" if name else f"argument {position + 1}"
            if isinstance(value, bool | np.bool_ | str | bytes) or value is None:
                continue
            if isinstance(value, int | float | np.integer | np.floating):
                number = float(value)
                if math.isfinite(number):
                    is_int = isinstance(value, int | np.integer)
                    self.scalars.append((label, number, is_int))
                    if is_int and name and "batch" in name.lower() and number > 1:
                        self.batch = (label, int(number))
                continue
            if not _looks_like_array(value):
                continue
            arr = _as_number_array(value)
            if arr is None or arr.ndim == 0:
                continue
            if arr.dtype == np.float32:
                self.float32 = True
            self.arrays.append((label, arr.astype(np.float64)))
            if arr.ndim == 2:
                if first_2d is None:
                    first_2d = arr
                if data is None and name and (name.lower().startswith("x") or name.lower() in _DATA_NAMES):
                    data = arr
        matrix = data if names else first_2d
        if matrix is not None:
            self.n, self.p = int(matrix.shape[0]), int(matrix.shape[1])


def _looks_like_array(value: Any) -> bool:
    return (hasattr(value, "shape") and hasattr(value, "dtype")) or isinstance(value, list | tuple)


def _as_number_array(value: Any) -> np.ndarray | None:
    """``value`` as a NumPy array of integers or floats, or ``None`` (bools, complex, objects, strings)."""
    if value is None or isinstance(value, bool | np.bool_ | str | bytes | dict):
        return None
    try:
        arr = np.asarray(to_numpy(value))
    except Exception:  # noqa: BLE001 - ragged lists, objects with a broken __array__, ...
        return None
    if arr.dtype.kind not in "iuf":
        return None
    return arr


# --- structure: None, bools, tuples and lists ---------------------------------------------------


def _describe(expected: Any, got: Any, inputs: _Inputs, depth: int) -> str | None:
    if depth > _MAX_DEPTH:
        return None
    if got is None and expected is not None:
        return (
            "Returns None: is a `return` missing? An in-place update such as `theta -= lr * grad` changes the "
            "array but returns nothing."
        )
    if isinstance(expected, bool):
        if isinstance(got, np.bool_) and bool(got) == expected:
            return "A NumPy boolean (np.True_ or np.False_) where a Python bool was expected: wrap it in bool(...)."
        return None
    if expected is None or isinstance(expected, str | bytes | dict):
        return None
    if isinstance(expected, tuple | list):
        return _describe_sequence(expected, got, inputs, depth)
    e = _as_number_array(expected)
    if e is None or e.size == 0:
        return None
    if isinstance(got, tuple | list):
        return _describe_sequence_for_value(expected, e, got, inputs)
    if isinstance(got, str):
        return _number_as_text(e, got)
    if _is_complex(got):
        return _complex_result(e, got)
    return _describe_number(e, got, inputs)


def _number_as_text(e: np.ndarray, got: str) -> str | None:
    """A string where a number was expected: say so when the string holds a number."""
    if e.ndim != 0:
        return None
    try:
        float(got.strip().replace("_", ""))
    except ValueError:
        return None
    return (
        "A string (text in quotes) where a number was expected: write the number itself, without quotes "
        "(float(...) converts a string)."
    )


def _is_complex(x: Any) -> bool:
    if isinstance(x, complex | np.complexfloating):
        return True
    return hasattr(x, "shape") and hasattr(x, "dtype") and "complex" in str(getattr(x, "dtype", ""))


def _complex_result(e: np.ndarray, got: Any) -> str | None:
    """Complex numbers where real ones were expected; names the real part when it is the expected value."""
    try:
        g = np.asarray(to_numpy(got))
    except Exception:  # noqa: BLE001 - a fake array
        return None
    if g.dtype.kind != "c" or g.shape != e.shape or e.dtype.kind not in "iuf":
        return None
    what = "A complex number" if g.ndim == 0 else "Complex numbers"
    real = (
        ", whose real part is the expected value,"
        if _close(g.real.astype(np.float64), e.astype(np.float64), _RTOL)
        else ""
    )
    return (
        f"{what}{real} where a real result was expected: cmath functions, a complex literal (1j), or a negative "
        f"number raised to a fractional power ((-2) ** 0.5) give complex results; math.sqrt and np.sqrt of "
        f"real numbers do not."
    )


def _describe_sequence(expected: tuple | list, got: Any, inputs: _Inputs, depth: int) -> str | None:
    k = len(expected)
    if isinstance(got, Iterator):  # a generator, map, zip...: never consumed here (this function is pure)
        return (
            f"A {type(got).__name__} object (an iterator, read only once) where a {type(expected).__name__} of "
            f"{k} items was expected: build the {type(expected).__name__} itself (a comprehension [... for ...], "
            f"or {type(expected).__name__}(...) around it) instead of yielding or mapping."
        )
    if not isinstance(got, tuple | list):
        for i, item in enumerate(expected):
            if _same(item, got):
                return (
                    f"Returns only item {i} of the {k} expected items: return all of them, as a tuple (`return a, b`)."
                )
        g = _as_number_array(got) if _looks_like_array(got) else None
        if (
            g is not None
            and g.ndim >= 1
            and g.shape[0] == k
            and k > 1
            and all(_same(item, g[j]) for j, item in enumerate(expected))
        ):
            return (
                f"The {k} expected items stacked into one array of shape {g.shape}: return them as a tuple "
                f"(or list) of separate values instead."
            )
        if g is not None and g.ndim == 1 and k > 1 and _concatenated(expected, g):
            return (
                f"The {k} expected items joined end to end into one flat array of {g.size} entries "
                f"(np.concatenate, np.append, np.r_...): return them as a tuple (or list) of separate values."
            )
        return None
    m = len(got)
    if m != k:
        return _describe_length(expected, got)
    same = [_same(e, g) for e, g in zip(expected, got, strict=True)]
    if all(same):
        return None
    if k <= _MAX_PERMUTED:
        moved = _permutation(expected, got, same)
        if moved is not None:
            return moved
    for i, (e, g) in enumerate(zip(expected, got, strict=True)):
        if same[i]:
            continue
        text = _describe(e, g, inputs, depth + 1)
        if text:
            return f"Item {i}: {_lower_first(text)}"
    return _reordered_entries(expected, got)


def _reordered_entries(expected: tuple | list, got: tuple | list) -> str | None:
    """Items of the expected sizes holding, all together, the expected entries in another order."""
    parts = [(_as_number_array(e), _as_number_array(g)) for e, g in zip(expected, got, strict=True)]
    numbers = [(e, g) for e, g in parts if e is not None and g is not None]
    if len(numbers) != len(parts) or any(e.shape != g.shape for e, g in numbers):
        return None
    mine = np.concatenate([g.astype(np.float64).ravel() for _, g in numbers])
    theirs = np.concatenate([e.astype(np.float64).ravel() for e, _ in numbers])
    if mine.size < 3 or not np.all(np.isfinite(mine)) or not _close(np.sort(mine), np.sort(theirs), _RTOL):
        return None
    return (
        "The same entries as the expected, with the same sizes, but in another order: a different sort, shuffle or "
        "random generator (or seed)?"
    )


def _concatenated(expected: tuple | list, g: np.ndarray) -> bool:
    """Whether the flat array ``g`` is the numeric items of ``expected``, flattened and joined in order."""
    parts = [_as_number_array(item) for item in expected]
    numbers = [part for part in parts if part is not None]
    if len(numbers) != len(parts) or sum(part.size for part in numbers) != g.size:
        return False
    joined = np.concatenate([part.astype(np.float64).ravel() for part in numbers])
    return _same_numbers(joined, g)


def _describe_length(expected: tuple | list, got: tuple | list) -> str | None:
    k, m = len(expected), len(got)
    if abs(k - m) != 1:
        return None
    longer, shorter = (expected, got) if k > m else (got, expected)
    positions = range(len(longer)) if len(longer) <= _MAX_PERMUTED else (0, len(longer) - 1)
    for skip in positions:
        if all(_same(longer[j + (j >= skip)], shorter[j]) for j in range(len(shorter))):
            if k > m:
                return f"Item {skip} of the {k} expected items is missing; the others are right."
            return f"An extra item at position {skip} ({m} items where {k} were expected); the others are right."
    which = "one item too few" if m < k else "one item too many"
    return (
        f"{m} items where {k} were expected, {which}: an off-by-one in a loop or range "
        f"(a bound included or excluded, or a last, shorter chunk dropped or added)?"
    )


def _permutation(expected: tuple | list, got: tuple | list, same: list[bool]) -> str | None:
    k = len(expected)
    source: list[int] = []
    for i in range(k):
        if same[i]:
            source.append(i)
            continue
        match = next((j for j in range(k) if j != i and not same[j] and _same(expected[j], got[i])), None)
        if match is None:
            return None
        source.append(match)
    if len(set(source)) != k:
        return None
    if k == 2:
        return "The two items are swapped: return them in the documented order."
    moved = [(i, j) for i, j in enumerate(source) if i != j]
    i, j = moved[0]
    return (
        f"The right items in another order (your item {i} is the expected item {j}"
        f"{'' if len(moved) == 1 else ', ...'}): return them in the documented order."
    )


def _describe_sequence_for_value(expected: Any, e: np.ndarray, got: tuple | list, inputs: _Inputs) -> str | None:
    for i, item in enumerate(got[:16]):
        if _same(expected, item):
            which = f"last item (item {i})" if i == len(got) - 1 and len(got) > 1 else f"item {i}"
            return (
                f"Returns a {type(got).__name__} of {len(got)} item{'s' if len(got) != 1 else ''} whose "
                f"{which} is the expected value: return just that value."
            )
    if len(got) > 16 and _same(expected, got[-1]):
        return (
            f"Returns a {type(got).__name__} of {len(got)} items whose last item is the expected value: return "
            f"just that value."
        )
    g = _as_number_array(got)
    if g is None:
        return None
    if e.ndim == 0:
        return None
    note = f"Returns a Python {type(got).__name__} where an array was expected: convert it with np.asarray(...)."
    if g.shape == e.shape and _close(g.astype(np.float64), e.astype(np.float64), _RTOL):
        return note
    return _describe_number(e, g, inputs)


def _same(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` are the same value, to a relative tolerance (NaN equals NaN)."""
    if isinstance(a, tuple | list) or isinstance(b, tuple | list):
        return (
            isinstance(a, tuple | list)
            and isinstance(b, tuple | list)
            and len(a) == len(b)
            and all(_same(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, bool | np.bool_) or isinstance(b, bool | np.bool_):
        return type(a) is type(b) and bool(a) == bool(b)
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a.strip().lower() == b.strip().lower()
    if a is None or b is None or isinstance(a, bytes | dict) or isinstance(b, bytes | dict):
        return a is b
    x, y = _as_number_array(a), _as_number_array(b)
    if x is None or y is None:
        xb = np.asarray(to_numpy(a)) if _looks_like_array(a) else None
        yb = np.asarray(to_numpy(b)) if _looks_like_array(b) else None
        return xb is not None and yb is not None and xb.dtype == yb.dtype == np.bool_ and np.array_equal(xb, yb)
    if x.shape != y.shape:
        return False
    if x.size > 8192 and not _same_numbers(x.ravel()[:: x.size // 1024], y.ravel()[:: x.size // 1024]):
        return False  # a quick look at a sample first: most differing arrays differ there
    return _same_numbers(x, y)


def _same_numbers(x: np.ndarray, y: np.ndarray) -> bool:
    """Equal-shape number arrays equal to a relative tolerance, NaN equal to NaN, ±inf to itself."""
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    nan_x, nan_y = np.isnan(x64), np.isnan(y64)
    if not np.array_equal(nan_x, nan_y):
        return False
    x64, y64 = np.where(nan_x, 0.0, x64), np.where(nan_y, 0.0, y64)
    inf = np.isinf(x64) | np.isinf(y64)
    if inf.any():
        if not np.array_equal(x64[inf], y64[inf]):
            return False
        x64, y64 = x64[~inf], y64[~inf]
    return _close(y64, x64, _RTOL)


# --- numbers and arrays -------------------------------------------------------------------------


def _describe_number(e: np.ndarray, got: Any, inputs: _Inputs) -> str | None:
    """``e`` is the expected value as an array of numbers; ``got`` anything."""
    if isinstance(got, bool | np.bool_):
        return None
    if not _looks_like_array(got) and not isinstance(got, int | float | np.integer | np.floating):
        return None
    g = _as_number_array(got)
    if g is None or g.size == 0:
        return None
    if g.shape != e.shape:
        return _describe_shape(e, g, inputs)
    return _describe_values(e, g, inputs)


def _describe_shape(e: np.ndarray, g: np.ndarray, inputs: _Inputs) -> str | None:
    es, gs = e.shape, g.shape
    e64, g64 = e.astype(np.float64), g.astype(np.float64)
    if g.size == e.size:
        note, aligned = _same_size_shape_note(e64, g64)
        if aligned is None:
            return note
        relation = None if _close(aligned, e64, _rtol(e, g)) else _describe_values(e, aligned.astype(g.dtype), inputs)
        return _join(note, relation) if note else relation
    if e.ndim == 0:
        return _reduction_missing(e64, g64)
    if g.ndim == 0:
        return _reduction_extra(e64, g64)
    if g.ndim == 1 and 0 < g.size < e.size:
        kept = e64[e64 != 0]
        if kept.size == g.size and _close(g64, kept, _RTOL):
            return (
                f"A flat array of the {g.size} non-zero entries of the expected, where shape {es} was expected: "
                f"boolean indexing (a[mask]) keeps only the selected entries; keep the shape with "
                f"np.where(mask, a, 0)."
            )
    extra = [i for i in range(g.ndim) if gs[:i] + gs[i + 1 :] == es] if g.ndim == e.ndim + 1 else []
    for axis in extra:
        for name, reduce in (("sum", np.sum), ("mean", np.mean)):
            if _close(reduce(g64, axis=axis), e64, _RTOL):
                return (
                    f"Shape {gs} where {es} was expected, and the {name} over axis {axis} "
                    f"(of length {gs[axis]}{_dimension(gs[axis], inputs)}) is the expected value: "
                    f"the {name} over that axis is missing ({name}(..., axis={axis}))."
                )
    if len(gs) == 2 and gs[0] == gs[1] and es in ((gs[0],), (gs[0], 1), (1, gs[0])):
        k = gs[0]
        return (
            f"A matrix of shape ({k}, {k}) where {es} was expected: broadcasting can silently turn a difference "
            f"of shapes ({k}, 1) − ({k},) into a ({k}, {k}) matrix; check the shapes of the operands "
            f"(flatten the column with .ravel() or index it with [:, 0])."
        )
    if extra:
        length = gs[extra[0]]
        return (
            f"Shape {gs} where {es} was expected, an extra axis of length {length}{_dimension(length, inputs)}: "
            f"is a sum or mean over it missing, or did a column (m, 1) broadcast against a flat (m,) array?"
        )
    if g.ndim == e.ndim:
        axes = [i for i in range(e.ndim) if es[i] != gs[i]]
        if len(axes) == 1 and abs(es[axes[0]] - gs[axes[0]]) == 1:
            return _one_entry_off(e64, g64, axes[0])
        if all(gs[i] < es[i] for i in axes):
            text = _leading_block(e64, g64, inputs)
            if text is not None:
                return text
        if len(axes) == 1 and inputs.n and inputs.p and inputs.n != inputs.p:
            lengths = (es[axes[0]], gs[axes[0]])
            if lengths in ((inputs.p, inputs.n), (inputs.n, inputs.p)):
                meant, got_kind = ("feature", "sample") if lengths[0] == inputs.p else ("sample", "feature")
                return (
                    f"Shape {gs} where {es} was expected: one entry per {got_kind} ({lengths[1]}) where one per "
                    f"{meant} ({lengths[0]}) was expected (n = {inputs.n} samples, p = {inputs.p} feature"
                    f"{'s' if inputs.p != 1 else ''}): a "
                    f"sum or mean over the other axis of the data, or a product with the data matrix the other "
                    f"way round (X versus X.T)?"
                )
    return None


def _dimension(length: int, inputs: _Inputs) -> str:
    """``", n, the number of samples"`` when ``length`` is one of the data matrix's dimensions, else ``""``."""
    if length == inputs.n:
        return ", n, the number of samples"
    if length == inputs.p:
        return ", p, the number of features"
    return ""


def _same_size_shape_note(e64: np.ndarray, g64: np.ndarray) -> tuple[str | None, np.ndarray | None]:
    """A sentence on a same-size shape difference, and ``got`` brought to the expected shape (or ``None``)."""
    es, gs = e64.shape, g64.shape
    if e64.ndim == 0:
        return (
            f"An array of shape {gs} where a single number was expected: return a scalar (e.g. float(x) or x.item())."
        ), g64.reshape(())
    if g64.ndim == 0:
        return (
            f"A single number where an array of shape {es} was expected: keep the array (no float() or "
            f"indexing of its only entry)."
        ), g64.reshape(es)
    if e64.ndim == 1:
        k = es[0]
        if gs == (k, 1):
            return (
                f"A column vector ({k}, 1) where a flat array ({k},) was expected: broadcasting can silently "
                f"turn a difference of shapes ({k}, 1) − ({k},) into a ({k}, {k}) matrix; flatten it "
                f"(.ravel() or [:, 0])."
            ), g64.reshape(es)
        if gs == (1, k):
            return (
                f"A row vector (1, {k}) where a flat array ({k},) was expected: flatten it (.ravel() or [0])."
            ), g64.reshape(es)
    if g64.ndim == 1 and es in ((gs[0], 1), (1, gs[0])):
        kind = "column" if es[1] == 1 else "row"
        how = "x.reshape(-1, 1) or x[:, None]" if kind == "column" else "x.reshape(1, -1) or x[None, :]"
        return (
            f"A flat array {gs} where a {kind} vector {es} was expected: keep the second axis ({how})."
        ), g64.reshape(es)
    if e64.ndim == 2 and gs == (es[1], es[0]):
        if _close(g64.T, e64, _RTOL):
            return (
                f"The transpose of the expected: shape {gs} instead of {es}; the operands of a matrix product "
                f"in the other order, or a missing or extra .T?"
            ), None
        if _close(g64.reshape(es), e64, _RTOL):
            return (
                f"The right entries in shape {gs} where {es} was expected (reshaped, not transposed): return "
                f"the array in the expected shape."
            ), None
        return (
            f"Shape {gs} where {es} was expected, the axes swapped: a missing or extra .T, or the operands of "
            f"a product in the other order?"
        ), g64.T
    if _close(g64.reshape(es), e64, _RTOL):
        return f"The right entries in shape {gs} where {es} was expected: reshape the result.", None
    if g64.squeeze().shape == e64.squeeze().shape:
        return f"Shape {gs} where {es} was expected (an extra or missing axis of length 1).", g64.reshape(es)
    return None, None


def _reduction_missing(e64: np.ndarray, g64: np.ndarray) -> str:
    """A single number was expected and an array of several entries came back."""
    shape = g64.shape
    for name, value in (("sum", np.sum(g64)), ("mean", np.mean(g64))):
        if _close(np.asarray(value), e64, _RTOL):
            return (
                f"An array of shape {shape} whose {name} is the expected value: the final {name} is missing "
                f"(or an axis= keeps a dimension)."
            )
    return (
        f"An array of shape {shape} where a single number was expected: is a sum, mean or norm missing "
        f"(or does an axis= keep a dimension)?"
    )


def _reduction_extra(e64: np.ndarray, g64: np.ndarray) -> str:
    """An array was expected and a single number came back."""
    shape = e64.shape
    for name, value in (("sum", np.sum(e64)), ("mean", np.mean(e64))):
        if _close(g64, np.asarray(value), _RTOL):
            product = ", or a matrix or dot product (@, np.dot) where an elementwise product (*) was meant" * (
                name == "sum"
            )
            return (
                f"A single number, the {name} of the expected entries, where an array of shape {shape} was "
                f"expected: a {name} over every axis where it should run over one (a missing axis=){product}?"
            )
    return (
        f"A single number where an array of shape {shape} was expected: a reduction over every axis "
        f"(a missing axis=), or one entry picked instead of the whole array?"
    )


def _one_entry_off(e64: np.ndarray, g64: np.ndarray, axis: int) -> str | None:
    """One entry more or less along ``axis``, named only when all the other entries are the expected ones."""
    es, gs = e64.shape, g64.shape
    more = gs[axis] > es[axis]
    longer, shorter = (g64, e64) if more else (e64, g64)
    count = shorter.shape[axis]
    if _close(np.take(longer, range(count), axis=axis), shorter, _RTOL):
        where = "at the end"
    elif _close(np.take(longer, range(1, count + 1), axis=axis), shorter, _RTOL):
        where = "at the start"
    else:
        return None
    detail = f"one entry {'too many' if more else 'too few'} {where} along axis {axis}, the others right"
    return f"Shape {gs} where {es} was expected, {detail}: an off-by-one in a range or slice?"


def _describe_values(e: np.ndarray, g: np.ndarray, inputs: _Inputs) -> str | None:
    """Same shapes: the relation between the values."""
    rtol = _rtol(e, g)
    e64, g64 = e.astype(np.float64), g.astype(np.float64)
    fe, fg = np.isfinite(e64), np.isfinite(g64)
    full = bool(fe.all() and fg.all())
    if not full:
        text = _non_finite(e64, g64, fe, fg)
        if text is not None:
            return text or None  # "": NaN against inf, or +inf against -inf: no relation named
        mask = fe & fg
        if not mask.any():
            return None
    else:
        mask = None
    ef, gf = (e64, g64) if mask is None else (e64[mask], g64[mask])
    arrays = [(label, a if mask is None else a[mask]) for label, a in inputs.arrays if a.shape == e64.shape]
    if _close(gf, ef, _RTOL):  # "the values are right": to 1e-6, the usual comparator's tolerance, even for float32
        return _dtype_only(e, g, inputs)
    if _close(gf, ef, rtol):
        return None  # equal to float32 rounding only: no relation to name
    text = _dtype_relation(e, g, ef, gf)
    if text is not None:
        return text
    scale = float(np.max(np.abs(ef)))
    if scale > 0 and not np.any(gf):
        what = "Returns 0 where a non-zero value was" if e.size == 1 else "Returns all zeros where non-zero values were"
        return (
            f"{what} expected: a factor that is 0 (an integer division such as 1 // n is 0 for n > 1), or a "
            f"result that is never computed or updated (a loop that never runs, np.zeros never filled)?"
        )
    if e.dtype.kind in "iu":
        text = _off_by_one(ef, gf, e.size) or _counted_once(ef, gf)
        if text is not None:
            return text
    else:
        text = _rounded(ef, gf)
        if text is not None:
            return text
    floats = [(label, np.asarray(x)) for label, x, is_int in inputs.scalars if not is_int and abs(x) != 1]
    for label, a in arrays + (floats if e.size == 1 else []):
        if np.any(a != ef) and _close(gf, np.broadcast_to(a, gf.shape), rtol):
            return (
                f"Returns {label} unchanged: was the update (or the computation on it) never applied, or is the "
                f"wrong variable returned?"
            )
    if scale > 0 and _close(gf, -ef, rtol):
        return (
            "The sign is flipped (exactly −1 times the expected): a minus sign lost or added, or a difference "
            "taken the other way round (b − a where a − b was meant)?"
        )
    integer = e.dtype.kind in "iu"
    factor = _factor(ef, gf, inputs, integer, rtol)
    if factor is not None:
        amount, cause, flipped = factor
        sign = ", with the opposite sign" if flipped else ""
        return f"{_upper_first(amount)} the expected value{sign}{_cause(cause)}"
    if mask is None and e64.ndim == 2 and e64.shape[0] == e64.shape[1] and _close(g64.T, e64, rtol):
        return (
            "The transpose of the expected (rows and columns swapped): two indices in the other order, the operands "
            "of a matrix product swapped (x.T @ g versus g.T @ x), or a missing or extra .T?"
        )
    text = _square_for_double(ef, gf, arrays + floats, rtol)
    if text is None and mask is None:
        text = _zeros_in_places(e64, g64, rtol, arrays)
    if text is not None:
        return text
    largest = max(scale, float(np.max(np.abs(gf))))
    if largest <= 0 or float(np.max(np.abs(gf))) <= 1e-4 * scale:
        return None  # ~0 relative to the expected: "expected minus an input that equals it" says nothing more
    offset = gf - ef
    for label, value in arrays + floats:
        if not np.any(value):
            continue
        target = np.broadcast_to(value, offset.shape)
        atol = 1e-2 * rtol * max(largest, float(np.max(np.abs(target))))
        if _close(offset, target, rtol, atol):
            return f"Differs from the expected by exactly {label}: is {label} added once too often?"
        if _close(offset, -target, rtol, atol):
            return (
                f"The expected value minus {label}: is {label} left out (e.g. only the change returned, without "
                f"the {label} it applies to)?"
            )
    eps = max(float(np.finfo(d).eps) if d.kind == "f" else 0.0 for d in (e.dtype, g.dtype))
    for label, a in arrays if ef.size > 1 else []:  # one number is some multiple of any change: arrays only
        change, mine = ef - a, gf - a
        size = float(np.max(np.abs(change)))
        noise = 8 * max(eps, 2.0**-52) * max(largest, float(np.max(np.abs(a))))
        if size <= 1e3 * noise:
            continue
        if _close(mine, -change, rtol, 1e-2 * rtol * size + noise):
            return (
                f"The change from {label} has the opposite sign: {label} + step where {label} − step was expected "
                f"(is the step added instead of subtracted, ascending instead of descending?)"
            )
        factor = _factor(change, mine, inputs, integer, rtol, noise)
        if factor is not None:
            amount, cause, flipped = factor
            sign = ", with the opposite sign" if flipped else ""
            return f"The change from {label} is {amount} the expected change{sign}{_cause(cause)}"
        square = change.ndim == 2 and change.shape[0] == change.shape[1] and mask is None
        if square and not _close(change.T, change, rtol) and _close(mine, change.T, rtol, 1e-2 * rtol * size + noise):
            return (
                f"The change from {label} is the transpose of the expected change: is a term transposed (a .T "
                f"too many or missing) before it is applied to {label}?"
            )
    text = _missing_term(offset, arrays, floats, rtol, largest)
    if text is None and mask is None:
        text = _per_column(e64, g64, rtol)
    if (
        text is None
        and mask is None
        and e64.size >= 3
        and _close(np.sort(g64, axis=None), np.sort(e64, axis=None), rtol)
    ):
        text = "The same entries as the expected, in another order: a different sort, shuffle or index order?"
    return text


def _counted_once(ef: np.ndarray, gf: np.ndarray) -> str | None:
    """Non-negative counts where yours is 1 wherever the expected count is positive (and 0 where it is 0)."""
    if ef.size < 2 or np.any(ef < 0) or not np.any(ef > 1):
        return None
    if np.array_equal(gf, (ef > 0).astype(np.float64)):
        return (
            "1 wherever the expected count is positive, 0 where it is 0: each count was set, or incremented once, "
            "instead of added up. With repeated indices, a[idx] += 1 adds 1 once per distinct index; "
            "np.add.at(a, idx, 1) (or a loop) adds every one."
        )
    return None


def _leading_block(e64: np.ndarray, g64: np.ndarray, inputs: _Inputs) -> str | None:
    """A smaller result equal to the expected's leading block, the rest of the expected being 0."""
    block = tuple(slice(0, k) for k in g64.shape)
    if not _close(g64, e64[block], _RTOL) or not np.any(g64):
        return None
    rest = e64.copy()
    rest[block] = 0.0
    if np.any(rest):
        return None
    sizes = {int(k) for k in e64.shape}
    named = [label for label, value, is_int in inputs.scalars if is_int and int(value) in sizes]
    which = f" the size argument {named[0]}" if named else " the size asked for"
    return (
        f"Shape {g64.shape} where {e64.shape} was expected: your entries are the expected's leading block, and the "
        f"expected is 0 everywhere else (e.g. a class or index that never occurs). Is the size read from the data "
        f"(the largest value seen + 1, or the values seen) instead of{which}?"
    )


def _per_column(e64: np.ndarray, g64: np.ndarray, rtol: float) -> str | None:
    """Every column of yours an affine function of the expected column, with its own constants (2-D, 3+ rows)."""
    if e64.ndim != 2 or e64.shape[0] < 3 or e64.shape[1] < 2:
        return None
    scales: list[float] = []
    shifts: list[float] = []
    spreads: list[float] = []
    for j in range(e64.shape[1]):
        x, y = e64[:, j], g64[:, j]
        spread = float(np.max(x) - np.min(x))
        if not spread > 0:
            return None
        a = float(np.dot(x - x.mean(), y - y.mean()) / np.dot(x - x.mean(), x - x.mean()))
        b = float(y.mean() - a * x.mean())
        atol = 1e-2 * rtol * max(float(np.max(np.abs(y))), 1e-300)
        if a == 0 or not _close(y, a * x + b, rtol, atol + rtol * abs(b)):
            return None
        scales.append(a)
        shifts.append(b)
        spreads.append(abs(a) * spread)
    tol = max(_RTOL, 10 * rtol)  # the fitted constants carry the float32 noise of the entries
    same_scale = all(abs(a - scales[0]) <= tol * abs(scales[0]) for a in scales)
    unscaled = all(abs(a - 1) <= tol for a in scales)
    unshifted = all(abs(b) <= tol * d for b, d in zip(shifts, spreads, strict=True))
    same_shift = all(abs(b - shifts[0]) <= tol * d for b, d in zip(shifts, spreads, strict=True))
    if unscaled and unshifted:
        return None
    if unshifted:
        if same_scale:
            return "Proportional to the expected: every entry is the expected one times the same constant."
        what = "the expected column times a constant of its own (the constants differ from column to column)"
    elif unscaled:
        if same_shift:
            return "The expected plus the same constant in every entry."
        what = "the expected column plus a constant of its own (the shifts differ from column to column)"
    else:
        what = "a shifted and scaled copy of the expected column, with constants of its own"
    return (
        f"Every column is {what}: a per-column (per-feature) statistic — a centre or a scale, such as a mean or "
        f"a standard deviation — is not the expected one?"
    )


def _square_for_double(
    ef: np.ndarray, gf: np.ndarray, candidates: list[tuple[str, np.ndarray]], rtol: float
) -> str | None:
    """An input squared where twice it was expected, or the reverse: ``** 2`` and ``* 2`` typed for each other."""
    for label, value in candidates:
        a = np.broadcast_to(value, ef.shape)
        if not np.all(np.abs(a - 2) > 1e-3) or not np.all(a != 0):  # a² = 2a at 0 and 2: no way to tell
            continue
        if _close(ef, 2 * a, rtol) and _close(gf, a * a, rtol):
            return f"{label} squared where twice {label} was expected: ** 2 typed for * 2?"
        if _close(ef, a * a, rtol) and _close(gf, 2 * a, rtol):
            return f"Twice {label} where {label} squared was expected: * 2 typed for ** 2?"
    return None


def _zeros_in_places(e64: np.ndarray, g64: np.ndarray, rtol: float, arrays: list[tuple[str, np.ndarray]]) -> str | None:
    """Right everywhere except some entries: yours 0 where the expected is not, or not 0 where it is.

    Says where they are when they are exactly the entries where an input of the same shape has a sign
    (``x < 0``, ``x = 0``...), or all at index 0 of an axis.
    """
    size = e64.size
    if size < 3:
        return None
    wrong = np.abs(g64 - e64) > rtol * np.abs(e64) + 1e-2 * rtol * float(np.max(np.abs(e64)))
    count = int(np.count_nonzero(wrong))
    if count == 0 or count == size:
        return None
    where = _where_an_input(wrong, arrays)
    if np.all(g64[wrong] == 0):
        at_zero = np.all(np.any(np.argwhere(wrong) == 0, axis=1)) if e64.ndim > 0 else False
        where = where or (", all at index 0 of an axis (the first entry, row or column)" if at_zero else "")
        return (
            f"Right except {count} of {size} entries{where}: yours are 0 there, where non-zero values were "
            f"expected. Is part of the result never filled in (a loop or range that skips some indices, such as "
            f"range(1, k))?"
        )
    if np.all(e64[wrong] == 0):
        return f"Right except {count} of {size} entries{where}: the expected is exactly 0 there and yours is not."
    return None


def _where_an_input(wrong: np.ndarray, arrays: list[tuple[str, np.ndarray]]) -> str:
    """``", exactly those where `x` < 0"`` when ``wrong`` is where an input has that sign, else ``""``."""
    for label, a in arrays:
        for op, where in (("< 0", a < 0), ("> 0", a > 0), ("= 0", a == 0), ("≤ 0", a <= 0), ("≥ 0", a >= 0)):
            if np.array_equal(where, wrong):
                return f", exactly those where {label} {op}"
    return ""


def _missing_term(
    offset: np.ndarray,
    arrays: list[tuple[str, np.ndarray]],
    floats: list[tuple[str, np.ndarray]],
    rtol: float,
    largest: float,
) -> str | None:
    r"""``got − expected == k·s·a``: ``a`` an input array, ``s`` a product of one or two float inputs, ``k = ±1, ±2``.

    A term :math:`s\,a` dropped (or counted twice) gives :math:`k = \pm 1`; its sign flipped gives :math:`k = \pm 2`.
    """
    coefficients = [(float(x), label) for label, x in floats]
    coefficients += [
        (float(x) * float(y), f"{lx}·{ly}") for i, (lx, x) in enumerate(floats) for ly, y in floats[i + 1 :]
    ]
    for label, a in arrays:
        norm = float(np.dot(a.ravel(), a.ravel()))
        if a.size < 2 or not norm > 0:
            continue
        c_hat = float(np.dot(offset.ravel(), a.ravel())) / norm
        atol = 1e-2 * rtol * max(largest, float(np.max(np.abs(a))) * abs(c_hat))
        for value, coefficient in coefficients:
            for k in (1, -1, 2, -2):
                c = k * value
                if c == 0 or abs(c_hat - c) > 1e-4 * abs(c) or not _close(offset, c * a, rtol, atol):
                    continue
                term = f"{coefficient}·{label}"
                if k == 1:
                    return f"Your result minus the expected is exactly {term}: is a term −{term} missing?"
                if k == -1:
                    return f"The expected minus your result is exactly {term}: is a term +{term} missing?"
                sign = "−" if k > 0 else "+"
                return (
                    f"Your result and the expected differ by exactly 2·{term}: does the term {sign}{term} have "
                    f"the wrong sign?"
                )
    return None


def _non_finite(e64: np.ndarray, g64: np.ndarray, fe: np.ndarray, fg: np.ndarray) -> str | None:
    """NaN/inf in one of the two where the other is finite; ``""`` when the non-finite entries disagree.

    ``None`` when the non-finite entries agree (NaN with NaN, +inf with +inf): the finite ones decide.
    """
    size = e64.size
    bad = fe & ~fg
    if bad.any():
        nan = int(np.count_nonzero(bad & np.isnan(g64)))
        inf = int(np.count_nonzero(bad)) - nan
        if size == 1:
            what = "NaN" if nan else "infinite"
            return _cause_of_non_finite(f"The result is {what} where a finite value was expected", nan, inf)
        if nan and inf:
            text = f"{_count(nan, size)} NaN and {inf} infinite"
        else:
            text = f"{_count(nan or inf, size)} {'NaN' if nan else 'infinite'}"
        return _cause_of_non_finite(f"{text} where finite values were expected", nan, inf)
    missing = ~fe & fg
    if missing.any():
        count = int(np.count_nonzero(missing))
        where = "the expected value is" if size == 1 else f"{count} of {size} expected entries are"
        return (
            f"Finite where {where} NaN or infinite (these inputs make the computation overflow or divide by "
            f"zero): are non-finite values replaced or clipped (np.nan_to_num, np.clip, an added epsilon)?"
        )
    agree = (np.isnan(e64) & np.isnan(g64)) | (fe & fg) | (e64 == g64)
    return None if agree.all() else ""


def _count(k: int, size: int) -> str:
    """``"all 8 entries are"``, ``"1 of 8 entries is"``, ``"3 of 8 entries are"`` (capitalised)."""
    if k == size:
        return f"All {size} entries are"
    return f"{k} of {size} entries {'is' if k == 1 else 'are'}"


_NAN_CAUSES = (
    "an invalid operation — 0/0, ∞ − ∞, 0·∞, or the square root or logarithm of a negative number — often "
    "after an overflow to ∞"
)
_INF_CAUSES = "an overflow (e.g. exp of a large number), a division by zero, or the logarithm of 0"


def _cause_of_non_finite(text: str, nan: int, inf: int) -> str:
    """The ways floating-point arithmetic makes NaN and ±inf (IEEE 754): the list is complete, not a guess."""
    if nan and inf:
        return f"{text}: NaN comes from {_NAN_CAUSES}; ±inf from {_INF_CAUSES}."
    if nan:
        return f"{text}: NaN comes from {_NAN_CAUSES}."
    return f"{text}: ±inf comes from {_INF_CAUSES}."


def _dtype_only(e: np.ndarray, g: np.ndarray, inputs: _Inputs) -> str | None:
    """The values agree; say so when the dtypes differ."""
    if e.dtype == g.dtype:
        return None
    if e.dtype == np.float32 and g.dtype == np.float64 and inputs.float32:
        return (
            "The values are right but the result is float64 from float32 inputs: a float64 array or NumPy scalar "
            "(np.array([...]), np.zeros(n), np.float64) promotes the result; create it with dtype=x.dtype."
        )
    if e.dtype.kind in "iu" and g.dtype.kind == "f":
        return (
            f"The values are right but they are floats ({g.dtype}) where integers ({e.dtype}) were expected: "
            f"np.zeros and np.ones make floats unless given dtype=int."
        )
    return f"The values are right but the dtype is {g.dtype} where {e.dtype} was expected: convert with .astype()."


def _dtype_relation(e: np.ndarray, g: np.ndarray, ef: np.ndarray, gf: np.ndarray) -> str | None:
    """Integer truncation and float32 precision."""
    if g.dtype.kind in "iu" and e.dtype.kind == "f" and np.any(ef != np.round(ef)):
        for how, rounded, by in (
            ("rounded down", np.floor(ef), "integer division (//), math.floor, or int() of a positive number"),
            ("truncated towards 0", np.trunc(ef), "int() (it truncates towards 0) or an integer array"),
            ("rounded to the nearest integer", np.round(ef), "round() without a number of digits"),
        ):
            if np.array_equal(gf, rounded):
                what = "An integer result" if e.size == 1 else f"Integers ({g.dtype})"
                return f"{what} where fractional values were expected, the expected {how}: {by} drops the fractions."
    if e.dtype == np.float64 and g.dtype in (np.float32, np.float16):
        tol = 1e-4 if g.dtype == np.float32 else 1e-2
        if _close(gf, ef, tol):
            return (
                f"A {g.dtype} result, close to the expected but only to {g.dtype}'s precision, where float64 was "
                f"expected: compute in float64 (or keep the inputs' dtype)."
            )
    return None


def _off_by_one(ef: np.ndarray, gf: np.ndarray, size: int) -> str | None:
    """``got == expected ± 1`` on every entry of an integer result: the relation only.

    Its cause (a +1 missing, a bound included, a count from 1, a rounding up...) cannot be read from the values,
    so none is named.
    """
    diff = gf - ef
    for step, word in ((1.0, "more"), (-1.0, "less")):
        if np.all(diff == step):
            what = "One" if size == 1 else "Every entry is one"
            return f"{what} {word} than expected (off by one)."
    return None


def _rounded(ef: np.ndarray, gf: np.ndarray) -> str | None:
    """Floats equal to the expected rounded to a number of decimals or of significant digits (the relation).

    A single number must match a rounding to at least 1 decimal or 2 significant digits (a whole number matching
    the expected rounded to 0 decimals is too often chance); an array needs at least two entries that the
    rounding changed, all equal to the rounded entries.
    """
    if ef.size == 1:
        roundings = [(f"{k} decimal place{'s' if k > 1 else ''}", np.round(ef, k)) for k in range(1, 7)]
        roundings += [(f"{k} significant digits", _significant(ef, k)) for k in range(2, 7)]
    else:
        roundings = [(f"{k} decimal place{'s' if k != 1 else ''}", np.round(ef, k)) for k in range(7)]
    for what, rounded in roundings:
        changed = np.abs(rounded - ef) > _RTOL * np.abs(ef)
        if int(np.count_nonzero(changed)) < min(2, ef.size):
            continue
        if np.allclose(gf, rounded, rtol=1e-12, atol=0.0):
            return (
                f"The expected value rounded to {what}: keep the full precision (round only when printing, "
                f'e.g. with f"{{x:.3g}}").'
            )
    return None


def _significant(ef: np.ndarray, k: int) -> np.ndarray:
    return np.array([float(f"{x:.{k - 1}e}") for x in ef.ravel()]).reshape(ef.shape)


def _cause(cause: str) -> str:
    """``": cause"`` after a relation, or ``"."`` when no cause is named."""
    return f": {cause}" if cause else "."


def _factor(
    ef: np.ndarray, gf: np.ndarray, inputs: _Inputs, integer: bool, rtol: float, noise: float = 0.0
) -> tuple[str, str, bool] | None:
    r"""``(amount, cause, flipped)`` when :math:`g = c\,e` for a named constant :math:`c` (:math:`-c` when flipped).

    The estimate :math:`\hat c = g\cdot e / e\cdot e` picks the candidate; every entry must then satisfy
    :math:`|g_i - c\,e_i| \le \mathrm{rtol}\,|c\,e_i| + 10^{-2}\,\mathrm{rtol}\,|c| \max|e| + \mathrm{noise}`.
    ``cause`` is ``""`` unless the inputs show one (see :func:`_candidates`).  An integer result needs two
    non-zero entries in the ratio: one pair of small integers is in some ratio too often by chance (12 and 6);
    so does a single number for the factors 3…10 (a value exercise's 0.09375 is 1/6 of its 0.5625).
    """
    few = int(np.count_nonzero(ef)) < 2
    if integer and few:
        return None
    denominator = float(np.dot(ef.ravel(), ef.ravel()))
    if not denominator > 0 or not math.isfinite(denominator):
        return None
    c_hat = float(np.dot(gf.ravel(), ef.ravel())) / denominator
    if not math.isfinite(c_hat) or c_hat == 0:
        return None
    largest = float(np.max(np.abs(ef)))
    for value, amount, cause in _candidates(inputs, integer or few):
        for flipped in (False, True):
            c = -value if flipped else value
            if abs(c_hat - c) <= 1e-4 * abs(c) and _close(gf, c * ef, rtol, 1e-2 * rtol * abs(c) * largest + noise):
                return amount, cause, flipped
    return None


def _candidates(inputs: _Inputs, chance_prone: bool) -> list[tuple[float, str, str]]:
    """The named factors, most specific first, without duplicates (``(value, amount, cause)``).

    A cause is named only where the inputs show it: a factor n, p or a batch size read from the case's data
    (a sum where a mean was meant, and the like).  A factor named after a float input (``lr`` times) says
    which input, and that is all the values show; a plain constant (twice, half, 3 times) has no cause named,
    since the same factor comes from a derivative, a counter or a doubling alike.
    """
    found: list[tuple[float, str, str]] = []
    n, p = inputs.n, inputs.p
    if n and n > 2:  # a factor 2 is named "twice", even when n or p is 2
        found.append((float(n), "n times", f"a sum where a mean was meant (n = {n} samples)?"))
        found.append(
            (1.0 / n, "1/n of", f"divided by n once too often, or a mean where a sum was meant (n = {n} samples)?")
        )
    if p and p > 2:
        found.append((float(p), "p times", f"summed or multiplied over the p = {p} features?"))
        found.append(
            (
                1.0 / p,
                "1/p of",
                f"divided by p = {p} (the number of features) too: a mean over every entry (n·p of them) where "
                f"the mean over the n samples was meant?",
            )
        )
    if n and p and n > 1 and p > 1 and n != p:
        found.append(
            (
                n / p,
                "n/p times",
                f"divided by p = {p} (the number of features) where n = {n} (the number of samples) was meant?",
            )
        )
        found.append(
            (
                p / n,
                "p/n times",
                f"divided by n = {n} (the number of samples) where p = {p} (the number of features) was meant?",
            )
        )
    if n and n > 3:
        roots = f"a square root of a sum where one of a mean was meant, or the reverse (n = {n} samples)?"
        found.append((math.sqrt(n), "√n times", roots))
        found.append((1.0 / math.sqrt(n), "1/√n of", roots))
    if inputs.batch is not None and inputs.batch[1] > 2:
        label, b = inputs.batch
        found.append((float(b), f"{label} times", f"a sum over the batch where a mean was meant ({label} = {b})?"))
        found.append((1.0 / b, f"1/{label} of", f"divided by the batch size once too often ({label} = {b})?"))
    squares: list[tuple[float, str, str]] = []
    for label, x, is_int in inputs.scalars:
        if x == 0 or abs(x) == 1 or is_int:  # integer inputs (sizes, counts, steps): too many coincidences
            continue
        found.append((x, f"{label} times", ""))
        found.append((1.0 / x, f"1/{label} times", ""))
        if 0 < x < 1:
            found.append((1.0 - x, f"(1 − {label}) times", ""))
            found.append((1.0 / (1.0 - x), f"1/(1 − {label}) times", ""))
        squares.append((x * x, f"{label}² times", ""))
        squares.append(
            (1.0 / (x * x), f"1/{label}² times", f"{label} dividing where it should multiply, or {label}² missing?")
        )
    for label, a in inputs.arrays:
        norm = float(np.sqrt(np.sum(a * a))) if a.size > 1 else 0.0
        if norm > 0 and math.isfinite(norm) and abs(norm - 1) > 1e-2:
            squares.append((norm, f"‖{label}‖ times", ""))
            squares.append((1.0 / norm, f"1/‖{label}‖ times", f"divided by the norm of {label}?"))
    found.append((2.0, "twice", ""))
    found.append((0.5, "half", ""))
    for k in range(3, 11) if not chance_prone else ():  # in a ratio by chance: integers, or one number alone
        found.append((float(k), f"{k} times", ""))
        found.append((1.0 / k, f"1/{k} of", ""))
    found += squares  # after the constants: lr = 0.5 makes lr² a plain 1/4
    unique: list[tuple[float, str, str]] = []
    for value, amount, cause in found:
        if not math.isfinite(value) or value == 0 or abs(value - 1) < 1e-2:  # ~1: indistinguishable from a miss
            continue
        if not any(abs(value - u) <= 1e-3 * abs(u) for u, _, _ in unique):
            unique.append((value, amount, cause))
    return unique


# --- helpers ------------------------------------------------------------------------------------


def _rtol(e: np.ndarray, g: np.ndarray) -> float:
    """The tolerance of a relation: 1e-6, or 64 machine epsilons of the coarsest float dtype involved."""
    eps = max((float(np.finfo(d).eps) for d in (e.dtype, g.dtype) if d.kind == "f"), default=0.0)
    return max(_RTOL, 64 * eps)


def _close(a: Any, b: Any, rtol: float, atol: float | None = None) -> bool:
    r"""Whether :math:`|a_i - b_i| \le \mathrm{rtol}\,|b_i| + \mathrm{atol}` for every entry.

    ``atol`` defaults to :math:`10^{-2}\,\mathrm{rtol}\,\max(\max|a|, \max|b|)`: entries far below the
    largest one (rounding noise of a cancellation) need not match to ``rtol`` of themselves.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    if a.size == 0:
        return True
    if atol is None:
        atol = 1e-2 * rtol * max(float(np.max(np.abs(a))), float(np.max(np.abs(b))))
    if not math.isfinite(atol):
        return False
    if a.size > 8192:  # most relations fail on the first few entries looked at: check a sample first
        step = a.size // 1024
        sa, sb = a.ravel()[::step], b.ravel()[::step]
        if not bool(np.all(np.abs(sa - sb) <= rtol * np.abs(sb) + atol)):
            return False
    return bool(np.all(np.abs(a - b) <= rtol * np.abs(b) + atol))


def _join(first: str | None, second: str | None) -> str | None:
    if first and second:
        return f"{first} {second}"
    return first or second


def _lower_first(text: str) -> str:
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _upper_first(text: str) -> str:
    return (
        text[0].upper() + text[1:]
        if text and text[0].islower() and not text.startswith(("n ", "p ", "n/", "p/"))
        else text
    )
