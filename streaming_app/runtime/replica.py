"""One replica: keeps its leases, runs a worker per owned partition, rebalances.

Every ``renew_interval_s`` it sends its heartbeat and renews its leases (a task of its
own), and looks at who is alive and who holds what, then releases extras (the worker
finishes its batch, saves, and only then is the lease deleted) and claims free
partitions up to its fair share.
A renewal that comes late still keeps the lease if nobody else took it (a slow replica
slows down, it does not give its partitions away); a worker whose partition another
replica now holds ends quietly (that replica continues from the saved state, and the
state store refuses this one's writes); any other failure of a worker stops the replica
with that error.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress

from nats.errors import Error as NatsError

from smart_meter.nats_errors import is_transient
from streaming_app.runtime.commit import BatchAbandonedError
from streaming_app.runtime.fencing import LeaseLostError
from streaming_app.runtime.ownership import Coordinator, Lease, plan
from streaming_app.runtime.worker import DeliveryGapError, PartitionWorker, WorkerContext

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 10.0


class Replica:
    """Owns partitions through leases and runs their workers."""

    def __init__(self, coordinator: Coordinator, context: WorkerContext) -> None:
        self.coordinator = coordinator
        self.context = context
        self.settings = context.settings
        self.leases: dict[int, Lease] = {}
        self.workers: dict[int, tuple[PartitionWorker, asyncio.Task[None]]] = {}
        self.retiring: dict[int, asyncio.Task[None]] = {}
        self.failure: BaseException | None = None
        self._wake = asyncio.Event()
        self._next_progress = time.monotonic() + PROGRESS_EVERY_S

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop``, idle exit or a worker failure; then stop every worker cleanly."""
        renewing = asyncio.create_task(self._keep_leases(), name="leases")
        renewing.add_done_callback(self._lease_keeper_ended)
        try:
            while not stop.is_set() and self.failure is None and not self._idle():
                try:
                    await self._rebalance()
                except (NatsError, TimeoutError) as error:
                    log.warning("rebalancing skipped this round: %r", error)
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._woken(stop), self.settings.renew_interval_s)
        finally:
            await self._shutdown()
            renewing.cancel()
        if self.failure is not None:
            raise self.failure

    async def _keep_leases(self) -> None:
        """Heartbeat and renewals on their own task: rebalancing never delays them."""
        last = time.monotonic()
        while True:
            sent = time.monotonic()
            self._warn_if_late(sent - last)
            last = sent
            try:
                await self.coordinator.heartbeat()
            except (NatsError, TimeoutError) as error:
                log.warning("heartbeat failed: %r", error)
            await self._renew_all()
            pause_s = self.settings.renew_interval_s - (time.monotonic() - sent)
            await asyncio.sleep(max(pause_s, 0.0))

    def _warn_if_late(self, gap_s: float) -> None:
        """A starved replica renews late: say so (the leases survive unless claimed)."""
        if gap_s > self.settings.lease_ttl_s / 2:
            ttl_s = self.settings.lease_ttl_s
            log.warning("renewals %.1f s apart (lease TTL %.1f s): CPU-starved?", gap_s, ttl_s)

    def _lease_keeper_ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.failure = self.failure or task.exception()
            self._wake.set()

    def _idle(self) -> bool:
        limit_s = self.settings.idle_exit_s
        return limit_s is not None and self.context.activity.idle_s() > limit_s

    async def _woken(self, stop: asyncio.Event) -> None:
        waits = [asyncio.create_task(stop.wait()), asyncio.create_task(self._wake.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()

    async def _rebalance(self) -> None:
        members, holders = await self.coordinator.view()
        fixed = None if self.settings.partitions == "auto" else self.settings.partitions
        owned = set(self.leases)
        todo = plan(
            self.settings.replica_id, self.context.partitions, fixed, members, holders, owned
        )
        for partition in todo.release:
            if partition not in self.retiring:
                self.retiring[partition] = asyncio.create_task(self._retire(partition))
        for partition in todo.claim:
            lease = await self.coordinator.claim(partition)
            if lease is not None:
                self._start(partition, lease)
        self._report_progress()

    def _report_progress(self) -> None:
        if time.monotonic() < self._next_progress:
            return
        self._next_progress = time.monotonic() + PROGRESS_EVERY_S
        stats = self.context.committer.stats
        log.info(
            "progress: owned %s, %d batches, %d messages, %d sink retries, %d unconfirmed acks",
            sorted(self.leases),
            stats.batches,
            stats.messages,
            stats.sink_retries,
            stats.ack_failures,
        )

    async def _renew_all(self) -> None:
        leases = [lease for lease in self.leases.values() if not lease.lost]
        results = await asyncio.gather(*(self.coordinator.renew(lease) for lease in leases))
        for lease, renewed in zip(leases, results, strict=True):
            if not renewed:
                log.warning("partition %d: lease held by another; worker stops", lease.partition)

    def _start(self, partition: int, lease: Lease) -> None:
        self.leases[partition] = lease
        worker = PartitionWorker(self.context, partition, lease)
        task = asyncio.create_task(worker.run(), name=f"partition-{partition}")
        task.add_done_callback(lambda done: self._ended(partition, done))
        self.workers[partition] = (worker, task)
        log.info("partition %d: claimed (owned now %s)", partition, sorted(self.leases))

    def _ended(self, partition: int, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if isinstance(error, LeaseLostError | BatchAbandonedError | DeliveryGapError) or (
            error is not None and is_transient(error)
        ):
            log.warning("partition %d: %r; handing it back", partition, error)
            if partition not in self.retiring:  # hand back whatever of the lease is left
                self.retiring[partition] = asyncio.create_task(self._retire(partition))
        elif error is not None:
            log.error("partition %d: worker failed: %r", partition, error)
            self.failure = self.failure or error
            self._wake.set()

    async def _retire(self, partition: int) -> None:
        """Finish the batch in hand, then hand the partition back."""
        try:
            entry = self.workers.pop(partition, None)
            if entry is not None:
                worker, task = entry
                worker.stop.set()
                await asyncio.wait([task])
            lease = self.leases.pop(partition, None)
            if lease is not None and not lease.lost:
                try:
                    await self.coordinator.release(lease)
                except (NatsError, TimeoutError) as error:  # the lease then expires on its own
                    log.warning("partition %d: release failed (%r)", partition, error)
            log.info("partition %d: released (owned now %s)", partition, sorted(self.leases))
        finally:
            self.retiring.pop(partition, None)

    async def _shutdown(self) -> None:
        """Stop every worker after its batch (leases still renewed meanwhile), release, leave."""
        for worker, _ in self.workers.values():
            worker.stop.set()
        pending = {task for _, task in self.workers.values()} | set(self.retiring.values())
        if pending:
            await asyncio.wait(pending)
        for lease in list(self.leases.values()):
            if not lease.lost:
                await self.coordinator.release(lease)
        self.leases.clear()
        await self.coordinator.leave()
