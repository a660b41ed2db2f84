"""``make demo``: the local stack, a simulated fleet with faults, the streaming app, a summary.

:mod:`.deployment` names and resets the demo's own stream, buckets, keyspace and metrics
database; :mod:`.run` injects the fleet, runs the app until everything is acked and
stops it; :mod:`.collect` reads back what the pipeline produced (Cassandra, InfluxDB,
the dead letters and the audit trail of findings); :mod:`.summary` prints it and scores
the findings against the injector's ground truth.
"""
