"""Time-of-day tariff: the assignment's CSV, and files that cannot be a tariff."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from smart_meter.energy.tariff import Tariff, TariffError, load_tariff


def test_assignment_tariff_prices_each_half_hour() -> None:
    tariff = load_tariff()
    assert len(tariff.prices_per_kwh) == 48
    prices = {
        "00:00": "0.1072",  # vazio
        "07:59": "0.1072",
        "08:00": "0.1741",  # cheias
        "09:00": "0.24",  # ponta
        "10:29": "0.24",
        "10:30": "0.1741",
        "18:00": "0.24",
        "20:30": "0.1741",
        "22:00": "0.1072",
        "23:59": "0.1072",
    }
    for clock, price in prices.items():
        hours, minutes = map(int, clock.split(":"))
        assert tariff.price_at(datetime(2024, 2, 1, hours, minutes)) == Decimal(price)
    assert sum(tariff.prices_per_kwh) == Decimal("7.5460")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tariff.csv"
    path.write_text(text)
    return path


def full_day(skip: int | None = None) -> str:
    lines = ["period,tariff"]
    lines += [f"{i // 2:02d}:{i % 2 * 30:02d},0.1" for i in range(48) if i != skip]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("time,price\n", 1, "header"),
        (full_day(skip=5), 48, "47 half-hours"),
        (full_day() + "00:00,0.2\n", 50, "twice"),
        (full_day(skip=0) + "00:00,-1\n", 49, "not a half-hour and a price"),
        (full_day(skip=0) + "00:15,0.1\n", 49, "not a half-hour and a price"),
        (full_day(skip=0) + "00:00,cheap\n", 49, "cannot read"),
        (full_day(skip=0) + "00:00,0.1,x\n", 49, "2 columns"),
    ],
)
def test_bad_tariff_files_say_where_and_why(
    tmp_path: Path, text: str, line: int, reason: str
) -> None:
    with pytest.raises(TariffError, match=reason) as caught:
        load_tariff(write(tmp_path, text))
    assert caught.value.line == line


def test_flat_tariff_prices_every_half_hour_alike() -> None:
    assert set(Tariff.flat(Decimal("0.3")).prices_per_kwh) == {Decimal("0.3")}
    with pytest.raises(ValueError, match="48"):
        Tariff((Decimal(1),) * 47)
