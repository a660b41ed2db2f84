"""The validator's findings as detections of the injector's fault kinds.

The streaming app's catalogue gives each finding's :class:`Evidence` (which
:class:`Detector`, which meter, over which span); this module maps each detector to the
fault kinds it reveals (:data:`CATEGORY`, :data:`EXPLAINERS`) and, where several kinds
share a detector, tells them apart as far as the evidence allows (:data:`PICKERS`: a late
reading's distance behind the watermark, a run of equally shifted timestamps, a gap
shared by a transformer's meters, an episode's direction). Dead letters are detections
of the malformed kinds, classified by their :class:`ReadingErrorKind`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from inject.faults import MALFORMED_KINDS, FaultKind, FaultRecord
from smart_meter.codec import ReadingErrorKind
from streaming_app.catalogue import Detector, Evidence, gather_evidence
from streaming_app.rules.events import Event, VoltageDirection

K, D, E = FaultKind, Detector, ReadingErrorKind
CATEGORY: dict[FaultKind, Detector] = {
    K.MISSING: D.GAP,
    K.TRANSFORMER_DARK: D.GAP,
    K.LATE: D.LATE,
    K.OUT_OF_ORDER: D.LATE,
    K.DUPLICATE_IDENTICAL: D.DUPLICATE_IDENTICAL,
    K.DUPLICATE_CONFLICTING: D.DUPLICATE_CONFLICTING,
    K.IRREGULAR_SAMPLING: D.OFF_GRID,
    K.CLOCK_SKEW: D.OFF_GRID,
    K.REGISTER_DECREASE: D.REGISTER_DECREASE,
    K.RESET: D.REGISTER_RESET,
    K.ROLLOVER: D.REGISTER_ROLLOVER,
    K.SPIKE: D.SPIKE,
    K.FLAT_LINE: D.FLAT_LINE,
    K.ZERO_RUN: D.ZERO_RUN,
    K.VOLTAGE_SAG: D.VOLTAGE_TRANSIENT,
    K.VOLTAGE_SWELL: D.VOLTAGE_TRANSIENT,
    K.SUSTAINED_UNDERVOLTAGE: D.VOLTAGE_SUSTAINED,
    K.SUSTAINED_OVERVOLTAGE: D.VOLTAGE_SUSTAINED,
    **dict.fromkeys(MALFORMED_KINDS, D.DEAD_LETTER),
}
"""The detector whose findings reveal each fault kind."""

_SHIFTED = frozenset({K.IRREGULAR_SAMPLING, K.CLOCK_SKEW})
_HELD = frozenset({K.LATE, K.OUT_OF_ORDER})
SIDE_EFFECTS: dict[Detector, frozenset[FaultKind]] = {
    # a dead-lettered or too-late reading leaves its slot empty; an early timestamp
    # (negative offset) covers the slot before its own, leaving its own empty
    D.GAP: frozenset(MALFORMED_KINDS | _HELD | _SHIFTED),
    # a timestamp behind the clock is behind the watermark too
    D.LATE: _SHIFTED,
}
EXPLAINERS: dict[Detector, frozenset[FaultKind]] = {
    detector: frozenset(k for k, c in CATEGORY.items() if c == detector)
    | SIDE_EFFECTS.get(detector, frozenset())
    for detector in set(CATEGORY.values())
}
"""The fault kinds that can cause a detector's findings: its own, and side effects."""

MALFORMED: dict[ReadingErrorKind, FaultKind] = {
    E.NOT_JSON: K.MALFORMED_JSON,
    E.NOT_AN_OBJECT: K.MALFORMED_JSON,
    E.UNKNOWN_VERSION: K.MALFORMED_UNKNOWN_VERSION,
    E.MISSING_FIELD: K.MALFORMED_MISSING_FIELD,
    E.WRONG_TYPE: K.MALFORMED_WRONG_TYPE,
    E.NOT_FINITE: K.MALFORMED_NAN,
    E.ABSURD_VALUE: K.MALFORMED_ABSURD_VALUE,
    # refusals the injector has no kind of its own for
    E.NAIVE_TIME: K.MALFORMED_ABSURD_VALUE,
    E.UNKNOWN_FIELD: K.MALFORMED_ABSURD_VALUE,
    E.INVALID_VALUE: K.MALFORMED_ABSURD_VALUE,
    E.WRONG_PARTITION: K.MALFORMED_ABSURD_VALUE,
}
"""The malformed kind each kind of refusal suggests (for dead letters no record explains)."""


def malformed_kind(kind: ReadingErrorKind) -> FaultKind:
    return MALFORMED[kind]


class DeadLetterLike(Protocol):
    """What scoring needs of a dead letter (:class:`streaming_app.processed.DeadLetter`)."""

    @property
    def data(self) -> bytes: ...
    @property
    def kind(self) -> ReadingErrorKind: ...


