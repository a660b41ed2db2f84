"""Write every dashboard as the JSON file Grafana provisions (``provisioning/dashboards``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grafana.dashboards import DASHBOARDS
from grafana.model import Dashboard

PACKAGE = Path(__file__).resolve().parent
DASHBOARD_DIR = PACKAGE / "provisioning" / "dashboards"
DATASOURCE_FILE = PACKAGE / "provisioning" / "datasources" / "smart-meter.yaml"


def dashboard_text(dashboard: Dashboard) -> str:
    """The provisioned file's exact text (sorted keys, so a diff shows what changed)."""
    return json.dumps(dashboard.to_json(), indent=2, sort_keys=True) + "\n"


def dashboard_path(dashboard: Dashboard, folder: Path = DASHBOARD_DIR) -> Path:
    return folder / f"{dashboard.uid}.json"


def build(folder: Path = DASHBOARD_DIR) -> list[Path]:
    """Write every dashboard; remove JSON files of dashboards that no longer exist."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for dashboard in DASHBOARDS:
        path = dashboard_path(dashboard, folder)
        path.write_text(dashboard_text(dashboard))
        written.append(path)
    for stale in set(folder.glob("*.json")) - set(written):
        stale.unlink()
    return written


def provisioned() -> list[dict[str, Any]]:
    """The committed dashboard files, parsed."""
    return [json.loads(path.read_text()) for path in sorted(DASHBOARD_DIR.glob("*.json"))]
