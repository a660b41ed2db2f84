"""``python -m inject``: see :mod:`inject.cli`."""

from inject.cli import main

raise SystemExit(main())
