"""How well each VEE estimation method recovers readings we hid on purpose.

    python -m bench.estimation_accuracy [--rounds-uci 40] [--rounds-fleet 1] [--seed 7]

Known half-hourly readings are hidden in gaps of 1, 2, 4, 8, 24 and 48 intervals (placed
at random with a fixed seed, never overlapping, each with a measured reading either side,
after the first 8 days so that week-ago and like-day history exist; about a tenth of
those readings hidden per round, so gaps rarely hide each other's like days), estimated
by :func:`batch_app.estimation.estimate_meter` with one method for every gap, and the
estimated interval energies compared with the hidden ones: MAE and bias (mean of
estimate minus truth) in Wh per interval and relative to the data set's mean interval
energy. Two data sets:

- UCI: ../shared/data/uci-household-power-2006-12.txt (one house near Paris, a row a
  minute, Europe/Paris), its ``Global_active_power`` (kW averaged over the minute) summed
  into a register as the replay does, read at every :00 and :30 (a half-hourly meter);
  rows with ``?`` are skipped and counted;
- fleet: the project's simulator (``inject.fleet``, no faults injected), 50 meters on
  half-hourly reads over 6 weeks from 2024-01-01 (UTC, the simulator's clock).

Prints a markdown table per data set and writes it to bench/results/estimation_accuracy.md.
"""

from __future__ import annotations

import argparse
import os
import platform
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from batch_app.estimation import Method, MethodPolicy, estimate_meter
from batch_app.estimation.grid import DAY_MS, MINUTE_MS
from inject.fleet import Fleet, FleetConfig
from tests.shared_data import shared_file

GAP_INTERVALS = (1, 2, 4, 8, 24, 48)
METHODS = (Method.LINEAR, Method.LIKE_DAY, Method.SEASONAL_NAIVE)
HALF_HOUR_MS = 30 * MINUTE_MS
HISTORY_MS = 8 * DAY_MS
HIDDEN_SHARE = 0.1
RESULTS = Path(__file__).parent / "results" / "estimation_accuracy.md"


@dataclass(frozen=True)
class Series:
    """One meter's actual half-hourly readings."""

    name: str
    ts_ms: np.ndarray
    register_wh: np.ndarray
    time_zone: str


@dataclass
class Tally:
    """Errors of one method on one gap length, summed over gaps."""

    gaps: int = 0
    intervals: int = 0
    abs_error_wh: float = 0.0
    error_wh: float = 0.0
    fell_back: int = 0
    errors: list[float] = field(default_factory=list)

    def add(self, errors: np.ndarray, fell_back: bool) -> None:
        self.gaps += 1
        self.intervals += len(errors)
        self.abs_error_wh += float(np.abs(errors).sum())
        self.error_wh += float(errors.sum())
        self.fell_back += int(fell_back)

    @property
    def mae_wh(self) -> float:
        return self.abs_error_wh / self.intervals

    @property
    def bias_wh(self) -> float:
        return self.error_wh / self.intervals


def uci_series() -> tuple[Series, int, int]:
    """The UCI house read at every half hour; also the rows skipped for ``?`` and kept."""
    raw = pd.read_csv(
        shared_file("uci-household-power-2006-12.txt"), sep=";", dtype=str, keep_default_na=False
    )
    power = raw["Global_active_power"].str.strip()
    unknown = power == "?"
    rows = raw[~unknown]
    local = pd.to_datetime(rows["Date"] + " " + rows["Time"], dayfirst=True)
    register = (power[~unknown].astype(float) * 1000 / 60).cumsum()  # Wh, own minute included
    on_half_hour = ((local.dt.minute % 30) == 0) & (local.dt.second == 0)
    utc = local[on_half_hour].dt.tz_localize("Europe/Paris", ambiguous="raise")
    ts_ms = utc.dt.tz_convert("UTC").astype("int64").to_numpy() // 1_000_000
    series = Series("UCI-1", ts_ms, register[on_half_hour].to_numpy(), "Europe/Paris")
    return series, int(unknown.sum()), len(rows)


def fleet_series(meters: int, weeks: int) -> list[Series]:
    """Clean simulated readings (no faults): the simulator's registers as they tick."""
    fleet = Fleet(FleetConfig(meters=meters, interval_s=1800), datetime(2024, 1, 1, tzinfo=UTC))
    times: list[int] = []
    registers: list[list[float]] = []
    for when, readings in fleet.run(weeks * 7 * 48):
        times.append(int(when.timestamp() * 1000))
        registers.append([reading.import_wh for reading in readings])
    table = np.array(registers)
    ts_ms = np.array(times, dtype=np.int64)
    return [Series(name, ts_ms, table[:, k], "UTC") for k, name in enumerate(fleet.meter_ids)]


def place_gaps(series: Series, length: int, rng: np.random.Generator) -> list[int]:
    """Start positions of non-overlapping gaps of ``length`` readings, truth fully known.

    A gap at position p hides readings p..p+length-1; readings p-1..p+length must be
    consecutive half-hours so every hidden interval energy is known, and two gaps keep at
    least one actual reading between them.
    """
    consecutive = np.diff(series.ts_ms) == HALF_HOUR_MS  # step i: reading i -> i+1
    first = int(np.searchsorted(series.ts_ms, series.ts_ms[0] + HISTORY_MS))
    last = len(series.ts_ms) - length - 1
    target = max(1, round((last - first) * HIDDEN_SHARE / length))
    taken = np.zeros(len(series.ts_ms), dtype=bool)
    starts: list[int] = []
    for start in rng.permutation(np.arange(first, last)):
        span = slice(start - 1, start + length + 1)
        if taken[span].any() or not consecutive[start - 1 : start + length].all():
            continue
        taken[span] = True
        starts.append(int(start))
        if len(starts) == target:
            break
    return sorted(starts)


