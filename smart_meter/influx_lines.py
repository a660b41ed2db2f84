"""Writing line-protocol points to the platform's InfluxDB (``influxdb-client``), for
the batch and training jobs.

The batch's measurements (each point at the start of its half-hour or local day, UTC):

==================  ===============  ==========================================
measurement         tags             fields
==================  ===============  ==========================================
transformer_load    transformer_id   kw (mean over the half-hour), energy_mwh
line_load           line_id          kw, energy_mwh
completeness        (none)           expected, received, estimated, ratio (fleet, per day)
==================  ===============  ==========================================

A point is keyed by measurement, tags and time, so writing a range again overwrites it.
"""

from __future__ import annotations

import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import cast

from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision

from smart_meter.credentials import basic_auth_headers
from smart_meter.reachability import check_reachable
from smart_meter.settings import ConnectionSettings

POINTS_PER_WRITE = 5_000


def _chunks(lines: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(lines)
    while chunk := list(islice(iterator, size)):
        yield chunk


def tag(value: str) -> str:
    """A tag value escaped for line protocol."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def _create_database(connections: ConnectionSettings) -> None:
    """``CREATE DATABASE`` (a no-op when it exists): the v1 ``/query`` endpoint."""
    statement = f'CREATE DATABASE "{connections.influxdb_database}"'
    body = urllib.parse.urlencode({"q": statement}).encode()
    headers = basic_auth_headers(connections.influxdb_credentials())
    request = urllib.request.Request(f"{connections.influxdb_url}/query", body, headers)
    with urllib.request.urlopen(request, timeout=60):
        pass


def _token(connections: ConnectionSettings) -> str:
    """The v2 client's token: ``username:password`` is how InfluxDB 1.x takes credentials."""
    credentials = connections.influxdb_credentials()
    return "" if credentials is None else f"{credentials.username}:{credentials.password}"


def write_lines(connections: ConnectionSettings, lines: Iterable[str]) -> int:
    """Write line-protocol points (ms precision) to the platform's database; how many."""
    address = urllib.parse.urlparse(connections.influxdb_url)
    hint = "start it with `python start_services.py up`"
    check_reachable("InfluxDB", address.hostname or "", address.port or 8086, hint)
    _create_database(connections)
    written = 0
    client = InfluxDBClient(
        url=connections.influxdb_url, token=_token(connections), org="-", timeout=60_000
    )
    try:
        api = client.write_api(write_options=SYNCHRONOUS)
        for chunk in _chunks(lines, POINTS_PER_WRITE):
            bucket = f"{connections.influxdb_database}/autogen"
            precision = cast(WritePrecision, WritePrecision.MS)  # a str constant of the class
            api.write(bucket=bucket, record=chunk, write_precision=precision)
            written += len(chunk)
    finally:
        client.close()  # type: ignore[no-untyped-call]
    return written
