"""``predict-voltage``: score each meter's latest hour up to the end of the range's last
day (or its last ``score_hours`` hours: a backfill) with the chosen voltage model, and
write the scores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from smart_meter.influx_lines import write_lines
from smart_meter.storage.session import open_session
from training.context import TrainingContext
from training.errors import NoReadingsError
from training.voltage import predictions, registry, source
from training.voltage.compare import MODEL_FEATURES
from training.voltage.dataset import collect_features
from training.voltage.features import FULL_FEATURES


def load_chosen(context: TrainingContext) -> registry.SavedModel:
    folder = registry.chosen_folder(context.settings.model_dir)
    name = folder.name
    return registry.load_model(context.spark, folder, MODEL_FEATURES.get(name, FULL_FEATURES))


def run(context: TrainingContext) -> dict[str, Any]:
    saved = load_chosen(context)
    last = context.last_day
    first = last - timedelta(days=context.settings.history_days)
    window = (first, last, context.meters)
    readings = source.readings(context.spark, context.keyspace, *window)
    episodes = source.episodes(context.spark, context.keyspace, *window)
    context.say(f"scoring with {saved.name} {saved.version}")
    frame = collect_features(readings, episodes)
    if frame.empty:
        raise NoReadingsError(
            f"no readings with voltage on {first}..{last} to score: check --to and the keyspace"
        )
    hours = context.settings.score_hours
    scored = predictions.score(saved, predictions.latest_hours(frame, hours))
    transformers = predictions.by_transformer(scored)
    newest = predictions.newest(scored)
    session = open_session(context.connections)
    try:
        rows = predictions.write_cassandra(
            session, saved, scored, context.settings.horizon_hours, datetime.now(UTC)
        )
    finally:
        session.cluster.shutdown()
    points = write_lines(context.connections, predictions.influx_lines(saved, scored, transformers))
    context.count("voltage_prediction rows", rows)
    context.count("prediction points", points)
    return {
        "model": saved.name,
        "version": saved.version,
        "meters": len(newest),
        "hours_scored": int(scored.groupby("meter_id").size().max()),
        "meters_predicted": int(newest["predicted"].sum()),
        "transformers_predicted": int(predictions.by_transformer(newest)["predicted"].sum()),
    }
