"""What an exercise is, and how an answer is judged.

An :class:`Exercise` bundles a reference answer, a seeded generator of test
cases, a comparator, hints, a solution and *known mistakes* (planted wrong
answers, each with the diagnosis a learner sees when their answer behaves like
it).  Judging is split in two so the grader can run untrusted code elsewhere:

1. :meth:`Exercise.outcomes` applies an answer to the cases and records each
   value or error, and which inputs the answer changed in place (this is all the
   grading worker does, on inputs it is sent);
2. :meth:`Exercise.assess` compares those outcomes with the reference, in the
   judge's own process, and names the first failing case and the diagnosis.  An
   answer that changed an input fails even with the right values.

Answer forms by ``kind``:

``"function"``
    the learner writes a function; each case is called as ``answer(*args, **kwargs)``.
``"value"``
    the learner computes one value; there is a single case with no inputs.  The
    reference and the planted mistakes are zero-argument callables producing the
    value (so nothing is computed at import time).
``"choice"``
    the learner picks one key of ``choices`` (a string, compared case-insensitively).

An *experiment* exercise is a function exercise with a ``requirement``: the learner's
function runs an experiment (tunes a learning rate, trains a model, measures noise)
and its result is judged by what it achieves on each hidden case, not by equality
with the reference, because many answers can be right.  The reference is then one
answer that works; planted mistakes are still recognised by their values.
"""

from __future__ import annotations

import copy
import inspect
import math
import numbers
import os
import re
import sysconfig
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from gdcourse.backend import to_numpy
from gdcourse.exercises.codec import same_data
from gdcourse.exercises.diagnosis import describe_difference
from gdcourse.exercises.timelimit import TimeLimitExceeded, time_limit

__all__ = [
    "MUTATION_DIAGNOSIS",
    "Case",
    "Exercise",
    "Mistake",
    "Outcome",
    "REQUIREMENT_NOT_MET",
    "Verdict",
    "compare_values",
    "is_real_number",
    "mutation_diagnosis",
    "learning_rate_answer",
    "real_scalar",
]

Kind = Literal["function", "value", "choice"]


@dataclass(frozen=True)
class Case:
    """One input for a function exercise.

    ``label`` describes the case without giving its numbers away (shown in graded
    feedback, where inputs come from hidden seeds), e.g. ``"ill-conditioned bowl"``.
    ``key`` is what only the judge may know about the case, for an experiment's
    ``requirement`` (held-out labels, the problem's true minimum): it is never passed
    to the answer and never sent to a grading worker.
    """

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    label: str = ""
    key: Any = None


@dataclass(frozen=True)
class Mistake:
    """A planted wrong answer and the diagnosis shown when a learner's answer behaves like it."""

    name: str
    diagnosis: str
    answer: Any


@dataclass(frozen=True)
class Outcome:
    """What an answer produced on one case: a value, or the error it raised (``"TypeError: ..."``).

    ``mutated`` names the inputs the answer changed in place (argument names from the
    reference's signature, ``"arg1"``... by position where it has none; keyword names
    for keyword arguments).  ``raised_in`` is the name of the function whose code raised
    ``error`` (:func:`raising_function`); only :meth:`Exercise.outcomes` records it, so a
    stub called by the answer can be named.  The grader's outcomes have none.
    """

    value: Any = None
    error: str | None = None
    mutated: tuple[str, ...] = ()
    raised_in: str | None = None


@dataclass(frozen=True)
class Verdict:
    """The result of judging an answer.

    ``detail`` says what went wrong without showing inputs or expected values
    (safe for graded feedback); ``inputs``, ``expected`` and ``got`` are the
    full story for self-checks on public cases.
    """

    exercise_id: str
    passed: bool
    points: float
    max_points: float
    case_index: int | None = None
    case_label: str = ""
    detail: str = ""
    inputs: str = ""
    expected: str = ""
    got: str = ""
    diagnosis: str | None = None


