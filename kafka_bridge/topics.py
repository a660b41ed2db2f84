"""Create the mirror topic with one Kafka partition per NATS partition, if it is missing."""

from __future__ import annotations

import logging

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

_log = logging.getLogger(__name__)


class TopicLayoutError(ValueError):
    """The topic exists with fewer partitions than the NATS stream has."""

    def __init__(self, topic: str, partitions: int, required: int) -> None:
        self.topic, self.partitions, self.required = topic, partitions, required
        super().__init__(
            f"Kafka topic {topic!r} has {partitions} partitions; the bridge maps NATS "
            f"partitions 0..{required - 1} onto Kafka partitions and needs {required}"
        )


def partition_count(admin: AdminClient, topic: str, timeout_s: float = 10.0) -> int | None:
    """Partitions of ``topic``, or None if it does not exist.

    Lists every topic rather than asking for this one: a metadata request naming a
    topic can auto-create it on a broker with ``auto.create.topics.enable``.
    """
    metadata = admin.list_topics(timeout=timeout_s)
    found = metadata.topics.get(topic)
    if found is None or found.error is not None:
        return None
    return len(found.partitions)


def ensure_topic(
    bootstrap: str, topic: str, partitions: int, replication: int = 1, timeout_s: float = 30.0
) -> int:
    """Make sure ``topic`` exists with at least ``partitions`` partitions; return its count."""
    admin = AdminClient({"bootstrap.servers": bootstrap}, logger=_log)
    existing = partition_count(admin, topic)
    if existing is None:
        _create(admin, NewTopic(topic, partitions, replication), timeout_s)
        existing = partition_count(admin, topic) or partitions
    if existing < partitions:
        raise TopicLayoutError(topic, existing, partitions)
    return existing


def _create(admin: AdminClient, new_topic: NewTopic, timeout_s: float) -> None:
    future = admin.create_topics([new_topic], operation_timeout=timeout_s)[new_topic.topic]
    try:
        future.result(timeout=timeout_s)
    except KafkaException as error:
        if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise
    else:
        _log.info(
            "created Kafka topic %s (%d partitions)", new_topic.topic, new_topic.num_partitions
        )
