"""Replay one file: rows → readings → JetStream, paced in event time, counted in a report.

Readings go to the publisher in file order, so one meter's readings keep their order
(the publisher keeps a meter in one partition and sends a partition in order). They
are handed over in buffers of ``batch_size × partitions`` readings, or earlier when
pacing must wait, so nothing is held back past its due time.

Pacing follows file order (see :class:`~inject.replay.pacing.EventTimePacer`): a file
sorted by meter rather than by time (the LCL full data set) is paced only through
its first meter and then sent as fast as possible; replay such a file with ``--fast``
or sort it by time first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from inject.replay.core import BadRowError, ReplayReport, StrictStopError
from inject.replay.pacing import Clock, EventTimePacer, MonotonicClock
from inject.replay.reader import CsvReader
from smart_meter.publisher import PublishStats
from smart_meter.reading import Reading


class ReadingSink(Protocol):
    """What the replay needs of :class:`~smart_meter.publisher.ReadingPublisher`."""

    stats: PublishStats
    batch_size: int
    partitions: int

    async def publish(self, readings: Iterable[Reading]) -> None: ...

    async def flush(self) -> None: ...


class ProgressSink(Protocol):
    """Told how far the replay is after every hand-over to the publisher."""

    def update(self, bytes_read: int, report: ReplayReport) -> None: ...


@dataclass(frozen=True)
class ReplayConfig:
    """``speedup`` of event time over real time (``None``: as fast as possible)."""

    speedup: float | None = 60.0
    strict: bool = False


class Replay:
    """One replay of one file into one sink."""

    def __init__(
        self,
        reader: CsvReader,
        sink: ReadingSink,
        config: ReplayConfig,
        clock: Clock | None = None,
        progress: ProgressSink | None = None,
    ) -> None:
        self.reader, self.sink, self.config, self.progress = reader, sink, config, progress
        self.clock = clock or MonotonicClock()
        self.pacer = EventTimePacer(config.speedup, self.clock)
        self.report = ReplayReport(reader.path, reader.format.name)
        self.buffer_limit = max(1, sink.batch_size * sink.partitions)
        self._buffer: list[Reading] = []
        self._stats_before = (sink.stats.readings, sink.stats.duplicates)

    async def run(self) -> ReplayReport:
        """Replay every row; with ``strict`` raise :class:`StrictStopError` at the first bad one.

        Readings before a strict stop are still sent and acknowledged.
        """
        try:
            for outcome in self.reader.rows():
                if outcome.bad is not None:
                    self._bad(outcome.line_no, outcome.bad)
                elif outcome.reading is not None:
                    await self._take(outcome.reading)
        except StrictStopError as stop:
            await self._finish()
            stop.report = self.report
            raise
        await self._finish()
        return self.report

    def _bad(self, line_no: int, bad: BadRowError) -> None:
        self.report.count_bad(line_no, bad)
        if self.config.strict:
            raise StrictStopError(self.reader.path, line_no, bad)

    async def _take(self, reading: Reading) -> None:
        delay_s = self.pacer.delay_s(reading.ts_ms)
        if delay_s > 0:
            await self._hand_over()
            await self.clock.sleep_s(delay_s)
        self._buffer.append(reading)
        self.report.count_reading(reading)
        if len(self._buffer) >= self.buffer_limit:
            await self._hand_over()

    async def _hand_over(self) -> None:
        if self._buffer:
            readings, self._buffer = self._buffer, []
            await self.sink.publish(readings)
        if self.progress is not None:
            self.progress.update(self.reader.bytes_read, self.report)

    async def _finish(self) -> None:
        await self._hand_over()
        await self.sink.flush()
        readings_before, duplicates_before = self._stats_before
        self.report.readings_stored = self.sink.stats.readings - readings_before
        self.report.duplicates = self.sink.stats.duplicates - duplicates_before
        if self.progress is not None:
            self.progress.update(self.reader.bytes_read, self.report)


async def replay_file(
    reader: CsvReader,
    sink: ReadingSink,
    config: ReplayConfig,
    clock: Clock | None = None,
    progress: ProgressSink | None = None,
) -> ReplayReport:
    """Replay ``reader``'s file into ``sink`` and return the report (see :class:`Replay`)."""
    return await Replay(reader, sink, config, clock, progress).run()
