"""``eventgate api`` stops, closing its Kafka clients, even when Ctrl-C arrives twice."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from stack import free_port
from streams import worker_env

from eventgate.settings import Settings
from eventgate.topics import ensure_topics
from eventgate.up import wait_http

pytestmark = pytest.mark.integration


async def test_a_second_sigint_does_not_skip_the_shutdown(
    settings: Settings, tmp_path: Path
) -> None:
    await ensure_topics(settings)
    port = free_port()
    env = {
        **worker_env(settings),
        "EVENTGATE_API_PORT": str(port),
        "EVENTGATE_ADMIN_TOKENS": "test-admin-token",
        "EVENTGATE_LOG_LEVEL": "INFO",
    }
    output = tmp_path / "api.log"
    with output.open("wb") as log:
        api = subprocess.Popen(
            [sys.executable, "-m", "eventgate", "api"], env=env, stdout=log, stderr=log
        )
    try:
        assert await asyncio.to_thread(wait_http, port, "/healthz", 90, api), output.read_text()
        # Two SIGINTs 10 ms apart (a double Ctrl-C): uvicorn's own handling turned the
        # second into a forced exit without the lifespan shutdown, and the process hung in
        # asyncio's final task cancellation for 30 s and more.
        started = time.monotonic()
        api.send_signal(signal.SIGINT)
        await asyncio.sleep(0.01)
        api.send_signal(signal.SIGINT)
        code = await asyncio.to_thread(api.wait, 60)
        took = time.monotonic() - started
    finally:
        if api.poll() is None:
            api.kill()
            api.wait()
    text = output.read_text()
    assert code == 0, text
    assert took < 15, f"stopping took {took:.1f} s\n{text}"
    assert "already stopping" in text
