"""What code made a model: one definition for every model folder of the training jobs.

``source_digest`` hashes the training package's Python sources, so it changes with the
code that fits and scores models and with nothing else (not with a README edit or an
unrelated commit); ``git_describe`` says where in history that code came from, when the
package runs from a checkout.
"""

from __future__ import annotations

import hashlib
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent


def source_digest() -> str:
    """SHA-256 (first 12 hex digits) of the training package's Python sources."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE_ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def git_describe() -> str | None:
    """``git describe --always --dirty --tags`` of the checkout, or None outside one."""
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            cwd=PACKAGE_ROOT, capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def package_version() -> str:
    try:
        return metadata.version("smart-meter")
    except metadata.PackageNotFoundError:
        return "unknown"


def code_version() -> dict[str, str | None]:
    """The package version, the sources' digest and ``git describe``."""
    return {
        "package": package_version(),
        "source_digest": source_digest(),
        "git_describe": git_describe(),
    }
