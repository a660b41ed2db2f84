"""Errors of the export and of the ODBC templates: each prints as one line that says what
is wrong and how to fix it."""

from __future__ import annotations


class ExcelError(ValueError):
    """A one-line, actionable reason why a workbook or a template was not written."""


class EmptySelectionError(ExcelError):
    """The meters and days asked for hold no reading."""

    def __init__(self, meters: str, first: str, last: str, keyspace: str) -> None:
        self.meters, self.first, self.last, self.keyspace = meters, first, last, keyspace
        super().__init__(
            f"no readings for meters {meters} from {first} to {last} in keyspace {keyspace}: "
            "check --meters, --from and --to (UTC days) or SMART_METER_CASSANDRA_KEYSPACE"
        )


class StoreUnreachableError(ExcelError):
    """Cassandra did not answer."""

    def __init__(self, address: str, reason: str) -> None:
        self.address, self.reason = address, reason
        super().__init__(
            f"cannot reach Cassandra at {address} ({reason}): start it "
            "(`python start_services.py up`) or set SMART_METER_CASSANDRA_HOSTS/_PORT"
        )
