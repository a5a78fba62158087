"""Exercises with diagnostic feedback: the registry and the notebook API.

In a notebook::

    from gdcourse.exercises import check, hint, solution

    check("01.gd_step", gd_step)   # pass, or the failing case and a diagnosis
    hint("01.gd_step")             # the next hint (hint 1 of 3, 2 of 3, ...)
    solution("01.gd_step")         # the reference solution's source

    with uses_answer("01.gd_step"):  # a later cell that uses the answer waits for it politely
        ...

:func:`check`, :func:`hint` and :func:`solution` never raise into the notebook:
a wrong answer, a wrong type, an error inside the learner's code or an unknown id
each print a message.  :func:`check` prints its feedback and returns a
:class:`~gdcourse.exercises.feedback.Feedback` (a :class:`Verdict` that Jupyter
does not display again, so the cell shows the message once).

The registry is filled from :mod:`gdcourse.exercises.catalog` (one module per
notebook) on first use; :func:`register` adds an exercise by hand.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
import re
import textwrap
from typing import Any

from gdcourse.exercises.core import Case, Exercise, Mistake, Outcome, Verdict
from gdcourse.exercises.feedback import Feedback, evaluate, problem
from gdcourse.exercises.waiting import uses_answer

__all__ = [
    "Case",
    "Exercise",
    "Feedback",
    "Mistake",
    "Outcome",
    "UnknownExerciseError",
    "Verdict",
    "all_exercises",
    "check",
    "get",
    "hint",
    "register",
    "reset_hints",
    "solution",
    "uses_answer",
]

_ID = re.compile(r"^(\d\d)\.[a-z_][a-z0-9_]*$")
_REGISTRY: dict[str, Exercise] = {}
_HINTS_SHOWN: dict[str, int] = {}
_catalog_loaded = False
_loaded_modules: set[str] = set()


class UnknownExerciseError(LookupError):
    """Raised by :func:`get` for an id that is not registered; the message suggests close matches."""


def register(exercise: Exercise, *, replace: bool = False) -> Exercise:
    """Add ``exercise`` to the registry and return it.

    Parameters
    ----------
    exercise : Exercise
        Its id must look like ``"NN.short_name"`` (notebook number, dot, a Python identifier).
    replace : bool
        Allow replacing an exercise already registered under the same id.

    Raises
    ------
    TypeError
        If ``exercise`` is not an :class:`Exercise`.
    ValueError
        If the id is malformed, or already registered and ``replace`` is false.
    """
    if not isinstance(exercise, Exercise):
        raise TypeError(f"register() takes an Exercise, got {type(exercise).__name__}")
    if not _ID.match(exercise.id):
        raise ValueError(f"exercise id {exercise.id!r} must look like 'NN.short_name', e.g. '01.gd_step'")
    if exercise.id in _REGISTRY and not replace and _REGISTRY[exercise.id] is not exercise:
        raise ValueError(f"an exercise with id {exercise.id!r} is already registered")
    _REGISTRY[exercise.id] = exercise
    return exercise


def _catalog_names() -> list[str]:
    from gdcourse.exercises import catalog

    return sorted(m.name for m in pkgutil.iter_modules(catalog.__path__) if re.fullmatch(r"nb\d\d", m.name))


def _load_module(name: str) -> None:
    """Import ``catalog.<name>`` (e.g. ``nb01``) once and register its ``EXERCISES``."""
    if name in _loaded_modules:
        return
    module = importlib.import_module(f"gdcourse.exercises.catalog.{name}")
    for exercise in module.EXERCISES:
        if not exercise.id.startswith(name[2:] + "."):
            raise ValueError(f"catalog module {name} holds {exercise.id!r}; its ids must start with {name[2:]}.")
        register(exercise)
    _loaded_modules.add(name)


def _load_catalog() -> None:
    """Import every ``catalog.nbNN`` module once (notebook order) and register its exercises."""
    global _catalog_loaded
    if _catalog_loaded:
        return
    for name in _catalog_names():
        _load_module(name)
    _catalog_loaded = True


def all_exercises() -> tuple[Exercise, ...]:
    """Every registered exercise, notebook by notebook in catalog order."""
    _load_catalog()
    return tuple(_REGISTRY.values())


def _unknown_message(exercise_id: Any) -> str:
    if not isinstance(exercise_id, str):
        return f"an exercise id is a string such as '01.gd_step', got {type(exercise_id).__name__}"
    known = list(_REGISTRY)
    lines = [f"unknown exercise {exercise_id!r}."]
    same_notebook = [k for k in known if k.split(".")[0] == exercise_id.split(".")[0]]
    # a typo in the name is far likelier than in the notebook number: look there first
    close = difflib.get_close_matches(exercise_id, same_notebook, n=3, cutoff=0.6)
    close = close or difflib.get_close_matches(exercise_id, known, n=3, cutoff=0.6)
    if close:
        lines.append("Did you mean " + " or ".join(repr(c) for c in close) + "?")
    if same_notebook:
        lines.append(f"Exercises of notebook {exercise_id.split('.')[0]}: " + ", ".join(same_notebook) + ".")
    elif not close:
        notebooks = sorted({k.split(".")[0] for k in known})
        lines.append("Notebooks with exercises: " + ", ".join(notebooks) + " (ids look like '01.gd_step').")
    return " ".join(lines)


def get(exercise_id: str) -> Exercise:
    """The exercise registered under ``exercise_id``.

    Raises
    ------
    UnknownExerciseError
        If there is none; the message names close matches and the ids of that notebook.
    """
    if isinstance(exercise_id, str) and _ID.match(exercise_id):
        # a notebook needs only its own catalog module: importing the others costs seconds
        module = "nb" + exercise_id.split(".")[0]
        if module in _catalog_names():
            _load_module(module)
        if exercise_id in _REGISTRY:
            return _REGISTRY[exercise_id]
    _load_catalog()
    if isinstance(exercise_id, str) and exercise_id in _REGISTRY:
        return _REGISTRY[exercise_id]
    raise UnknownExerciseError(_unknown_message(exercise_id))


def check(exercise_id: str, answer: Any) -> Feedback:
    """Check ``answer`` against exercise ``exercise_id`` on its public cases and print feedback.

    Never raises (except ``KeyboardInterrupt``): every problem becomes a message.

    Parameters
    ----------
    exercise_id : str
        E.g. ``"01.gd_step"``.
    answer : object
        The function itself for a function exercise (``gd_step``, not ``gd_step(...)``),
        the value for a value exercise, an option letter such as ``"b"`` for a choice.

    Returns
    -------
    Feedback
        A :class:`Verdict` (``passed``, ``points``, ``diagnosis``...) with the printed
        ``text``; Jupyter does not display it again.
    """
    try:
        exercise = get(exercise_id)
    except UnknownExerciseError as err:
        result = problem(str(exercise_id), str(err), max_points=0.0)
    except Exception as err:  # noqa: BLE001 - a broken catalog must not crash the notebook
        result = problem(str(exercise_id), f"the exercise catalog failed to load: {type(err).__name__}: {err}")
    else:
        result = evaluate(exercise, answer)
    print(result.text)
    return result


def _lookup_or_print(exercise_id: Any) -> Exercise | None:
    try:
        return get(exercise_id)
    except UnknownExerciseError as err:
        print(f"✘ {err}")
        return None


def hint(exercise_id: str) -> None:
    """Print the next hint of ``exercise_id`` ("hint 2 of 3"); after the last, point to :func:`solution`.

    The count is kept per exercise for the life of the kernel; :func:`reset_hints` starts over.
    """
    exercise = _lookup_or_print(exercise_id)
    if exercise is None:
        return
    total = len(exercise.hints)
    shown = _HINTS_SHOWN.get(exercise.id, 0)
    if shown >= total:
        have = f"all {total} shown" if total else "this exercise has none"
        print(f"No more hints for {exercise.id} ({have}). To see a solution: solution({exercise.id!r})")
        return
    _HINTS_SHOWN[exercise.id] = shown + 1
    head = f"Hint {shown + 1} of {total} for {exercise.id}: "
    print(textwrap.fill(head + exercise.hints[shown], width=100, subsequent_indent="  "))


def reset_hints(exercise_id: str | None = None) -> None:
    """Forget which hints were shown, for one exercise or (``None``) for all."""
    if exercise_id is None:
        _HINTS_SHOWN.clear()
    else:
        _HINTS_SHOWN.pop(exercise_id, None)


def solution(exercise_id: str) -> None:
    """Print the reference solution of ``exercise_id`` (source code to read, or to copy)."""
    exercise = _lookup_or_print(exercise_id)
    if exercise is None:
        return
    if not exercise.solution.strip():
        print(f"No solution is published for {exercise.id}.")
        return
    print(f"Solution to {exercise.id}:\n\n{exercise.solution.rstrip()}")
