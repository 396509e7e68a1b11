"""The baseline of the routing latency benchmark: a bare Kafka relay, nothing else.

Reads every record of one topic with a consumer group (the same fetch settings as routing's
consumer of calls) and writes a small record under the same key to another topic with an
idempotent `acks=all` producer, waiting for each batch's acknowledgements before it commits:
the least any service that turns a call into an offer has to do.
`python -m bench.bare_relay BOOTSTRAP SOURCE TARGET GROUP READY_FILE` (the file is written
once the consumer has its partitions).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from callcenter_events.consumer import LOW_LATENCY


async def relay(bootstrap: str, source: str, target: str, group: str, ready: str) -> None:
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_min_bytes=LOW_LATENCY.fetch_min_bytes,
        fetch_max_wait_ms=LOW_LATENCY.fetch_max_wait_ms,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=2
    )
    await consumer.start()
    await producer.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    announced = False
    try:
        while not stop.is_set():
            polled = await consumer.getmany(timeout_ms=100, max_records=LOW_LATENCY.max_batch)
            if consumer.assignment() and not announced:
                _announce(ready)
                announced = True
            sends = [
                await producer.send(target, key=message.key, value=b"{}")
                for messages in polled.values()
                for message in messages
            ]
            if sends:
                await asyncio.gather(*sends)
                await consumer.commit()
    finally:
        await producer.stop()
        await consumer.stop()


def _announce(ready: str) -> None:
    Path(ready).write_text("assigned")


if __name__ == "__main__":
    asyncio.run(relay(*sys.argv[1:6]))
