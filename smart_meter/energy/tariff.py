"""Time-of-day tariffs: a price per kWh for each half-hour of the (local) day.

The CSV has a header ``period,tariff`` and one row per half-hour, ``HH:MM,price``, from
``00:00`` to ``23:30``. Prices are kept as decimals, so costs are exact. The platform's
default, :data:`DEFAULT_TARIFF_CSV`, ships inside this package
(``tariffs/time_of_day_eur.csv``: a three-rate Portuguese time-of-day tariff, vazio
0.1072, cheias 0.1741, ponta 0.24 EUR/kWh); a user's own file is a setting.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

HALF_HOURS_PER_DAY = 48
DEFAULT_TARIFF_CSV = Path(__file__).resolve().parent / "tariffs" / "time_of_day_eur.csv"


class TariffError(ValueError):
    """A tariff file that cannot be used: which line, and what was wrong."""

    def __init__(self, path: Path, line: int, reason: str) -> None:
        self.path, self.line, self.reason = path, line, reason
        super().__init__(f"{path}:{line}: {reason}")


@dataclass(frozen=True, slots=True)
class Tariff:
    """Price per kWh of each half-hour of the local day (index 0 is 00:00-00:30)."""

    prices_per_kwh: tuple[Decimal, ...]
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if len(self.prices_per_kwh) != HALF_HOURS_PER_DAY:
            raise ValueError(f"a tariff has {HALF_HOURS_PER_DAY} half-hour prices")

    def price_at(self, local: datetime) -> Decimal:
        """Price per kWh of the half-hour a local wall-clock time falls in."""
        return self.prices_per_kwh[local.hour * 2 + local.minute // 30]

    @classmethod
    def flat(cls, price_per_kwh: Decimal, currency: str = "EUR") -> Tariff:
        return cls((price_per_kwh,) * HALF_HOURS_PER_DAY, currency)


def _parse_row(path: Path, line: int, row: list[str]) -> tuple[int, Decimal]:
    if len(row) != 2:
        raise TariffError(path, line, f"expected 2 columns, got {len(row)}")
    period, price_text = (cell.strip() for cell in row)
    try:
        hours, minutes = (int(part) for part in period.split(":"))
        price = Decimal(price_text)
    except (ValueError, InvalidOperation):
        raise TariffError(path, line, f"cannot read {row!r}") from None
    if not (0 <= hours < 24 and minutes in (0, 30)) or not price.is_finite() or price < 0:
        raise TariffError(path, line, f"not a half-hour and a price: {row!r}")
    return hours * 2 + minutes // 30, price


def load_tariff(path: Path = DEFAULT_TARIFF_CSV, currency: str = "EUR") -> Tariff:
    """Read a ``period,tariff`` CSV with one row per half-hour of the day."""
    with path.open(newline="") as file:
        rows = list(csv.reader(file))
    if not rows or [cell.strip() for cell in rows[0]] != ["period", "tariff"]:
        raise TariffError(path, 1, "expected the header 'period,tariff'")
    prices: dict[int, Decimal] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        index, price = _parse_row(path, line, row)
        if index in prices:
            raise TariffError(path, line, f"half-hour {row[0]} given twice")
        prices[index] = price
    if len(prices) != HALF_HOURS_PER_DAY:
        raise TariffError(path, len(rows), f"{len(prices)} half-hours, expected 48")
    return Tariff(tuple(prices[i] for i in range(HALF_HOURS_PER_DAY)), currency)
