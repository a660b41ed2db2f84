"""The two datasources every dashboard reads, by the uids the provisioning gives them.

``provisioning/datasources/smart-meter.yaml`` declares them with these uids; the
address, database, user and password come from the environment of the Grafana server
(``SMART_METER_GRAFANA_*``), so none is committed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatasourceRef:
    type: str
    uid: str

    def json(self) -> dict[str, str]:
        return {"type": self.type, "uid": self.uid}


INFLUXDB = DatasourceRef("influxdb", "smart-meter-influxdb")
"""InfluxDB >= 1.8, InfluxQL: the streaming app's, injector's and batch's points."""

POSTGRES = DatasourceRef("grafana-postgresql-datasource", "smart-meter-mart")
"""PostgreSQL: the reporting mart the batch refreshes (schema ``mart``)."""

ALL = (INFLUXDB, POSTGRES)
