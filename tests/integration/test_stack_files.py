"""The Compose and Swarm files validate, and no credential is committed anywhere.

``docker stack config`` (the Docker CLI, no daemon needed) checks ``swarm/stack.yml``;
Debian's Compose v1 (``docker-compose`` 1.29.2, installed with the engine by
``python start_services.py up docker``) checks ``compose/docker-compose.yml`` with
credentials from ``python -m stack.credentials compose``. Compose v2 is not built here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stack.credentials import PASSWORDS
from stack.docker import DockerService
from stack.settings import PROJECT_ROOT, StackSettings

pytestmark = [pytest.mark.integration, pytest.mark.docker]

STACK_FILE = PROJECT_ROOT / "swarm" / "stack.yml"
COMPOSE_FILE = PROJECT_ROOT / "compose" / "docker-compose.yml"
ENV_LINE = re.compile(r"^\s+(?P<key>[A-Z_]*PASSWORD[A-Z_]*): (?P<value>.*)$", re.MULTILINE)


@pytest.fixture(scope="module")
def installed() -> None:
    """docker CLI and docker-compose, installed with apt by the project when missing."""
    DockerService(StackSettings()).install()


def run(argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    result = subprocess.run(
        argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=300, check=False
    )
    assert result.returncode == 0, f"{argv} failed: {result.stderr}"
    return result.stdout


def stack_config(**settings: str) -> str:
    env = {key: value for key, value in os.environ.items() if key != "DOCKER_HOST"}
    env.update(settings)
    return run(["docker", "stack", "config", "-c", str(STACK_FILE)], env=env)


def test_the_swarm_stack_validates_with_vips_by_default(installed: None) -> None:
    config = stack_config()
    assert config.count("endpoint_mode: vip") >= 10
    assert "endpoint_mode: dnsrr" not in config
    assert "--routes" in config and "nats://nats-3:6222" in config


def test_the_endpoint_mode_and_replicas_are_settings_of_the_same_file(installed: None) -> None:
    config = stack_config(
        SMART_METER_ENDPOINT_MODE="dnsrr",
        SMART_METER_CASSANDRA_REPLICAS="5",
        SMART_METER_CASSANDRA_REPLICATION="5",
    )
    assert "endpoint_mode: vip" not in config
    assert "replicas: 5" in config
    assert 'SMART_METER_CASSANDRA_REPLICATION: "5"' in config


def test_every_swarm_credential_is_an_external_docker_secret(installed: None) -> None:
    config = stack_config()
    for match in ENV_LINE.finditer(config):
        assert match["key"].endswith("_FILE"), match.group(0)
        assert match["value"].startswith("/run/secrets/"), match.group(0)
    for name in PASSWORDS:
        assert re.search(rf"{name}:\n\s+name: smart_meter_{name}\n\s+external: true", config), name
    assert "mode: host" in config and "mode: ingress" not in config


def test_compose_config_validates_with_generated_credentials(
    installed: None, tmp_path: Path
) -> None:
    folder = tmp_path / "compose"
    folder.mkdir()
    shutil.copy(COMPOSE_FILE, folder / "docker-compose.yml")
    compose = ["docker-compose", "-f", str(folder / "docker-compose.yml"), "config"]
    without = subprocess.run(compose, capture_output=True, text=True, cwd=folder, check=False)
    assert without.returncode != 0
    assert "run python -m stack.credentials compose" in without.stderr

    generate = [sys.executable, "-m", "stack.credentials", "compose", "--folder", str(folder)]
    first = run(generate, cwd=PROJECT_ROOT)
    assert first.count("written") == len(PASSWORDS) + 1
    config = run(compose, cwd=folder)
    assert "/run/secrets/nats_password" in config
    password = (folder / "secrets" / "nats_password").read_text().strip()
    assert len(password) >= 40
    assert password not in config  # a file-based secret never appears in the environment
    assert (folder / "secrets").stat().st_mode & 0o777 == 0o700

    second = run(generate, cwd=PROJECT_ROOT)
    assert "written" not in second
    assert (folder / "secrets" / "nats_password").read_text().strip() == password
    run([*generate, "--force"], cwd=PROJECT_ROOT)
    assert (folder / "secrets" / "nats_password").read_text().strip() != password


PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
ASSIGNMENT = re.compile(
    r"""(?ix)\b([a-z_]*(?:password|passwd|_secret|_token|api_key)[a-z_]*)\b["']?\s*(?::|=)\s*
    (["']?)([^\s"',)}\]]*)\2"""
)
KEY_NOT_A_CREDENTIAL = re.compile(r"(?i)(_file|_encryption|secrets|_prefix|tokens)$")
A_REFERENCE = re.compile(r"^(?:$|\$|/run/secrets|\[|\(|\{|%s|<|#)")
A_PYTHON_NAME = re.compile(r"^(?:None$|True$|False$|[A-Za-z_][\w.]*(?:\(|\[|$))")
A_NAME = re.compile(r"^[a-z_]*(?:password|secret)[a-z_]*$")


def committed_credentials(text: str, python: bool = False) -> list[str]:
    """Lines holding a private key or a password-like assignment of a literal value."""
    found = []
    for line in text.splitlines():
        if PRIVATE_KEY.search(line):
            found.append(line)
        for match in ASSIGNMENT.finditer(line):
            key, quote, value = match.groups()
            if KEY_NOT_A_CREDENTIAL.search(key):
                continue
            python_name = python and A_PYTHON_NAME.match(value)
            reference = not quote and (A_REFERENCE.match(value) or python_name)
            named = quote and (
                not value
                or A_NAME.match(value)
                or value.startswith(("$", "/run/secrets", "%s", "{"))
            )
            if not reference and not named:
                found.append(line.strip())
    return found


def test_the_credential_scan_finds_literal_passwords_and_keys() -> None:
    # the examples are assembled, so that the scan of this very file does not find them
    literal = "hunter22"
    assert committed_credentials("password = " + f'"{literal}"')
    assert committed_credentials("POSTGRES_PASSWORD: " + literal)
    assert committed_credentials("-----BEGIN OPENSSH " + "PRIVATE KEY-----")
    assert committed_credentials("api_token=" + f"'{literal}'")
    assert not committed_credentials("SMART_METER_NATS_PASSWORD_FILE: /run/secrets/nats_password")
    assert not committed_credentials("password = new_password()", python=True)
    assert not committed_credentials("password=wrong_password,", python=True)
    assert not committed_credentials("for name in PASSWORDS:  # one per secret", python=True)
    assert not committed_credentials("INFLUXDB_ADMIN_PASSWORD: ${INFLUXDB_ADMIN_PASSWORD:?run it}")


def test_no_credential_is_committed_in_the_repository() -> None:
    listed = run(["git", "ls-files"], cwd=PROJECT_ROOT).splitlines()
    findings = []
    for name in listed:
        path = PROJECT_ROOT / name
        if not path.is_file() or path.stat().st_size > 5_000_000:
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        found = committed_credentials(text, python=name.endswith(".py"))
        findings += [f"{name}: {line}" for line in found]
    assert findings == []
