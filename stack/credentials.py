"""Generate the credentials of the Compose and Swarm stacks; nothing is ever committed.

    python -m stack.credentials compose [--force]   compose/.env and compose/secrets/*
    python -m stack.credentials swarm [--force]     one Docker secret per credential

Every password is random (``secrets.token_urlsafe``, 32 bytes). Compose gets a git-ignored
``compose/.env`` (user names, and the passwords of images that read them only from the
environment, mode 0600) and git-ignored files under ``compose/secrets/`` (a folder of
mode 0700; the files 0644 so that the containers' non-root user reads them). Swarm gets
Docker secrets ``smart_meter_<name>`` (prefix: ``--prefix``) on the engine of
``DOCKER_HOST`` (default: the project's own engine). Existing credentials are kept
unless ``--force`` is given.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

import docker
from docker.errors import APIError, DockerException

from stack.errors import StackError
from stack.settings import PROJECT_ROOT, StackSettings

PASSWORDS = (
    "nats_password",
    "cassandra_password",
    "influxdb_admin_password",
    "influxdb_password",
    "postgres_password",
    "grafana_admin_password",
)
"""Every credential of the stacks; swarm secret ``smart_meter_<name>``, compose file ``<name>``."""
DEFAULT_SECRET_PREFIX = "smart_meter_"  # noqa: S105 - a name prefix, not a password
USERS = {
    "SMART_METER_NATS_USERNAME": "smart_meter",
    "SMART_METER_CASSANDRA_USERNAME": "smart_meter",
    "SMART_METER_INFLUXDB_USERNAME": "smart_meter",
    "INFLUXDB_ADMIN_USER": "admin",
    "POSTGRES_USER": "smart_meter",
    "GRAFANA_ADMIN_USER": "admin",
}
ENV_PASSWORDS = {
    "INFLUXDB_ADMIN_PASSWORD": "influxdb_admin_password",
    "INFLUXDB_USER_PASSWORD": "influxdb_password",
}
"""Images that read a password only from the environment get it through ``.env``."""
COMPOSE_DIR = PROJECT_ROOT / "compose"


def new_password() -> str:
    return secrets.token_urlsafe(32)


def write_private(path: Path, text: str, mode: int = 0o600) -> None:
    """Write ``text`` to ``path`` with ``mode`` (replacing it if present)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "w") as target:
        target.write(text)
    path.chmod(mode)


def write_secret_file(path: Path, text: str) -> None:
    """A Compose file secret: in a folder only its owner can enter (0700), the file itself
    0644, because Compose bind-mounts it with the host's mode and the services run as a
    non-root user (uid 10001) in their containers."""
    write_private(path, text, mode=0o644)
    path.parent.chmod(0o700)


def compose_credentials(folder: Path = COMPOSE_DIR, force: bool = False) -> list[str]:
    """Write ``secrets/<name>`` and ``.env`` under ``folder``; lines saying what was done."""
    lines = []
    for name in PASSWORDS:
        path = folder / "secrets" / name
        if path.exists() and path.read_text().strip() and not force:
            lines.append(f"{path} kept")
            continue
        write_secret_file(path, new_password() + "\n")
        lines.append(f"{path} written")
    env_file = folder / ".env"
    if env_file.exists() and not force:
        lines.append(f"{env_file} kept")
        return lines
    values = dict(USERS)
    for variable, name in ENV_PASSWORDS.items():
        values[variable] = (folder / "secrets" / name).read_text().strip()
    write_private(env_file, "".join(f"{key}={value}\n" for key, value in values.items()))
    lines.append(f"{env_file} written")
    return lines


def swarm_credentials(
    client: docker.DockerClient, force: bool = False, prefix: str = DEFAULT_SECRET_PREFIX
) -> list[str]:
    """Create one Docker secret per credential; existing ones are kept unless ``force``."""
    existing = {secret.name: secret for secret in client.secrets.list()}
    lines = []
    for name in PASSWORDS:
        secret_name = prefix + name
        if secret_name in existing:
            if not force:
                lines.append(f"secret {secret_name} kept")
                continue
            try:
                existing[secret_name].remove()
            except APIError as error:
                raise StackError(
                    f"credentials: cannot replace secret {secret_name} ({error.explanation}); "
                    "remove the stack that uses it first (docker stack rm)"
                ) from None
        client.secrets.create(name=secret_name, data=new_password().encode())
        lines.append(f"secret {secret_name} created")
    return lines


def swarm_client(settings: StackSettings) -> docker.DockerClient:
    """``DOCKER_HOST`` when set, else the project's own engine."""
    base_url = os.environ.get("DOCKER_HOST") or settings.docker_host
    try:
        client = docker.DockerClient(base_url=base_url, timeout=60)
        client.ping()
    except DockerException as error:
        raise StackError(
            f"credentials: no Docker engine answers at {base_url} ({type(error).__name__}); "
            "start one (`python start_services.py up docker`) or set DOCKER_HOST"
        ) from None
    return client


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stack.credentials",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("target", choices=("compose", "swarm"))
    parser.add_argument("--force", action="store_true", help="replace existing credentials")
    parser.add_argument("--folder", type=Path, default=COMPOSE_DIR, help="compose folder")
    parser.add_argument(
        "--prefix",
        default=os.environ.get("SMART_METER_SECRET_PREFIX", DEFAULT_SECRET_PREFIX),
        help="swarm secret names (default $SMART_METER_SECRET_PREFIX or smart_meter_)",
    )
    args = parser.parse_args(argv)
    try:
        if args.target == "compose":
            lines = compose_credentials(args.folder, args.force)
        else:
            client = swarm_client(StackSettings())
            try:
                lines = swarm_credentials(client, args.force, args.prefix)
            except APIError as error:
                raise StackError(f"credentials: {error.explanation}") from None
            finally:
                client.close()
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
