"""A processor stops promptly even while a batch is retrying an unreachable Redis (its
runner is cancelled; the batch is read again by the next owner)."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from pydantic import SecretStr
from streams import event, pipeline, produce

from eventgate.settings import Settings

pytestmark = pytest.mark.integration


async def test_stopping_while_redis_is_away_does_not_hang(settings: Settings) -> None:
    settings = settings.model_copy(update={"redis_url": SecretStr("redis://127.0.0.1:9/0")})
    async with contextlib.AsyncExitStack() as stack:
        p = await stack.enter_async_context(pipeline(settings))
        await produce(settings, [event("away", "c1")])
        async with asyncio.timeout(120):
            while p.metrics.redis_errors._value.get() == 0:  # a batch is retrying Redis
                await asyncio.sleep(0.1)
        started = time.monotonic()
        # Leaving the pipeline cancels the processor's run, then stops it. (A hang would be
        # cut by this timeout, whose cancellation the pipeline's teardown swallows: hence
        # the deadline asserted below rather than the timeout's own error.)
        async with asyncio.timeout(60):
            await stack.aclose()
        assert time.monotonic() - started < 20
    assert not p.processor.assigned
