"""Locust injectors that publish meter readings to NATS JetStream (not HTTP).

``inject/locustfile.py`` is the entry point::

    locust -f inject/locustfile.py --headless -u 20 -r 5 -t 1m -H nats://127.0.0.1:4222

Modules: :mod:`~inject.loadtest.bridge` (gevent ↔ asyncio), :mod:`~inject.loadtest.jetstream`
(asyncio publishing), :mod:`~inject.loadtest.meters` (each user's meters),
:mod:`~inject.loadtest.options`, :mod:`~inject.loadtest.user`, :mod:`~inject.loadtest.listeners`.
"""