def _short(x: Any, limit: int = 300) -> str:
    try:
        if hasattr(x, "shape") and hasattr(x, "dtype"):
            with np.printoptions(precision=6, threshold=20, edgeitems=3):
                text = repr(to_numpy(x))
        else:
            text = repr(x)
    except Exception:  # noqa: BLE001 - a learner's object may have a broken __repr__ or fake array attributes
        text = f"<{type(x).__name__} object>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_array(x: Any) -> bool:
    return hasattr(x, "shape") and hasattr(x, "dtype")


def _is_bool(x: Any) -> bool:
    return isinstance(x, bool | np.bool_)


def _is_complex(x: Any) -> bool:
    if isinstance(x, complex | np.complexfloating):
        return True
    try:
        return _is_array(x) and np.dtype(getattr(x, "dtype", None)).kind == "c"
    except TypeError:  # a dtype NumPy does not know (another backend's object, a fake)
        return "complex" in str(getattr(x, "dtype", ""))


def is_real_number(x: Any) -> bool:
    """Whether ``x`` is a real number of any type: ``int``, ``float``, NumPy scalars, ``Fraction``, SymPy numbers...

    Anything that is a :class:`numbers.Real`, or whose type defines ``__float__``, except
    booleans, strings, bytes, complex numbers and arrays (an array is judged as an array).
    """
    if x is None or _is_bool(x) or isinstance(x, str | bytes | bytearray) or _is_complex(x) or _is_array(x):
        return False
    return isinstance(x, numbers.Real | np.number) or hasattr(type(x), "__float__")


def real_scalar(x: Any) -> float | None:
    """``x`` as a Python ``float`` when it is one real number, else ``None`` (for experiment requirements).

    Real numbers of any type count (:func:`is_real_number`), and so do NumPy scalars and
    0-d arrays of any backend holding a real number; booleans, strings, complex numbers
    and arrays with a shape do not.
    """
    if _is_array(x) and getattr(x, "shape", None) == ():
        try:
            x = np.asarray(to_numpy(x)).item()
        except Exception:  # noqa: BLE001 - a fake array whose conversion fails is not a number
            return None
    if not is_real_number(x):
        return None
    try:
        return float(x)
    except (TypeError, ValueError, OverflowError):
        return None


def learning_rate_answer(value: Any) -> tuple[float, str | None]:
    """``(lr, None)`` when the answer ``value`` is one positive finite number, else ``(nan, why not)``.

    For the experiment exercises whose answer is a learning rate: the sentence names what was
    given instead (a type, or a number that is not positive and finite).
    """
    lr = real_scalar(value)
    if lr is None:
        return math.nan, f"expected a learning rate (one positive number), got {type(value).__name__}"
    if not (math.isfinite(lr) and lr > 0):
        return math.nan, f"expected a positive, finite learning rate, got {lr!r}"
    return lr, None


def _host(x: Any) -> np.ndarray:
    """``x`` as a NumPy array: arrays of any backend, bools, and real numbers of any type (through ``float``)."""
    if _is_array(x) or _is_bool(x) or isinstance(x, int | float | np.number):
        return np.asarray(to_numpy(x))
    return np.asarray(float(x))


def _half_unit(expected: np.ndarray, digits: int) -> np.ndarray:
    """Half a unit in the ``digits``-th significant digit of each entry (0 for 0, NaN and ±inf).

    An answer within this distance rounds to the same ``digits`` significant digits as the
    expected value (up to ties), so the expected value rounded to ``digits`` or more
    significant digits always passes.  A relative ``1e-9`` is added for floating-point
    representation (0.563 is not exactly 0.5625 + 0.0005).
    """
    magnitude = np.abs(expected)
    with np.errstate(divide="ignore", invalid="ignore"):
        exponent = np.floor(np.log10(np.where((magnitude > 0) & np.isfinite(magnitude), magnitude, 1.0)))
    half = 0.5 * 10.0 ** (exponent - digits + 1) * (1 + 1e-9)
    return np.where((magnitude > 0) & np.isfinite(magnitude), half, 0.0)


def _entries(count: int, size: int, what: str) -> str:
    if size == 1:
        return f"the value is {what}"
    return f"{count} of {size} entries {'is' if count == 1 else 'are'} {what}"


