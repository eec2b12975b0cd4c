"""`python -m backcoach` runs the same command line as the `backcoach` script."""

import sys

from backcoach.cli import main

sys.exit(main())
