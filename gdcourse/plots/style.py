"""The course's one plot style: a colour-blind-safe palette and projector-size fonts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import matplotlib.pyplot as plt

__all__ = ["COURSE_STYLE", "PALETTE", "course_style", "use_course_style"]

#: Path of the matplotlib style file shipped with the package.
COURSE_STYLE = Path(__file__).resolve().parent.parent / "course.mplstyle"

#: The Okabe-Ito colours in the order the style cycles through them (yellow last: low contrast on white).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")


def use_course_style() -> None:
    """Apply the course style (``gdcourse/course.mplstyle``) to every figure made from now on.

    The style uses the Okabe-Ito palette (distinguishable with every common
    colour-vision deficiency), fonts readable on a lecture projector, a light
    grid, constrained layout and no LaTeX dependency.
    :func:`gdcourse.setup_notebook` calls this; call it yourself in a script.
    """
    plt.style.use(COURSE_STYLE)


@contextlib.contextmanager
def course_style() -> Iterator[None]:
    """Context manager: the course style inside the ``with`` block only (rcParams restored after)."""
    with plt.style.context(COURSE_STYLE):
        yield
