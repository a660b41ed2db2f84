"""The publisher on a NATS cluster losing a node: passing failures are retried with the same
``Nats-Msg-Id``, other failures are raised, and a retry never reorders a meter's readings.

A scripted JetStream stands in for the server here (the node loss itself is
``tests/integration/test_nats_cluster_node_loss.py``, on a real cluster).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import APIError, BadRequestError, ServiceUnavailableError

from smart_meter.codec import decode_message
from smart_meter.nats_errors import is_transient
from smart_meter.publisher import ReadingPublisher
from smart_meter.reading import Reading

START = datetime(2024, 3, 4, tzinfo=UTC)


@dataclass
class Ack:
    duplicate: bool = False


@dataclass
class ScriptedJetStream:
    """Fails the first publish of every ``fail_every``-th message with ``error``; stores the
    rest in arrival order and answers a repeated id as a duplicate, like JetStream."""

    error: Exception
    fail_every: int = 3
    stored: dict[str, list[bytes]] = field(default_factory=lambda: defaultdict(list))
    ids: set[str] = field(default_factory=set)
    attempts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    calls: int = 0

    async def publish(
        self, subject: str, payload: bytes, stream: str, headers: dict[str, str]
    ) -> Ack:
        msg_id = headers["Nats-Msg-Id"]
        self.calls += 1
        self.attempts[msg_id] += 1
        await asyncio.sleep(0.001 * (self.calls % 4))  # acks come back out of order
        if self.calls % self.fail_every == 0 and self.attempts[msg_id] == 1:
            if isinstance(self.error, NatsTimeoutError):
                self.ids.add(msg_id)  # a timed-out publish may well have been stored
                self.stored[subject].append(payload)
            raise self.error
        if msg_id in self.ids:
            return Ack(duplicate=True)
        self.ids.add(msg_id)
        self.stored[subject].append(payload)
        return Ack()


class FakeClient:
    def __init__(self, js: ScriptedJetStream) -> None:
        self.js = js

    def jetstream(self, timeout: float) -> Any:
        return self.js


def readings(meters: int, intervals: int) -> list[Reading]:
    return [
        Reading(
            meter_id=f"M{meter:04d}",
            ts=START + timedelta(minutes=i),
            import_wh=1000.0 + i,
        )
        for i in range(intervals)
        for meter in range(meters)
    ]


def service_unavailable() -> APIError:
    return ServiceUnavailableError(code=503, description="JetStream not available")


def leader_lost() -> APIError:
    return APIError(code=500, err_code=10158, description="stream has no leader")


@pytest.mark.parametrize(
    "error",
    [
        NatsTimeoutError(),
        NoRespondersError(),
        service_unavailable(),
        ServiceUnavailableError(),
        leader_lost(),
    ],
    ids=["timeout", "no-responders", "503", "503-status", "10158"],
)
async def test_passing_failures_are_retried_and_every_reading_is_stored_once_in_order(
    error: Exception,
) -> None:
    js = ScriptedJetStream(error)
    sent = readings(meters=12, intervals=10)
    publisher = ReadingPublisher(FakeClient(js), partitions=4, batch_size=1, max_in_flight=64)  # type: ignore[arg-type]
    await publisher.publish(sent)
    await publisher.flush()
    assert publisher.stats.retries > 0
    assert publisher.stats.readings + publisher.stats.duplicates == len(sent)
    stored = [
        r for payloads in js.stored.values() for p in payloads for r in decode_message(p).readings
    ]
    assert sorted(r.key for r in stored) == sorted(r.key for r in sent)
    by_meter: dict[str, list[int]] = defaultdict(list)
    for payloads in js.stored.values():
        for payload in payloads:
            for reading in decode_message(payload).readings:
                by_meter[reading.meter_id].append(reading.ts_ms)
    assert all(times == sorted(times) for times in by_meter.values())


async def test_a_real_error_is_raised_not_retried() -> None:
    js = ScriptedJetStream(BadRequestError(code=400, err_code=10058, description="bad"), 1)
    publisher = ReadingPublisher(FakeClient(js), partitions=4, batch_size=1)  # type: ignore[arg-type]
    await publisher.publish(readings(meters=1, intervals=1))
    with pytest.raises(BadRequestError):
        await publisher.flush()
    assert js.calls == 1


def test_which_failures_are_transient() -> None:
    assert is_transient(TimeoutError())
    assert is_transient(NoRespondersError())
    assert is_transient(service_unavailable())
    assert is_transient(ServiceUnavailableError())  # as a fetch's 503 status raises it
    assert is_transient(leader_lost())
    assert not is_transient(BadRequestError(code=400, err_code=10058, description="bad"))
    assert not is_transient(ValueError("not a NATS error"))
