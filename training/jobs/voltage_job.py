"""``voltage``: train the voltage-event classifiers on the range, save them, choose one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from training.context import TrainingContext
from training.errors import NoReadingsError, TooFewEventsError
from training.versioning import code_version
from training.voltage import registry, source
from training.voltage.compare import Comparison, train_and_compare
from training.voltage.dataset import Dataset, collect_features, labelled
from training.voltage.report import markdown


def build_dataset(context: TrainingContext) -> Dataset:
    settings, spark = context.settings, context.spark
    window = (context.first_day, context.last_day, context.meters)
    readings = source.readings(spark, context.keyspace, *window)
    episodes = source.episodes(spark, context.keyspace, *window)
    context.say("building features")
    frame = collect_features(readings, episodes)
    if frame.empty:
        raise NoReadingsError(
            f"no readings with voltage on {context.first_day}..{context.last_day}"
            f"{' for the meters given' if context.meters else ''}: check the days and the keyspace"
        )
    data = labelled(frame, episodes.toPandas(), settings.horizon_hours, settings.min_event_minutes)
    found = data.positives()
    if min(found.values()) < settings.min_events:
        raise TooFewEventsError(found, settings.min_events, settings.horizon_hours)
    return data


def card(context: TrainingContext, data: Dataset, comparison: Comparison, name: str,
         version: str) -> dict[str, Any]:  # fmt: skip
    trained = comparison.trained[name]
    settings = context.settings
    return {
        "model": name,
        "kind": trained.model.kind,
        "version": version,
        "features": list(trained.model.features),
        "threshold": trained.threshold,
        "metrics": {"valid": trained.valid, "test": trained.test},
        "baselines_test": comparison.baselines,
        "training_window": {
            "first_day": context.first_day.isoformat(),
            "last_day": context.last_day.isoformat(),
            "valid_from_ms": data.bounds.valid_from_ms,
            "test_from_ms": data.bounds.test_from_ms,
            "purge_hours": data.bounds.purge_hours,
            "meters": int(data.rows["meter_id"].nunique()),
            "rows": len(data.rows),
        },
        "event_definition": {
            "table": source.EVENTS_TABLE,
            "min_event_minutes": settings.min_event_minutes,
            "horizon_hours": settings.horizon_hours,
            "label": "an event of at least min_event_minutes starts within horizon_hours "
            "after the meter-hour",
        },
        "code_version": code_version(),
        "chosen": name == comparison.chosen,
    }


def run(context: TrainingContext) -> dict[str, Any]:
    data = build_dataset(context)
    context.say(f"{len(data.rows)} meter-hours, positives by part {data.positives()}")
    comparison = train_and_compare(context.spark, data, context.settings.seed, context.say)
    version = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = registry.voltage_dir(context.settings.model_dir) / version
    for name, trained in comparison.trained.items():
        registry.save_model(trained.model, folder / name,
                            card(context, data, comparison, name, version))  # fmt: skip
    registry.choose(context.settings.model_dir, version, comparison.chosen)
    report = folder / f"report-{version}.md"
    report.write_text(markdown(comparison, {
        "version": version, "first_day": context.first_day, "last_day": context.last_day,
        "meters": int(data.rows["meter_id"].nunique()), "rows": len(data.rows),
        "events": data.events, "min_event_minutes": context.settings.min_event_minutes,
        "horizon_hours": context.settings.horizon_hours,
    }))  # fmt: skip
    context.count("voltage models", len(comparison.trained))
    return {
        "version": version,
        "chosen": comparison.chosen,
        "test": comparison.test_table(),
        "report": str(report),
        "positives": data.positives(),
        "spans": data.spans(),
    }
