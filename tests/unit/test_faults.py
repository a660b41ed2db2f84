"""Fault injection: every kind lands in the ground truth and shows in what is sent."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path

import pytest

from inject.faults import (
    MALFORMED_KINDS,
    Emission,
    FaultConfig,
    FaultInjector,
    FaultKind,
    FaultRecord,
    GroundTruthWriter,
    read_ground_truth,
)
from inject.fleet import Fleet, FleetConfig
from smart_meter.codec import ReadingError, decode_message, encode_reading
from smart_meter.reading import Reading
from tests.fault_checks import problems

START = datetime(2024, 3, 1, tzinfo=UTC)


@dataclass(eq=False)
class Run:
    """One simulated run: the ground truth and what was sent, interval by interval."""

    records: list[FaultRecord]
    emissions: list[Emission]
    interval_s: int
    config: FaultConfig

    @cached_property
    def payloads(self) -> list[bytes]:
        """Every message in the order it is sent (readings, then raw, per interval)."""
        out: list[bytes] = []
        for emission in self.emissions:
            out += [encode_reading(reading) for reading in emission.readings]
            out += [message.payload for message in emission.raw]
        return out

    @cached_property
    def readings(self) -> list[Reading]:
        return [r for payload in self.payloads for r in _decoded(payload)]

    def of(self, kind: FaultKind) -> list[FaultRecord]:
        """Records of ``kind``; there must be some."""
        records = [record for record in self.records if record.kind is kind]
        assert records, f"no {kind} injected"
        return records

    def whole(self, kind: FaultKind) -> list[FaultRecord]:
        """Records of ``kind`` that the end of the run did not cut short."""
        last_ts = self.emissions[-2].when
        records = [
            r for r in self.of(kind) if r.end < last_ts and not r.details.get("released_at_end")
        ]
        assert records, f"every {kind} was cut short"
        return records

    def sent_at(self, meter_id: str, ts: datetime) -> list[Reading]:
        return [r for r in self.readings if r.meter_id == meter_id and r.ts == ts]

    def problems(self) -> list[str]:
        config = self.config
        modulus_wh, reset_below_wh = config.register_modulus_wh, config.detection.reset_below_wh
        return problems(self.records, self.payloads, self.interval_s, modulus_wh, reset_below_wh)


def _decoded(payload: bytes) -> list[Reading]:
    try:
        return decode_message(payload).readings
    except ReadingError:
        return []


def simulate(
    config: FaultConfig,
    seed: int = 7,
    meters: int = 24,
    intervals: int = 60,
    interval_s: int = 1800,
    replica: int = 0,
    replicas: int = 1,
) -> Run:
    fleet_config = FleetConfig(
        meters=meters,
        interval_s=interval_s,
        meters_per_transformer=4,
        seed=seed,
        replica=replica,
        replicas=replicas,
    )
    records: list[FaultRecord] = []
    injector = FaultInjector(config, interval_s, seed, replica, on_fault=records.append)
    fleet = Fleet(fleet_config, START)
    emissions = [injector.inject(when, readings) for when, readings in fleet.run(intervals)]
    emissions.append(injector.drain())
    return Run(records, emissions, interval_s, config)


def only(kind: FaultKind, **sizes: object) -> FaultConfig:
    return FaultConfig.model_validate({"rates": {kind: 1.0}, **sizes})


def step(run: Run) -> timedelta:
    return timedelta(seconds=run.interval_s)


@pytest.mark.parametrize("kind", list(FaultKind))
def test_a_kind_at_rate_one_is_in_the_ground_truth_and_shows_in_what_is_sent(
    kind: FaultKind,
) -> None:
    run = simulate(only(kind))
    assert run.of(kind)
    assert {record.kind for record in run.records} == {kind}
    assert run.problems() == []


@pytest.mark.parametrize("interval_s", [60, 900, 1800])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_all_kinds_together_agree_with_what_is_sent(seed: int, interval_s: int) -> None:
    run = simulate(
        FaultConfig.profile("all"), seed, meters=80, intervals=100, interval_s=interval_s
    )
    assert {record.kind for record in run.records} == set(FaultKind)
    assert run.problems() == []


def test_missing_means_no_reading_of_that_meter_over_the_period() -> None:
    run = simulate(only(FaultKind.MISSING, missing_intervals=(2, 4)))
    for record in run.whole(FaultKind.MISSING):
        slots = [record.start + i * step(run) for i in range(record.details["intervals"])]
        assert slots[-1] == record.end
        assert all(run.sent_at(record.meter_id, ts) == [] for ts in slots)
        assert 2 <= record.details["intervals"] <= 4


def test_transformer_dark_silences_every_meter_of_the_transformer_at_once() -> None:
    run = simulate(FaultConfig(rates={FaultKind.TRANSFORMER_DARK: 0.05}), meters=40)
    by_transformer = defaultdict(set)
    for record in run.of(FaultKind.TRANSFORMER_DARK):
        by_transformer[record.details["transformer_id"], record.start, record.end].add(
            record.meter_id
        )
        assert run.sent_at(record.meter_id, record.start) == []
    assert by_transformer
    assert all(len(meters) == 4 for meters in by_transformer.values())


def test_register_decrease_makes_the_register_go_down_then_continue_upward() -> None:
    run = simulate(only(FaultKind.REGISTER_DECREASE))
    for record in run.whole(FaultKind.REGISTER_DECREASE):
        [before] = run.sent_at(record.meter_id, record.start - step(run))
        [at] = run.sent_at(record.meter_id, record.start)
        [after] = run.sent_at(record.meter_id, record.start + step(run))
        assert at.import_wh < before.import_wh < after.import_wh or at.import_wh < after.import_wh
        assert at.import_wh == pytest.approx(before.import_wh - record.details["drop_wh"])
        assert at.import_wh >= run.config.detection.reset_below_wh  # not a reset


def test_reset_shows_zero_and_the_register_continues_upward_from_it() -> None:
    run = simulate(only(FaultKind.RESET))
    for record in run.whole(FaultKind.RESET):
        [at] = run.sent_at(record.meter_id, record.start)
        [after] = run.sent_at(record.meter_id, record.start + step(run))
        assert at.import_wh == 0.0
        assert 0.0 < after.import_wh < 100_000


def test_rollover_wraps_at_the_configured_register_width() -> None:
    run = simulate(only(FaultKind.ROLLOVER, register_modulus_wh=1e6))
    records = run.of(FaultKind.ROLLOVER)
    assert len({record.meter_id for record in records}) == 24
    for record in records:
        [before] = run.sent_at(record.meter_id, record.start - step(run))
        [at] = run.sent_at(record.meter_id, record.start)
        assert 1e6 - 100_000 < before.import_wh < 1e6
        assert 0 <= at.import_wh < 100_000
        assert record.details["register_modulus_wh"] == 1e6


def test_spike_is_many_times_the_meter_s_baseline_power() -> None:
    run = simulate(only(FaultKind.SPIKE, spike_ratio=(20.0, 20.0)))
    for record in run.of(FaultKind.SPIKE):
        [before] = run.sent_at(record.meter_id, record.start - step(run))
        [at] = run.sent_at(record.meter_id, record.start)
        assert at.import_wh - before.import_wh == pytest.approx(record.details["interval_wh"])
        assert record.details["ratio"] == pytest.approx(20.0, rel=0.01)
        power_w = record.details["interval_wh"] * 3600 / run.interval_s
        assert power_w == pytest.approx(record.details["power_w"], abs=0.1)


def test_flat_line_keeps_the_register_still_while_current_flows() -> None:
    run = simulate(only(FaultKind.FLAT_LINE))
    for record in run.whole(FaultKind.FLAT_LINE):
        readings = [r for r in run.readings if r.meter_id == record.meter_id]
        stuck = [r for r in readings if record.start <= r.ts <= record.end]
        [before] = run.sent_at(record.meter_id, record.start - step(run))
        assert {r.import_wh for r in stuck} == {before.import_wh}
        assert len(stuck) == record.details["intervals"] >= 4
        assert all((r.current_a or (0.0,))[0] > 0 for r in stuck)


def test_zero_run_reports_no_current_and_no_energy() -> None:
    run = simulate(only(FaultKind.ZERO_RUN), intervals=80)
    for record in run.whole(FaultKind.ZERO_RUN):
        stuck = [r for r in run.readings if r.meter_id == record.meter_id]
        stuck = [r for r in stuck if record.start <= r.ts <= record.end]
        assert len({r.import_wh for r in stuck}) == 1
        assert all(r.current_a == (0.0,) for r in stuck)


def test_sustained_undervoltage_stays_below_207_v_for_its_whole_duration() -> None:
    run = simulate(only(FaultKind.SUSTAINED_UNDERVOLTAGE))
    for record in run.whole(FaultKind.SUSTAINED_UNDERVOLTAGE):
        span = [r for r in run.readings if r.meter_id == record.meter_id]
        span = [r for r in span if record.start <= r.ts <= record.end]
        assert len(span) == record.details["intervals"] >= 3
        assert all(max(r.voltage_v or ()) < 207.0 for r in span)


def test_sag_and_swell_are_one_reading_outside_the_band() -> None:
    for kind, outside in ((FaultKind.VOLTAGE_SAG, 207.0), (FaultKind.VOLTAGE_SWELL, 253.0)):
        run = simulate(only(kind))
        for record in run.of(kind):
            [reading] = run.sent_at(record.meter_id, record.start)
            volts = (reading.voltage_v or ())[0]
            assert record.start == record.end
            assert volts < outside if kind is FaultKind.VOLTAGE_SAG else volts > outside


def test_duplicate_conflicting_sends_one_key_twice_with_different_payloads() -> None:
    run = simulate(only(FaultKind.DUPLICATE_CONFLICTING))
    for record in run.of(FaultKind.DUPLICATE_CONFLICTING):
        first, second = run.sent_at(record.meter_id, record.start)
        assert first.key == second.key
        assert first.import_wh != second.import_wh
        assert [first.import_wh, second.import_wh] == record.details["import_wh"]


def test_duplicate_identical_sends_the_same_reading_twice_under_another_message_id() -> None:
    run = simulate(only(FaultKind.DUPLICATE_IDENTICAL))
    copies = {m.msg_id for e in run.emissions for m in e.raw}
    for record in run.of(FaultKind.DUPLICATE_IDENTICAL):
        first, second = run.sent_at(record.meter_id, record.start)
        assert first == second
    assert all(msg_id.endswith("~copy") for msg_id in copies)


def test_late_reading_is_sent_after_later_readings_of_its_meter() -> None:
    run = simulate(only(FaultKind.LATE, late_delay_intervals_mean=3.0))
    arrival = {(r.meter_id, r.ts): i for i, r in enumerate(run.readings)}
    for record in run.whole(FaultKind.LATE):
        delay = record.details["delay_intervals"]
        assert delay >= 2
        late = arrival[record.meter_id, record.start]
        newer = record.start + delay * step(run)
        assert arrival[record.meter_id, newer] < late


def test_out_of_order_reading_arrives_right_after_its_successor() -> None:
    run = simulate(only(FaultKind.OUT_OF_ORDER))
    arrival = {(r.meter_id, r.ts): i for i, r in enumerate(run.readings)}
    for record in run.of(FaultKind.OUT_OF_ORDER):
        successor = (record.meter_id, record.start + step(run))
        if successor in arrival:
            assert arrival[successor] < arrival[record.meter_id, record.start]


def test_irregular_and_skewed_readings_are_off_the_grid_by_under_half_an_interval() -> None:
    for kind in (FaultKind.IRREGULAR_SAMPLING, FaultKind.CLOCK_SKEW):
        run = simulate(only(kind))
        for record in run.of(kind):
            offset_s = record.details.get("offset_s") or record.details["skew_s"]
            assert 0 < abs(offset_s) < run.interval_s / 2
            assert run.sent_at(record.meter_id, record.start)
            assert record.start.timestamp() % run.interval_s != 0


@pytest.mark.parametrize("kind", sorted(MALFORMED_KINDS))
def test_malformed_messages_are_refused_by_decode_message(kind: FaultKind) -> None:
    for seed in range(4):
        run = simulate(only(kind), seed=seed, intervals=12)
        for record in run.of(kind):
            with pytest.raises(ReadingError):
                decode_message(record.details["payload"].encode())
            assert run.sent_at(record.meter_id, record.start) == []
        raw = [m.payload for e in run.emissions for m in e.raw]
        assert sorted(raw) == sorted(r.details["payload"].encode() for r in run.of(kind))


def test_same_seed_sends_the_same_bytes_and_the_same_ground_truth() -> None:
    first = simulate(FaultConfig.profile("all"), seed=11)
    second = simulate(FaultConfig.profile("all"), seed=11)
    assert first.payloads == second.payloads
    assert [r.to_json() for r in first.records] == [r.to_json() for r in second.records]


def test_another_seed_injects_other_faults() -> None:
    first = simulate(FaultConfig.profile("all"), seed=11)
    other = simulate(FaultConfig.profile("all"), seed=12)
    assert [r.to_json() for r in first.records] != [r.to_json() for r in other.records]


def test_no_faults_sends_the_clean_readings_unchanged() -> None:
    fleet = Fleet(FleetConfig(meters=20, seed=3), START)
    injector = FaultInjector(FaultConfig.profile("none"), 1800, seed=3)
    for when, readings in fleet.run(10):
        emission = injector.inject(when, readings)
        assert emission.readings == readings
        assert emission.raw == []
    assert injector.drain().readings == []
    assert sum(injector.counts.values()) == 0


def test_replica_slices_are_disjoint_and_cover_the_fleet() -> None:
    replicas = 3
    sent = [
        {r.meter_id for r in simulate(FaultConfig.profile("all"), 5, 30, 20, 1800, i, 3).readings}
        for i in range(replicas)
    ]
    whole = set(Fleet(FleetConfig(meters=30), START).meter_ids)
    assert set().union(*sent) == whole
    assert all(sent[i].isdisjoint(sent[j]) for i in range(3) for j in range(i + 1, 3))


def test_replicas_agree_on_when_a_transformer_goes_dark() -> None:
    config = FaultConfig(rates={FaultKind.TRANSFORMER_DARK: 0.05})

    def dark_periods(replica: int) -> set[tuple[str, datetime, datetime]]:
        run = simulate(config, seed=9, meters=40, intervals=60, replica=replica, replicas=2)
        records = run.of(FaultKind.TRANSFORMER_DARK)
        return {(r.details["transformer_id"], r.start, r.end) for r in records}

    assert dark_periods(0)
    assert dark_periods(0) == dark_periods(1)


def test_config_refuses_rates_outside_zero_to_one_and_inverted_ranges() -> None:
    with pytest.raises(ValueError, match=r"within 0\.\.1"):
        FaultConfig(rates={FaultKind.SPIKE: 1.5})
    with pytest.raises(ValueError, match="low <= high"):
        FaultConfig(missing_intervals=(5, 2))
    with pytest.raises(ValueError, match=r"below 0\.5"):
        FaultConfig(irregular_offset_fraction=(0.1, 0.6))
    with pytest.raises(ValueError, match=r"spike_ratio must start at 8\.8"):
        FaultConfig(spike_ratio=(8.5, 30.0))  # too close to the rule's 8 to stay above it


def test_ground_truth_lines_are_on_disk_as_faults_happen_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "truth.jsonl"
    record = FaultRecord(
        FaultKind.MISSING,
        "M0000001",
        START,
        START + timedelta(minutes=90),
        {"intervals": 4},
    )
    with GroundTruthWriter(path) as writer:
        writer.write(record)
        writer.flush()
        assert path.read_text().count("\n") == 1
        writer.write(record)
    line = path.read_text().splitlines()[0]
    assert '"start":"2024-03-01T00:00:00Z"' in line
    assert '"end":"2024-03-01T01:30:00Z"' in line
    assert list(read_ground_truth(path)) == [record, record]
    assert writer.counts[FaultKind.MISSING] == 2
