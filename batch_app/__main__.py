import sys

from batch_app.cli import main

sys.exit(main())
