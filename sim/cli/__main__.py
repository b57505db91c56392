"""`python -m sim.cli`: the same as the `sahel-sim` console script."""

import sys

from sim.cli import main

sys.exit(main())
