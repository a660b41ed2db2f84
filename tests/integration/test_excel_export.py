"""``python -m excel export`` on the real Cassandra, then the workbook as a person sees it.

Three meters' two days of half-hourly readings, with missing readings, spikes and voltage
sags, are stored in a keyspace of this test the way the streaming app stores them (rows,
gaps, alerts, running totals); the batch's estimate and energy jobs run over them on
local Spark. The export's workbook, opened with openpyxl, holds exactly Cassandra's
values; printed by LibreOffice headless to PDF, its pages carry the sheets' titles,
tables and charts, and page 1 is kept as a PNG under ``build/excel-export/`` for a
person to look at (the test prints its path).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from excel.sheets import DAILY, ESTIMATED, EVENTS, READINGS
from excel.workbook import export
from inject.faults import FaultConfig, FaultInjector, FaultKind
from inject.fleet import Fleet, FleetConfig
from smart_meter.settings import ConnectionSettings
from smart_meter.storage.session import open_session
from stack.office import pdf_pages, pdf_text, pdf_to_png, render_pdf
from tests.batch_support import run_job
from tests.integration.streaming_app_readback import rows
from tests.streaming_storage import store_as_the_app_does

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]

RUN = uuid.uuid4().hex[:8]
KEYSPACE = f"excel_{RUN}"
METERS, DAYS = 3, 2
START = datetime(2024, 2, 5, tzinfo=UTC)
FIRST, LAST = START.date(), START.date() + timedelta(days=DAYS - 1)
PICTURES = Path(__file__).resolve().parents[2] / "build" / "excel-export"


@dataclass(frozen=True)
class Exported:
    connections: ConnectionSettings
    meters: list[str]
    path: Path


def stored_fleet() -> list[Any]:
    fleet = Fleet(FleetConfig(meters=METERS, interval_s=1800, meters_per_transformer=3), START)
    rates = {FaultKind.MISSING: 0.04, FaultKind.SPIKE: 0.02, FaultKind.VOLTAGE_SAG: 0.02}
    injector = FaultInjector(FaultConfig.model_validate({"rates": rates}), 1800, seed=11)
    emissions = [injector.inject(when, rs) for when, rs in fleet.run(DAYS * 48)]
    emissions.append(injector.drain())
    return [
        r.model_copy(update={"meter_id": f"XL{RUN}-{r.meter_id}"})
        for e in emissions
        for r in e.readings
    ]


def drop_keyspace(connections: ConnectionSettings) -> None:
    session = open_session(connections, create_schema=False, bind=False)
    try:
        session.execute(f"DROP KEYSPACE IF EXISTS {KEYSPACE}", timeout=120)
    finally:
        session.cluster.shutdown()


@pytest.fixture(scope="module")
def exported(
    connections: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Exported]:
    own = connections.model_copy(update={"cassandra_keyspace": KEYSPACE})
    readings = stored_fleet()
    meters = sorted({r.meter_id for r in readings})
    try:
        asyncio.run(store_as_the_app_does(own, readings))
        for job in ("estimate", "energy"):
            run_job(own, job, FIRST, LAST, meters)
        path = tmp_path_factory.mktemp("excel") / "export.xlsx"
        export(own, meters, FIRST, LAST, path)
        yield Exported(own, meters, path)
    finally:
        drop_keyspace(connections)


def sheet_rows(book: Workbook, name: str, columns: int) -> list[tuple[Any, ...]]:
    sheet = book[name]
    return [row[:columns] for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]]


def naive(when: datetime | None) -> datetime | None:
    return None if when is None else when.replace(tzinfo=None)


def in_range(day: Any) -> bool:
    as_date: date = day.date() if hasattr(day, "date") else day
    return FIRST <= as_date <= LAST


def test_readings_sheet_holds_cassandras_readings_with_their_flags(exported: Exported) -> None:
    stored = {
        (m, naive(ts)): (wh / 1000, quality, method, ", ".join(sorted(rules or ())) or None)
        for m, day, ts, wh, quality, method, rules in rows(
            exported.connections, KEYSPACE, "readings_by_meter_day",
            "meter_id, day, ts, import_wh, quality, estimation_method, failed_rules",
        )
        if in_range(day)
    }  # fmt: skip
    book = load_workbook(exported.path)
    shown = {
        (m, ts): (register, quality, method, rules)
        for m, ts, register, _, _, _, _, _, quality, method, rules in sheet_rows(book, READINGS, 11)
    }
    assert shown == stored
    assert {q for q, *_ in stored.values()} >= {"A", "E"}  # actual and estimated rows
    assert any(rules for *_, rules in stored.values())  # and rules that failed


def test_daily_energy_is_the_batchs_energy_and_cost(exported: Exported) -> None:
    stored = {
        (m, day.date()): (energy / 1_000_000, float(cost), estimated)
        for m, day, energy, cost, estimated in rows(
            exported.connections, KEYSPACE, "energy_by_meter_day",
            "meter_id, day, energy_mwh, cost, estimated_intervals",
        )
        if in_range(day)
    }  # fmt: skip
    assert len(stored) == METERS * DAYS
    book = load_workbook(exported.path)
    shown = {
        (m, day.date()): (energy, cost, estimated)
        for m, day, energy, cost, _, _, estimated, source in sheet_rows(book, DAILY, 8)
        if source == "batch"
    }
    assert shown == stored
    assert sum(e for *_, e in stored.values()) > 0  # the estimates were counted


def test_gaps_and_alerts_and_estimates_are_cassandras(exported: Exported) -> None:
    gaps = [
        (m, naive(start))
        for m, start in rows(exported.connections, KEYSPACE, "gaps_by_meter", "meter_id, start_ts")
        if in_range(start)
    ]
    alerts = [
        (kind, m, naive(start))
        for kind, m, start in rows(
            exported.connections, KEYSPACE, "alerts_by_day", "kind, meter_id, start_ts"
        )
    ]
    book = load_workbook(exported.path)
    events = sheet_rows(book, EVENTS, 3)
    assert sorted((m, s) for kind, m, s in events if kind == "gap") == sorted(gaps)
    assert sorted(e for e in events if e[0] != "gap") == sorted(alerts)
    assert gaps and alerts
    estimates = sheet_rows(book, ESTIMATED, 5)
    readings = sheet_rows(book, READINGS, 10)
    assert sorted((m, t, r, method) for m, t, r, _, method in estimates) == sorted(
        (m, t, r, method) for m, t, r, *_, quality, method in readings if quality == "E"
    )
    assert estimates


def test_every_sheet_has_its_charts(exported: Exported) -> None:
    book = load_workbook(exported.path)
    # openpyxl drops charts when it reads a file: count the chart parts of the package
    with zipfile.ZipFile(exported.path) as package:
        charts = [n for n in package.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 2 + 2 + 1 + 1
    assert book.sheetnames == [READINGS, DAILY, EVENTS, ESTIMATED]
    assert book[READINGS].freeze_panes == "C2"


def test_libreoffice_prints_the_workbook_with_its_charts(
    exported: Exported, tmp_path: Path
) -> None:
    pdf = render_pdf(exported.path, tmp_path)
    pages = pdf_pages(pdf)
    readings = len(sheet_rows(load_workbook(exported.path), READINGS, 1))
    assert 4 <= pages <= 4 + readings // 20  # one wide page per screenful of rows at least
    text = pdf_text(pdf)
    for title in (
        "readings with quality flags", "daily energy and cost", "gaps and alerts",
        "estimated intervals", "Register (kWh)", "Energy per interval", "Energy per day",
        "Gaps and alerts by kind", exported.meters[0],
    ):  # fmt: skip
        assert title in text, title
    first_page = pdf_text(pdf, page=1)
    assert "Highest phase voltage" in first_page  # the chart fits the page's width
    assert f"page 1 of {pages}" in text
    PICTURES.mkdir(parents=True, exist_ok=True)
    for old in PICTURES.glob("export-*.png"):
        old.unlink()
    pictures = pdf_to_png(pdf, PICTURES / "export", dpi=100)
    assert len(pictures) == pages
    assert all(p.stat().st_size > 10_000 for p in pictures)
    print(f"\nthe rendered workbook: {PICTURES} ({pages} pages, first {pictures[0]})")


def cli(connections: ConnectionSettings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SMART_METER_CASSANDRA_HOSTS": json.dumps(list(connections.cassandra_hosts)),
        "SMART_METER_CASSANDRA_PORT": str(connections.cassandra_port),
        "SMART_METER_CASSANDRA_KEYSPACE": connections.cassandra_keyspace,
    }
    return subprocess.run(
        [sys.executable, "-m", "excel", *args],
        capture_output=True, text=True, timeout=600, check=False, env=env,
    )  # fmt: skip


def test_the_command_exports_all_meters_and_says_what_it_wrote(
    exported: Exported, tmp_path: Path
) -> None:
    out = tmp_path / "all.xlsx"
    result = cli(exported.connections, "export", "--meters", "all", "--from", str(FIRST),
                 "--to", str(LAST), "-o", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}:" in result.stdout
    assert f"of {METERS} meters" in result.stdout
    book, reference = load_workbook(out), load_workbook(exported.path)
    assert sheet_rows(book, READINGS, 13) == sheet_rows(reference, READINGS, 13)


def test_an_empty_selection_is_one_line(exported: Exported, tmp_path: Path) -> None:
    out = tmp_path / "none.xlsx"
    later = str(LAST + timedelta(days=30))
    result = cli(exported.connections, "export", "--meters", exported.meters[0], "--from",
                 later, "--to", later, "-o", str(out))  # fmt: skip
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"excel: no readings for meters {exported.meters[0]} from {later}")
    assert not out.exists()


def test_a_missing_keyspace_is_one_line(connections: ConnectionSettings, tmp_path: Path) -> None:
    missing = connections.model_copy(update={"cassandra_keyspace": f"excel_none_{RUN}"})
    day = str(date(2024, 1, 1))
    result = cli(missing, "export", "--meters", "all", "--from", day, "--to", day,
                 "-o", str(tmp_path / "x.xlsx"))  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith(f"excel: keyspace excel_none_{RUN} does not exist")
    assert len(result.stderr.strip().splitlines()) == 1
