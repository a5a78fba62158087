"""The exercises of each notebook: module ``nbNN`` holds notebook ``NN``'s exercises.

Each module defines ``EXERCISES``, a tuple of :class:`gdcourse.exercises.core.Exercise`
in the order they appear in the notebook, with ids starting ``"NN."``.  The
registry in :mod:`gdcourse.exercises` imports every ``nbNN`` module on first use,
so a new notebook's exercises only need a new module here.

Conventions for authors:

- Cases are drawn from the ``rng`` passed to ``make_cases`` and moved to the
  active backend with :func:`gdcourse.backend.asarray`; references and planted
  mistakes use only operators or ``array_namespace(x)``, so they run on every backend.
- ``solution`` is source code a learner can paste in place of the exercise cell:
  a function exercise's solution defines the function named after the id's short
  name (``def gd_step(...)``); a value or choice exercise's solution assigns
  ``answer`` (``answer = 2 / 4``), the name its check cell passes.  A test executes
  each solution and checks that the check cell's name is defined and passes.
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
