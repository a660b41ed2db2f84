"""``python -m excel``: see :mod:`excel.cli`."""

from excel.cli import main

raise SystemExit(main())
