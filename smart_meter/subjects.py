"""NATS subjects, the JetStream stream, Kafka topics, and how readings map onto them.

Readings are partitioned by meter: ``meter.readings.<partition>`` with the partition a
stable hash of the meter id, so one meter's readings stay in one ordered partition
and consumers scale out by taking partitions.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

READINGS_STREAM = "READINGS"
READINGS_PREFIX = "meter.readings"
DEAD_LETTER_SUBJECT = "meter.deadletter"
DEAD_LETTER_KIND_HEADER = "Smart-Meter-Error-Kind"  # a smart_meter.codec.ReadingErrorKind
ALERTS_PREFIX = "meter.alerts"
GAPS_SUBJECT = "meter.gaps"
LATE_SUBJECT = "meter.late"
FINDINGS_PREFIX = "meter.findings"
KAFKA_READINGS_TOPIC = "meter-readings"
DEFAULT_PARTITIONS = 16


def partition_of(meter_id: str, partitions: int = DEFAULT_PARTITIONS) -> int:
    """Stable partition of a meter (CRC-32: same answer in every process and language)."""
    return zlib.crc32(meter_id.encode()) % partitions


def readings_subject(partition: int) -> str:
    return f"{READINGS_PREFIX}.{partition}"


def subject_for_meter(meter_id: str, partitions: int = DEFAULT_PARTITIONS) -> str:
    return readings_subject(partition_of(meter_id, partitions))


@dataclass(frozen=True, slots=True)
class ReadingsDestination:
    """Where readings are published: a JetStream stream and its ``<prefix>.<partition>``
    subjects. The default is the platform's; a demo or a test run uses its own."""

    stream: str = READINGS_STREAM
    prefix: str = READINGS_PREFIX

    def subject(self, partition: int) -> str:
        return f"{self.prefix}.{partition}"

    def subject_for_meter(self, meter_id: str, partitions: int = DEFAULT_PARTITIONS) -> str:
        return self.subject(partition_of(meter_id, partitions))


PLATFORM_READINGS = ReadingsDestination()
"""The platform's readings stream and subjects."""


def alert_subject(kind: str) -> str:
    return f"{ALERTS_PREFIX}.{kind}"


def finding_subject(event_type: str) -> str:
    """Where the audit trail puts one finding of the streaming app, by its event type."""
    return f"{FINDINGS_PREFIX}.{event_type}"


def dedup_id(keys: Iterable[tuple[str, int]]) -> str:
    """JetStream ``Nats-Msg-Id`` from the natural keys (meter, epoch ms) of a message.

    A single reading keeps a readable id; a batch gets a digest of its sorted keys, so
    re-sending the same batch after a lost ack is stored once.
    """
    ordered = sorted(keys)
    if len(ordered) == 1:
        meter_id, ts_ms = ordered[0]
        return f"{meter_id}@{ts_ms}"
    digest = hashlib.blake2b(digest_size=16)
    for meter_id, ts_ms in ordered:
        digest.update(f"{meter_id}@{ts_ms};".encode())
    return f"batch-{len(ordered)}-{digest.hexdigest()}"
