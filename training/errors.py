"""What stops a training job, each said in one line with what to do about it."""

from __future__ import annotations


class TrainingError(Exception):
    """A job cannot run or finish; the message is the one line the user sees."""


class NoReadingsError(TrainingError):
    """No stored reading in the range asked for."""


class TooFewEventsError(TrainingError):
    """Too few labelled positives in some part of the split to train or measure."""

    def __init__(self, found: dict[str, int], needed: int, horizon_hours: int) -> None:
        self.found, self.needed = found, needed
        parts = ", ".join(f"{part} {count}" for part, count in found.items())
        super().__init__(
            f"too few labelled voltage events: found {parts} meter-hours with an event in the "
            f"next {horizon_hours} h, need {needed} in each part; train over more days or meters"
        )


class NoModelError(TrainingError):
    """Nothing trained yet where the job looks for a model."""

    def __init__(self, what: str, folder: object, command: str) -> None:
        super().__init__(f"no {what} model in {folder}: train one with `{command}`")


class FeatureSetMismatchError(TrainingError, ValueError):
    """A saved model was trained on other features than the ones it is given."""

    def __init__(self, model: str, expected: list[str], given: list[str]) -> None:
        self.expected, self.given = expected, given
        missing = sorted(set(expected) - set(given))
        extra = sorted(set(given) - set(expected))
        super().__init__(
            f"model {model} was trained on other features (missing {missing or 'none'}, "
            f"unexpected {extra or 'none'}, order may differ): retrain it with "
            "`python -m training voltage`"
        )
