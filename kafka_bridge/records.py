"""Pure mapping of readings onto Kafka records: key, partition, value and headers.

The Kafka partition of a reading is its NATS partition (``meter.readings.<p>`` ↔ Kafka
partition ``p``), so Kafka consumers can scale the same way the streaming app does.
Kafka's default partitioner (murmur2 of the key) would spread meters differently, so
the bridge always names the partition explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from smart_meter.codec import encode_reading
from smart_meter.reading import Reading
from smart_meter.subjects import dedup_id, partition_of

DEDUP_HEADER = "dedup-id"
SUBJECT_HEADER = "nats-subject"
STREAM_SEQ_HEADER = "nats-stream-seq"
CONTENT_TYPE_HEADER = "content-type"
CONTENT_TYPE = b"application/json"

Headers = list[tuple[str, str | bytes | None]]


@dataclass(frozen=True)
class NatsOrigin:
    """Where a reading was in the JetStream stream."""

    subject: str
    stream_seq: int

    def label(self) -> str:
        """A short, unique name of the message: ``<subject>#<stream seq>``."""
        return f"{self.subject}#{self.stream_seq}"


class KafkaRecord(NamedTuple):
    """One reading as a Kafka record (a single-reading wire-version-1 message).

    A named tuple: the bridge makes one per reading, and it is several times cheaper
    to build than a frozen dataclass.
    """

    key: bytes
    value: bytes
    partition: int
    headers: Headers


def kafka_partition(meter_id: str, partitions: int) -> int:
    """The Kafka partition of a meter: the same number as its NATS subject partition."""
    return partition_of(meter_id, partitions)


def reading_headers(reading: Reading, origin: NatsOrigin) -> Headers:
    """Headers of a mirrored reading: its dedup id (natural key) and where it came from."""
    return [
        (DEDUP_HEADER, dedup_id([reading.key]).encode()),
        (SUBJECT_HEADER, origin.subject.encode()),
        (STREAM_SEQ_HEADER, str(origin.stream_seq).encode()),
        (CONTENT_TYPE_HEADER, CONTENT_TYPE),
    ]


def kafka_record(reading: Reading, partitions: int, origin: NatsOrigin) -> KafkaRecord:
    """The record a reading becomes: key = meter id, partition = its NATS partition.

    The record's timestamp is left to Kafka (produce time): event times of replayed
    history would make time-based retention delete the segments right away.
    """
    return KafkaRecord(
        key=reading.meter_id.encode(),
        value=encode_reading(reading),
        partition=kafka_partition(reading.meter_id, partitions),
        headers=reading_headers(reading, origin),
    )


def header_value(headers: Headers | dict[str, str | bytes | None] | None, name: str) -> str | None:
    """The first value of header ``name`` as text, or None (Kafka gives a list or a dict)."""
    pairs = headers.items() if isinstance(headers, dict) else headers or []
    for key, value in pairs:
        if key == name:
            return value.decode() if isinstance(value, bytes) else value
    return None
