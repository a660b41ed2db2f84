"""The base image of the project's images, made without a registry.

``mmdebstrap --variant=minbase`` builds a Debian bookworm root file system with Python
from Debian's packages; ``docker import`` turns the tarball into the image
``smart-meter/base:<digest>``. The tarball is cached under the project's cache folder
(keyed by the mmdebstrap arguments), so a second engine, state folder or checkout on the
same machine imports it again in seconds instead of bootstrapping Debian again.

Real users do not need it: every Dockerfile defaults to ``python:3.11-slim-bookworm``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import docker
from docker.errors import ImageNotFound

from stack.errors import StackError

BASE_REPOSITORY = "smart-meter/base"
SUITE = "bookworm"
MIRRORS = (
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian bookworm-updates main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
)
MMDEBSTRAP_OPTIONS = (
    "--variant=minbase",
    "--include=python3,python3-venv,ca-certificates",
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
    '--aptopt=Acquire::Languages "none"',
)
IMPORT_CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["python3"]',
)
BOOTSTRAP_TIMEOUT_S = 3600


def base_digest() -> str:
    """What the base is made from: the mmdebstrap arguments and the import changes."""
    recipe = {"suite": SUITE, "mirrors": MIRRORS, "options": MMDEBSTRAP_OPTIONS}
    recipe["changes"] = IMPORT_CHANGES
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]


def base_tag() -> str:
    return f"{BASE_REPOSITORY}:{base_digest()}"


def tarball_path(cache_dir: Path) -> Path:
    return cache_dir / "docker" / f"base-{SUITE}-{base_digest()}.tar"


def bootstrap_tarball(cache_dir: Path) -> Path:
    """The cached root file system tarball; made with mmdebstrap when missing."""
    target = tarball_path(cache_dir)
    if target.exists():
        return target
    mmdebstrap = shutil.which("mmdebstrap")
    if mmdebstrap is None:
        raise StackError(
            "images: mmdebstrap is missing; `python start_services.py up docker` installs it"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial.tar")
    argv = [mmdebstrap, *MMDEBSTRAP_OPTIONS, SUITE, str(partial), *MIRRORS]
    result = subprocess.run(
        argv, capture_output=True, text=True, timeout=BOOTSTRAP_TIMEOUT_S, check=False
    )
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        last = " | ".join(result.stderr.strip().splitlines()[-4:])
        raise StackError(f"images: mmdebstrap failed (exit {result.returncode}): {last}")
    partial.rename(target)
    return target


def ensure_base_image(client: docker.DockerClient, cache_dir: Path) -> str:
    """The tag of the base image in this engine; imported from the tarball when missing."""
    tag = base_tag()
    try:
        client.images.get(tag)
    except ImageNotFound:
        tarball = bootstrap_tarball(cache_dir)
        client.api.import_image(
            src=str(tarball),
            repository=BASE_REPOSITORY,
            tag=base_digest(),
            changes=list(IMPORT_CHANGES),
        )
        client.images.get(tag)
    return tag
