"""The tests' way to the shared data set: beside the clone, a clear failure if missing."""

from __future__ import annotations

import pytest

from tests.shared_data import REPO_ROOT, SHARED_DATA, shared_file


def test_the_data_set_is_looked_for_beside_the_clone_root() -> None:
    assert (REPO_ROOT / "pyproject.toml").is_file()
    assert SHARED_DATA.relative_to(REPO_ROOT.parent).parts == ("shared", "data")


def test_a_missing_shared_file_fails_saying_where_the_data_set_belongs() -> None:
    with pytest.raises(FileNotFoundError, match=r"must be at \.\./shared/data beside the clone"):
        shared_file("ps2024-tp1", "no-such-file.csv")


def test_a_present_shared_file_is_its_path_in_the_data_set() -> None:
    assert shared_file("ps2024-tp1", "tariff.csv") == SHARED_DATA / "ps2024-tp1" / "tariff.csv"
