"""Shared helpers of the API tests (no tests here): a real ``Registry`` on the real broker,
the app in front of it, and an ``httpx`` client talking to it through ASGI.

The app is built with ``create_app(settings, registry)``: the tests start the registry
themselves, wait until it is the registry writer, and run the app's lifespan (Redis,
ingest producer) around the client; every request of a test goes through the API to
that broker and back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json as jsonlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from eventgate.api.app import create_app
from eventgate.registry.service import Registry
from eventgate.settings import Settings
from eventgate.topics import ensure_topics

READ = "tok-read"
ADMIN = "tok-admin"
ENGINE = "tok-engine"
PRODUCER = "tok-producer"
TOKENS = {"read": READ, "admin": ADMIN, "engine": ENGINE, "producer": PRODUCER}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class ServicesLike(Protocol):
    """What the API tests use of the session's ``services`` fixture (tests/conftest.py)."""

    kafka_bootstrap: str
    redis_url: str


def api_settings(kafka_bootstrap: str, redis_url: str) -> Settings:
    prefix = f"api{uuid.uuid4().hex[:10]}."
    return Settings(
        kafka_bootstrap=kafka_bootstrap,
        redis_url=SecretStr(redis_url),
        topic_prefix=prefix,
        consumer_group=f"{prefix}processors",
        topic_replication_factor=1,
        topic_min_insync_replicas=1,
        ingest_partitions=1,
        output_partitions=1,
        api_port=0,
        worker_http_port=0,
        read_tokens=(READ,),
        admin_tokens=(ADMIN,),
        engine_tokens=(ENGINE,),
        producer_tokens=(PRODUCER,),
        # Suites here fire requests far faster than any client; the limit has its own tests
        # (test_api_ratelimit.py).
        api_rate_per_s=0,
    )


@dataclass
class Api:
    registry: Registry
    client: httpx.AsyncClient
    settings: Settings
    app: FastAPI | None = None

    async def call(
        self,
        method: str,
        path: str,
        token: str | None = ADMIN,
        json: Any = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """A request with ``token``; ``json`` is sent as ASCII JSON text (so lone
        surrogates and NaN go out as a hostile client would send them)."""
        all_headers = dict(headers or {})
        if token is not None:
            all_headers.update(auth(token))
        if json is not None:
            kwargs["content"] = json_text(json)
            all_headers.setdefault("Content-Type", "application/json")
        return await self.client.request(method, f"/api/v1{path}", headers=all_headers, **kwargs)


async def wait_for_writer(registry: Registry, timeout: float = 60) -> None:
    async with asyncio.timeout(timeout):
        while not registry.is_writer:
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def api_stack(settings: Settings, **app_options: Any) -> AsyncIterator[Api]:
    await ensure_topics(settings)
    registry = Registry(settings, name="api-test", writer_session_timeout_ms=6000)
    await registry.start()
    try:
        await wait_for_writer(registry)
        app = create_app(settings, registry, **app_options)
        transport = httpx.ASGITransport(app=app)  # runs no lifespan: run it here
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://api.test") as client,
        ):
            yield Api(registry, client, settings, app)
    finally:
        await registry.stop()


def json_text(value: Any) -> bytes:
    return jsonlib.dumps(value, ensure_ascii=True, allow_nan=True).encode()


def unique(stem: str) -> str:
    return f"{stem}.{uuid.uuid4().hex[:8]}"


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The ``error`` object of an error answer, after checking the shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str)
    error: dict[str, Any] = body["error"]
    return error
