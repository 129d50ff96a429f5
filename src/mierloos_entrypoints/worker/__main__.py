"""`python -m mierloos_entrypoints.worker [--processes N] [--threads N]`."""

import sys

from mierloos_entrypoints.worker import main

sys.exit(main())
