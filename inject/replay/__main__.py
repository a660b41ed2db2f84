"""``python -m inject.replay``: see :mod:`inject.replay.cli`."""

import sys

from inject.replay.cli import main

sys.exit(main())
