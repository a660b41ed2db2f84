"""The streaming app's runtime: how a replica turns a partition's messages into stored
results exactly once.

Read in this order: :mod:`~streaming_app.runtime.app` (wiring a replica),
:mod:`~streaming_app.runtime.replica` (which partitions it owns),
:mod:`~streaming_app.runtime.worker` (the per-partition loop, top to bottom),
:mod:`~streaming_app.runtime.batching` (messages to a processed batch, no I/O) and
:mod:`~streaming_app.runtime.commit` (the one place that orders durability).

The exactly-once story
----------------------

*Input.* Readings arrive on a JetStream stream, one subject per partition; a meter is
always in the same partition, so its readings keep their order. Each partition has one
durable pull consumer with explicit acks and ``max_ack_pending`` equal to the fetch size:
one batch is outstanding at a time, and a redelivery cannot overtake newer messages.

*State.* A partition's state lives in a JetStream key-value bucket: one key per meter
(every rule's and aggregator's state, with ``applied_seq``, the stream sequence of the
last message it includes) and one checkpoint per partition (the last stream sequence
committed, and the partition's watermark). Nothing else survives a crash.

*Commit order.* For every batch the worker builds a processed batch (decoded, validated,
aggregated: pure, no I/O) and hands it to the committer, which (1) writes every sink
(Cassandra rows, NATS events and dead letters, InfluxDB points), retrying transient
failures with the messages kept un-acked and nothing more pulled; (2) saves the changed
meter states, then the checkpoint; (3) acks the messages. Sinks are idempotent: every
row and message is keyed by natural keys (meter, event time), so writing a batch twice
leaves the same result.

*Crash anywhere.* Before (1) finishes: nothing was saved or acked; the messages come
back and are processed from the same state, giving the same rows. Between (1) and (2):
rows exist, state does not; the messages come back and rebuild the same rows. In the
middle of (2): some meters are saved *ahead* of the checkpoint; on resume they are
known (``applied_seq`` above the checkpoint) and their readings in the redelivered
messages are skipped, so no running total counts a reading twice, while the other
meters' readings are validated again. After (2) and before (3): the checkpoint covers
the messages; when they come back they are skipped whole. A lost ack is the same case.

*Resume.* A worker that claims a partition loads every meter state of it (a meter that
stays silent after a crash still needs its gap timer), fires the timers its checkpoint's
watermark had passed, and recreates the durable to start right after the larger of its
ack floor and the checkpoint, so it resumes at once, in stream order.

*Redelivery while in hand.* If a batch takes longer than ``ack_wait`` the committer
signals progress; a message delivered again anyway is recognised by its stream sequence
(at or below the newest one validated) and skipped.

*Ownership.* A partition is worked by one replica at a time (see
:mod:`~streaming_app.runtime.ownership`); a replica that lost a partition saves and
acks nothing more for it.

*Time.* Nothing here decides event time: the validator judges each reading against its
meter's own watermark and receipt time (the JetStream message's stored timestamp, the
same on every redelivery), so recovery replays every decision exactly.
"""
