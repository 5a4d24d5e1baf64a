"""What the console's browser tests stand on: Debian's Chromium, a whole eventgate stack
(``python -m eventgate up``: a worker and the API/console, on the test Kafka and Redis) and
a seeded registry of event types of every kind.

Chromium: ``/usr/bin/chromium`` (Debian's ``chromium`` package). ``make test`` installs it
through ``scripts/ensure-chromium.sh``; run as root, :func:`chromium_path` runs that script
itself when the binary is missing. Otherwise: ``sudo apt-get install --no-install-recommends
chromium`` (or set ``CONSOLE_CHROMIUM`` to another Chromium binary).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "console"
README_SCREENSHOT = ROOT / "docs" / "images" / "console-list.png"
ENSURE_CHROMIUM = ROOT / "scripts" / "ensure-chromium.sh"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN = "console-admin-token"
READ = "console-read-token"


class ServicesLike(Protocol):
    """The shared ``services`` fixture (tests/conftest.py) as far as these tests need it."""

    kafka_bootstrap: str
    redis_url: str


def chromium_path() -> str:
    """The Chromium binary; installs Debian's package first when missing and run as root."""
    configured = os.environ.get("CONSOLE_CHROMIUM")
    if configured:
        return configured
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if found:
        return found
    if os.geteuid() == 0:
        subprocess.run(["bash", str(ENSURE_CHROMIUM)], check=True)
        found = shutil.which("chromium")
        if found:
            return found
    pytest.fail(
        "Chromium is missing: run `sudo scripts/ensure-chromium.sh` (Debian's `chromium` "
        "package, installed with --no-install-recommends) or set CONSOLE_CHROMIUM"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    base_url: str
    prefix: str
    kafka_bootstrap: str
    log: Path
    client: httpx.AsyncClient = field(repr=False)

    async def call(
        self, method: str, path: str, *, token: str = ADMIN, json: Any = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return await self.client.request(method, f"/api/v1{path}", headers=headers, json=json)

    async def ok(self, method: str, path: str, json: Any = None) -> Any:
        answer = await self.call(method, path, json=json)
        assert answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else None

    async def served(self, path: str) -> bool:
        """Whether the API has this route (a 404 that names no event type means it has not)."""
        answer = await self.call("GET", path)
        return not (answer.status_code == 404 and "no event type" not in answer.text)


def _stack_env(kafka: str, redis: str, prefix: str, api_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTGATE_")}
    env.update(
        {
            "EVENTGATE_KAFKA_BOOTSTRAP": kafka,
            "EVENTGATE_REDIS_URL": redis,
            "EVENTGATE_TOPIC_PREFIX": prefix,
            "EVENTGATE_CONSUMER_GROUP": f"{prefix}processors",
            "EVENTGATE_TOPIC_REPLICATION_FACTOR": "1",
            "EVENTGATE_TOPIC_MIN_INSYNC_REPLICAS": "1",
            "EVENTGATE_INGEST_PARTITIONS": "2",
            "EVENTGATE_OUTPUT_PARTITIONS": "1",
            "EVENTGATE_API_PORT": str(api_port),
            "EVENTGATE_WORKER_HTTP_PORT": str(free_port()),
            "EVENTGATE_ADMIN_TOKENS": ADMIN,
            "EVENTGATE_READ_TOKENS": READ,
            "EVENTGATE_LOG_FORMAT": "text",
        }
    )
    return env


@asynccontextmanager
async def running_stack(kafka: str, redis: str) -> AsyncIterator[Stack]:
    """``python -m eventgate up`` on the given Kafka and Redis, until the API is ready."""
    prefix = f"console{uuid.uuid4().hex[:8]}."
    api_port = free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "stack.log"
    with log.open("wb") as out:
        up = subprocess.Popen(
            [sys.executable, "-m", "eventgate", "up"],
            env=_stack_env(kafka, redis, prefix, api_port),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: nothing outlives the test
        )
    base_url = f"http://127.0.0.1:{api_port}"
    client = httpx.AsyncClient(base_url=base_url, timeout=30)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert up.poll() is None, f"eventgate up exited; see {log}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"the API never got ready; see {log}"
            try:
                if (await client.get("/readyz")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.25)
        yield Stack(base_url, prefix, kafka, log, client)
    finally:
        await client.aclose()
        await _stop(up)


async def _stop(up: subprocess.Popen[bytes]) -> None:
    """Ctrl-C for ``eventgate up`` (it stops its worker and API), then whatever is left of
    its process group is killed."""
    if up.poll() is None:
        up.send_signal(signal.SIGINT)
        try:
            await asyncio.to_thread(up.wait, 45)
        except subprocess.TimeoutExpired:
            up.kill()
            up.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(up.pid, signal.SIGKILL)


# -- the seeded registry --------------------------------------------------------------------

ORDER_RULES = [
    {"name": "sku", "required": True, "type": "string"},
    {"name": "items", "required": False},
    {"name": "total", "required": False, "type": "number"},
    {"name": "coupon", "required": False},
    {"name": "customer", "required": False},
]
LEVEL_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {"level": {"type": "integer", "minimum": 1}},
    "required": ["level"],
}

# key, name, category, segmentation, validation rules (None: off)
MANUAL_TYPES: list[tuple[str, str, str, bool, Any]] = [
    ("order.completed", "Order completed", "other", True, ORDER_RULES),
    ("cart.abandoned", "Cart abandoned", "click", False, None),
    ("email.clicked", "Email link clicked", "click", True, None),
    ("page.viewed", "Page viewed", "click", False, None),
    ("wishlist.added", "Added to wishlist", "click", False, None),
    ("newsletter.subscribed", "Newsletter subscription", "subscribe", True, None),
    ("newsletter.unsubscribed", "Newsletter unsubscription", "subscribe", False, None),
    ("rfm.champion", "RFM: champions", "rfm", True, None),
    ("rfm.at_risk", "RFM: at risk", "rfm", False, None),
    ("import.contacts", "Contacts imported", "import", False, None),
    ("import.orders", "Orders imported", "import", False, None),
    ("push.opened", "Push notification opened", "notification", True, None),
    ("sms.delivered", "SMS delivered", "notification", False, None),
    ("form.sent", "Form sent", "other", True, None),
    ("app.installed", "App installed", "other", False, None),
    ("loyalty.level_up", "Loyalty level up", "other", False, LEVEL_SCHEMA),
    ("review.posted", "Review posted", "other", False, None),
    ("coupon.redeemed", "Coupon redeemed", "other", False, None),
    ("survey.completed", "Survey completed", "other", False, None),
    ("support.ticket", "Support ticket opened", "other", False, None),
    ("referral.sent", "Referral sent", "other", False, None),
    ("price.alert", "Price alert triggered", "notification", False, None),
]
AUTO_KEYS = ["auto.signup", "auto.login"]
SEGMENT_SYSTEM_KEY = "segment.1234"
FIELD_SYSTEM_KEY = "contactField.77"
WORKFLOWS: list[dict[str, Any]] = [
    {
        "id": "wf-welcome",
        "name": "Welcome series",
        "status": "active",
        "launchOn": ["newsletter.subscribed", "form.sent"],
        "stopOn": ["newsletter.unsubscribed"],
    },
    {
        "id": "wf-cart",
        "name": "Abandoned cart reminder",
        "status": "active",
        "launchOn": ["cart.abandoned"],
        "stopOn": ["order.completed"],
    },
    {
        "id": "wf-thanks",
        "name": "Thank-you for the order",
        "status": "active",
        "launchOn": ["order.completed"],
    },
    {
        "id": "wf-winback",
        "name": "Win back at-risk buyers",
        "status": "inactive",
        "launchOn": ["rfm.at_risk"],
    },
    {
        "id": "wf-vip",
        "name": "VIP welcome",
        "status": "active",
        "launchCondition": {"segmentId": "1234", "segmentName": "VIP buyers"},
    },
    {
        "id": "wf-birthday",
        "name": "Birthday greeting",
        "status": "active",
        "launchCondition": {"contactFieldId": "77", "contactFieldName": "Birthday"},
    },
]
SEGMENTS: list[dict[str, Any]] = [
    {
        "id": "seg-engaged",
        "name": "Engaged buyers",
        "eventTypeKeys": ["order.completed", "email.clicked"],
    },
]
LAUNCH_KEYS = {
    "newsletter.subscribed",
    "form.sent",
    "cart.abandoned",
    "order.completed",
    "rfm.at_risk",
    SEGMENT_SYSTEM_KEY,
    FIELD_SYSTEM_KEY,
}
STOP_KEYS = {"newsletter.unsubscribed", "order.completed"}
FAILED_ORDERS = 2  # launch commands of order.completed that the engine reports failed


def order(contact: str, n: int) -> dict[str, Any]:
    return {
        "eventTypeKey": "order.completed",
        "keyValue": contact,
        "eventId": f"order-{n}",
        "params": {
            "sku": f"SKU-{n}",
            "total": 19.5 + n,
            "items": [{"sku": f"SKU-{n}", "qty": 1, "price": 19.5}],
            "customer": {"email": f"{contact}@example.com", "tier": "gold"},
        },
    }


def seed_events() -> list[dict[str, Any]]:
    """What the producers send before the browser opens: every kind of outcome."""
    events = [order(f"contact-{n}", n) for n in range(1, 6)]
    # no sku: rejected validation_failed
    events.append(
        {
            "eventTypeKey": "order.completed",
            "keyValue": "contact-bad",
            "eventId": "order-bad",
            "params": {"total": 3},
        }
    )
    events.append(order("contact-1", 1))  # the same eventId again: a duplicate
    events += [
        {"eventTypeKey": "page.viewed", "keyValue": f"visitor-{n}", "params": {"url": f"/p/{n}"}}
        for n in range(30)
    ]
    for key in ("cart.abandoned", "email.clicked", "newsletter.subscribed", "form.sent"):
        events.append({"eventTypeKey": key, "keyValue": "contact-1", "params": {"source": "web"}})
    events.append(
        {"eventTypeKey": "push.opened", "keyValue": "contact-2", "params": {"app": "ios"}}
    )
    events.append(
        {"eventTypeKey": "loyalty.level_up", "keyValue": "contact-3", "params": {"level": 2}}
    )
    events += [
        {"eventTypeKey": key, "keyValue": "contact-4", "params": {"plan": "free"}}
        for key in AUTO_KEYS
    ]
    events.append(
        {"eventTypeKey": SEGMENT_SYSTEM_KEY, "keyValue": "contact-5", "params": {"entered": True}}
    )
    return events


async def publish(stack: Stack, events: Sequence[dict[str, Any]], topic: str = "ingest") -> None:
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for body in events:
            await producer.send(
                f"{stack.prefix}{topic}",
                json.dumps(body).encode(),
                key=str(body.get("keyValue", body.get("commandId", ""))).encode(),
            )
        await producer.flush()
    finally:
        await producer.stop()


async def report_failures(stack: Stack, type_key: str, count: int) -> None:
    """What a workflow engine does: ``failed`` results for ``count`` launch commands."""
    consumer = AIOKafkaConsumer(
        f"{stack.prefix}workflow.launch",
        bootstrap_servers=stack.kafka_bootstrap,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        enable_auto_commit=False,
    )
    await consumer.start()
    commands: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(60):
            while len(commands) < count:
                batches = await consumer.getmany(timeout_ms=500)
                for records in batches.values():
                    commands += [
                        body
                        for body in (json.loads(r.value or b"{}") for r in records)
                        if body.get("eventTypeKey") == type_key
                    ]
    finally:
        await consumer.stop()
    results = [
        {
            "commandId": c["commandId"],
            "workflowId": c["workflowId"],
            "eventTypeKey": type_key,
            "status": "failed",
            "error": "the mail relay refused the message",
        }
        for c in commands[:count]
    ]
    await publish(stack, results, topic="workflow.results")


async def until(check: Any, what: str, timeout: float = 60) -> Any:
    """Polls the async ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        found = await check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.25)


async def seed(stack: Stack) -> None:
    """≥ 20 types of every category, origin, status and kind of dependency, and events."""
    for key, name, category, segmentation, rules in MANUAL_TYPES:
        body: dict[str, Any] = {
            "key": key,
            "name": name,
            "category": category,
            "segmentation": segmentation,
        }
        if rules is not None:
            body["validation"] = {"enabled": True, "rules": rules}
        await stack.ok("POST", "/event-types", body)
    for workflow in WORKFLOWS:
        await stack.ok("PUT", f"/workflows/{workflow['id']}", workflow)
    for segment in SEGMENTS:
        await stack.ok("PUT", f"/segments/{segment['id']}", segment)
    await publish(stack, seed_events())

    async def processed() -> bool:
        page = await stack.ok("GET", "/event-types?limit=500")
        by_key = {t["key"]: t for t in page["items"]}
        if not all(k in by_key for k in AUTO_KEYS):
            return False
        if by_key[SEGMENT_SYSTEM_KEY]["status"] != "active":
            return False
        shape = await stack.ok("GET", "/event-types/order.completed/structure")
        return any(p["path"] == "params.items[].sku" for p in shape["paths"])

    await until(processed, "the seeded events to be processed")
    await report_failures(stack, "order.completed", FAILED_ORDERS)

    async def counted() -> bool:
        page = await stack.ok("GET", "/event-types?q=order.completed")
        errors = page["items"][0].get("errors24h")
        return errors is None or errors == FAILED_ORDERS  # None: the API has no figures

    await until(counted, "the failed workflow results to be counted")
