"""The NATS↔Kafka bridge: mirror the readings stream into Kafka, and bring Kafka sources in.

* :mod:`.nats_to_kafka`: a durable JetStream pull consumer → an idempotent Kafka
  producer (key = meter id, Kafka partition = NATS partition), at-least-once, per-meter
  order kept across crashes.
* :mod:`.kafka_to_nats`: a Kafka consumer group → :class:`smart_meter.publisher.ReadingPublisher`,
  offsets committed only after JetStream acked (exactly-once into the stream within
  its duplicate window).

Run it with ``python -m kafka_bridge nats-to-kafka|kafka-to-nats``.
"""

from kafka_bridge.kafka_to_nats import KafkaToNats, KafkaToNatsCounters
from kafka_bridge.nats_to_kafka import NatsToKafka, NatsToKafkaCounters
from kafka_bridge.settings import BridgeSettings

__all__ = [
    "BridgeSettings",
    "KafkaToNats",
    "KafkaToNatsCounters",
    "NatsToKafka",
    "NatsToKafkaCounters",
]
