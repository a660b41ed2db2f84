"""Spark for the batch and training jobs: the session with the Cassandra connector
(:mod:`~smart_meter.spark.session`) and reading/writing the platform's tables
(:mod:`~smart_meter.spark.cassandra`)."""
