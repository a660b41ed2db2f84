"""Where processed batches go: Cassandra, InfluxDB, NATS event subjects."""
