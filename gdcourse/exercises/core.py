"""What an exercise is, and how an answer is judged.

An :class:`Exercise` bundles a reference answer, a seeded generator of test
cases, a comparator, hints, a solution and *known mistakes* (planted wrong
answers, each with the diagnosis a learner sees when their answer behaves like
it).  Judging is split in two so the grader can run untrusted code elsewhere:

1. :meth:`Exercise.outcomes` applies an answer to the cases and records each
   value or error (this is all the grading worker does, on inputs it is sent);
2. :meth:`Exercise.assess` compares those outcomes with the reference, in the
   judge's own process, and names the first failing case and the diagnosis.

Answer forms by ``kind``:

``"function"``
    the learner writes a function; each case is called as ``answer(*args, **kwargs)``.
``"value"``
    the learner computes one value; there is a single case with no inputs.  The
    reference and the planted mistakes are zero-argument callables producing the
    value (so nothing is computed at import time).
``"choice"``
    the learner picks one key of ``choices`` (a string, compared case-insensitively).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from gdcourse.backend import to_numpy
from gdcourse.exercises.timelimit import TimeLimitExceeded, time_limit

__all__ = ["Case", "Exercise", "Mistake", "Outcome", "Verdict", "compare_values"]

Kind = Literal["function", "value", "choice"]


@dataclass(frozen=True)
class Case:
    """One input for a function exercise.

    ``label`` describes the case without giving its numbers away (shown in graded
    feedback, where inputs come from hidden seeds), e.g. ``"ill-conditioned bowl"``.
    """

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    label: str = ""


@dataclass(frozen=True)
class Mistake:
    """A planted wrong answer and the diagnosis shown when a learner's answer behaves like it."""

    name: str
    diagnosis: str
    answer: Any


@dataclass(frozen=True)
class Outcome:
    """What an answer produced on one case: a value, or the error it raised (``"TypeError: ..."``)."""

    value: Any = None
    error: str | None = None


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