def compare_values(
    expected: Any, got: Any, *, rtol: float, atol: float, check_dtype: bool, digits: int | None = None
) -> str | None:
    """Compare two answers; return ``None`` when they match, else a short description of the difference.

    Numbers and arrays match when ``|got - expected| <= atol + rtol * |expected|``
    elementwise, with equal shapes (and equal dtypes when ``check_dtype``); NaN
    matches NaN.  With ``digits``, an entry also matches when it is within half a unit
    of the ``digits``-th significant digit of the expected entry (see :func:`_half_unit`).
    Tuples and lists match elementwise; strings (case and surrounding spaces ignored)
    and booleans exactly.

    Where a number is expected, any real number type is accepted (:func:`is_real_number`:
    ``Fraction``, SymPy numbers, NumPy scalars...), and so are booleans, which count as 0
    and 1 as they do in Python and NumPy (an array of booleans was always accepted where
    numbers were expected; a ``np.bool_`` reaches the grader as a ``bool``).  A ``np.bool_``
    matches where a ``bool`` is expected.  Complex numbers and arrays of Python objects are
    rejected with a message saying so (never converted, so no ``ComplexWarning``).  Entries
    that are NaN or infinite where a finite number was expected are counted as such.

    Parameters
    ----------
    expected : object
        The reference's value: a number, an array, a string, a boolean, ``None``, or a tuple or
        list of those.
    got : object
        The answer's value.
    rtol, atol : float
        Relative and absolute tolerance of the test above.
    check_dtype : bool
        Arrays must also have the same dtype.
    digits : int, optional
        The number of significant digits an answer may be rounded to (``None``: no rounding allowed).

    Returns
    -------
    str or None
        ``None`` when they match, else what differs (``"2 of 3 entries differ..."``).
    """
    if isinstance(expected, tuple | list):
        if not isinstance(got, tuple | list):
            return f"expected a sequence of {len(expected)} items, got {type(got).__name__}"
        if len(got) != len(expected):
            return f"expected {len(expected)} items, got {len(got)}"
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            problem = compare_values(e, g, rtol=rtol, atol=atol, check_dtype=check_dtype, digits=digits)
            if problem:
                return f"item {i}: {problem}"
        return None
    if _is_bool(expected):
        same = _is_bool(got) and bool(got) == bool(expected)
        return None if same else f"expected {bool(expected)!r}, got {_short(got)}"
    if isinstance(expected, str) or expected is None:
        same = isinstance(got, type(expected)) and (
            got.strip().lower() == expected.strip().lower()
            if isinstance(expected, str) and isinstance(got, str)  # got is a str when expected is one
            else got == expected
        )
        return None if same else f"expected {expected!r}, got {_short(got)}"
    if not (is_real_number(expected) or _is_array(expected)):
        return None if got == expected else f"expected {_short(expected)}, got {_short(got)}"
    if _is_complex(got):
        if _is_array(got) and getattr(got, "shape", ()) != ():
            return f"complex numbers (dtype {got.dtype}), expected real ones"
        return "a complex number, expected a real one"
    if not (is_real_number(got) or _is_bool(got) or _is_array(got)):
        return f"expected a number or array, got {type(got).__name__}"
    try:
        g = _host(got)
    except (TypeError, ValueError, OverflowError):  # float() refused it, or a fake array
        return f"expected a number or array, got {type(got).__name__}"
    e = _host(expected)
    if e.shape != g.shape:
        return f"shape differs: expected {e.shape}, got {g.shape}"
    if check_dtype and _is_array(expected) and e.dtype != g.dtype:
        return f"dtype differs: expected {e.dtype}, got {g.dtype}"
    if g.dtype.kind == "c":
        return f"complex numbers (dtype {g.dtype}), expected real ones"
    if g.dtype == object:
        return "expected numbers, got dtype object (an array of Python objects)"
    if not np.issubdtype(g.dtype, np.number) and g.dtype != np.bool_:
        return f"expected numbers, got dtype {g.dtype}"
    e64, g64 = e.astype(np.float64), g.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(g64 - e64)
        tolerance = atol + rtol * np.abs(e64)
        if digits is not None:
            tolerance = np.maximum(tolerance, atol + _half_unit(e64, digits))
        close = (diff <= tolerance) | (g64 == e64) | (np.isnan(e64) & np.isnan(g64))
    if bool(np.all(close)):
        return None
    bad = ~close
    for mask, what in (
        (bad & np.isnan(g64), "NaN where a number was expected"),
        (bad & np.isinf(g64) & np.isfinite(e64), "infinite where a finite number was expected"),
        (bad & np.isnan(e64), "a number where NaN was expected"),
    ):
        if bool(np.any(mask)):
            return _entries(int(np.sum(mask)), e.size, what)
    finite = bad & np.isfinite(diff)
    err = float(np.max(diff[finite])) if bool(np.any(finite)) else math.inf
    where = f"{int(np.sum(bad))} of {e.size} entries differ" if e.size > 1 else "value differs"
    return f"{where} (largest absolute error {err:.3g})"


