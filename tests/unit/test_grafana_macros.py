"""Grafana's macros and intervals, expanded as Grafana expands them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from grafana.macros import (
    MacroError,
    TimeRange,
    expand_influxql,
    expand_sql,
    interval_text,
    panel_interval_ms,
    round_interval_ms,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)


def test_relative_ranges_are_resolved_against_now() -> None:
    assert TimeRange.relative("now-1h", "now", NOW) == TimeRange(NOW_MS - 3_600_000, NOW_MS)
    assert TimeRange.relative("now-2d", "now+1d", NOW).to_ms == NOW_MS + 86_400_000
    with pytest.raises(MacroError, match="now-<n><unit>"):
        TimeRange.relative("yesterday", "now", NOW)


@pytest.mark.parametrize(
    ("raw_ms", "rounded_ms"),
    [(900, 1_000), (2_000, 2_000), (40_000, 30_000), (100_000, 120_000), (4e6, 3_600_000)],
)
def test_intervals_round_to_grafanas_steps(raw_ms: float, rounded_ms: int) -> None:
    assert round_interval_ms(raw_ms) == rounded_ms


def test_an_interval_is_the_range_over_the_panels_pixels_but_never_below_its_minimum() -> None:
    day = TimeRange.relative("now-24h", "now", NOW)
    assert panel_interval_ms(day, 12) == 120_000  # 86.4 s per pixel of 900 px
    assert panel_interval_ms(TimeRange.relative("now-1h", "now", NOW), 12) == 10_000
    assert panel_interval_ms(TimeRange.relative("now-1h", "now", NOW), 12, "1m") == 60_000
    assert [interval_text(ms) for ms in (500, 10_000, 120_000, 3_600_000)] == [
        "500ms", "10s", "2m", "1h",
    ]  # fmt: skip


def test_influxql_time_filter_interval_and_variables() -> None:
    hour = TimeRange(1_000, 3_601_000)
    query = (
        'SELECT sum("x") * 1000 / $__interval_ms FROM "m" WHERE $timeFilter '
        "AND \"meter\" = '$meter' GROUP BY time($__interval)"
    )
    assert expand_influxql(query, hour, 60_000, {"meter": "M1"}) == (
        'SELECT sum("x") * 1000 / 60000 FROM "m" WHERE time >= 1000ms and time <= 3601000ms '
        "AND \"meter\" = 'M1' GROUP BY time(1m)"
    )


def test_sql_time_filter_takes_any_expression_and_variables_in_every_spelling() -> None:
    day = TimeRange.relative("now-1d", "now", NOW)
    query = "SELECT 1 WHERE $__timeFilter(day::timestamp) AND a = '${meter}' AND b = '[[meter]]'"
    assert expand_sql(query, day, {"meter": "M7"}) == (
        "SELECT 1 WHERE day::timestamp BETWEEN '2026-11-30T12:00:00Z' AND "
        "'2026-12-01T12:00:00Z' AND a = 'M7' AND b = 'M7'"
    )


def test_an_unknown_variable_is_an_error_not_a_silent_query() -> None:
    with pytest.raises(MacroError, match=r"\$transformer is neither a macro nor a variable"):
        expand_sql("SELECT '$transformer'", TimeRange(0, 1), {"meter": "M1"})
