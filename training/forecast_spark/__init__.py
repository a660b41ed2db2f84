"""The consumption-forecast job's pieces that run inside Spark or on its driver.

The job (:mod:`training.jobs.forecast_job`) reads the stored registers, turns them into
half-hours per meter inside Spark (:mod:`.half_hours`, one pandas call per transformer),
scores the models on a rolling origin over a sample of transformers on the driver
(:mod:`.scoring`), fits and saves the chosen ones with a version derived from their
inputs (:mod:`.fitting`), forecasts the next local day of every meter and transformer
inside Spark again (:mod:`.predict`), and writes Cassandra rows and InfluxDB points
(:mod:`.output`). Everything here is pandas in, pandas out, so it is tested without Spark.
"""
