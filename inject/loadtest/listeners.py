"""Locust event listeners of the injector: options, end of a bounded run, clean shutdown.

With ``--intervals N`` each user stops after N intervals and tells the master (or, in a
single process, itself) with the custom message ``meter_user_done``; once as many users
are done as the run asked for (``-u``), the run ends as if ``--run-time`` had expired.
The count of readings is then final, whatever the machine's speed.
"""

from __future__ import annotations

from typing import Any

import gevent  # type: ignore[import-untyped]
from locust.env import Environment
from locust.event import Events
from locust.runners import Runner, WorkerRunner

from inject.loadtest.options import add_arguments
from inject.loadtest.user import USER_DONE_MESSAGE, ProcessSession


class FinishedUsers:
    """On the master or single process: counts users done and ends the run after the last."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.done = 0

    def reset(self, **_: Any) -> None:
        self.done = 0

    def on_user_done(self, environment: Environment, msg: Any, **_: Any) -> None:
        self.done += int(msg.data)
        runner = environment.runner
        if runner is not None and self.done >= runner.target_user_count:
            gevent.spawn(_end_run, environment, runner)


def _end_run(environment: Environment, runner: Runner) -> None:
    options = environment.parsed_options
    if options is None or options.headless or getattr(options, "autostart", False):
        runner.quit()
    else:
        runner.stop()  # web UI: stop this test, keep the UI up for the next


def _on_init(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    if runner is None or isinstance(runner, WorkerRunner):
        return
    finished = FinishedUsers(environment)
    runner.register_message(USER_DONE_MESSAGE, finished.on_user_done)
    environment.events.test_start.add_listener(finished.reset)  # type: ignore[no-untyped-call]


def install(events: Events) -> None:
    """Register every listener of the injector on Locust's ``events``."""
    # locust's EventHook.add_listener has no annotations
    events.init_command_line_parser.add_listener(add_arguments)  # type: ignore[no-untyped-call]
    events.init.add_listener(_on_init)  # type: ignore[no-untyped-call]
    events.quitting.add_listener(ProcessSession.close_current)  # type: ignore[no-untyped-call]
