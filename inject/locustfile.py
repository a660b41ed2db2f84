"""Locust load on NATS JetStream: every user is a data concentrator sending meter readings.

Single process (stats rows ``publish batch`` = messages, ``readings`` = readings/s)::

    locust -f inject/locustfile.py --headless -u 20 -r 5 -t 1m -H nats://127.0.0.1:4222

Distributed: more workers, more meters, more load (options go to the master only)::

    locust -f inject/locustfile.py --master --headless -u 40 -r 10 -t 1m --expect-workers 2
    locust -f inject/locustfile.py --worker --master-host 127.0.0.1     # once per replica

Injector options (``--meters-per-user``, ``--batch-size``, ``--intervals``,
``--speedup``, ``--meter-prefix`` …): :mod:`inject.loadtest.options` (Locust's ``--help``
is printed before the locustfile is loaded, so it does not list them).
How gevent (Locust) drives asyncio (nats-py): :mod:`inject.loadtest.bridge`.
"""

from __future__ import annotations

from locust import events

from inject.loadtest.listeners import install
from inject.loadtest.user import MeterReadingsUser

__all__ = ["MeterReadingsUser"]

install(events)
