"""Root pytest configuration: doctests of optional modules need their extra."""

import importlib.util

collect_ignore = [] if importlib.util.find_spec("pyspark") else ["src/cs_sentiment/spark.py"]
