"""``python -m gdcourse`` is the ``gdcourse`` command."""

import sys

from gdcourse.cli import main

sys.exit(main())
