"""The reading message (wire version 1): one meter reading, or a batch of them.

Wire format (JSON, UTF-8)::

    {"v": 1, "meter_id": "M000001", "ts": "2024-01-01T10:00:00Z", "seq": 17,
     "import_wh": 123456.0, "voltage_v": [231.2], "current_a": [2.1],
     "temperature_c": 11.5, "grid": {"line_id": "L01", "transformer_id": "T0001",
     "usage_point_id": "UP000001"}}

    {"v": 1, "concentrator_id": "DC-7", "readings": [<reading without "v">, ...]}

A field the source does not have is absent, never zero. Event time is the meter's
clock, timezone-aware; it is carried internally as epoch milliseconds (``ts_ms``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cached_property
from typing import Annotated, Any, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, Strict, field_validator

WIRE_VERSION = 1
MIN_EVENT_TIME = datetime(2000, 1, 1, tzinfo=UTC)
MAX_EVENT_TIME = datetime(2100, 1, 1, tzinfo=UTC)

# Plausibility limits: anything outside is not a measurement but a broken message.
MAX_REGISTER_WH = 1e12
MAX_VOLTAGE_V = 1000.0
MAX_CURRENT_A = 10_000.0

# JSON ``true`` equals 1 in Python; a strict int keeps it from passing as version 1.
WireVersion = Annotated[int, Strict(), Field(ge=WIRE_VERSION, le=WIRE_VERSION)]
PhaseVoltage = Annotated[float, Field(ge=0.0, le=MAX_VOLTAGE_V, allow_inf_nan=False)]
PhaseCurrent = Annotated[float, Field(ge=0.0, le=MAX_CURRENT_A, allow_inf_nan=False)]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]


class ImplausibleValueError(ValueError):
    """A value of the right type that no meter can produce (an event time outside 2000..2100)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)


class GridPosition(_Frozen):
    """Where the meter sits in the network; each level optional."""

    line_id: Identifier | None = None
    transformer_id: Identifier | None = None
    usage_point_id: Identifier | None = None


class Reading(_Frozen):
    """One reading of one meter at one event time."""

    meter_id: Identifier
    ts: AwareDatetime
    seq: Annotated[int, Field(ge=0, lt=2**63)] | None = None
    import_wh: Annotated[float, Field(ge=0.0, le=MAX_REGISTER_WH, allow_inf_nan=False)]
    voltage_v: Annotated[tuple[PhaseVoltage, ...], Field(min_length=1, max_length=3)] | None = None
    current_a: Annotated[tuple[PhaseCurrent, ...], Field(min_length=1, max_length=3)] | None = None
    temperature_c: Annotated[float, Field(ge=-80.0, le=120.0, allow_inf_nan=False)] | None = None
    grid: GridPosition | None = None

    @field_validator("ts")
    @classmethod
    def _plausible_time(cls, value: datetime) -> datetime:
        if not MIN_EVENT_TIME <= value < MAX_EVENT_TIME:
            raise ImplausibleValueError(f"event time {value.isoformat()} is outside 2000..2100")
        return value.astimezone(UTC)

    @cached_property
    def ts_ms(self) -> int:
        """Event time as epoch milliseconds (UTC); computed once, the rules ask often."""
        return int(self.ts.timestamp() * 1000)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy, without the cached ``ts_ms`` (an update may change ``ts``)."""
        copied = super().model_copy(update=update, deep=deep)
        copied.__dict__.pop("ts_ms", None)
        return copied

    @property
    def key(self) -> tuple[str, int]:
        """The natural key: (meter, event time)."""
        return self.meter_id, self.ts_ms


class ReadingMessage(Reading):
    """A single reading as its own message."""

    v: WireVersion


class ReadingBatch(_Frozen):
    """Many readings in one message, as a data concentrator sends them."""

    v: WireVersion
    concentrator_id: Identifier | None = None
    readings: Annotated[list[Reading], Field(min_length=1, max_length=100_000)]
