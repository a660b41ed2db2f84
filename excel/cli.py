"""``python -m excel``: workbooks for analysts, and ODBC templates for the reporting mart.

    python -m excel export --meters M1,M2|all --from 2024-01-01 --to 2024-01-07 -o week.xlsx
    python -m excel odbc -o odbc/

Connections come from ``SMART_METER_*`` (Cassandra for the export, PostgreSQL for the
templates). Every failure is one line on standard error: exit 2 for a wrong option,
1 for anything else.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from excel.errors import ExcelError
from excel.odbc import how_to_use, write_templates
from excel.progress import ExportProgress
from excel.workbook import ALL_METERS, export
from smart_meter.cli_args import OneLineParser
from smart_meter.settings import ConnectionSettings


def day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day (YYYY-MM-DD): {text!r}") from None


def meter_list(text: str) -> list[str]:
    meters = [m.strip() for m in text.split(",") if m.strip()]
    if not meters:
        raise argparse.ArgumentTypeError("give meter ids separated by commas, or 'all'")
    if ALL_METERS in meters and len(meters) > 1:
        raise argparse.ArgumentTypeError("'all' stands alone: give 'all' or a list of meter ids")
    return meters


def parser() -> argparse.ArgumentParser:
    top = OneLineParser(prog="python -m excel", description=__doc__.split("\n")[0])
    commands = top.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    workbook = commands.add_parser("export", help="write a workbook of meters over UTC days")
    workbook.add_argument("--meters", type=meter_list, required=True, help="M1,M2,... or all")
    workbook.add_argument("--from", dest="first", type=day, required=True, help="first UTC day")
    workbook.add_argument("--to", dest="last", type=day, required=True, help="last UTC day")
    workbook.add_argument("-o", "--output", type=Path, required=True, help="FILE.xlsx")
    workbook.add_argument("--quiet", action="store_true", help="no progress on standard error")
    odbc = commands.add_parser("odbc", help="write ODBC DSN templates for the reporting mart")
    odbc.add_argument("-o", "--output", type=Path, default=Path("odbc"), help="folder (./odbc)")
    odbc.add_argument("--driver", type=Path, help="psqlodbcw.so, if not where Debian puts it")
    return top


def run(args: argparse.Namespace) -> str:
    connections = ConnectionSettings()
    if args.command == "export":
        progress = ExportProgress(quiet=args.quiet)
        data = export(connections, args.meters, args.first, args.last, args.output, progress)
        return (
            f"wrote {args.output}: {len(data.readings)} readings of {len(data.meters)} meters, "
            f"{len(data.daily)} meter-days, {len(data.events)} gaps and alerts, "
            f"{len(data.estimates)} estimated intervals"
        )
    files = write_templates(connections, args.output, args.driver)
    return how_to_use(files, connections, files.driver)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        print(run(args))
    except ExcelError as error:
        print(f"excel: {error}", file=sys.stderr)
        return 1
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        print(f"excel: setting SMART_METER_{where.upper()}: {first['msg']}", file=sys.stderr)
        return 1
    return 0