def _near_miss(expected: Any, got: Any, digits: int | None) -> bool:
    """Whether a wrong numeric ``got`` is close to ``expected``: within 1%, or ``expected`` rounded to fewer digits.

    "Rounded to fewer digits" means ``got`` equals ``expected`` rounded to 2 up to ``digits - 1``
    significant digits (an answer copied from a printout with too few digits, which can be
    off by up to 5%).
    """
    try:
        if not (is_real_number(got) or _is_array(got)) or _is_complex(got):
            return False
        e, g = _host(expected).astype(np.float64), _host(got).astype(np.float64)
    except (TypeError, ValueError, OverflowError):
        return False
    if e.shape != g.shape or e.size == 0 or not (np.all(np.isfinite(e)) and np.all(np.isfinite(g))):
        return False
    if np.all(np.abs(g - e) <= 0.01 * np.abs(e)) and np.any(e != 0):
        return True
    for k in range(2, digits or 0):
        rounded = np.array([float(f"{x:.{k - 1}e}") for x in e.ravel()]).reshape(e.shape)
        if np.allclose(g, rounded, rtol=1e-12, atol=0.0):
            return True
    return False


REQUIREMENT_NOT_MET = "does not meet the requirement"
"""How a failed experiment case's detail starts (``"does not meet the requirement: <why>"``); graded feedback
shows only these words, since the reason may name hidden inputs."""


MUTATION_DIAGNOSIS = (
    "Your function changed an input in place. The caller's arrays must stay as they were: build a new array "
    "(`theta - lr * grad`) instead of updating one in place (`theta -= ...`, `theta[:] = ...`, `x.sort()`)."
)
"""The diagnosis of an answer that changed its inputs, as :meth:`Exercise.assess` gives it (and the grader
shows it): it does not name the input, so graded feedback stays within a fixed text.  The self-check
names it (:func:`mutation_diagnosis`)."""


def mutation_diagnosis(names: Sequence[str], kinds: Sequence[str] = ()) -> str:
    """The diagnosis naming the inputs an answer changed (for the self-check, whose inputs are public).

    ``kinds`` says what each input is ("array", "list", ...); without ``names`` it is
    :data:`MUTATION_DIAGNOSIS`.

    Parameters
    ----------
    names : sequence of str
        The names of the inputs the answer changed, in the order of its parameters.
    kinds : sequence of str
        What each of them is (``"array"``, ``"list"``...); default: arrays.

    Returns
    -------
    str
    """
    if not names:
        return MUTATION_DIAGNOSIS
    arrays = all(k == "array" for k in kinds) if kinds else True
    if len(names) == 1:
        kind = kinds[0] if kinds else "array"
        head = f"Your function changed the {kind} passed as `{names[0]}`. The caller's {kind} must stay as it was: "
    else:
        listed = ", ".join(f"`{n}`" for n in names)
        head = f"Your function changed the values passed as {listed}. The caller's values must stay as they were: "
    if arrays:
        return (
            head
            + "build a new array (`theta - lr * grad`) instead of updating in place (`theta -= ...`, `theta[:] = ...`)."
        )
    return head + "build a new one (`sorted(x)`, `x + [y]`) instead of changing it (`x.sort()`, `x.append(y)`)."


