"""The accuracy benchmark's command runs and writes its table (small, so it cannot rot)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.estimation_accuracy import GAP_INTERVALS, main


def test_accuracy_command_writes_a_row_per_gap_length_for_both_data_sets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "accuracy.md"
    small = ["--rounds-uci", "1", "--rounds-fleet", "1", "--meters", "2", "--weeks", "3"]
    main([*small, "--out", str(out)])
    text = out.read_text()
    assert text.strip() == capsys.readouterr().out.strip()
    assert "## UCI household" in text and "## Simulated fleet" in text
    for length in GAP_INTERVALS:
        assert text.count(f"\n| {length} | {length / 2:g} |") == 2
