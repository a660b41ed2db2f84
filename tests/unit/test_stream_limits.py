"""The side streams' limits: documented defaults, overridden from the environment."""

from __future__ import annotations

import pytest
from nats.js.api import DiscardPolicy

from smart_meter.streams import StreamLimits, dead_letter_stream_config, findings_stream_config

DAY_S = 86_400.0


def test_side_streams_are_bounded_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in StreamLimits.model_fields:
        monkeypatch.delenv(f"SMART_METER_STREAMS_{name.upper()}", raising=False)
    letters, findings = dead_letter_stream_config(), findings_stream_config()
    assert (letters.max_age, letters.max_bytes) == (14 * DAY_S, 1 << 30)
    assert (findings.max_age, findings.max_bytes) == (2 * DAY_S, 1 << 30)
    assert letters.discard is findings.discard is DiscardPolicy.OLD  # the newest are kept


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMART_METER_STREAMS_DEAD_LETTER_MAX_AGE_S", "3600")
    monkeypatch.setenv("SMART_METER_STREAMS_FINDINGS_MAX_BYTES", "1048576")
    assert dead_letter_stream_config().max_age == 3600.0
    assert findings_stream_config().max_bytes == 1 << 20


def test_limits_given_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMART_METER_STREAMS_DEAD_LETTER_MAX_BYTES", "1048576")
    limits = StreamLimits(dead_letter_max_bytes=5 << 20)
    assert dead_letter_stream_config(limits).max_bytes == 5 << 20


def test_unbounded_or_negative_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="greater than 0"):
        StreamLimits(findings_max_age_s=0)
