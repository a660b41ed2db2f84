"""The injector's readings per second: counted into wall-clock seconds, one point each."""

from __future__ import annotations

import socket

from inject.metrics import InjectorMetrics, MetricsTarget


class Clock:
    def __init__(self) -> None:
        self.now_s = 100.2

    def __call__(self) -> float:
        return self.now_s


class Capturing(InjectorMetrics):
    def __init__(self, clock: Clock) -> None:
        super().__init__(MetricsTarget("http://127.0.0.1:1", "db"), replica=2, clock=clock)
        self.bodies: list[str] = []

    def _write(self, body: bytes) -> bool:
        self.bodies.append(body.decode())
        return True


async def test_readings_of_one_second_make_one_point_written_when_the_second_ends() -> None:
    clock = Clock()
    metrics = Capturing(clock)
    await metrics.published(10)
    clock.now_s = 100.7
    await metrics.published(5)
    assert metrics.bodies == []
    clock.now_s = 101.1
    await metrics.published(3)
    assert metrics.bodies == ["injector,replica=2 readings=15i 100"]
    await metrics.flush()
    assert metrics.bodies[-1] == "injector,replica=2 readings=3i 101"
    assert metrics.points_written == 2


async def test_a_second_without_readings_writes_nothing() -> None:
    metrics = Capturing(Clock())
    await metrics.published(0)
    await metrics.flush()
    assert metrics.bodies == []


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_unreachable_influxdb_drops_the_point_and_the_run_goes_on(capsys) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    target = MetricsTarget(f"http://127.0.0.1:{closed_port()}", "db")
    metrics = InjectorMetrics(target, replica=0, clock=clock, timeout_s=2)
    for second in (100.5, 101.5, 102.5):
        clock.now_s = second
        await metrics.published(4)
    await metrics.flush()
    assert (metrics.points_written, metrics.points_dropped) == (0, 3)
    assert capsys.readouterr().err.count("injector metrics: not written") == 1
