"""Per-minute pipeline metrics of one partition, as InfluxDB line protocol.

A :class:`MinuteStats` accumulates every batch a partition processed in one minute of
processing time and renders the minute as points. The sink rewrites the same points
(same series, same timestamp) after each batch, so InfluxDB keeps the minute's running
totals and a batch retried after a failure is not counted twice (batches already added
are remembered by identity). Distributions (lag, latency) keep their exact count and
maximum and a bounded reservoir sample for the percentiles, so memory stays flat.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field

from smart_meter.reading_errors import message_field
from streaming_app.processed import ProcessedBatch
from streaming_app.rules.events import Gap, GapSource
from streaming_app.sinks.cassandra_readings import is_stored

MINUTE_MS = 60_000
NS_PER_MS = 1_000_000


class Reservoir:
    """A bounded uniform sample of a stream of values, with its exact count and maximum."""

    def __init__(self, capacity: int = 4096, seed: int = 0) -> None:
        self.capacity = capacity
        self.count = 0
        self.max = float("-inf")
        self._values: list[float] = []
        self._random = random.Random(seed)

    def add(self, value: float) -> None:
        self.count += 1
        self.max = max(self.max, value)
        if len(self._values) < self.capacity:
            self._values.append(value)
            return
        slot = self._random.randrange(self.count)  # Vitter's algorithm R
        if slot < self.capacity:
            self._values[slot] = value

    def quantile(self, q: float) -> float:
        """The nearest-rank ``q`` quantile of the sample (0 < q <= 1)."""
        ordered = sorted(self._values)
        rank = max(1, math.ceil(q * len(ordered)))
        return ordered[rank - 1]


BatchIdentity = tuple[int, int, int, str, int]


def batch_identity(batch: ProcessedBatch) -> BatchIdentity:
    """What tells a retry of a batch from the next batch."""
    first = batch.readings[0].verdict if batch.readings else None
    meter_id, ts_ms = (first.meter_id, first.ts_ms) if first else ("", 0)
    return batch.processed_ms, len(batch.readings), len(batch.dead_letters), meter_id, ts_ms


def new_missing_intervals(batch: ProcessedBatch) -> int:
    """Intervals of the gaps the batch found final (an open gap is counted when it ends;
    pieces left by a late reading were counted with their gap)."""
    return sum(
        event.missing_intervals
        for event in batch.events
        if isinstance(event, Gap) and not event.open and event.detected_by is not GapSource.FILL
    )


@dataclass
class MinuteStats:
    """What one partition did in one minute."""

    seen: set[BatchIdentity] = field(default_factory=set)
    statuses: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    lateness: Counter[str] = field(default_factory=Counter)
    dead_letters: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, field)
    lag_ms: Reservoir = field(default_factory=Reservoir)
    latency_ms: Reservoir = field(default_factory=Reservoir)
    stored: int = 0
    missing: int = 0
    pending: int | None = None  # consumer lag after the minute's latest batch
    sink_retries: int = 0

    def add(self, batch: ProcessedBatch) -> bool:
        """Count the batch in; ``False`` if it was counted already (a retry)."""
        identity = batch_identity(batch)
        if identity in self.seen:
            return False
        self.seen.add(identity)
        for checked in batch.readings:
            verdict = checked.verdict
            self.statuses[verdict.status.value] += 1
            self.failures.update(verdict.failed_rules)
            self.lateness[verdict.lateness.value] += 1
            self.lag_ms.add(checked.received_ms - verdict.ts_ms)
            if checked.published_ms is not None:
                self.latency_ms.add(batch.processed_ms - checked.published_ms)
            self.stored += is_stored(checked)
        self.statuses["dead_letter"] += len(batch.dead_letters)
        self.dead_letters.update(
            (letter.kind.value, message_field(letter.field)) for letter in batch.dead_letters
        )
        self.missing += new_missing_intervals(batch)
        if batch.pending_messages is not None:
            self.pending = batch.pending_messages
        self.sink_retries = max(self.sink_retries, batch.sink_retries)
        return True

    def lines(self, partition: int, ts_ns: int, replica: str = "") -> list[str]:
        """The minute as line-protocol points, all at ``ts_ns``; ``replica`` (the app
        instance) tags the throughput and consumer points."""
        tags = f"partition={partition}"
        replica_tags = f"{tags},replica={tag(replica)}" if replica else tags
        points = [f"pipeline,{tags},status={tag(s)} count={n}i" for s, n in self.statuses.items()]
        points += [f"rules,{tags},rule={tag(r)} failures={n}i" for r, n in self.failures.items()]
        points += [
            f"dead_letters,{tags},reason={tag(reason)},field={tag(name)} count={n}i"
            for (reason, name), n in sorted(self.dead_letters.items())
        ]
        points.append(f"throughput,{replica_tags} {self._throughput_fields()}")
        if self.pending is not None:
            fields = f"pending={self.pending}i,sink_retries={self.sink_retries}i"
            points.append(f"consumer,{replica_tags} {fields}")
        points.append(f"completeness,{tags} {self._completeness_fields()}")
        for name, sample in (("lag", self.lag_ms), ("latency", self.latency_ms)):
            if sample.count:
                points.append(f"{name},{tags} {distribution_fields(sample)}")
        return [f"{point} {ts_ns}" for point in points]

    def _throughput_fields(self) -> str:
        readings = sum(n for status, n in self.statuses.items() if status != "dead_letter")
        late, too_late = self.lateness["LATE"], self.lateness["TOO_LATE"]
        return (
            f"readings={readings}i,stored={self.stored}i,batches={len(self.seen)}i,"
            f"dead_letters={self.statuses['dead_letter']}i,late={late}i,too_late={too_late}i,"
            f"future={self.lateness['FUTURE']}i"
        )

    def _completeness_fields(self) -> str:
        expected = self.stored + self.missing
        ratio = self.stored / expected if expected else 1.0
        return f"received={self.stored}i,missing={self.missing}i,ratio={ratio}"


def distribution_fields(sample: Reservoir) -> str:
    """Median, 99th percentile, maximum (ms) and count."""
    p50_ms, p99_ms = sample.quantile(0.5), sample.quantile(0.99)
    return f"p50_ms={p50_ms},p99_ms={p99_ms},max_ms={sample.max},count={sample.count}i"


def tag(value: str) -> str:
    """A tag value escaped for line protocol (commas, spaces, equals signs)."""
    return value.replace("\\", "\\\\").replace(",", r"\,").replace(" ", r"\ ").replace("=", r"\=")
