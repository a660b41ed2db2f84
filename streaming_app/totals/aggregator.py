"""Running totals: an aggregator after the rules, counting every reading they let through.

An aggregator is not a rule: it never judges a reading, and what it produces are figures,
not findings. The engine runs it after every rule, on readings no rule rejected and no
duplicate halted. Its per-meter state (:class:`MeterTotals`) is saved, restored and
evicted with the rest of the meter's state, so after a crash totals resume from the
saved state, and a redelivered reading that state already holds is skipped by the batch
builder, never counted twice.

What the register rule found about the reading decides what it adds: a rollover adds the
wrapped energy; a register failed as falling (``decrease``) or as rising faster than the
connection allows (``over_limit``) is not a reference (its energy is counted once the
register is plausible again, as if the reading were rejected); after a reset, counting
starts again from the new value.

Output (:meth:`add`): the final :class:`DayTotals` of each day a reading ends, and the
day in progress (:meth:`running`) when a reading moves the meter's counted time into a
new slot of ``running_every_min`` minutes of event time (slots from the epoch; 0: every
reading): at most one row of the day so far per meter and slot, not one per reading.
Which readings those are depends on the meter's readings alone, never on where batches
end, so a crash and a redelivery write the same rows; every row is a whole snapshot of
the state, so one written later replaces one written earlier without losing anything,
and the day's final row always comes (it is written when a reading ends the day).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator

from smart_meter.energy.tariff import DEFAULT_TARIFF_CSV, load_tariff
from smart_meter.reading import Reading
from streaming_app.rules.base import Aggregator, Finding
from streaming_app.rules.events import RegisterEvent, RegisterKind
from streaming_app.totals.running import DayTotals, MeterTotals, RunningTotals

NOT_A_REFERENCE = frozenset({RegisterKind.DECREASE, RegisterKind.OVER_LIMIT})
PROBES = (datetime(2024, 1, 15, tzinfo=UTC), datetime(2024, 7, 15, tzinfo=UTC))  # winter, summer


@lru_cache(maxsize=16)
def arithmetic(
    tariff_csv: Path, currency: str, time_zone: str, max_interval_ms: int
) -> RunningTotals:
    """The totals arithmetic of one tariff and zone, its file read once per process."""
    tariff = load_tariff(tariff_csv, currency)
    return RunningTotals(tariff, ZoneInfo(time_zone), max_interval_ms=max_interval_ms)


class TotalsAggregator(Aggregator[MeterTotals]):
    """Energy and cost to date per meter (day, month, half-hours) under a time-of-day tariff."""

    kind: ClassVar[str] = "totals"
    state_type: ClassVar[type[MeterTotals]] = MeterTotals

    tariff_csv: Path = Field(
        default=DEFAULT_TARIFF_CSV, description="'period,tariff' CSV: price per kWh per half-hour"
    )
    currency: str = Field(default="EUR", min_length=1, description="currency of the prices")
    time_zone: str = Field(
        default="UTC", description="IANA zone of local days and tariff half-hours"
    )
    max_interval_days: int = Field(
        default=7,
        ge=1,
        description="longer silences are not spread over days: counting restarts after them",
    )
    running_every_min: int = Field(
        default=60,
        ge=0,
        description="the day so far is written at most once per this many minutes of event "
        "time per meter (0: after every reading); the day's final totals always",
    )

    @model_validator(mode="after")
    def _tariff_and_zone_load(self) -> TotalsAggregator:
        try:
            zone = self.arithmetic().zone
        except (OSError, KeyError) as error:  # a missing file, an unknown zone
            raise ValueError(f"totals: {type(error).__name__}: {error}") from None
        for probe in PROBES:
            offset = probe.astimezone(zone).utcoffset() or timedelta()
            if offset % timedelta(minutes=30):
                raise ValueError(f"time zone {self.time_zone} is not whole half-hours from UTC")
        return self

    def arithmetic(self) -> RunningTotals:
        max_interval_ms = self.max_interval_days * 86_400_000
        return arithmetic(self.tariff_csv, self.currency, self.time_zone, max_interval_ms)

    def add(
        self, reading: Reading, state: MeterTotals, findings: Sequence[Finding]
    ) -> list[DayTotals]:
        """Count a reading the rules let through; the final totals of the days it ended,
        then the day so far if its slot of ``running_every_min`` came."""
        energy_wh = None
        for finding in findings:
            event = finding.event
            if isinstance(event, RegisterEvent):
                if finding.failed and event.kind in NOT_A_REFERENCE:
                    return []
                if event.kind is RegisterKind.ROLLOVER:
                    energy_wh = event.energy_wh
        counted_before_ms = state.last_ts_ms
        counted = self.arithmetic().count(
            reading.meter_id, state, reading.ts_ms, reading.import_wh, energy_wh
        )
        days = [day for day in counted if isinstance(day, DayTotals)]
        if self.running_due(counted_before_ms, state.last_ts_ms):
            days += filter(None, [self.running(reading.meter_id, state)])
        return days

    def running_due(self, before_ms: int | None, after_ms: int | None) -> bool:
        """Whether a reading that moved the counted time from ``before_ms`` to ``after_ms``
        entered a new slot of ``running_every_min`` (a meter's first reading does)."""
        if after_ms is None or after_ms == before_ms:
            return False
        slot_ms = self.running_every_min * 60_000
        return before_ms is None or slot_ms == 0 or after_ms // slot_ms != before_ms // slot_ms

    def running(self, meter_id: str, state: MeterTotals) -> DayTotals | None:
        """The meter's day in progress; ``None`` before its first counted reading."""
        if state.last_ts_ms is None:
            return None
        return DayTotals(
            meter_id, state.day, state.day_mwh, state.day_cost,
            tuple(sorted(state.half_hours_mwh.items())), state.month_mwh, state.month_cost,
            self.currency, state.last_ts_ms, final=False,
        )  # fmt: skip
