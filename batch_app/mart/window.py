"""The part of each table a refresh for ``first_day..last_day`` replaces (half-open bounds)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from batch_app.mart.columns import RangeUnit
from batch_app.mart.errors import MartRangeError


@dataclass(frozen=True)
class RefreshWindow:
    """Local days ``first_day..last_day`` (both included) in ``time_zone``."""

    first_day: date
    last_day: date
    time_zone: str = "UTC"

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise MartRangeError(self.first_day, self.last_day)

    def bounds(self, unit: RangeUnit) -> tuple[date, date] | tuple[datetime, datetime]:
        """``(low, high)``: a row belongs to the window when ``low <= value < high``."""
        after_last = self.last_day + timedelta(days=1)
        if unit is RangeUnit.DAY:
            return self.first_day, after_last
        if unit is RangeUnit.MONTH:  # every month the range touches
            return self.first_day.replace(day=1), after_last
        zone = ZoneInfo(self.time_zone)
        return _utc_midnight(self.first_day, zone), _utc_midnight(after_last, zone)

    def label(self) -> str:
        return f"{self.first_day}..{self.last_day}"


def _utc_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)
