"""The chosen forecaster beats seasonal naive on a small simulated fleet (the issue's gate)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.forecast_accuracy import fleet_readings, main
from training.forecast import (
    CHOSEN_MODEL,
    DayMatrix,
    RollingOrigin,
    SeasonalNaive,
    half_hourly_from_registers,
    rolling_forecasts,
    scores_against_naive,
)


def test_chosen_model_beats_seasonal_naive_on_a_small_simulated_fleet() -> None:
    readings, _ = fleet_readings(meters=20, weeks=5, per_transformer=10)
    matrix = DayMatrix.from_frame(half_hourly_from_registers(readings), "UTC")
    plan = RollingOrigin.last_days(matrix, 7)
    chosen = rolling_forecasts(matrix, CHOSEN_MODEL, plan)
    naive = rolling_forecasts(matrix, SeasonalNaive, plan)
    scores = scores_against_naive([chosen, naive], matrix, plan)
    assert scores[chosen.model].mase < 1.0
    assert scores[chosen.model].mase < scores[naive.model].mase
    assert scores[chosen.model].rmae < 1.0
    assert scores[chosen.model].points == 20 * 7 * 48


def test_accuracy_command_writes_its_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "forecast.md"
    small = ["--meters", "4", "--meters-per-transformer", "2", "--weeks", "3", "--test-days", "3"]
    main([*small, "--out", str(out)])
    text = out.read_text()
    assert text.strip() == capsys.readouterr().out.strip()
    assert "| fleet, 4 meters | gradient_boosted |" in text
    assert "| fleet, 2 transformers | gradient_boosted (bottom-up) |" in text
    assert "| UCI house | seasonal_naive |" in text
