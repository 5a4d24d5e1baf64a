"""`eventgate up` (what `make up` runs) end to end: an event published with an ordinary
client shows up in the API as an auto-registered type, and Ctrl-C stops everything."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _readme_python_example() -> str:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks, "the README has no Python example"
    return str(blocks[0])


async def test_up_registers_a_published_event_type_and_stops_on_ctrl_c(
    services: Any, prefix: str
) -> None:
    api_port, worker_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "EVENTGATE_KAFKA_BOOTSTRAP": services.kafka_bootstrap,
        "EVENTGATE_REDIS_URL": services.redis_url,
        "EVENTGATE_TOPIC_PREFIX": prefix,
        "EVENTGATE_TOPIC_REPLICATION_FACTOR": "1",
        "EVENTGATE_TOPIC_MIN_INSYNC_REPLICAS": "1",
        "EVENTGATE_API_PORT": str(api_port),
        "EVENTGATE_WORKER_HTTP_PORT": str(worker_port),
    }
    env.pop("EVENTGATE_ADMIN_TOKENS", None)
    up = subprocess.Popen(
        [sys.executable, "-m", "eventgate", "up"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        token = None
        deadline = time.monotonic() + 90
        output: list[str] = []
        assert up.stdout is not None
        while token is None and time.monotonic() < deadline:
            line = await asyncio.to_thread(up.stdout.readline)
            if not line:
                break
            output.append(line)
            found = re.search(r"token:\s+(\S+)\s+\(admin", line)
            token = found.group(1) if found else None
        assert token, "no token printed:\n" + "".join(output)
        assert any(f"http://localhost:{api_port}/" in line for line in output)

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

        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}") as client:
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
    finally:
        up.send_signal(signal.SIGINT)
        code = await asyncio.to_thread(up.wait, 60)
        if up.stdout is not None:
            up.stdout.close()
    assert code == 0
