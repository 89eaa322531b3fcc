"""Run the ``nof`` command line as ``python -m nof``."""

import sys

from nof.cli import main

sys.exit(main())
