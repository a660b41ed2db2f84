"""``python -m grafana.snapshot``: each dashboard drawn to PNG from its panels' real queries.

For a user without Grafana: the same queries Grafana would send (macros expanded over
the dashboard's default time range, variables at their first value) run against the
InfluxDB and mart of ``SMART_METER_*`` (e.g. after ``make demo``, with
``SMART_METER_INFLUXDB_DATABASE=smart_meter_demo``), and the panels are drawn with
matplotlib.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from grafana.dashboards import DASHBOARDS
from grafana.queries import Datasources, QueryError, default_range, run_dashboard
from grafana.render import render
from smart_meter.cli_args import OneLineParser
from smart_meter.settings import ConnectionSettings, PostgresPasswordError

PROG = "python -m grafana.snapshot"
PICTURES = Path(__file__).resolve().parent / "pictures"


def snapshot(
    connections: ConnectionSettings, out_dir: Path, uids: Sequence[str] = ()
) -> list[Path]:
    """A PNG per dashboard (those of ``uids``, or all)."""
    chosen = [d for d in DASHBOARDS if not uids or d.uid in uids]
    now = datetime.now(UTC)
    sources = Datasources(connections)
    written = []
    try:
        for dashboard in chosen:
            values, results = run_dashboard(dashboard, sources, now)
            picked = ", ".join(f"${k} = {v}" for k, v in values.items())
            note = f"{connections.influxdb_database}, {now:%Y-%m-%d %H:%M} UTC"
            note += f", {picked}" if picked else ""
            out = out_dir / f"{dashboard.uid}.png"
            written.append(render(dashboard, results, out, note, default_range(dashboard, now)))
    finally:
        sources.close()
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = OneLineParser(prog=PROG, description="Draw each dashboard's panels to PNG.")
    parser.add_argument("--out", type=Path, default=PICTURES, help="folder for the PNG files")
    known = [d.uid for d in DASHBOARDS]
    parser.add_argument("--dashboard", action="append", choices=known, help="only these")
    args = parser.parse_args(argv)
    try:
        for path in snapshot(ConnectionSettings(), args.out, args.dashboard or ()):
            print(path)
    except (QueryError, PostgresPasswordError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
