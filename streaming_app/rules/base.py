"""The vocabulary every validation rule speaks.

A rule is a frozen pydantic config (its parameters, an ``id`` and an ``action``) plus
per-meter runtime state that the engine owns and hands in. Every rule answers the same
verbs:

- ``new_state()``: the empty state for a meter never seen;
- ``evaluate(reading, state, context) -> list[Finding]``: judge one reading and update
  the meter's state in place;
- ``expire(meter_id, state, watermark_ms) -> list[Finding]``: event-time timers (a meter
  gone silent); ``deadline_ms(state)`` says when the next one is due;
- ``suspects_time(reading, received_ms)``: whether its event time must not move any
  watermark;
- ``dump_state(state)`` / ``load_state(data)``: JSON-ready form of the state.

Rules never read a clock: time comes from the reading, or from the watermark in the
context or the argument. A rule that rejects a reading leaves its state as it was, so a
rejected reading never becomes a reference for later ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from smart_meter.reading import Reading
from streaming_app.rules.events import Event

StateT = TypeVar("StateT")

RULE_TYPES: dict[str, type[Rule[Any]]] = {}
"""Every concrete rule class, by ``kind``; filled as rule modules are imported."""


class Action(StrEnum):
    """What a failed rule does to the reading."""

    FLAG = "flag"  # stored with the rule id among its failed rules
    REJECT = "reject"  # not stored with the valid readings; routed aside with the reason


@dataclass(frozen=True, slots=True)
class Interval:
    """A reading against its meter's *reference*: the newest earlier reading that no rule
    rejected and no duplicate halted. The engine works it out once per reading, for every
    rule; ``newer`` is false for a reading at or before the reference (late)."""

    previous_ts_ms: int
    previous_wh: float
    ts_ms: int
    wh: float

    @property
    def newer(self) -> bool:
        return self.ts_ms > self.previous_ts_ms

    @property
    def duration_ms(self) -> int:
        return self.ts_ms - self.previous_ts_ms

    @property
    def energy_wh(self) -> float:
        """The register difference (negative when the register fell)."""
        return self.wh - self.previous_wh


@dataclass(frozen=True, slots=True)
class Context:
    """What the engine knows besides the reading.

    ``watermark_ms`` is the reading's *meter's* event-time watermark before it (its newest
    trusted event time minus the out-of-orderness bound): lateness is judged per meter, so
    no other meter's clock can make this one late. ``received_ms`` is when the platform
    received the reading (the JetStream message's stored timestamp: the same on every
    redelivery), ``None`` when unknown. ``findings`` are what the rules before this one
    found about the reading (a rollover's energy). ``interval`` is the reading against its
    meter's reference reading (``None`` for the meter's first)."""

    watermark_ms: int | None = None
    findings: tuple[Finding, ...] = ()
    received_ms: int | None = None
    interval: Interval | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """What one rule says about one reading (or, from a timer, about a meter).

    ``action`` is ``None`` for a notice: the reading does not fail the rule, the finding only
    carries an event. ``halt`` stops later rules from seeing the reading (a duplicate).
    """

    rule_id: str
    reason: str
    action: Action | None = None
    event: Event | None = None
    halt: bool = False

    @property
    def failed(self) -> bool:
        """Whether the reading failed the rule."""
        return self.action is not None


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def _state_adapter(state_type: type[Any]) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(state_type)
    if adapter is None:
        adapter = _ADAPTERS[state_type] = TypeAdapter(state_type)
    return adapter


class Stateful(BaseModel, Generic[StateT]):
    """What rules and aggregators share: frozen parameters, an id, and per-meter state
    that the engine owns (made, saved and restored through these verbs)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ClassVar[str] = ""
    state_type: ClassVar[type[Any]]

    id: str = Field(default="", description="id in quality flags and saved state; the kind")

    @model_validator(mode="before")
    @classmethod
    def _default_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("id"):
            return {**data, "id": cls.kind}
        return data

    def new_state(self) -> StateT:
        """The state of a meter not seen yet."""
        state: StateT = self.state_type()
        return state

    def dump_state(self, state: StateT) -> Any:
        """The state as JSON-ready data."""
        return _state_adapter(self.state_type).dump_python(state, mode="json")

    def load_state(self, data: Any) -> StateT:
        """A state from :meth:`dump_state` output."""
        state: StateT = _state_adapter(self.state_type).validate_python(data)
        return state


class Aggregator(Stateful[StateT]):
    """What runs after every rule, on each reading no rule rejected and no duplicate halted:
    it never judges a reading; it keeps figures (running totals) in the meter's state."""

    def add(self, reading: Reading, state: StateT, findings: Sequence[Finding]) -> list[Any]:
        """Count the reading (``findings``: what the rules said of it); figures it closed."""
        raise NotImplementedError

    def running(self, meter_id: str, state: StateT) -> Any | None:
        """The figures in progress (``None`` before the meter's first counted reading)."""
        raise NotImplementedError


class Rule(Stateful[StateT]):
    """Base of every rule: frozen parameters, an id, a flag/reject switch."""

    supported_actions: ClassVar[frozenset[Action]] = frozenset(Action)

    action: Action = Field(default=Action.FLAG, description="flag or reject a failing reading")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if cls.__dict__.get("kind"):
            RULE_TYPES[cls.kind] = cls

    @field_validator("action")
    @classmethod
    def _supported_action(cls, action: Action) -> Action:
        if action not in cls.supported_actions:
            raise ValueError(f"{cls.kind} supports {sorted(cls.supported_actions)}, not {action}")
        return action

    def evaluate(self, reading: Reading, state: StateT, context: Context) -> list[Finding]:
        """Judge one reading; update ``state`` in place."""
        raise NotImplementedError

    def expire(self, meter_id: str, state: StateT, watermark_ms: int) -> list[Finding]:
        """Fire the event-time timers due at ``watermark_ms``; none by default."""
        return []

    def deadline_ms(self, state: StateT) -> int | None:
        """Watermark at which ``expire`` has something to say; ``None``: no timer."""
        return None

    def suspects_time(self, reading: Reading, received_ms: int | None) -> bool:
        """Whether the reading's event time is not to be trusted to move any watermark (a
        clock off the grid, a time in the future). A function of the reading and the time
        it was received alone, so that a reading skipped on recovery moves the watermarks
        exactly as it did the first time."""
        return False

    def fail(self, reason: str, event: Event | None = None, *, halt: bool = False) -> Finding:
        """A finding that fails the reading with this rule's action."""
        return Finding(self.id, reason, self.action, event, halt)

    def notice(self, reason: str, event: Event | None = None, *, halt: bool = False) -> Finding:
        """A finding that carries an event but does not fail the reading."""
        return Finding(self.id, reason, None, event, halt)

    @property
    def rejects(self) -> bool:
        """Whether a failing reading is rejected (and must not enter the state)."""
        return self.action is Action.REJECT