_LIBRARY_DIRS: tuple[str, ...] | None = None


def _library_dirs() -> tuple[str, ...]:
    """Folders whose code is not a learner's: the standard library, installed packages and gdcourse."""
    global _LIBRARY_DIRS
    if _LIBRARY_DIRS is None:
        paths = sysconfig.get_paths()
        folders = {paths.get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
        folders.add(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        _LIBRARY_DIRS = tuple(os.path.join(os.path.realpath(f), "") for f in folders if f)
    return _LIBRARY_DIRS


def raising_function(err: BaseException) -> str | None:
    """The name of the function whose code raised ``err`` (the innermost frame of its traceback).

    ``None`` when that frame is library code (the standard library, an installed package or
    gdcourse itself) or there is no frame: then it is not a learner's function that raised.
    """
    tb = err.__traceback__
    if tb is None:
        return None
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    filename = code.co_filename
    if filename.startswith("<frozen") or os.path.realpath(filename).startswith(_library_dirs()):
        return None
    return code.co_name


@dataclass(frozen=True)
class Exercise:
    """A registered exercise; see the module docstring for the answer forms.

    Parameters
    ----------
    id : str
        ``"NN.short_name"`` where ``NN`` is the notebook number.
    kind : {"function", "value", "choice"}
    title : str
        One line shown in feedback.
    reference : callable or str
        The correct answer in its answer form (zero-argument callable for ``"value"``).
    make_cases : callable, optional
        ``rng -> list[Case]``; seeded with the public seed for self-checks and with
        hidden seeds for grading.  Not needed for ``"value"``/``"choice"``.
    points : float
        Points awarded when every case passes.
    rtol, atol : float
        Tolerances of the comparator.
    digits : int, optional
        For ``"value"`` exercises (every one in the catalog states it): the significant
        digits the answer needs.  An answer passes when it is within half a unit of the
        ``digits``-th significant digit of the expected value (so the expected value
        rounded to ``digits`` significant digits passes), or within ``rtol``/``atol``.
        A wrong answer within 1% of the expected value (or equal to it rounded to fewer
        digits) is told it is close and how many digits to give.
    check_dtype : bool
        Require the answer's dtype to equal the reference's.
    hints : tuple of str
        Revealed one at a time by ``hint(id)``.
    solution : str
        Source code (or text) shown by ``solution(id)``.
    mistakes : tuple of Mistake
        Known wrong answers with diagnoses; each must be rejected by the checks.
    alternatives : tuple
        Other answers that are also correct (other accepted conventions).
    choices : dict, optional
        For ``"choice"``: key -> text of the option.
    public_seed : int
        Seed for the cases a learner sees in a self-check.
    allows_mutation : bool
        Whether an answer may change its inputs in place.  By default it may not (the
        course's rule: no in-place mutation of the caller's arrays), and an answer that
        does fails even when its values are right, unless the reference changes the same
        inputs.  No catalog exercise allows it.
    requirement : callable, optional
        For experiment exercises (function kind only): ``(case, value) -> str | None``,
        ``None`` when the learner's ``value`` on ``case`` achieves what the exercise asks,
        else why not, in words a learner can act on ("with η = 0.93 the loss after 40
        steps is 1.3e+05, above the target 1e-03").  It replaces the comparison with the
        reference and ``alternatives``; it runs in the judge's process on the value the
        answer returned, so it must accept any value (a string, None, an array of the
        wrong shape) and say what was expected.  ``rtol``/``atol`` then only serve to
        recognise planted mistakes.
    """

    id: str
    kind: Kind
    title: str
    reference: Any
    make_cases: Callable[[np.random.Generator], list[Case]] | None = None
    points: float = 1.0
    rtol: float = 1e-6
    atol: float = 1e-9
    check_dtype: bool = False
    hints: tuple[str, ...] = ()
    solution: str = ""
    mistakes: tuple[Mistake, ...] = ()
    alternatives: tuple[Any, ...] = ()
    choices: dict[str, str] | None = None
    public_seed: int = 0
    digits: int | None = None
    allows_mutation: bool = False
    requirement: Callable[[Case, Any], str | None] | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("function", "value", "choice"):
            raise ValueError(f"kind must be 'function', 'value' or 'choice', got {self.kind!r}")
        if self.digits is not None and (isinstance(self.digits, bool) or not isinstance(self.digits, int)):
            raise ValueError(f"exercise {self.id!r}: digits must be a whole number, got {self.digits!r}")
        if self.digits is not None and not 1 <= self.digits <= 15:
            raise ValueError(f"exercise {self.id!r}: digits must be between 1 and 15, got {self.digits}")
        if self.kind == "function" and self.make_cases is None:
            raise ValueError(f"exercise {self.id!r}: a function exercise needs make_cases")
        if self.kind == "choice" and (not self.choices or self.reference not in self.choices):
            raise ValueError(f"exercise {self.id!r}: reference must be one of the choices")
        if self.requirement is not None and (self.kind != "function" or self.alternatives):
            raise ValueError(f"exercise {self.id!r}: a requirement is for function exercises without alternatives")

    def cases(self, seed: int | None = None) -> list[Case]:
        """The test cases for ``seed`` (the public seed when ``None``)."""
        if self.kind != "function":
            return [Case(label="your answer")]
        seed = self.public_seed if seed is None else seed
        assert self.make_cases is not None  # __post_init__: a function exercise has make_cases
        return list(self.make_cases(np.random.default_rng(seed)))

    def case(self, k: int) -> Case:
        """The ``k``-th public case, counting from 1 as feedback does: ``case(2).args`` are its exact inputs.

        Feedback prints inputs rounded and shortened; these are the values themselves, drawn
        afresh (changing them changes nothing for the checks).

        Raises
        ------
        IndexError
            If there is no case ``k``.
        """
        cases = self.cases()
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= len(cases):
            raise IndexError(f"{self.id} has cases 1 to {len(cases)} (counting from 1, as feedback does), not {k!r}")
        return cases[int(k) - 1]

    def planted(self, answer: Any) -> Any:
        """Turn a stored answer (reference, alternative or mistake) into the form a learner gives."""
        return answer() if self.kind == "value" and callable(answer) else answer

    def argument_names(self, case: Case) -> list[str]:
        """Names for the positional inputs of ``case``: the reference's parameters, else ``arg1``, ``arg2``..."""
        try:
            names = [
                p.name
                for p in inspect.signature(self.reference).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
        except (TypeError, ValueError):
            names = []
        if len(names) < len(case.args):
            names = [f"arg{i + 1}" for i in range(len(case.args))]
        return names[: len(case.args)]

    def _changed_inputs(self, case: Case, args: tuple, kwargs: dict) -> tuple[str, ...]:
        """The names of the inputs of ``case`` that differ from the copies ``args``, ``kwargs`` an answer was given."""
        names = self.argument_names(case)
        changed = [n for n, before, after in zip(names, case.args, args, strict=False) if not same_data(before, after)]
        changed += [k for k, v in case.kwargs.items() if not same_data(v, kwargs.get(k))]
        return tuple(changed)

    def outcomes(self, answer: Any, cases: Sequence[Case], seconds_per_case: float | None = None) -> list[Outcome]:
        """Apply ``answer`` (in learner form) to every case, catching its errors.

        A function answer gets deep copies of the inputs, so it cannot spoil the cases; the
        copies are then compared with the cases (:func:`gdcourse.exercises.codec.same_data`)
        and the inputs it changed are recorded in :attr:`Outcome.mutated`.  An error
        records the function that raised it (:attr:`Outcome.raised_in`).

        With ``seconds_per_case``, a case that runs longer is stopped and recorded as a ``TimeoutError``,
        and the later cases are not run (see :mod:`gdcourse.exercises.timelimit`; the in-notebook
        ``check`` uses it, the grader has its own limits).

        Parameters
        ----------
        answer : object
            The learner's function, or value for a value exercise.
        cases : sequence of Case
            The inputs to apply it to.
        seconds_per_case : float, optional
            Time limit of one case, in seconds (``None``: no limit).

        Returns
        -------
        list of Outcome
            One per case, in order: its value, or the error it raised.
        """
        results: list[Outcome] = []
        timed_out = False
        for case in cases:
            if timed_out:  # one hang is enough to wait for
                results.append(Outcome(error="TimeoutError: not run, an earlier case ran out of time"))
                continue
            args, kwargs = (), {}
            try:
                with time_limit(seconds_per_case):
                    if self.kind == "function":  # copies: an answer that mutates its inputs cannot spoil the reference
                        args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
                        value = answer(*args, **kwargs)
                    else:
                        value = answer
            except TimeLimitExceeded as err:
                results.append(Outcome(error=f"TimeoutError: {err}"))
                timed_out = True
            except Exception as err:  # noqa: BLE001 - a learner's error is data here
                results.append(Outcome(error=f"{type(err).__name__}: {err}", raised_in=raising_function(err)))
            else:
                mutated = self._changed_inputs(case, args, kwargs) if self.kind == "function" else ()
                results.append(Outcome(value=value, mutated=mutated))
        return results

    def _shown_names(self, case: Case, mutated: Sequence[str]) -> list[str]:
        """``mutated`` with the grader's positional names (``arg2``) replaced by the reference's parameter names."""
        names = self.argument_names(case)
        shown = []
        for name in mutated:
            position = re.fullmatch(r"arg(\d+)", name)
            if position and name not in names and 1 <= int(position.group(1)) <= len(names):
                name = names[int(position.group(1)) - 1]
            shown.append(name)
        return shown

    def _new_mutations(self, expected: Outcome, got: Outcome) -> tuple[str, ...]:
        """The inputs ``got`` changed that ``expected`` did not (none when the exercise allows changes)."""
        if self.allows_mutation or got.error is not None:
            return ()
        return tuple(m for m in got.mutated if m not in expected.mutated)

    def _unmet(self, case: Case, value: Any) -> str | None:
        """The requirement's verdict on ``value``, worded as a detail; a requirement that raises is a bug here."""
        assert self.requirement is not None  # _mismatch asks only an exercise with a requirement
        try:
            why = self.requirement(case, value)
        except Exception as err:  # noqa: BLE001 - name the exercise whose requirement broke
            raise RuntimeError(f"requirement of {self.id!r} failed on {type(value).__name__}: {err}") from err
        return None if why is None else f"{REQUIREMENT_NOT_MET}: {why}"

    def _mismatch(
        self, expected: Outcome, got: Outcome, case: Case, *, mutation: bool = True, required: bool = False
    ) -> str | None:
        if expected.error is not None:
            raise RuntimeError(f"reference of {self.id!r} failed: {expected.error}")
        if got.error is not None:
            return f"raised {got.error}"
        if required and self.requirement is not None:
            problem = self._unmet(case, got.value)
        else:
            problem = compare_values(
                expected.value,
                got.value,
                rtol=self.rtol,
                atol=self.atol,
                check_dtype=self.check_dtype,
                digits=self.digits,
            )
        if problem and self.kind == "value" and _near_miss(expected.value, got.value, self.digits):
            if self.digits:
                return f"close to the expected value — give at least {self.digits} significant digits (rounded)"
            return "close to the expected value, but not within its tolerance"
        if problem or not mutation:
            return problem
        changed = self._new_mutations(expected, got)
        if changed:
            listed = ", ".join(f"`{n}`" for n in self._shown_names(case, changed))
            return f"changed its input{'s' if len(changed) > 1 else ''} {listed} in place"
        return None

    def _first_failure(
        self,
        expected: list[Outcome],
        got: list[Outcome],
        cases: Sequence[Case],
        *,
        mutation: bool = True,
        required: bool = False,
    ) -> tuple[int, str] | None:
        """The first case where ``got`` differs from ``expected`` (by the requirement, when ``required``)."""
        if len(got) != len(expected):
            return 0, f"expected results for {len(expected)} cases, got {len(got)}"
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            case = cases[i] if i < len(cases) else Case()
            problem = self._mismatch(e, g, case, mutation=mutation, required=required)
            if problem:
                return i, problem
        return None

    def assess(self, cases: Sequence[Case], got: Sequence[Outcome]) -> Verdict:
        """Judge the outcomes ``got`` of an answer on ``cases`` against the reference.

        Passes when every case matches the reference or every case matches one of
        the ``alternatives`` (for an experiment exercise: meets the ``requirement``),
        without changing an input the reference leaves alone (unless
        ``allows_mutation``).  Otherwise the verdict names the first failing case
        and, when the outcomes match a known mistake on every case (values only: a mistake
        is recognised whether or not the answer also changed its inputs), its diagnosis;
        else, when the answer changed an input, :data:`MUTATION_DIAGNOSIS`; else, for an
        experiment, the requirement's reason; else what
        :func:`gdcourse.exercises.diagnosis.describe_difference` recognises in the first
        failing case (a computed relation: "twice the expected value", "the transpose"...).
        Runs the reference (and mistakes) in this process: call it in the judge,
        never in the process that ran the learner's code.

        Parameters
        ----------
        cases : sequence of Case
            The cases the answer ran on.
        got : sequence of Outcome
            Its outcome on each case, in order (as :meth:`outcomes` gives them).

        Returns
        -------
        Verdict
        """
        got = list(got)
        expected = self.outcomes(self.planted(self.reference), cases)
        failure = self._first_failure(expected, got, cases, required=True)
        if failure is not None:
            for alternative in self.alternatives:
                if self._first_failure(self.outcomes(self.planted(alternative), cases), got, cases) is None:
                    failure = None
                    break
        if failure is None:
            return Verdict(self.id, True, self.points, self.points)
        index, detail = failure
        diagnosis = None
        for mistake in self.mistakes:
            planted = self.outcomes(self.planted(mistake.answer), cases)
            if all(p.error is None for p in planted) and not self._first_failure(planted, got, cases, mutation=False):
                diagnosis = mistake.diagnosis
                break
        if diagnosis is None and any(self._new_mutations(e, g) for e, g in zip(expected, got, strict=False)):
            diagnosis = MUTATION_DIAGNOSIS
        case = cases[index] if index < len(cases) else Case()
        shown = got[index] if index < len(got) else Outcome(error="no result")
        # A computed relation ("twice the expected value") would hand a value exercise's answer over: functions only.
        # An experiment's own reason ("the run diverges, so η is too large") is its computed diagnosis.
        prefix = f"{REQUIREMENT_NOT_MET}: "
        if diagnosis is None and self.requirement is not None and detail.startswith(prefix):
            diagnosis = detail[len(prefix) :]
        # An experiment's reference is one answer of many: a relation to it would mislead.
        if (
            diagnosis is None
            and self.kind == "function"
            and self.requirement is None
            and index < len(expected)
            and expected[index].error is None
            and shown.error is None
        ):
            names = self.argument_names(case)
            diagnosis = describe_difference(expected[index].value, shown.value, case.args, case.kwargs, names)
        return Verdict(
            self.id,
            False,
            0.0,
            self.points,
            case_index=index,
            case_label=case.label,
            detail=detail,
            inputs=", ".join([_short(a) for a in case.args] + [f"{k}={_short(v)}" for k, v in case.kwargs.items()]),
            expected=_short(expected[index].value) if index < len(expected) else "",
            got=shown.error if shown.error is not None else _short(shown.value),
            diagnosis=diagnosis,
        )

    def judge(self, answer: Any, seed: int | None = None) -> Verdict:
        """Run ``answer`` on the cases for ``seed`` here and assess it (for self-checks and tests).

        Parameters
        ----------
        answer : object
            The learner's function, or value for a value exercise.
        seed : int, optional
            Seed of the cases (``None``: the public seed the notebook's check uses).

        Returns
        -------
        Verdict
        """
        cases = self.cases(seed)
        return self.assess(cases, self.outcomes(answer, cases))
