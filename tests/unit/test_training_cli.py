"""The training command line: a wrong option or a missing server is one line, before
Spark starts; a saved model with other features is refused."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.conftest import free_port
from training.cli import main
from training.errors import FeatureSetMismatchError
from training.voltage import registry


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["voltage", "--to", "2026-01-05"], "voltage needs --from DAY and --to DAY"),
        (["all", "--from", "2026-01-05"], "all needs --from DAY and --to DAY"),
        (["voltage", "--from", "2026-01-32", "--to", "2026-02-01"], "not a date (YYYY-MM-DD)"),
        (["classify", "--to", "2026-01-05"], "invalid choice: 'classify'"),
        (["predict-voltage", "--hours", "0"], "must be at least 1, got 0"),
        (["predict-voltage", "--hours", "1000"], "score_hours: Input should be less than"),
    ],
)
def test_a_wrong_option_is_one_line_and_status_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_a_range_backwards_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["voltage", "--from", "2026-01-06", "--to", "2026-01-05"]) == 1
    assert (
        capsys.readouterr().err.strip() == "training: --to 2026-01-05 is before --from 2026-01-06"
    )


@pytest.mark.parametrize(
    ("variable", "service"),
    [("SMART_METER_CASSANDRA_PORT", "Cassandra"), ("SMART_METER_INFLUXDB_URL", "InfluxDB")],
)
def test_an_unreachable_server_is_one_line_before_spark_starts(
    variable: str, service: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:  # the other server "answers"
        answering = listener.getsockname()[1]
        monkeypatch.setenv("SMART_METER_CASSANDRA_PORT", str(answering))
        monkeypatch.setenv("SMART_METER_INFLUXDB_URL", f"http://127.0.0.1:{answering}")
        port = free_port()
        value = str(port) if variable.endswith("PORT") else f"http://127.0.0.1:{port}"
        monkeypatch.setenv(variable, value)
        code = main(["predict-voltage", "--to", "2026-01-05", "--quiet"])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"training: {service} is unreachable at 127.0.0.1:{port}: ")
    assert "python start_services.py up" in err and len(err.splitlines()) == 1


def test_a_card_with_other_features_is_refused_before_the_model_is_read(tmp_path: Path) -> None:
    card = {"model": "full_mlp", "version": "v1", "kind": "spark_mlp", "features": ["a", "b"]}
    (tmp_path / "card.json").write_text(json.dumps(card))
    with pytest.raises(FeatureSetMismatchError, match=r"missing \['a'\], unexpected \['c'\]"):
        registry.load_model(None, tmp_path, ["b", "c"])  # type: ignore[arg-type]
