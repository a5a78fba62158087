"""The course's tools for instructors and builders, apart from what a learner reads.

* :mod:`~gdcourse.tools.assign` -- student notebooks (solutions stripped) from the source notebooks;
* :mod:`~gdcourse.tools.slides` and :mod:`~gdcourse.tools.site` -- lecture decks and the course website,
  offline; :mod:`~gdcourse.tools.output_folder` -- the rule that they replace only folders they made;
* :mod:`~gdcourse.tools.bench` -- the side-by-side benchmarks of a checkout;
* :mod:`~gdcourse.tools.cli` -- the ``gdcourse`` command, one subcommand per tool (``grade`` runs
  :mod:`gdcourse.grading`, ``doctor`` :mod:`gdcourse.doctor`).

Layer 5 of the package (see :mod:`gdcourse`): nothing in the layers a learner reads imports from here.
"""