def hidden_errors(
    series: Series, starts: list[int], length: int, method: Method
) -> Iterator[tuple[np.ndarray, bool]]:
    """Per gap: estimated minus true interval energies, and whether the method fell back."""
    hide = np.zeros(len(series.ts_ms), dtype=bool)
    for start in starts:
        hide[start : start + length] = True
    readings = pd.DataFrame({"ts": series.ts_ms[~hide], "import_wh": series.register_wh[~hide]})
    estimates = estimate_meter(
        readings,
        first_ms=int(series.ts_ms[0]),
        last_ms=int(series.ts_ms[-1]),
        time_zone=series.time_zone,
        policy=MethodPolicy.only(method),
        interval_ms=HALF_HOUR_MS,
    ).set_index("ts")
    true_energy = np.diff(series.register_wh, prepend=np.nan)
    for start in starts:
        hidden = series.ts_ms[start : start + length]
        rows = estimates.loc[hidden]
        truth = true_energy[start : start + length]
        yield rows["energy_wh"].to_numpy() - truth, bool((rows["method"] != method).any())


def measure(
    fleet: list[Series], rounds: int, seed: int
) -> tuple[dict[tuple[int, Method], Tally], float]:
    """Tallies per (gap length, method) over every series and round; mean interval energy."""
    tallies = {(length, method): Tally() for length in GAP_INTERVALS for method in METHODS}
    for number, series in enumerate(fleet):
        for length in GAP_INTERVALS:
            for round_ in range(rounds):
                rng = np.random.default_rng([seed, number, length, round_])
                starts = place_gaps(series, length, rng)
                for method in METHODS:
                    for errors, fell_back in hidden_errors(series, starts, length, method):
                        tallies[length, method].add(errors, fell_back)
    energies = np.concatenate(
        [np.diff(s.register_wh)[np.diff(s.ts_ms) == HALF_HOUR_MS] for s in fleet]
    )
    return tallies, float(energies.mean())


def table(tallies: dict[tuple[int, Method], Tally], mean_wh: float) -> list[str]:
    """Markdown: a row per gap length, MAE and bias per method (Wh and % of mean energy)."""
    head = "| gap (intervals) | hours | gaps |"
    rule = "|---:|---:|---:|"
    for method in METHODS:
        head += f" {method} MAE | {method} bias |"
        rule += "---:|---:|"
    head += " like_day fell back |"
    rule += "---:|"
    lines = [head, rule]
    for length in GAP_INTERVALS:
        line = f"| {length} | {length / 2:g} | {tallies[length, METHODS[0]].gaps} |"
        for method in METHODS:
            tally = tallies[length, method]
            line += (
                f" {tally.mae_wh:.1f} ({tally.mae_wh / mean_wh:.0%}) |"
                f" {tally.bias_wh:+.1f} ({tally.bias_wh / mean_wh:+.1%}) |"
            )
        like = tallies[length, Method.LIKE_DAY]
        line += f" {like.fell_back / like.gaps:.0%} |"
        lines.append(line)
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds-uci", type=int, default=40, help="placements on the house")
    parser.add_argument("--rounds-fleet", type=int, default=1, help="placements per meter")
    parser.add_argument("--meters", type=int, default=50)
    parser.add_argument("--weeks", type=int, default=6)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the table is written")
    args = parser.parse_args(argv)
    uci, skipped, kept = uci_series()
    fleet = fleet_series(args.meters, args.weeks)
    out = [
        "# Estimation accuracy",
        "",
        "    python -m bench.estimation_accuracy"
        f" --rounds-uci {args.rounds_uci} --rounds-fleet {args.rounds_fleet}"
        f" --meters {args.meters} --weeks {args.weeks} --seed {args.seed}",
        "",
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}",
        "",
        "MAE and bias (estimate minus truth) of the hidden interval energies, Wh per "
        "half-hour and, in brackets, relative to the data set's mean half-hour energy. "
        "Every method is scaled to the register difference across the gap; "
        "'fell back': like_day gaps with no valid like day, estimated linearly.",
    ]
    for title, data, rounds in (
        (
            f"UCI household, 30-minute reads ({len(uci.ts_ms)} readings from {kept} rows;"
            f" {skipped} '?' rows skipped), {args.rounds_uci} placements",
            [uci],
            args.rounds_uci,
        ),
        (
            f"Simulated fleet, {args.meters} meters x {args.weeks} weeks of 30-minute reads,"
            f" placements per meter: {args.rounds_fleet}",
            fleet,
            args.rounds_fleet,
        ),
    ):
        tallies, mean_wh = measure(data, rounds, args.seed)
        out += ["", f"## {title}", "", f"mean interval energy {mean_wh:.1f} Wh", ""]
        out += table(tallies, mean_wh)
    text = "\n".join(out) + "\n"
    print(text)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
