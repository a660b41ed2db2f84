"""The app's garbage-collector set-up, in a process of its own (it changes the process)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from streaming_app.settings import load_settings

PROBE = """
import gc, json, sys
from streaming_app.runtime.collector import tune_collector
before = gc.get_threshold()
tune_collector(int(sys.argv[1]))
print(json.dumps({"before": before, "after": gc.get_threshold(), "frozen": gc.get_freeze_count()}))
"""


def probe(young_threshold: int) -> dict[str, list[int] | int]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(young_threshold)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, list[int] | int] = json.loads(done.stdout)
    return result


def test_the_young_threshold_is_set_and_start_up_objects_are_frozen() -> None:
    result = probe(50_000)
    assert result["after"] == [50_000, 20, 100]
    assert isinstance(result["frozen"], int) and result["frozen"] > 1_000


def test_zero_keeps_pythons_defaults_and_freezes_nothing() -> None:
    result = probe(0)
    assert result["after"] == result["before"]
    assert result["frozen"] == 0


def test_the_setting_reaches_the_app_from_its_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMART_METER_APP_GC_YOUNG_THRESHOLD", "0")
    assert load_settings(None).gc_young_threshold == 0
    monkeypatch.delenv("SMART_METER_APP_GC_YOUNG_THRESHOLD")
    assert load_settings(None).gc_young_threshold == 50_000
