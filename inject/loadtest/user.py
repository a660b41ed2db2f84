"""The Locust user that publishes meter readings to NATS JetStream.

Each user is one data concentrator: it owns ``--meters-per-user`` meters (ids unique
to the run, the worker and the user, see :mod:`inject.loadtest.meters`) and, per task
iteration, publishes one metering interval of all of them and waits for every ack
before the next one (so each meter's readings are stored in order).

Locust statistics, request type ``JetStream``:

* ``publish batch``: one request per JetStream message; response time = first send to
  ack (retries included), size = payload bytes. Requests/s = messages/s.
* ``readings``: one request per reading of an acknowledged message (same latency, its
  share of the bytes). Requests/s = **readings/s**, and its request count is the number
  of readings this run stored in JetStream; a failed message fails its readings.
  Locust has no counter that adds N at once, so one event per reading is how readings
  get a row of their own that master/worker aggregation, CSV and JSON all carry
  (about 3 µs of a worker's CPU per reading).
* ``readings already stored``: readings of a message JetStream answered as a duplicate
  on the first attempt (stored earlier by someone else; absent with a fresh prefix).

All users of one process share one NATS connection and one asyncio loop thread,
see :mod:`inject.loadtest.bridge` for how gevent and asyncio meet.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import gevent  # type: ignore[import-untyped]
import gevent.lock  # type: ignore[import-untyped]
from locust import User, task
from locust.env import Environment
from locust.exception import StopUser
from locust.user.wait_time import constant_pacing

from inject.loadtest.bridge import AsyncioThread
from inject.loadtest.jetstream import JetStreamSender, PublishOutcome, plan_messages
from inject.loadtest.meters import UserMeters, UserSlot, interval_start
from inject.loadtest.options import InjectorOptions
from smart_meter.settings import ConnectionSettings

REQUEST_TYPE = "JetStream"
USER_DONE_MESSAGE = "meter_user_done"
_user_numbers = itertools.count()


class ProcessSession:
    """What the users of one Locust process share: the loop thread and the NATS sender."""

    _current: ClassVar[ProcessSession | None] = None
    _opening: ClassVar[Any] = gevent.lock.Semaphore()

    def __init__(self, bridge: AsyncioThread, sender: JetStreamSender) -> None:
        self.bridge, self.sender = bridge, sender

    @classmethod
    def shared(cls, url: str, options: InjectorOptions) -> ProcessSession:
        """The process's session, opened by the first user that asks."""
        with cls._opening:
            if cls._current is None:
                cls._current = cls._open(url, options)
            return cls._current

    @classmethod
    def _open(cls, url: str, options: InjectorOptions) -> ProcessSession:
        bridge = AsyncioThread()
        connecting = JetStreamSender.connect(
            url, options.max_in_flight, options.ack_timeout_s, options.max_attempts
        )
        try:
            sender = bridge.run(connecting, timeout_s=30.0)
        except BaseException:
            bridge.close()
            raise
        return cls(bridge, sender)

    @classmethod
    def close_current(cls, **_: Any) -> None:
        """Listener of ``events.quitting``: drain the connection, stop the loop thread."""
        session, cls._current = cls._current, None
        if session is not None:
            try:
                session.bridge.run(session.sender.close(), timeout_s=10.0)
            finally:
                session.bridge.close()


class MeterReadingsUser(User):
    """One data concentrator publishing its meters' readings to NATS JetStream."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.options = InjectorOptions.from_parsed(environment.parsed_options)
        worker = int(getattr(environment.runner, "worker_index", 0))
        self.slot = UserSlot(self.options.meter_prefix, worker, next(_user_numbers))
        start = interval_start(datetime.now(UTC), self.options.interval_s)
        self.meters = UserMeters(
            self.slot,
            self.options.meters_per_user,
            start,
            self.options.interval_s,
            self.options.fleet_seed,
        )
        self.partitions = ConnectionSettings().partitions
        self.intervals_sent = 0
        self.session: ProcessSession | None = None

    def wait_time(self) -> float:
        """Flat out with ``--speedup 0``; else one interval per ``interval_s / speedup``."""
        if self.options.speedup <= 0:
            return 0.0
        return constant_pacing(self.options.interval_s / self.options.speedup)(self)

    def on_start(self) -> None:
        url = self.host or self.environment.host or ConnectionSettings().nats_url
        self.session = ProcessSession.shared(url, self.options)

    @task
    def publish_interval(self) -> None:
        """Publish one interval of this user's meters; report each message and reading."""
        assert self.session is not None, "on_start opens the session"
        _, readings = self.meters.tick()
        size = self.options.batch_size
        messages = plan_messages(readings, self.partitions, size, self.slot.name)
        pending = self.session.bridge.submit(self.session.sender.send(messages))
        try:
            outcomes = pending.get()
        except gevent.GreenletExit:
            # Stopped mid-publish: these messages are already on the wire, so account for
            # them before the greenlet dies, or the stats would miss stored readings.
            self._report(pending.get(timeout_s=self._drain_timeout_s))
            raise
        self._report(outcomes)
        self.intervals_sent += 1
        if self.options.intervals and self.intervals_sent >= self.options.intervals:
            self.environment.runner.send_message(USER_DONE_MESSAGE, 1)
            raise StopUser()

    @property
    def _drain_timeout_s(self) -> float:
        return self.options.max_attempts * (self.options.ack_timeout_s + 1.0)

    def _report(self, outcomes: Sequence[PublishOutcome]) -> None:
        fire = self.environment.events.request.fire
        context = self.context()
        for outcome in outcomes:
            fire(
                request_type=REQUEST_TYPE,
                name="publish batch",
                response_time=outcome.latency_ms,
                response_length=outcome.payload_bytes,
                exception=outcome.error,
                context=context,
            )
            stored = outcome.error is not None or outcome.stored_by_us
            name = "readings" if stored else "readings already stored"
            share = outcome.payload_bytes // outcome.readings
            for _ in range(outcome.readings):
                fire(
                    request_type=REQUEST_TYPE,
                    name=name,
                    response_time=outcome.latency_ms,
                    response_length=share,
                    exception=outcome.error,
                    context=context,
                )
