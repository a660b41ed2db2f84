"""The demo's summary: what went in, what the pipeline did and stored, how well it found
the injected faults. Printed as rich tables and written as one JSON document."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.table import Table

from demo.detections import malformed_kind
from demo.run import INTERVAL_S, DemoRun
from demo.scoring import ScoreReport, score
from streaming_app.validation import demo_settings


def score_run(run: DemoRun) -> ScoreReport:
    """The audit trail and dead letters against the injector's ground truth."""
    return score(
        run.records,
        run.findings,
        run.dead_letters,
        INTERVAL_S,
        run=(run.start, run.last),
        transformer_of=run.transformer_of,
    )


def rejected_by_reason(run: DemoRun) -> Counter[str]:
    """Input kept out of the readings table, by why: the rejecting rule (a conflicting
    copy, a TOO_LATE reading), or the kind of malformed message (dead letters)."""
    reasons: Counter[str] = Counter()
    for letter in run.dead_letters:
        reasons[f"dead letter: {malformed_kind(letter.kind).value}"] += 1
    for rule in demo_settings().rules():
        failures = run.metrics.failures_by_rule.get(rule.id, 0)
        if rule.rejects and failures:
            reasons[f"rule: {rule.id}"] = failures
    return reasons


def summary_document(run: DemoRun, report: ScoreReport) -> dict[str, Any]:
    """The whole summary as JSON-ready data."""
    options, injected, stored = run.options, run.injected, run.stored
    return {
        "fleet": {
            "meters": options.meters,
            "intervals": options.intervals,
            "interval_s": INTERVAL_S,
            "faults": options.faults,
            "seed": options.seed,
            "first_event": run.start.isoformat(),
            "last_event": run.last.isoformat(),
        },
        "in": {
            "readings_published": injected.readings_published,
            "raw_messages_published": injected.raw_published,
            "duplicate_copies_sent": injected.duplicate_copies_sent,
            "malformed_sent": injected.malformed_sent,
            "faults_injected": injected.faults,
        },
        "processed_by_status": dict(run.metrics.by_status),
        "failures_by_rule": dict(run.metrics.failures_by_rule),
        "rejected_by_reason": dict(rejected_by_reason(run)),
        "stored": {
            "readings": stored.readings,
            "readings_by_status": dict(stored.readings_by_status),
            "gaps": stored.gaps,
            "missing_intervals": stored.missing_intervals,
            "open_gaps": stored.open_gaps,
            "late_events": stored.late_events,
            "voltage_episodes": stored.voltage_episodes,
            "alerts_by_kind": dict(stored.alerts_by_kind),
        },
        "dead_letters": len(run.dead_letters),
        "findings": len(run.findings),
        "seconds": {"inject": round(run.inject_s, 2), "process": round(run.process_s, 2)},
        "readings_per_s": round(injected.readings_published / run.process_s, 1)
        if run.process_s
        else None,
        "sink_limit": _sink_limit(run),
        "score": report.to_dict(),
    }


def _sink_limit(run: DemoRun) -> dict[str, Any] | None:
    """The raw acsylla rate of the same rows, and the app's rate over it."""
    limit = run.sink_limit
    if limit is None:
        return None
    app = run.injected.readings_published / run.process_s if run.process_s else 0.0
    return {
        "client": "acsylla",
        "readings": limit.readings,
        "rows": limit.rows,
        "seconds": round(limit.seconds, 2),
        "in_flight": limit.in_flight,
        "readings_per_s": round(limit.readings_per_s, 1),
        "app_over_sink_limit": round(app / limit.readings_per_s, 3) if limit.readings else None,
    }


def _table(title: str, rows: list[tuple[str, object]]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, value in rows:
        table.add_row(name, f"{value:,}" if isinstance(value, int) else str(value))
    return table


def _sink_limit_rows(limit: dict[str, Any] | None) -> list[tuple[str, object]]:
    if limit is None:
        return []
    return [
        (
            f"sink limit: readings/s of the same rows, raw acsylla INSERTs "
            f"({limit['seconds']:.1f} s, {limit['in_flight']} in flight)",
            limit["readings_per_s"],
        ),
        ("  the app's rate / the sink limit", limit["app_over_sink_limit"]),
    ]


def summary_tables(run: DemoRun, report: ScoreReport) -> list[Table]:
    doc = summary_document(run, report)
    stored = run.stored
    flow = [
        ("readings published to JetStream", doc["in"]["readings_published"]),
        ("  of which conflicting/identical copies sent", doc["in"]["duplicate_copies_sent"]),
        ("malformed messages published", doc["in"]["malformed_sent"]),
        *((f"processed: {k}", v) for k, v in sorted(run.metrics.by_status.items())),
        ("readings stored in Cassandra", stored.readings),
        *((f"  stored {k}", v) for k, v in sorted(stored.readings_by_status.items())),
        *((f"rejected: {k}", v) for k, v in sorted(rejected_by_reason(run).items())),
        ("seconds to inject / to process", f"{run.inject_s:.1f} / {run.process_s:.1f}"),
        ("readings/s through the app (with its start-up)", doc["readings_per_s"]),
        *_sink_limit_rows(doc["sink_limit"]),
    ]
    found = [
        ("gaps (missing intervals)", f"{stored.gaps:,} ({stored.missing_intervals:,})"),
        ("  still open at the end", stored.open_gaps),
        ("late events (TOO_LATE, FUTURE: routed aside)", stored.late_events),
        ("voltage episodes", stored.voltage_episodes),
        *((f"alerts: {k}", v) for k, v in sorted(stored.alerts_by_kind.items())),
        *((f"failed rule: {k}", v) for k, v in sorted(run.metrics.failures_by_rule.items())),
    ]
    options = run.options
    title = f"smart-meter demo: {options.meters:,} meters x {options.intervals} minutes"
    return [
        _table(f"{title}: the pipeline", flow),
        _table("What it found (Cassandra, InfluxDB)", found),
        report.table("Findings against the injector's ground truth (audit trail, dead letters)"),
    ]
