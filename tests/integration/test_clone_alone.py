"""The product runs from a copy of its repository alone, with no ``../shared`` beside it.

The tracked files are copied to a fresh folder (the test data set is not beside it), and
the streaming app is started from there as a user would: ``python -m streaming_app run
--help``, then a short run against the local stack that reads an empty stream of its own
and exits when idle. Both must work, and the code that ran must be the copy's.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nats
import pytest

from smart_meter.settings import ConnectionSettings
from tests.integration.streaming_app_readback import drop_keyspace
from tests.integration.streaming_app_support import ROOT, Names, create_stream, delete_deployment

pytestmark = pytest.mark.integration
TIMEOUT_S = 120.0


def copy_of_the_repository(target: Path) -> Path:
    """The tracked files of this checkout (as they are now) in ``target/clone``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
    ).stdout
    clone = target / "clone"
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    return clone


def run_from(clone: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """``python *args`` with the clone first on the path; its output (must succeed)."""
    plain = {k: v for k, v in os.environ.items() if not k.startswith("SMART_METER_")}
    full_env = {**plain, **(env or {}), "PYTHONPATH": str(clone)}
    done = subprocess.run(
        [sys.executable, *args],
        cwd=clone,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    found = copy_of_the_repository(tmp_path_factory.mktemp("alone"))
    assert not (found.parent / "shared").exists()
    return found


def test_the_copy_imports_its_own_code_and_ships_its_default_tariff(clone: Path) -> None:
    script = (
        "import streaming_app, smart_meter.energy.tariff as t; "
        "print(streaming_app.__file__); print(t.DEFAULT_TARIFF_CSV); print(t.load_tariff())"
    )
    module_file, tariff_file, tariff = run_from(clone, "-c", script).splitlines()[:3]
    assert Path(module_file).is_relative_to(clone)
    assert Path(tariff_file).is_relative_to(clone)
    assert "Decimal('0.24')" in tariff


def test_the_app_shows_its_help_from_the_copy(clone: Path) -> None:
    output = run_from(clone, "-m", "streaming_app", "run", "--help")
    assert "--preset" in output
    assert "--idle-exit-s" in output


async def test_the_app_runs_from_the_copy_and_exits_when_idle(
    clone: Path, connections: ConnectionSettings
) -> None:
    names = Names()
    app = names.app("alone")
    nc = await nats.connect(connections.nats_url)
    js = nc.jetstream()
    await create_stream(js, names)
    try:
        command = ("-m", "streaming_app", "run", "--idle-exit-s", "2", "--replica-id", app.tag)
        output = run_from(clone, *command, env=app.env(connections))
        assert f"replica {app.tag} up" in output
        assert f"replica {app.tag} down" in output
    finally:
        await delete_deployment(js, app)
        await js.delete_stream(names.stream)
        await nc.close()
        await asyncio.to_thread(drop_keyspace, connections, app.keyspace)
