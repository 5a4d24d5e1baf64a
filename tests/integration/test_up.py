"""`eventgate up` (what `make up` runs) end to end: an event published with an ordinary
client shows up in the API as an auto-registered type, and Ctrl-C stops everything."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from stack import running_up

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
