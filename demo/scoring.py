"""Score the validator's findings against the fault injector's ground truth.

Each fault kind has a *detector*: the findings that should reveal it (a ``Gap`` for a
``missing`` meter, a ``RegisterEvent`` of kind ``reset`` for a ``reset``, a dead letter
for a ``malformed_*`` message, ...). Findings become :class:`Detection` objects with a
category (which detector, as the streaming app's event catalogue says) and a predicted
fault kind (:mod:`demo.detections`: kinds that share a detector are told apart where the
finding allows it: a late reading's distance behind the watermark, a run of equally
shifted timestamps, a gap shared by a transformer's meters).

A detection *explains* a record when they are on the same meter and overlap in event
time (within ``tolerance_ms``; dead letters: the very same bytes), and the record's kind
can cause that finding (:data:`demo.detections.EXPLAINERS`: its own kinds, plus side
effects such as the gap a dead-lettered reading leaves). Per fault kind:

- recall: records of the kind explained by a detection of the kind's category;
- precision: among detections predicted as the kind, those explaining a record of that
  kind, against those explaining no record at all (false positives). Detections that
  only explain records of other kinds (a gap left by a malformed message) or censored
  records are counted apart, as ``explained_by_other``, in neither.

Records the ends of the run cut short are *censored* (counted apart, not scored): a
zero run of 3 intervals at the end is no zero run yet. Dead letters are matched by the
bytes of the message, so a bad entry of a batch message is not (the injector sends
malformed readings as messages of their own).

Pure: events, dead letters and records in, a :class:`ScoreReport` out (a rich table
and JSON).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from rich.table import Table

from demo.detections import (
    CATEGORY,
    EXPLAINERS,
    DeadLetterLike,
    Detection,
    dead_letter_detections,
    detections_of,
)
from inject.faults import FaultKind, FaultRecord
from streaming_app.rules.events import Event


@dataclass(frozen=True)
class KindScore:
    """Precision and recall of one fault kind's detector."""

    kind: FaultKind
    truth: int  # ground-truth records
    detected: int  # records explained by a detection (true positives)
    findings: int  # detections predicted as this kind
    true_findings: int  # ... explaining a record of this kind
    explained_by_other: int  # ... explaining only records of other kinds
    false_positives: int  # ... explaining no record
    censored: int = 0  # records cut short by the run's ends: not counted

    @property
    def missed(self) -> int:
        """False negatives."""
        return self.truth - self.detected

    @property
    def recall(self) -> float | None:
        return self.detected / self.truth if self.truth else None

    @property
    def precision(self) -> float | None:
        judged = self.true_findings + self.false_positives
        return self.true_findings / judged if judged else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "truth": self.truth,
            "detected": self.detected,
            "missed": self.missed,
            "findings": self.findings,
            "true_findings": self.true_findings,
            "explained_by_other": self.explained_by_other,
            "false_positives": self.false_positives,
            "precision": self.precision,
            "recall": self.recall,
            "censored": self.censored,
        }


@dataclass(frozen=True)
class ScoreReport:
    """Scores per fault kind, and the findings no fault kind is scored on."""

    scores: tuple[KindScore, ...]
    unscored: Mapping[str, int] = field(default_factory=dict)  # e.g. Alert:window_energy

    def __getitem__(self, kind: FaultKind) -> KindScore:
        return next(score for score in self.scores if score.kind is kind)

    def to_dict(self) -> dict[str, Any]:
        return {"kinds": [s.to_dict() for s in self.scores], "unscored": dict(self.unscored)}

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2)

    def table(self, title: str = "Findings against the ground truth") -> Table:
        """The report as a rich table, one row per fault kind."""
        table = Table(title=title)
        for name in _COLUMNS:
            table.add_column(name, justify="left" if name == "kind" else "right")
        table.add_column("precision", justify="right")
        table.add_column("recall", justify="right")
        for s in self.scores:
            counts = (s.truth, s.detected, s.missed, s.censored, s.findings, s.explained_by_other)
            cells = [str(n) for n in (*counts, s.false_positives)]
            table.add_row(s.kind.value, *cells, _ratio(s.precision), _ratio(s.recall))
        return table


_COLUMNS = ("kind", "truth", "detected", "missed", "censored", "findings", "by other", "false +")


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


# ---------------------------------------------------------------- matching and scoring


