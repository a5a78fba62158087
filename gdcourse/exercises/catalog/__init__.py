"""The exercises of each notebook: module ``nbNN`` holds notebook ``NN``'s exercises.

Each module defines ``EXERCISES``, a tuple of :class:`gdcourse.exercises.core.Exercise`
in the order they appear in the notebook, with ids starting ``"NN."``.  The
registry in :mod:`gdcourse.exercises` imports every ``nbNN`` module on first use,
so a new notebook's exercises only need a new module here.

Conventions for authors:

- Cases are drawn from the ``rng`` passed to ``make_cases`` and moved to the
  active backend with :func:`gdcourse.backend.asarray`; references and planted
  mistakes use only operators or ``array_namespace(x)``, so they run on every backend.
- ``solution`` is source code that defines the exercise's short name (the part of
  the id after the dot), e.g. ``def gd_step(...)`` or ``max_stable_lr = 2 / 4``;
  a test executes it and checks that the defined answer passes.
- Every planted mistake's diagnosis teaches: it says what the answer did and why
  that is wrong, never only "wrong".
- A solution that calls array functions starts with :data:`XP_PREAMBLE`, as the
  notebooks do, so it runs on every backend.
"""

XP_PREAMBLE = (
    "import gdcourse\n\n"
    "xp = gdcourse.array_module()  # the active backend's array module, as in the notebook\n\n\n"
)
"""The first lines of a published solution that uses ``xp`` (it is executed on its own by a test)."""