def compare_values(expected: Any, got: Any, *, rtol: float, atol: float, check_dtype: bool) -> str | None:
    """Compare two answers; return ``None`` when they match, else a short description of the difference.

    Numbers and arrays match when ``|got - expected| <= atol + rtol * |expected|``
    elementwise, with equal shapes (and equal dtypes when ``check_dtype``); NaN
    matches NaN.  Tuples and lists match elementwise; strings and booleans exactly.
    """
    if isinstance(expected, tuple | list):
        if not isinstance(got, tuple | list):
            return f"expected a sequence of {len(expected)} items, got {type(got).__name__}"
        if len(got) != len(expected):
            return f"expected {len(expected)} items, got {len(got)}"
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            problem = compare_values(e, g, rtol=rtol, atol=atol, check_dtype=check_dtype)
            if problem:
                return f"item {i}: {problem}"
        return None
    if isinstance(expected, str | bool) or expected is None:
        same = isinstance(got, type(expected)) and (
            got.strip().lower() == expected.strip().lower() if isinstance(expected, str) else got == expected
        )
        return None if same else f"expected {expected!r}, got {_short(got)}"
    if not (isinstance(expected, int | float | np.number) or _is_array(expected)):
        return None if got == expected else f"expected {_short(expected)}, got {_short(got)}"
    if isinstance(got, bool) or not (isinstance(got, int | float | np.number) or _is_array(got)):
        return f"expected a number or array, got {type(got).__name__}"
    e, g = np.asarray(to_numpy(expected)), np.asarray(to_numpy(got))
    if e.shape != g.shape:
        return f"shape differs: expected {e.shape}, got {g.shape}"
    if check_dtype and _is_array(expected) and e.dtype != g.dtype:
        return f"dtype differs: expected {e.dtype}, got {g.dtype}"
    if not np.issubdtype(g.dtype, np.number) and g.dtype != np.bool_:
        return f"expected numbers, got dtype {g.dtype}"
    e64, g64 = e.astype(np.float64), g.astype(np.float64)
    both_nan = np.isnan(e64) & np.isnan(g64)
    close = np.isclose(g64, e64, rtol=rtol, atol=atol) | both_nan
    if bool(np.all(close)):
        return None
    bad = int(np.sum(~close))
    with np.errstate(invalid="ignore"):
        err = float(np.nanmax(np.abs(g64 - e64))) if np.any(np.isfinite(g64 - e64)) else math.inf
    where = f"{bad} of {e.size} entries differ" if e.size > 1 else "value differs"
    return f"{where} (largest absolute error {err:.3g})"


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

    def __post_init__(self) -> None:
        if self.kind not in ("function", "value", "choice"):
            raise ValueError(f"kind must be 'function', 'value' or 'choice', got {self.kind!r}")
        if self.kind == "function" and self.make_cases is None:
            raise ValueError(f"exercise {self.id!r}: a function exercise needs make_cases")
        if self.kind == "choice" and (not self.choices or self.reference not in self.choices):
            raise ValueError(f"exercise {self.id!r}: reference must be one of the choices")

    def cases(self, seed: int | None = None) -> list[Case]:
        """The test cases for ``seed`` (the public seed when ``None``)."""
        if self.kind != "function":
            return [Case(label="your answer")]
        seed = self.public_seed if seed is None else seed
        return list(self.make_cases(np.random.default_rng(seed)))

    def planted(self, answer: Any) -> Any:
        """Turn a stored answer (reference, alternative or mistake) into the form a learner gives."""
        return answer() if self.kind == "value" and callable(answer) else answer

    def outcomes(self, answer: Any, cases: Sequence[Case], seconds_per_case: float | None = None) -> list[Outcome]:
        """Apply ``answer`` (in learner form) to every case, catching its errors.

        With ``seconds_per_case``, a case that runs longer is stopped and recorded as a ``TimeoutError``,
        and the later cases are not run (see :mod:`gdcourse.exercises.timelimit`; the in-notebook
        ``check`` uses it, the grader has its own limits).
        """
        results: list[Outcome] = []
        timed_out = False
        for case in cases:
            if timed_out:  # one hang is enough to wait for
                results.append(Outcome(error="TimeoutError: not run, an earlier case ran out of time"))
                continue
            try:
                with time_limit(seconds_per_case):
                    if self.kind == "function":  # copies: an answer that mutates its inputs cannot spoil the reference
                        value = answer(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
                    else:
                        value = answer
            except TimeLimitExceeded as err:
                results.append(Outcome(error=f"TimeoutError: {err}"))
                timed_out = True
            except Exception as err:  # noqa: BLE001 - a learner's error is data here
                results.append(Outcome(error=f"{type(err).__name__}: {err}"))
            else:
                results.append(Outcome(value=value))
        return results

    def _mismatch(self, expected: Outcome, got: Outcome) -> str | None:
        if expected.error is not None:
            raise RuntimeError(f"reference of {self.id!r} failed: {expected.error}")
        if got.error is not None:
            return f"raised {got.error}"
        return compare_values(expected.value, got.value, rtol=self.rtol, atol=self.atol, check_dtype=self.check_dtype)

    def _first_failure(self, expected: list[Outcome], got: list[Outcome]) -> tuple[int, str] | None:
        if len(got) != len(expected):
            return 0, f"expected results for {len(expected)} cases, got {len(got)}"
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            problem = self._mismatch(e, g)
            if problem:
                return i, problem
        return None

    def assess(self, cases: Sequence[Case], got: Sequence[Outcome]) -> Verdict:
        """Judge the outcomes ``got`` of an answer on ``cases`` against the reference.

        Passes when every case matches the reference or every case matches one of
        the ``alternatives``.  Otherwise the verdict names the first failing case
        and, when the outcomes match a known mistake on every case, its diagnosis.
        Runs the reference (and mistakes) in this process: call it in the judge,
        never in the process that ran the learner's code.
        """
        got = list(got)
        expected = self.outcomes(self.planted(self.reference), cases)
        failure = self._first_failure(expected, got)
        if failure is not None:
            for alternative in self.alternatives:
                if self._first_failure(self.outcomes(self.planted(alternative), cases), got) is None:
                    failure = None
                    break
        if failure is None:
            return Verdict(self.id, True, self.points, self.points)
        index, detail = failure
        diagnosis = None
        for mistake in self.mistakes:
            planted = self.outcomes(self.planted(mistake.answer), cases)
            if all(p.error is None for p in planted) and self._first_failure(planted, got) is None:
                diagnosis = mistake.diagnosis
                break
        case = cases[index] if index < len(cases) else Case()
        shown = got[index] if index < len(got) else Outcome(error="no result")
        return Verdict(
            self.id,
            False,
            0.0,
            self.points,
            case_index=index,
            case_label=case.label,
            detail=detail,
            inputs=", ".join([_short(a) for a in case.args] + [f"{k}={_short(v)}" for k, v in case.kwargs.items()]),
            expected=_short(expected[index].value),
            got=shown.error if shown.error is not None else _short(shown.value),
            diagnosis=diagnosis,
        )

    def judge(self, answer: Any, seed: int | None = None) -> Verdict:
        """Run ``answer`` on the cases for ``seed`` here and assess it (for self-checks and tests)."""
        cases = self.cases(seed)
        return self.assess(cases, self.outcomes(answer, cases))
