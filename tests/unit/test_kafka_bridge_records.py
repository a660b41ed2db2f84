"""The Kafka bridge's pure parts: partition mapping, records, headers, offsets, settings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from confluent_kafka import KafkaError
from hypothesis import given
from hypothesis import strategies as st
from nats.js.api import AckPolicy, DeliverPolicy

from kafka_bridge.__main__ import bridge_settings, format_counters, parse_args
from kafka_bridge.dead_letter import dead_letter_headers
from kafka_bridge.kafka_to_nats import KafkaToNatsCounters, next_offsets
from kafka_bridge.kafka_to_nats import consumer_config as kafka_consumer_config
from kafka_bridge.nats_to_kafka import consumer_config
from kafka_bridge.producer import DeliveryTracker, producer_config
from kafka_bridge.records import (
    DEDUP_HEADER,
    STREAM_SEQ_HEADER,
    SUBJECT_HEADER,
    NatsOrigin,
    header_value,
    kafka_partition,
    kafka_record,
    reading_headers,
)
from kafka_bridge.settings import BridgeSettings
from kafka_bridge.shutdown import Shutdown
from smart_meter.codec import ReadingError, ReadingErrorKind, decode_message
from smart_meter.reading import Reading
from smart_meter.subjects import subject_for_meter

METER_IDS = st.from_regex(r"[A-Za-z0-9_.:\-]{1,64}", fullmatch=True)
READING = Reading(
    meter_id="M0000001", ts=datetime(2024, 1, 1, 10, tzinfo=UTC), seq=3, import_wh=1234.5
)
ORIGIN = NatsOrigin("meter.readings.4", 981)


@given(METER_IDS, st.integers(1, 64))
def test_kafka_partition_is_the_number_of_the_meters_nats_subject(
    meter_id: str, partitions: int
) -> None:
    subject = subject_for_meter(meter_id, partitions)
    assert subject == f"meter.readings.{kafka_partition(meter_id, partitions)}"


def test_kafka_partition_is_pinned_for_other_languages() -> None:
    assert kafka_partition("M0000001", 16) == 4


def test_reading_headers_carry_the_natural_key_and_the_stream_position() -> None:
    headers = reading_headers(READING, ORIGIN)
    assert header_value(headers, DEDUP_HEADER) == f"M0000001@{READING.ts_ms}"
    assert header_value(headers, SUBJECT_HEADER) == "meter.readings.4"
    assert header_value(headers, STREAM_SEQ_HEADER) == "981"


def test_kafka_record_is_one_reading_keyed_by_meter_in_its_nats_partition() -> None:
    record = kafka_record(READING, 16, ORIGIN)
    assert record.key == b"M0000001"
    assert record.partition == 4
    [decoded] = decode_message(record.value).readings
    assert decoded.model_dump(exclude={"v"}) == READING.model_dump()


def test_header_value_reads_kafkas_lists_and_dicts() -> None:
    assert header_value([("a", b"1"), ("b", b"2")], "b") == "2"
    assert header_value({"a": "1"}, "a") == "1"
    assert header_value(None, "a") is None


def test_dead_letter_of_a_batch_entry_names_its_index_and_has_a_stable_id() -> None:
    error = ReadingError("import_wh", "must be >= 0", index=2, kind=ReadingErrorKind.ABSURD_VALUE)
    headers = dead_letter_headers(error, "kafka-bridge/nats-to-kafka", ORIGIN.label())
    assert headers["Smart-Meter-Reason"] == "readings[2].import_wh: must be >= 0"
    assert headers["Smart-Meter-Field"] == "import_wh"
    assert headers["Smart-Meter-Error-Kind"] == "absurd_value"
    assert headers["Smart-Meter-Origin"] == "meter.readings.4#981[2]"
    again = dead_letter_headers(error, "kafka-bridge/nats-to-kafka", ORIGIN.label())
    assert headers["Nats-Msg-Id"] == again["Nats-Msg-Id"]


def test_offsets_committed_are_one_past_the_highest_consumed_per_partition() -> None:
    offsets = next_offsets([("t", 0, 5), ("t", 1, 2), ("t", 0, 9), ("t", 0, 7)])
    assert [(tp.topic, tp.partition, tp.offset) for tp in offsets] == [("t", 0, 10), ("t", 1, 3)]


def test_durable_acks_all_and_holds_one_batch_outstanding() -> None:
    config = consumer_config(BridgeSettings(durable="d", batch=64, ack_wait_s=12))
    assert config.ack_policy == AckPolicy.ALL
    assert config.max_ack_pending == 64
    assert config.ack_wait == 12
    assert config.max_deliver == -1
    assert config.deliver_policy == DeliverPolicy.ALL


def test_durable_starts_at_a_given_stream_sequence() -> None:
    config = consumer_config(BridgeSettings(start_seq=500))
    assert config.deliver_policy == DeliverPolicy.BY_START_SEQUENCE
    assert config.opt_start_seq == 500


def test_producer_is_idempotent_and_waits_for_all_replicas() -> None:
    config = producer_config("k:9092")
    assert config["enable.idempotence"] is True
    assert config["acks"] == "all"


def test_kafka_consumer_never_commits_on_its_own() -> None:
    config = kafka_consumer_config("k:9092", "g", instance_id="g-0")
    assert config["enable.auto.commit"] is False
    assert config["enable.auto.offset.store"] is False
    assert config["group.instance.id"] == "g-0"
    assert "group.instance.id" not in kafka_consumer_config("k:9092", "g")


def test_delivery_tracker_settles_on_every_report_and_keeps_the_errors() -> None:
    tracker = DeliveryTracker(expected=2)
    tracker(None, object())
    assert not tracker.settled
    tracker(KafkaError(KafkaError._MSG_TIMED_OUT), object())
    assert tracker.settled
    assert tracker.delivered == 1
    assert len(tracker.errors) == 1


def test_command_line_options_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMART_METER_BRIDGE_BATCH", "64")
    monkeypatch.setenv("SMART_METER_BRIDGE_DURABLE", "from-env")
    settings = bridge_settings(parse_args(["nats-to-kafka", "--batch", "8", "--topic", "t"]))
    assert (settings.batch, settings.durable, settings.topic) == (8, "from-env", "t")


def test_counters_print_as_key_value_pairs() -> None:
    line = format_counters("kafka-to-nats", KafkaToNatsCounters(records=3, duplicates=1))
    assert line.startswith("kafka-to-nats stopped: chunks=0 records=3 ")
    assert "duplicates=1" in line


def test_shutdown_grace_runs_from_the_request() -> None:
    shutdown = Shutdown(grace_s=0.0)
    assert not shutdown.requested and not shutdown.grace_over()
    shutdown.request()
    assert shutdown.requested and shutdown.grace_over()
