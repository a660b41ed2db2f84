"""python -m stack.images without an engine: pins, contexts and one-line errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from stack.images import IMAGES, context_digest, main, pinned_requirements, write_context
from stack.settings import PROJECT_ROOT


def test_requirements_are_the_exact_pins_of_pyproject() -> None:
    dependencies = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    for spec in IMAGES.values():
        for pin in pinned_requirements(spec.requirements):
            assert "==" in pin and pin in dependencies["dependencies"]


def test_a_context_holds_only_the_packages_the_service_runs(tmp_path: Path) -> None:
    write_context(IMAGES["inject"], tmp_path)
    assert sorted(p.name for p in (tmp_path / "app").iterdir()) == ["inject", "smart_meter"]
    assert not list(tmp_path.rglob("__pycache__"))
    assert (tmp_path / "docker" / "entrypoint.sh").stat().st_mode & 0o111


def test_the_digest_depends_on_the_sources_and_the_base(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    write_context(IMAGES["kafka-bridge"], first)
    write_context(IMAGES["kafka-bridge"], second)
    assert context_digest(first, "base:1") == context_digest(second, "base:1")
    assert context_digest(first, "base:1") != context_digest(first, "base:2")
    (second / "app" / "kafka_bridge" / "__init__.py").write_text("# changed\n")
    assert context_digest(first, "base:1") != context_digest(second, "base:1")


def test_an_unknown_image_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["postgres"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "unknown image postgres; choose from inject" in error


def test_no_engine_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SMART_METER_STATE_DIR", str(tmp_path))
    assert main(["nats"]) == 1
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "python start_services.py up docker" in error
