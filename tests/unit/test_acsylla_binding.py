"""How the acsylla sink turns row values into what acsylla binds (no server needed; the
integration tests read the rows back from Cassandra)."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal
from typing import Any

from cassandra.cqltypes import DecimalType
from cassandra.query import UNSET_VALUE
from hypothesis import given
from hypothesis import strategies as st

from streaming_app.sinks.acsylla_binding import (
    Kind,
    bind_values,
    date_seconds,
    decimal_bytes,
    epoch_seconds,
)


class Recorder:
    def __init__(self) -> None:
        self.bound: dict[int, Any] = {}

    def bind(self, index: int, value: Any) -> None:
        self.bound[index] = value


@given(st.decimals(allow_nan=False, allow_infinity=False, places=None))
def test_a_decimal_is_serialised_as_cassandra_driver_serialises_it(value: Decimal) -> None:
    assert decimal_bytes(value) == DecimalType.serialize(value, 5)


@given(st.integers(min_value=-(2**53), max_value=2**53))
def test_epoch_ms_become_seconds_that_acsylla_turns_back_into_the_same_ms(ts_ms: int) -> None:
    assert int(epoch_seconds(ts_ms) * 1000) == ts_ms


@given(st.dates())
def test_a_date_is_the_epoch_seconds_of_its_utc_midnight(day: date) -> None:
    assert date_seconds(day) == calendar.timegm(day.timetuple())


def test_unset_values_stay_unbound_nulls_are_bound_and_kinds_converted() -> None:
    statement = Recorder()
    kinds = (Kind.AS_IS, Kind.TIMESTAMP, Kind.DATE, Kind.DECIMAL, Kind.AS_IS, Kind.TIMESTAMP)
    values = ("M1", 1_700_000_000_123, date(1970, 1, 2), Decimal("0.5"), UNSET_VALUE, None)
    bind_values(statement, kinds, values)
    assert statement.bound == {
        0: "M1",
        1: 1_700_000_000.123,
        2: 86_400,
        3: b"\x00\x00\x00\x01\x05",
        5: None,
    }
    assert Kind.DECIMAL.marker == "blobAsDecimal(?)" and Kind.DATE.marker == "?"
