"""``python -m streaming_app``: see :mod:`streaming_app.cli`."""

from streaming_app.cli import main

raise SystemExit(main())
