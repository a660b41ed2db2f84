"""Run asyncio coroutines (nats-py) from gevent greenlets (Locust).

Locust monkey-patches the standard library for gevent as soon as it is imported:
``threading.Thread`` then makes greenlets, ``threading.Lock`` is a gevent lock,
``selectors.DefaultSelector`` is gevent's selector and ``socket`` is gevent's. nats-py
needs a running asyncio event loop. Running that loop *inside* the gevent hub (a
greenlet that steps ``loop.run_until_complete``, or a patched selector) makes two
schedulers take turns on one thread: every publish waits for the other scheduler's
turn, and one blocking call stalls both. So each Locust process runs exactly one
asyncio loop on a dedicated **real OS thread**, and the two worlds meet only at two
thread-safe doors, one in each direction:

* gevent → asyncio: :meth:`asyncio.AbstractEventLoop.call_soon_threadsafe` schedules
  the coroutine as a task on the loop (it wakes the loop through its self-pipe).
* asyncio → gevent: when the task is done, its outcome is handed to the gevent hub with
  ``hub.loop.run_callback_threadsafe`` (gevent ≥ 21.1; wakes the hub through an
  ``async`` watcher). That callback runs *in the hub's thread* and settles a
  :class:`gevent.event.AsyncResult`, so a greenlet waits with ``AsyncResult.get()``:
  it yields to the hub, and every other Locust user keeps running meanwhile.

What is deliberately avoided: :func:`asyncio.run_coroutine_threadsafe` returns a
``concurrent.futures.Future`` whose condition variable is built from the patched,
gevent-owned ``threading`` locks, which would then be used from the loop thread; and
``Future.result()`` would block the whole hub, not one greenlet.

The thread comes from a private one-thread :class:`gevent.threadpool.ThreadPool`, whose
workers are real threads started with the unpatched ``start_new_thread`` (not the
hub's shared pool, which gevent's DNS resolver uses). The loop gets the unpatched
epoll selector (``gevent.monkey.get_original``), so it blocks in the kernel on its own
thread, never in gevent. Name resolution on the loop is done inline with the original
``getaddrinfo``: asyncio would otherwise send it to a ``ThreadPoolExecutor`` whose
(patched, green) threads would need a hub that never runs in the loop thread.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar, cast

import gevent  # type: ignore[import-untyped]
import gevent.event  # type: ignore[import-untyped]
import gevent.monkey  # type: ignore[import-untyped]
import gevent.threadpool  # type: ignore[import-untyped]

T = TypeVar("T")

_original_selector = gevent.monkey.get_original("selectors", "DefaultSelector")
_original_getaddrinfo = gevent.monkey.get_original("socket", "getaddrinfo")


class _NativeLoop(asyncio.SelectorEventLoop):
    """A selector loop on the unpatched epoll; resolves names inline (see module doc)."""

    def __init__(self) -> None:
        super().__init__(selector=_original_selector())

    async def getaddrinfo(  # type: ignore[override]
        self,
        host: bytes | str | None,
        port: bytes | str | int | None,
        *,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> list[tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[Any, ...]]]:
        return cast(
            list[tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[Any, ...]]],
            _original_getaddrinfo(host, port, family, type, proto, flags),
        )


class Pending(Generic[T]):
    """A coroutine running on the loop thread; ``get()`` blocks only the calling greenlet."""

    def __init__(self, result: Any) -> None:
        self._result = result

    def get(self, timeout_s: float | None = None) -> T:
        """The coroutine's value, or its exception re-raised in this greenlet."""
        return cast(T, self._result.get(timeout=timeout_s))

    def ready(self) -> bool:
        return bool(self._result.ready())


class AsyncioThread:
    """One asyncio event loop on a dedicated OS thread, driven from gevent greenlets."""

    def __init__(self) -> None:
        self._hub = gevent.get_hub()
        self.loop = _NativeLoop()
        self._pool = gevent.threadpool.ThreadPool(1)
        self._finished = self._pool.spawn(self._run_forever)

    def _run_forever(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    def submit(self, coro: Coroutine[Any, Any, T]) -> Pending[T]:
        """Start ``coro`` on the loop thread; returns at once with a gevent-waitable handle."""
        result = gevent.event.AsyncResult()
        self.loop.call_soon_threadsafe(self._start, coro, result)
        return Pending(result)

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float | None = None) -> T:
        """Run ``coro`` on the loop thread and wait for it, yielding to other greenlets."""
        return self.submit(coro).get(timeout_s)

    def _start(self, coro: Coroutine[Any, Any, T], result: Any) -> None:
        """On the loop thread: run the coroutine as a task, report its end to the hub."""
        task = self.loop.create_task(coro)
        task.add_done_callback(lambda done: self._report(done, result))

    def _report(self, task: asyncio.Task[Any], result: Any) -> None:
        """On the loop thread: read the outcome here, settle it in the hub's thread."""
        settle: Callable[..., None]
        value: object
        if task.cancelled():
            settle, value = result.set_exception, asyncio.CancelledError()
        elif (error := task.exception()) is not None:
            settle, value = result.set_exception, error
        else:
            settle, value = result.set, task.result()
        self._hub.loop.run_callback_threadsafe(settle, value)

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop the loop (tasks still running are abandoned) and wait for its thread."""
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._finished.get(timeout=timeout_s)
        self._pool.kill()
