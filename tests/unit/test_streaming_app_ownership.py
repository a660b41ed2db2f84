"""Partition ownership without servers: fair shares, claims and releases, leases; and the
app settings (environment, file, presets). Renewals against the real NATS:
``tests/integration/test_streaming_app_fencing.py``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streaming_app.runtime.ownership import Lease, fair_share, plan
from streaming_app.settings import AppSettings, load_settings


def converge(replicas: list[str], partitions: int) -> dict[int, str]:
    """Let every replica act on the plan in turn until nobody changes anything."""
    holders: dict[int, str] = {}
    for _ in range(20):
        changed = False
        for me in replicas:
            mine = [p for p, owner in holders.items() if owner == me]
            todo = plan(me, partitions, None, replicas, dict(holders), mine)
            for partition in todo.release:
                del holders[partition]
            for partition in todo.claim:
                holders[partition] = me
            changed |= bool(todo.claim or todo.release)
        if not changed:
            return holders
    raise AssertionError("ownership did not settle")


@given(st.integers(1, 64), st.integers(1, 9))
def test_replicas_settle_on_one_owner_per_partition_and_fair_shares(
    partitions: int, count: int
) -> None:
    replicas = [f"r{i}" for i in range(count)]
    holders = converge(replicas, partitions)
    assert set(holders) == set(range(partitions))
    for replica in replicas:
        assert list(holders.values()).count(replica) <= fair_share(partitions, count)


def test_a_joining_replica_makes_the_owner_release_its_least_preferred_extras() -> None:
    everything = {p: "a" for p in range(16)}
    todo = plan("a", 16, None, ["a", "b"], everything, range(16))
    assert len(todo.release) == 8 and not todo.claim
    taken = {p: "a" for p in range(16) if p not in todo.release}
    assert len(plan("b", 16, None, ["a", "b"], taken, []).claim) == 8


def test_a_replica_with_fixed_partitions_claims_only_those_that_are_free() -> None:
    todo = plan("a", 16, (1, 2, 3), ["a"], {2: "b"}, [3, 7])
    assert todo.claim == (1,)
    assert todo.release == (7,)


def test_a_lease_is_held_however_late_until_it_is_found_lost() -> None:
    lease = Lease(3, revision=9)
    assert lease.held()
    lease.lost = True
    assert not lease.held()


def test_settings_come_from_the_environment_over_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "app.json"
    config.write_text(json.dumps({"app": {"fetch_batch": 100, "preset": "demo"}}))
    monkeypatch.setenv("SMART_METER_APP_FETCH_BATCH", "7")
    monkeypatch.setenv("SMART_METER_APP_PARTITIONS", "0,1,2")
    settings = load_settings(config)
    assert (settings.fetch_batch, settings.preset, settings.partitions) == (7, "demo", (0, 1, 2))
    assert settings.validation().preset == "demo"
    assert load_settings(config, fetch_batch=3, partitions="auto").fetch_batch == 3


def test_renewals_must_fit_well_inside_the_lease_ttl() -> None:
    with pytest.raises(ValueError, match="renew_interval_s"):
        AppSettings(lease_ttl_s=2.0, renew_interval_s=1.0)
