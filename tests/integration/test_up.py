"""`eventgate up` (what `make up` runs) end to end: an event published with an ordinary
client shows up in the API as an auto-registered type, and Ctrl-C stops everything."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from stack import free_port, running_up

from eventgate.devstack import default_cache, ensure_kafka

ROOT = Path(__file__).resolve().parents[2]


def _readme_python_example() -> str:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks, "the README has no Python example"
    return str(blocks[0])


async def test_up_registers_a_published_event_type_and_stops_on_ctrl_c(
    services: Any, prefix: str, tmp_path: Path
) -> None:
    async with running_up(services, prefix, tmp_path) as up:
        assert f"http://localhost:{up.api_port}/" in up.log()
        # The README's own example, pointed at this test's broker and prefix.
        example = (
            _readme_python_example()
            .replace("localhost:9092", services.kafka_bootstrap)
            .replace('"eventgate.ingest"', f'"{prefix}ingest"')
        )
        await asyncio.to_thread(subprocess.run, [sys.executable, "-c", example], check=True)
        # And a second type with another ordinary producer.
        producer = AIOKafkaProducer(bootstrap_servers=services.kafka_bootstrap, acks="all")
        await producer.start()
        body = {"eventTypeKey": "form.sent", "params": {"email": "a@example.com"}}
        await producer.send_and_wait(f"{prefix}ingest", json.dumps(body).encode())
        await producer.stop()

        headers = {"Authorization": f"Bearer {up.token}"}
        async with httpx.AsyncClient(base_url=up.api_url) as client:
            keys: set[str] = set()
            async with asyncio.timeout(30):
                while keys != {"purchase", "form.sent"}:
                    answer = await client.get("/api/v1/event-types", headers=headers)
                    assert answer.status_code == 200
                    items = answer.json()["items"]
                    keys = {item["key"] for item in items}
                    await asyncio.sleep(0.2)
            assert all(i["category"] == "other" and i["origin"] == "auto" for i in items)
            assert (await client.get("/api/v1/event-types")).status_code == 401
            console = await client.get("/")
            assert console.status_code == 200
            assert "Event types" in console.text


def _port_pair() -> int:
    """A free port whose controller port (+100, the launcher's rule) is free too."""
    while True:
        port = free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 100))
            except OSError:
                continue
        return port


WARNING_LINE = re.compile(r"^(\S+ \S+ \w+ (WARNING|ERROR|CRITICAL) |WARNING: |ERROR: )", re.M)


async def test_a_fresh_start_and_a_normal_load_log_no_warning(
    services: Any, prefix: str, tmp_path: Path
) -> None:
    """`make up` on a fresh broker, then a load of every kind (events on Kafka and over
    HTTP, launches, registry writes at once): not one warning or error in its output.
    The fresh broker's coordinators used to be loaded by the first clients ("Marking the
    coordinator dead", three times), and the broker's transaction verification answered
    aiokafka's transactional produces with NotEnoughReplicas under load."""
    fresh = ensure_kafka(tmp_path / "devstack", default_cache(), port=_port_pair())
    try:
        here = SimpleNamespace(kafka_bootstrap=fresh.bootstrap, redis_url=services.redis_url)
        async with running_up(here, prefix, tmp_path) as up:
            await _normal_load(up.api_url, up.token, fresh.bootstrap, prefix)
        log = (tmp_path / "up.log").read_text(errors="replace")
    finally:
        fresh.stop()
    assert WARNING_LINE.findall(log) == [], "\n".join(
        line for line in log.splitlines() if WARNING_LINE.match(line)
    )[:4000]


EVENTS, BATCHES, WRITES = 20_000, 10, 30
PACE = 1000  # events per tenth of a second at most: a steady load, not a flood


async def _normal_load(api_url: str, token: str, bootstrap: str, prefix: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=f"{api_url}/api/v1", headers=headers) as api:
        assert (await api.post("/event-types", json={"key": "order", "name": "O"})).status_code
        workflow = {"name": "Thanks", "status": "active", "launchOn": ["order"]}
        assert (await api.put("/workflows/wf-thanks", json=workflow)).status_code == 201

        async def kafka_events() -> None:
            producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
            await producer.start()
            try:
                for n in range(EVENTS):
                    event = {"eventTypeKey": "order", "keyValue": f"c{n % 500}", "params": {"n": n}}
                    await producer.send(f"{prefix}ingest", json.dumps(event).encode())
                    if n % PACE == PACE - 1:
                        await asyncio.sleep(0.1)
                await producer.flush()
            finally:
                await producer.stop()

        async def http_events() -> None:
            for b in range(BATCHES):
                events = [
                    {"eventTypeKey": "order", "keyValue": f"h{i}", "eventId": f"h-{b}-{i}"}
                    for i in range(500)
                ]
                answer = await api.post("/events", json={"events": events})
                assert answer.status_code == 202 and answer.json()["queued"] == 500

        async def registry_writes() -> None:
            for n in range(WRITES):
                body = {"name": f"W{n}", "status": "active", "launchOn": ["order", f"k{n}"]}
                assert (await api.put(f"/workflows/wf-{n}", json=body)).status_code == 201

        await asyncio.gather(kafka_events(), http_events(), registry_writes())
        total = EVENTS + BATCHES * 500
        async with asyncio.timeout(180):
            volume = 0
            while volume < total:
                await asyncio.sleep(1)
                page = (await api.get("/event-types", params={"q": "order"})).json()
                volume = next(i["volume24h"] or 0 for i in page["items"] if i["key"] == "order")
