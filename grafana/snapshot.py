"""``python -m grafana.snapshot``: each dashboard drawn to PNG from its panels' real queries.

For a user without Grafana: the same queries Grafana would send (macros expanded over
the dashboard's default time range, variables at their first value) run against the
InfluxDB and mart of ``SMART_METER_*`` (e.g. after ``make demo``, with
``SMART_METER_INFLUXDB_DATABASE=smart_meter_demo``), and the panels are drawn with
matplotlib. The predictions dashboard reads the training jobs' output, which the demo
writes to its training history's database: ``--training-database
smart_meter_demo_history``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from grafana.dashboards import DASHBOARDS, TRAINING_OUTPUT
from grafana.queries import Datasources, QueryError, default_range, run_dashboard
from grafana.render import render
from smart_meter.cli_args import OneLineParser
from smart_meter.settings import ConnectionSettings, PostgresPasswordError

PROG = "python -m grafana.snapshot"
PICTURES = Path(__file__).resolve().parent / "pictures"


def snapshot(
    connections: ConnectionSettings,
    out_dir: Path,
    uids: Sequence[str] = (),
    training: ConnectionSettings | None = None,
) -> list[Path]:
    """A PNG per dashboard (those of ``uids``, or all); the dashboards of
    :data:`TRAINING_OUTPUT` from ``training`` when given."""
    chosen = [d for d in DASHBOARDS if not uids or d.uid in uids]
    now = datetime.now(UTC)
    sources = Datasources(connections)
    training_sources = Datasources(training) if training is not None else sources
    written = []
    try:
        for dashboard in chosen:
            source = training_sources if dashboard.uid in TRAINING_OUTPUT else sources
            values, results = run_dashboard(dashboard, source, now)
            picked = ", ".join(f"${k} = {v}" for k, v in values.items())
            note = f"{source.connections.influxdb_database}, {now:%Y-%m-%d %H:%M} UTC"
            note += f", {picked}" if picked else ""
            out = out_dir / f"{dashboard.uid}.png"
            written.append(render(dashboard, results, out, note, default_range(dashboard, now)))
    finally:
        sources.close()
        if training_sources is not sources:
            training_sources.close()
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = OneLineParser(prog=PROG, description="Draw each dashboard's panels to PNG.")
    parser.add_argument("--out", type=Path, default=PICTURES, help="folder for the PNG files")
    known = [d.uid for d in DASHBOARDS]
    parser.add_argument("--dashboard", action="append", choices=known, help="only these")
    parser.add_argument(
        "--training-database",
        help="InfluxDB database of the training output (make demo: smart_meter_demo_history)",
    )
    args = parser.parse_args(argv)
    connections = ConnectionSettings()
    training = None
    if args.training_database:
        training = connections.model_copy(update={"influxdb_database": args.training_database})
    try:
        for path in snapshot(connections, args.out, args.dashboard or (), training):
            print(path)
    except (QueryError, PostgresPasswordError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
