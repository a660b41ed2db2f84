"""What stops the forecast job, each said in one line with what to do about it."""

from __future__ import annotations

from datetime import date

from training.errors import TrainingError


class ForecastJobError(TrainingError):
    """The forecast job cannot run; the message is the one line the user sees."""


class NoReadingsError(ForecastJobError):
    """No stored reading in the window the job reads."""

    def __init__(self, where: str) -> None:
        self.where = where
        super().__init__(
            f"no readings {where}: nothing to forecast from (store readings with the "
            "streaming app, or check --to, --meters and the keyspace)"
        )


class TooLittleHistoryError(ForecastJobError):
    """Fewer local days of half-hourly energy than scoring and fitting need."""

    def __init__(self, found_days: int, needed_days: int, first: date, last: date) -> None:
        self.found_days = found_days
        self.needed_days = needed_days
        super().__init__(
            f"too little history to forecast: {found_days} local days of half-hourly energy "
            f"found ({first}..{last}), {needed_days} needed ({needed_days - 7} to fit and "
            "scale MASE, then 7 to score on)"
        )
