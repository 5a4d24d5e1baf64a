"""``eventgate send``: publish sample events, or events from a JSON-lines file, to ingest."""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from eventgate.connections import kafka_common
from eventgate.settings import Settings

SAMPLE_TYPES = ("purchase", "cart.add", "page.view", "form.sent", "email.click")


def add_parsers(sub: Any) -> None:
    send = sub.add_parser(
        "send",
        help="publish sample events (or a JSON-lines file) to the ingest topic",
        description="Publishes to {prefix}ingest with an idempotent producer (acks=all), "
        "keyed by contact, with a progress bar on stderr.",
    )
    send.add_argument("--file", help="JSON-lines file, one event per line ('-' reads stdin)")
    send.add_argument("--count", type=int, default=100, help="sample events to send")
    send.add_argument("--type", action="append", default=[], help="sample type key (repeat)")
    send.add_argument("--contacts", type=int, default=1000, help="distinct sample contacts")
    send.add_argument("--rate", type=float, default=0, help="events per second (0: full speed)")
    send.add_argument("--seed", type=int, default=None, help="seed of the sample generator")
    send.set_defaults(handler=send_events)


def samples(count: int, types: list[str], contacts: int, seed: int | None) -> Iterator[bytes]:
    rng = random.Random(seed)  # noqa: S311 - sample data, not secrets
    keys = types or list(SAMPLE_TYPES)
    for _ in range(count):
        contact = f"contact-{rng.randrange(contacts)}"
        yield orjson.dumps(
            {
                "eventTypeKey": rng.choice(keys),
                "keyValue": contact,
                "eventId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "params": {
                    "sku": f"SKU-{rng.randrange(500)}",
                    "total": round(rng.uniform(1, 500), 2),
                    "items": [{"sku": f"SKU-{rng.randrange(500)}", "qty": rng.randrange(1, 5)}],
                    "channel": rng.choice(("web", "app", "store")),
                },
            }
        )


def _lines(path: str) -> Iterator[bytes]:
    stream = sys.stdin.buffer if path == "-" else Path(path).open("rb")  # noqa: SIM115
    with stream:
        for line in stream:
            if line.strip():
                yield line.strip()


def _key(value: bytes) -> bytes | None:
    try:
        body = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    contact = body.get("keyValue") if isinstance(body, dict) else None
    return str(contact).encode() if contact is not None else None


def _progress(done: int, total: int | None, started: float) -> None:
    rate = done / max(time.monotonic() - started, 1e-6)
    if total:
        width = 30
        filled = int(width * done / total)
        bar = f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
    else:
        bar = f"{done} sent"
    sys.stderr.write(f"\r{bar}  {rate:,.0f} events/s")
    sys.stderr.flush()


async def _send(settings: Settings, args: argparse.Namespace) -> int:
    source = (
        _lines(args.file) if args.file else samples(args.count, args.type, args.contacts, args.seed)
    )
    total = None if args.file else args.count
    producer = AIOKafkaProducer(
        **kafka_common(settings, "eventgate-send"),
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
    )
    await producer.start()
    topic, started, done = settings.topic("ingest"), time.monotonic(), 0
    pending = []
    try:
        for value in source:
            pending.append(await producer.send(topic, value, key=_key(value)))
            done += 1
            if args.rate > 0:
                ahead = done / args.rate - (time.monotonic() - started)
                if ahead > 0:
                    await asyncio.sleep(ahead)
            if done % 500 == 0:
                await asyncio.gather(*pending)
                pending.clear()
                _progress(done, total, started)
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    _progress(done, total, started)
    sys.stderr.write("\n")
    print(f"sent {done} events to {topic}")
    return 0


def send_events(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_send(settings, args))
