"""Where the tests find the shared data set: ``../shared/data`` beside the clone.

The real files (UCI household excerpt, the ps2024 assignment's inputs) are test data
only, kept beside the repository rather than in it; no test names an absolute path.
A missing file fails the test that needs it, with a message saying where the data set
belongs, rather than skipping it.
"""

from __future__ import annotations

import errno
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA: Path = REPO_ROOT.parent / "shared" / "data"


class SharedDataMissingError(FileNotFoundError):
    """A file of the shared data set is not where the tests look for it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        message = (
            f"the shared data set must be at ../shared/data beside the clone "
            f"({SHARED_DATA}); missing"
        )
        super().__init__(errno.ENOENT, message, str(path))


def shared_file(*parts: str) -> Path:
    """The path of ``SHARED_DATA / parts``; raises :class:`SharedDataMissingError` if absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        raise SharedDataMissingError(path)
    return path
