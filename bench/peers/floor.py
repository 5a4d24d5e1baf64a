"""The floor: the cheapest honest Python consumer — aiokafka ``getmany()`` batches and
``orjson.loads`` of every value, nothing else (no validation, no output, no Redis).

No Python pipeline that does more can beat it on the same broker and cores. Consumes
``--target`` records of ``--topic`` from the start with its own group, commits once at
the end, and writes ``{processed, firstMs, doneMs, ...}`` to ``--result``.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import orjson
from aiokafka import AIOKafkaConsumer
from common import now_ms, write_result


async def run(args: argparse.Namespace) -> None:
    consumer = AIOKafkaConsumer(
        args.topic,
        bootstrap_servers=args.bootstrap,
        group_id=args.group,
        client_id="bench-floor",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=2 * 1024 * 1024,
    )
    await consumer.start()
    processed = bad = 0
    first_ms: float | None = None
    deadline = time.monotonic() + args.deadline
    loads = orjson.loads
    try:
        while processed < args.target and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500, max_records=20_000)
            for records in batches.values():
                if first_ms is None:
                    first_ms = now_ms()
                for record in records:
                    try:
                        loads(record.value)
                    except orjson.JSONDecodeError:
                        bad += 1
                processed += len(records)
        await consumer.commit()
    finally:
        done_ms = now_ms()
        await consumer.stop()
    write_result(
        args.result,
        {
            "processed": processed,
            "undecodable": bad,
            "firstMs": first_ms,
            "doneMs": done_ms,
            "timedOut": processed < args.target,
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--target", type=int, required=True)
    parser.add_argument("--deadline", type=float, default=120.0)
    parser.add_argument("--result", required=True)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.run(run(args))
    except ImportError:
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
