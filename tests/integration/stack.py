"""Run the whole stack as a new user does (``python -m eventgate up``) against the test's
services, with its output in a file (a pipe nobody drains would block the children)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Up:
    process: subprocess.Popen[bytes]
    api_url: str
    api_port: int
    token: str
    output: Path
    env: dict[str, str]

    def log(self) -> str:
        return self.output.read_text(errors="replace")


def up_env(services: Any, prefix: str, api_port: int, worker_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTGATE_")}
    env.update(
        {
            "EVENTGATE_KAFKA_BOOTSTRAP": services.kafka_bootstrap,
            "EVENTGATE_REDIS_URL": services.redis_url,
            "EVENTGATE_TOPIC_PREFIX": prefix,
            "EVENTGATE_TOPIC_REPLICATION_FACTOR": "1",
            "EVENTGATE_TOPIC_MIN_INSYNC_REPLICAS": "1",
            "EVENTGATE_API_PORT": str(api_port),
            "EVENTGATE_WORKER_HTTP_PORT": str(worker_port),
        }
    )
    return env


@contextlib.asynccontextmanager
async def running_up(services: Any, prefix: str, folder: Path) -> AsyncIterator[Up]:
    """``eventgate up`` until the block ends, then Ctrl-C as a terminal sends it (SIGINT to
    the whole process group); asserts a clean exit, every child stopping on its own."""
    api_port, worker_port = free_port(), free_port()
    env = up_env(services, prefix, api_port, worker_port)
    output = folder / "up.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "eventgate", "up"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a process group of its own, as in a terminal
        )
    try:
        token = None
        async with asyncio.timeout(120):
            while token is None:
                if process.poll() is not None:
                    raise AssertionError("eventgate up exited:\n" + output.read_text())
                found = re.search(r"token:\s+(\S+)\s+\(admin", output.read_text(errors="replace"))
                token = found.group(1) if found else None
                await asyncio.sleep(0.2)
        yield Up(process, f"http://127.0.0.1:{api_port}", api_port, token, output, env)
    finally:
        os.killpg(process.pid, signal.SIGINT)
        code = await asyncio.to_thread(process.wait, 60)
    log = output.read_text(errors="replace")
    assert code == 0, log[-3000:]
    assert "killing it" not in log, log[-3000:]  # a child that ignored its SIGINT
