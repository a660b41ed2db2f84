"""The chosen models fitted on the whole sample, their version, and their model folder.

The version is a digest of what decides the models: the sample's energy and
temperatures, the meters' transformers, the last day, the models chosen, their
features and parameters, and the code version. The same data with the same code gives
the same version (and the same forecasts); a day more of data gives a new one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from training.forecast import Forecaster, GradientBoosted, SeasonalNaive, save_model
from training.forecast_spark.scoring import (
    AGGREGATE,
    BOOSTED,
    BOTTOM_UP,
    NAIVE,
    FleetScores,
    Matrices,
)
from training.versioning import source_digest

FOLDER = "forecast"
LATEST_FILE = "latest.json"
SCORES_FILE = "scores.json"


@dataclass(frozen=True)
class ChosenModels:
    """What forecasts each level: a fitted meter model; for transformers a fitted model,
    or ``None`` for the sum of the meters' forecasts (bottom-up)."""

    version: str
    day: date  # the day forecast: the one after the last day fitted on
    meter_model: str
    meter: Forecaster
    transformer_model: str | None
    transformer: Forecaster | None


def _make(name: str) -> Forecaster:
    return SeasonalNaive() if name == NAIVE else GradientBoosted()


def version_of(sample: Matrices, last_day: date, meter_model: str, transformer: str | None) -> str:
    """``<last day>-<12 hex digits>`` (see the module docstring)."""
    digest = hashlib.sha256()
    meters = sample.meters
    for part in (
        "\n".join(meters.series_ids),
        meters.first_day.isoformat(),
        last_day.isoformat(),
        json.dumps(sorted(sample.groups.items())),
        meter_model,
        str(transformer),
        json.dumps(list(GradientBoosted().features)),
        json.dumps(GradientBoosted().describe(), sort_keys=True),
        source_digest(),
    ):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(meters.kwh.tobytes())
    digest.update(meters.temperature_c.tobytes())
    return f"{last_day:%Y%m%d}-{digest.hexdigest()[:12]}"


def fit_chosen(sample: Matrices, scores: FleetScores, last_day: date) -> ChosenModels:
    """Fit each level's chosen model on every day of the sample (up to ``last_day``)."""
    meter_name = scores.meter_model
    meter = _make(meter_name).fit(sample.meters)
    transformer_name = scores.transformer_model
    transformer: Forecaster | None = None
    if transformer_name in (NAIVE, AGGREGATE) and sample.transformers is not None:
        transformer = _make(NAIVE if transformer_name == NAIVE else BOOSTED)
        transformer = transformer.fit(sample.transformers)
    if transformer_name == BOTTOM_UP and meter_name != BOOSTED:
        transformer_name = NAIVE  # bottom-up was scored with the boosted meter model
        transformer = SeasonalNaive()
    version = version_of(sample, last_day, meter_name, transformer_name)
    return ChosenModels(
        version, last_day + timedelta(days=1), meter_name, meter, transformer_name, transformer
    )


def scores_document(scores: FleetScores, chosen: ChosenModels, sample: Matrices) -> dict[str, Any]:
    """The scores and choices as saved beside the models (and returned by the job)."""
    return {
        "version": chosen.version,
        "test_period": {
            "first_day": scores.first_test_day.isoformat(),
            "days": scores.test_days,
        },
        "sample": {
            "meters": len(sample.meters.series_ids),
            "transformers": 0
            if sample.transformers is None
            else len(sample.transformers.series_ids),
        },
        "chosen": {"meter": chosen.meter_model, "transformer": chosen.transformer_model},
        "meters": {name: s.as_dict() for name, s in scores.meters.items()},
        "transformers": {name: s.as_dict() for name, s in scores.transformers.items()},
    }


def save_chosen(chosen: ChosenModels, document: dict[str, Any], model_dir: Path) -> Path:
    """``<model_dir>/forecast/<version>/``: the models, their metadata and the scores;
    ``<model_dir>/forecast/latest.json`` names the version."""
    root = model_dir / FOLDER
    folder = root / chosen.version
    save_model(chosen.meter, folder / "meter", metrics={"level": "meter", **document})
    if chosen.transformer is not None:
        metrics = {"level": "transformer", **document}
        save_model(chosen.transformer, folder / "transformer", metrics=metrics)
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    (folder / SCORES_FILE).write_text(text)
    (root / LATEST_FILE).write_text(json.dumps({"version": chosen.version}) + "\n")
    return folder
