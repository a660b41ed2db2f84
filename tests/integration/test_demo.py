"""``make demo`` end to end on a small fleet: its summary adds up and finds the faults.

Runs the demo's command (``demo.cli.main``) against the real local stack
under a deployment name of its own, so a user's last demo run is left alone.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from demo.cli import main
from stack.manager import LocalStack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(2400)]  # the demo, then its history

# Recall on this fleet with the demo preset (1-minute meters) was 0.739 for
# register_decrease and 0.738 for spike while the injector labelled decreases drawn below
# a reset's level and spikes the rule had no history to judge; it now labels only what
# the demo preset's rules can see (issue 9 part 5). This fleet, injected and validated
# in-process with the demo preset, measures 1.000 for every kind.
RECALL_FLOORS = {"register_decrease": 0.99, "spike": 0.99}
DEFAULT_FLOOR = 0.95
# The training part's history: 5 meters a transformer; 24 days leave the forecast job
# 17 days to fit on before the 7 it scores (it needs 14 and 7).
HISTORY_METERS, HISTORY_DAYS = 25, 24


@pytest.fixture(scope="module")
def summary(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out_dir = tmp_path_factory.mktemp("demo")
    argv = ["--meters", "400", "--intervals", "40", "--start", "2024-03-04T17:00Z"]
    argv += ["--name", "demotest", "--out-dir", str(out_dir)]
    argv += ["--history-meters", str(HISTORY_METERS), "--history-days", str(HISTORY_DAYS)]
    assert main(argv) == 0
    document: dict[str, Any] = orjson.loads((out_dir / "summary.json").read_bytes())
    return document


def test_every_published_reading_is_stored_once_or_rejected_with_a_reason(
    summary: dict[str, Any],
) -> None:
    published, stored = summary["in"]["readings_published"], summary["stored"]
    too_late = summary["failures_by_rule"].get("lateness", 0)
    assert published > 12_000
    assert stored["readings"] + too_late == published
    processed = summary["processed_by_status"]
    assert stored["readings"] == processed.get("accepted", 0) + processed.get("flagged", 0)
    assert stored["readings_by_status"] == {
        status: processed[status] for status in ("accepted", "flagged") if status in processed
    }


def test_every_malformed_message_is_a_dead_letter_and_every_copy_is_caught(
    summary: dict[str, Any],
) -> None:
    sent = summary["in"]
    assert sent["malformed_sent"] > 0
    assert summary["dead_letters"] == sent["malformed_sent"]
    assert summary["processed_by_status"]["dead_letter"] == sent["malformed_sent"]
    assert (
        sum(
            count
            for reason, count in summary["rejected_by_reason"].items()
            if "dead letter" in reason
        )
        == sent["malformed_sent"]
    )
    caught = summary["processed_by_status"]["duplicate"] + summary["failures_by_rule"]["duplicate"]
    assert caught == sent["duplicate_copies_sent"]


def test_findings_match_the_ground_truth_kind_by_kind(summary: dict[str, Any]) -> None:
    kinds = {row["kind"]: row for row in summary["score"]["kinds"]}
    assert len(kinds) == 24
    for kind, row in kinds.items():
        if row["truth"]:
            assert row["recall"] >= RECALL_FLOORS.get(kind, DEFAULT_FLOOR), row
        if row["true_findings"] + row["false_positives"] > 0:
            assert row["precision"] >= DEFAULT_FLOOR, row
    assert sum(row["truth"] for row in kinds.values()) > 1_000


def test_the_tables_hold_what_was_found(summary: dict[str, Any]) -> None:
    stored = summary["stored"]
    assert stored["gaps"] > 0 and stored["missing_intervals"] >= stored["gaps"]
    assert stored["voltage_episodes"] == stored["alerts_by_kind"]["voltage"]
    for kind in ("spike", "register_reset", "register_rollover", "flatline_zero"):
        assert stored["alerts_by_kind"].get(kind, 0) > 0, kind


def test_the_batch_ran_over_the_demo_days_and_filled_the_mart(summary: dict[str, Any]) -> None:
    batch, meters = summary["batch"], summary["fleet"]["meters"]
    days = {summary["fleet"]["first_event"][:10], summary["fleet"]["last_event"][:10]}
    assert (batch["first_day"], batch["last_day"]) == (min(days), max(days))
    assert batch["meter_days"] >= meters  # every meter has energy on each day it reported
    assert float(batch["energy_kwh"]) > 0
    assert sum(batch["estimated_by_method"].values()) > 0  # the injected gaps were estimated
    assert batch["mart_rows"] >= batch["meter_days"]
    assert batch["rows_written"]["energy_by_meter_day"] == batch["meter_days"]


def test_the_training_history_went_through_the_app_and_was_forecast(
    summary: dict[str, Any],
) -> None:
    training = summary["training"]
    history, forecast = training["history"], training["forecast"]
    assert history["keyspace"] == "smart_meter_demotest_history"
    assert history["readings_stored"] == history["readings_published"] > 0
    assert history["voltage_episodes"] > 0
    transformers = HISTORY_METERS // 5
    assert forecast["rows_written"] == HISTORY_METERS + transformers
    assert forecast["points_written"] == 48 * (HISTORY_METERS + transformers)
    assert forecast["test_period"]["days"] == 7
    assert set(forecast["meters"]) == {"seasonal_naive", "gradient_boosted"}
    assert forecast["chosen"]["meter"] in forecast["meters"]
    for level in ("meters", "transformers"):
        for figures in forecast[level].values():
            assert 0 < figures["mase"] < 2 and 0 < figures["rmae"] < 2, (level, figures)


def test_the_voltage_classifiers_were_trained_and_the_last_day_scored(
    summary: dict[str, Any],
) -> None:
    voltage, predicted = summary["training"]["voltage"], summary["training"]["predict_voltage"]
    models = {"seed_mlp", "full_mlp", "gradient_boosted_trees"}
    assert set(voltage["test"]) == models | {"persistence", "always_no_event"}
    assert voltage["chosen"] in models
    assert min(voltage["positives"].values()) >= 5
    for figures in voltage["test"].values():
        assert 0 <= figures["f1"] <= 1 and 0 <= figures["pr_auc"] <= 1, figures
    assert voltage["test"]["always_no_event"]["f1"] == 0  # the accuracy trap, for the table
    assert predicted["meters"] == HISTORY_METERS
    assert predicted["hours_scored"] == 24


def test_the_app_rate_is_printed_beside_the_sink_limit(summary: dict[str, Any]) -> None:
    limit = summary["sink_limit"]
    assert limit["client"] == "acsylla" and limit["readings"] > 0
    assert limit["rows"] in (2 * limit["readings"], 2 * limit["readings"] - 1)
    assert limit["readings_per_s"] > 0 and summary["readings_per_s"] > 0
    assert limit["app_over_sink_limit"] == pytest.approx(
        summary["readings_per_s"] / limit["readings_per_s"], rel=0.01
    )
