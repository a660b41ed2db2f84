"""``python -m grafana build|schema``: regenerate the dashboards or their JSON Schema."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from grafana.build import build
from grafana.schema import SchemaToolError, generate
from smart_meter.cli_args import OneLineParser

PROG = "python -m grafana"


def main(argv: Sequence[str] | None = None) -> int:
    parser = OneLineParser(prog=PROG, description="Provisioned Grafana dashboards.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="write provisioning/dashboards/*.json from the code")
    commands.add_parser("schema", help="generate dashboard.schema.json from @grafana/schema")
    args: argparse.Namespace = parser.parse_args(argv)
    if args.command == "build":
        for path in build():
            print(path)
        return 0
    try:
        print(generate())
    except SchemaToolError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
