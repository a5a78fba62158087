"""``python -m gdcourse`` is the ``gdcourse`` command."""

import sys

from gdcourse.tools.cli import main

sys.exit(main())
