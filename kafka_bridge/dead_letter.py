"""Send what cannot be parsed to the dead-letter subject, with the reason, exactly once.

Each dead letter carries the original bytes and headers that say why and from where.
Its ``Nats-Msg-Id`` is derived from the origin, so a redelivery after a crash does not
store the same dead letter twice (within the stream's duplicate window).
"""

from __future__ import annotations

import orjson
from nats.js import JetStreamContext

from smart_meter.codec import Decoded, ReadingError
from smart_meter.subjects import DEAD_LETTER_KIND_HEADER, DEAD_LETTER_SUBJECT

REASON_HEADER = "Smart-Meter-Reason"
FIELD_HEADER = "Smart-Meter-Field"
KIND_HEADER = DEAD_LETTER_KIND_HEADER
SOURCE_HEADER = "Smart-Meter-Source"
ORIGIN_HEADER = "Smart-Meter-Origin"


def dead_letter_headers(error: ReadingError, source: str, origin: str) -> dict[str, str]:
    """Headers of a dead letter: reason, field, kind, which bridge, and the origin of the bytes."""
    where = origin if error.index is None else f"{origin}[{error.index}]"
    return {
        REASON_HEADER: str(error),
        FIELD_HEADER: error.field,
        KIND_HEADER: error.kind.value,
        SOURCE_HEADER: source,
        ORIGIN_HEADER: where,
        "Nats-Msg-Id": f"dead-letter:{source}:{where}",
    }


class DeadLetters:
    """Publishes dead letters to JetStream and counts them."""

    def __init__(self, js: JetStreamContext, source: str) -> None:
        self.js = js
        self.source = source
        self.count = 0

    async def send(self, data: bytes, error: ReadingError, origin: str) -> None:
        """Store ``data`` on the dead-letter subject; returns once JetStream acked it."""
        headers = dead_letter_headers(error, self.source, origin)
        await self.js.publish(DEAD_LETTER_SUBJECT, data, headers=headers)
        self.count += 1

    async def send_rejected(self, decoded: Decoded, origin: str) -> None:
        """Dead-letter the invalid entries of a batch whose other readings go on."""
        for rejected in decoded.rejected:
            await self.send(orjson.dumps(rejected.raw), rejected.error, origin)
