import sys

from training.forecast_spark.runner import main

sys.exit(main())
