"""The naive faust-streaming agent: the job done one event at a time, as the framework's
examples do it.

Per event: decode (orjson), validate (fastjsonschema, compiled once per type), ``await``
the send of each launch/stop command (or the dead letter) to its topic, and ``await`` one
Redis ``INCR`` of the type's counter. At-least-once (faust's default); uvloop.

Stops by itself after ``--target`` events (0: runs until SIGTERM or ``--deadline``),
flushes the producer, writes ``{processed, firstMs, doneMs, ...}`` to ``--result``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import time
from typing import Any

import faust
import orjson
import redis.asyncio as aioredis
from common import EVENT_ID_HEADER, Job, load_spec, now_ms, write_result


def build(args: argparse.Namespace) -> faust.App:
    job = Job(load_spec(args.spec))
    app = faust.App(
        args.group,
        broker=f"kafka://{args.bootstrap}",
        datadir=args.datadir,
        web_enabled=False,
        topic_replication_factor=1,
        topic_partitions=args.partitions,
        consumer_auto_offset_reset="earliest",
        key_serializer="raw",
        value_serializer="raw",
    )
    ingest = app.topic(args.topic, key_type=bytes, value_type=bytes)
    launch = app.topic(args.launch_topic, key_type=bytes, value_type=bytes)
    stop = app.topic(args.stop_topic, key_type=bytes, value_type=bytes)
    rejected = app.topic(args.rejected_topic, key_type=bytes, value_type=bytes)
    redis = aioredis.Redis.from_url(args.redis)
    state: dict[str, Any] = {"processed": 0, "commands": 0, "rejected": 0, "firstMs": None}

    finished: list[bool] = []

    def finish(timed_out: bool) -> None:
        if finished:
            return
        finished.append(True)
        write_result(args.result, {**state, "doneMs": now_ms(), "timedOut": timed_out})
        os.kill(os.getpid(), signal.SIGTERM)

    @app.agent(ingest)
    async def process(stream: Any) -> None:
        async for event in stream.events():
            if finished:  # shutting down: take no more work than was timed
                continue
            if state["firstMs"] is None:
                state["firstMs"] = now_ms()
            message = event.message
            where = f"{message.topic}/{message.partition}/{message.offset}"
            outcome = job.handle(message.key, message.value, int(message.timestamp * 1000), where)
            for command in outcome.commands:
                target = launch if command["kind"] == "launch" else stop
                await target.send(
                    key=command["keyValue"].encode(),
                    value=orjson.dumps(command),
                    headers=[(EVENT_ID_HEADER, command["eventId"].encode())],
                )
                state["commands"] += 1
            if outcome.rejection is not None:
                await rejected.send(key=message.key, value=orjson.dumps(outcome.rejection))
                state["rejected"] += 1
            counter = outcome.event_type_key or "_unknown"
            await redis.incr(f"bench:faust:volume:{counter}")
            state["processed"] += 1
            if args.target and state["processed"] == args.target:
                await app.producer.flush()
                finish(False)

    @app.timer(interval=1.0)  # type: ignore[untyped-decorator]
    async def watchdog() -> None:
        if time.monotonic() > args.started + args.deadline:
            await app.producer.flush()
            finish(bool(args.target))

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--launch-topic", required=True)
    parser.add_argument("--stop-topic", required=True)
    parser.add_argument("--rejected-topic", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--target", type=int, default=0)
    parser.add_argument("--deadline", type=float, default=120.0)
    parser.add_argument("--datadir", required=True)
    parser.add_argument("--result", required=True)
    args = parser.parse_args()
    args.started = time.monotonic()
    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass
    app = build(args)
    worker = faust.Worker(app, loglevel="WARNING", quiet=True)
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
