"""Run matcalc from a checkout without installing it: ``python cli.py EXPR --wrt X``.

The installed command is ``matcalc`` (matcalc/cli.py); this file only forwards to it.
"""

import sys

from matcalc.cli import main

if __name__ == "__main__":
    sys.exit(main())
