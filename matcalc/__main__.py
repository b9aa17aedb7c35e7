"""``python -m matcalc``."""

import sys

from .cli import main

sys.exit(main())