@dataclass(frozen=True, slots=True)
class Detection:
    """One finding, as a detector: the fault kind it suggests, meter, event-time span
    (inclusive), and a dead letter's bytes."""

    category: Detector
    kind: FaultKind
    meter_id: str | None
    start_ms: int
    end_ms: int
    payload: bytes | None = None


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What telling kinds apart needs besides the evidence."""

    interval_ms: int
    transformer_of: Mapping[str, str]


Picker = Callable[[list[Evidence], RunFacts], list[Detection]]


def _detection(item: Evidence, kind: FaultKind) -> Detection:
    return Detection(item.detector, kind, item.meter_id, item.start_ms, item.end_ms)


def _pick_gaps(gaps: list[Evidence], facts: RunFacts) -> list[Detection]:
    """A gap shared (same start) by at least half of a transformer's meters is ``dark``."""
    transformer_of = facts.transformer_of
    sizes = Counter(transformer_of.values())
    shared = Counter((transformer_of.get(g.meter_id, ""), g.start_ms) for g in gaps)

    def kind(gap: Evidence) -> FaultKind:
        transformer = transformer_of.get(gap.meter_id, "")
        count = shared[transformer, gap.start_ms]
        dark = bool(transformer) and count >= max(2, sizes[transformer] / 2)
        return K.TRANSFORMER_DARK if dark else K.MISSING

    return [_detection(gap, kind(gap)) for gap in gaps]


def _pick_late(late: list[Evidence], facts: RunFacts) -> list[Detection]:
    """Held back more than one and a half intervals: late; else out of order."""
    limit_ms = facts.interval_ms * 3 // 2
    return [_detection(e, K.LATE if e.measure > limit_ms else K.OUT_OF_ORDER) for e in late]


def _pick_off_grid(shifted: list[Evidence], facts: RunFacts) -> list[Detection]:
    """Off-grid readings one interval apart with one offset: a skewed clock; else single."""
    runs: list[list[Evidence]] = []
    for item in sorted(shifted, key=lambda e: (e.meter_id, e.start_ms)):
        last = runs[-1][-1] if runs else None
        follows = (
            last is not None
            and last.meter_id == item.meter_id
            and last.measure == item.measure
            and item.start_ms - last.start_ms == facts.interval_ms
        )
        if follows:
            runs[-1].append(item)
        else:
            runs.append([item])
    return [
        Detection(
            D.OFF_GRID,
            K.CLOCK_SKEW if len(run) > 1 else K.IRREGULAR_SAMPLING,
            run[0].meter_id,
            run[0].start_ms,
            run[-1].start_ms,
        )
        for run in runs
    ]


def _by_direction(under: FaultKind, over: FaultKind) -> Picker:
    """Episodes out of the band below (or on both sides) as ``under``, above as ``over``."""

    def pick(episodes: list[Evidence], facts: RunFacts) -> list[Detection]:
        return [
            _detection(e, over if e.variant == VoltageDirection.OVER else under) for e in episodes
        ]

    return pick


PICKERS: dict[Detector, Picker] = {
    D.GAP: _pick_gaps,
    D.LATE: _pick_late,
    D.OFF_GRID: _pick_off_grid,
    D.VOLTAGE_TRANSIENT: _by_direction(K.VOLTAGE_SAG, K.VOLTAGE_SWELL),
    D.VOLTAGE_SUSTAINED: _by_direction(K.SUSTAINED_UNDERVOLTAGE, K.SUSTAINED_OVERVOLTAGE),
}
"""How detectors shared by several fault kinds tell them apart; the others reveal one."""

SOLE_KIND: dict[Detector, FaultKind] = {
    detector: next(k for k, c in CATEGORY.items() if c == detector)
    for detector in set(CATEGORY.values()) - set(PICKERS)
    if sum(1 for c in CATEGORY.values() if c == detector) == 1
}


def _pick(detector: Detector, items: list[Evidence], facts: RunFacts) -> list[Detection]:
    picker = PICKERS.get(detector)
    if picker is not None:
        return picker(items, facts)
    return [_detection(item, SOLE_KIND[detector]) for item in items]


def detections_of(
    events: Iterable[Event],
    interval_s: int,
    transformer_of: Mapping[str, str] | None = None,
) -> tuple[list[Detection], Counter[str]]:
    """Every scored finding as a :class:`Detection`, and counts of the unscored ones."""
    evidence, unscored = gather_evidence(events)
    by_detector: dict[Detector, list[Evidence]] = defaultdict(list)
    for item in evidence:
        by_detector[item.detector].append(item)
    facts = RunFacts(interval_s * 1000, transformer_of or {})
    found = [d for det, items in by_detector.items() for d in _pick(det, items, facts)]
    return found, unscored


def dead_letter_detections(
    dead_letters: Iterable[DeadLetterLike], by_payload: Mapping[bytes, FaultRecord]
) -> list[Detection]:
    """A detection per dead letter: of the record with its bytes, else of its error kind."""
    detections = []
    for letter in dead_letters:
        record = by_payload.get(letter.data)
        kind = record.kind if record else malformed_kind(letter.kind)
        meter_id = record.meter_id if record else None
        detections.append(Detection(D.DEAD_LETTER, kind, meter_id, 0, 0, letter.data))
    return detections
