"""The provisioned dashboards: generated from code, valid against Grafana's own schema,
and reading only the datasources the provisioning declares."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from grafana.build import DASHBOARD_DIR, DATASOURCE_FILE, dashboard_path, dashboard_text
from grafana.dashboards import DASHBOARDS
from grafana.datasources import ALL
from grafana.schema import GRAFANA_SCHEMA, load

PROVIDER_FILE = DASHBOARD_DIR / "smart-meter.yaml"
TITLES = {
    "Data Quality Overview",
    "Meter Drill-Down",
    "System and Stream Health",
    "Load Test",
    "Voltage Predictions and Forecasts",
}


def test_there_are_the_five_dashboards_with_unique_uids() -> None:
    assert {d.title for d in DASHBOARDS} == TITLES
    assert len({d.uid for d in DASHBOARDS}) == len(DASHBOARDS)


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=lambda d: d.uid)
def test_the_committed_json_is_what_the_code_builds(dashboard: Any) -> None:
    path = dashboard_path(dashboard)
    assert path.read_text() == dashboard_text(dashboard), "run `python -m grafana build`"


def test_no_stale_dashboard_file_is_provisioned() -> None:
    assert {p.name for p in DASHBOARD_DIR.glob("*.json")} == {f"{d.uid}.json" for d in DASHBOARDS}


def test_the_schema_is_generated_from_grafanas_package() -> None:
    schema = load()
    assert GRAFANA_SCHEMA in schema["$comment"]
    assert schema["$ref"] == "#/definitions/Dashboard"
    assert "gridPos" in schema["definitions"]["Panel"]["properties"]


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=lambda d: d.uid)
def test_each_dashboard_is_valid_against_the_schema(dashboard: Any) -> None:
    jsonschema.Draft7Validator(load()).validate(dashboard.to_json())


def test_the_schema_refuses_a_broken_dashboard() -> None:
    broken = DASHBOARDS[0].to_json()
    broken["panels"][0]["gridPos"] = {"x": 0, "y": 0}  # no h and w
    errors = list(jsonschema.Draft7Validator(load()).iter_errors(broken))
    reasons = [inner.message for error in errors for inner in error.context or ()]
    assert "'h' is a required property" in reasons


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=lambda d: d.uid)
def test_panels_sit_on_the_grid_without_overlapping(dashboard: Any) -> None:
    cells: set[tuple[int, int]] = set()
    panels = dashboard.to_json()["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    for panel in panels:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24
        mine = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"])
                for y in range(pos["y"], pos["y"] + pos["h"])}  # fmt: skip
        assert not cells & mine, panel["title"]
        cells |= mine
        assert panel["targets"], panel["title"]


def provisioned_datasources() -> list[dict[str, Any]]:
    document = yaml.safe_load(DATASOURCE_FILE.read_text())
    assert document["apiVersion"] == 1
    sources: list[dict[str, Any]] = document["datasources"]
    return sources


def test_the_datasources_are_influxql_and_the_mart_with_nothing_secret_committed() -> None:
    sources = {s["uid"]: s for s in provisioned_datasources()}
    assert {ref.uid: ref.type for ref in ALL} == {uid: s["type"] for uid, s in sources.items()}
    influx = sources["smart-meter-influxdb"]
    assert influx["jsonData"]["version"] == "InfluxQL"
    for source in sources.values():
        for value in (source["url"], source["user"], *source["secureJsonData"].values()):
            assert re.fullmatch(r"\$\{SMART_METER_GRAFANA_[A-Z_]+\}", value), value
    assert sources["smart-meter-mart"]["jsonData"]["database"].startswith("${")
    assert influx["jsonData"]["dbName"].startswith("${")


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=lambda d: d.uid)
def test_every_datasource_a_dashboard_reads_is_provisioned(dashboard: Any) -> None:
    declared = {(s["type"], s["uid"]) for s in provisioned_datasources()}
    document = dashboard.to_json()
    used = [p["datasource"] for p in document["panels"]]
    used += [t["datasource"] for p in document["panels"] for t in p["targets"]]
    used += [v["datasource"] for v in document["templating"]["list"]]
    assert {(ref["type"], ref["uid"]) for ref in used} <= declared


def test_the_provider_loads_the_folder_the_dashboards_are_written_to() -> None:
    document = yaml.safe_load(PROVIDER_FILE.read_text())
    [provider] = document["providers"]
    assert provider["type"] == "file"
    assert Path(provider["options"]["path"]).name == DASHBOARD_DIR.name
    assert provider["allowUiUpdates"] is False