class _Truth:
    """Records indexed by meter, and malformed ones by their exact bytes.

    A record that touches the first or last event time of the run (``run``) is censored:
    the run cut it short, or the reading that reveals it (the one before a gap, the
    in-band one after a voltage episode) lies outside the run. It explains findings but
    is not counted.
    """

    def __init__(
        self,
        records: Sequence[FaultRecord],
        tolerance_ms: int,
        run: tuple[datetime, datetime] | None,
    ) -> None:
        self.records = list(records)
        self.tolerance_ms = tolerance_ms
        self.spans = [(_ms(r.start), _ms(r.end)) for r in self.records]
        self.censored = _censored(self.spans, run)
        self.by_meter: dict[str, list[int]] = defaultdict(list)
        self.by_payload: dict[bytes, list[int]] = defaultdict(list)
        for index, record in enumerate(self.records):
            self.by_meter[record.meter_id].append(index)
            payload = record.details.get("payload")
            if isinstance(payload, str):
                self.by_payload[payload.encode()].append(index)

    def explained(self, detection: Detection) -> list[int]:
        """Indexes of the records ``detection`` explains (a dead letter: one record with its
        bytes, each record once, as two malformed messages may be byte-identical)."""
        if detection.payload is not None:
            waiting = self.by_payload.get(detection.payload)
            return [waiting.pop(0)] if waiting else []
        kinds, slack = EXPLAINERS[detection.category], self.tolerance_ms
        return [
            i
            for i in self.by_meter.get(detection.meter_id or "", ())
            if self.records[i].kind in kinds
            and self.spans[i][0] - slack <= detection.end_ms
            and detection.start_ms <= self.spans[i][1] + slack
        ]

    def outcome(self, detection: Detection, explained: list[int]) -> str:
        """``true`` (explains a counted record of its kind), ``other`` or ``false``."""
        own = (self.records[i].kind is detection.kind for i in explained if i not in self.censored)
        return "true" if any(own) else ("other" if explained else "false")


def _censored(spans: Sequence[tuple[int, int]], run: tuple[datetime, datetime] | None) -> set[int]:
    """Indexes of the spans that touch the run's first or last event time."""
    if run is None:
        return set()
    first_ms, last_ms = _ms(run[0]), _ms(run[1])
    return {i for i, (start, end) in enumerate(spans) if start <= first_ms or end >= last_ms}


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def score(
    records: Sequence[FaultRecord],
    events: Iterable[Event],
    dead_letters: Iterable[DeadLetterLike],
    interval_s: int,
    *,
    run: tuple[datetime, datetime] | None = None,
    tolerance_ms: int | None = None,
    transformer_of: Mapping[str, str] | None = None,
) -> ScoreReport:
    """Score findings (validator events, timer events, dead letters) against records.

    ``run`` (first and last interval's event time) censors the records its ends cut;
    ``tolerance_ms`` (default: one interval) widens every record's span for matching;
    ``transformer_of`` (meter → transformer) lets a shared gap count as a dark transformer.
    """
    truth = _Truth(records, interval_s * 1000 if tolerance_ms is None else tolerance_ms, run)
    first_of_payload = {p: truth.records[i[0]] for p, i in truth.by_payload.items()}
    found, unscored = detections_of(events, interval_s, transformer_of)
    found += dead_letter_detections(dead_letters, first_of_payload)
    detected: set[int] = set()
    tally: dict[FaultKind, Counter[str]] = defaultdict(Counter)
    for detection in found:
        explained = truth.explained(detection)
        detected.update(
            i for i in explained if CATEGORY[truth.records[i].kind] == detection.category
        )
        tally[detection.kind][truth.outcome(detection, explained)] += 1
    return ScoreReport(_scores(truth, detected, tally), dict(sorted(unscored.items())))


def _scores(
    truth: _Truth, detected: set[int], tally: Mapping[FaultKind, Counter[str]]
) -> tuple[KindScore, ...]:
    counted = [i for i in range(len(truth.records)) if i not in truth.censored]
    totals = Counter(truth.records[i].kind for i in counted)
    hits = Counter(truth.records[i].kind for i in counted if i in detected)
    censored = Counter(truth.records[i].kind for i in truth.censored)
    return tuple(_kind_score(kind, totals, hits, censored, tally.get(kind)) for kind in FaultKind)


def _kind_score(
    kind: FaultKind,
    totals: Counter[FaultKind],
    hits: Counter[FaultKind],
    censored: Counter[FaultKind],
    outcomes: Counter[str] | None,
) -> KindScore:
    outcomes = outcomes or Counter()
    return KindScore(
        kind,
        totals[kind],
        hits[kind],
        outcomes.total(),
        outcomes["true"],
        outcomes["other"],
        outcomes["false"],
        censored[kind],
    )
