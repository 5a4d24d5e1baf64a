"""``eventgate up``: the whole pipeline on one machine, for a first look and for development.

Starts (or reuses) Kafka and Redis through the local launcher unless
``EVENTGATE_KAFKA_BOOTSTRAP`` / ``EVENTGATE_REDIS_URL`` point elsewhere, creates the topics,
runs one worker and the API/console as child processes, and prints the console URL and
an admin token. Ctrl-C stops everything it started, in reverse order.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from types import FrameType

from eventgate.devstack import (
    DevstackError,
    KafkaCluster,
    RedisService,
    default_cache,
    default_home,
    ensure_kafka,
    ensure_redis,
)
from eventgate.settings import Settings
from eventgate.topics import ensure_topics


def _say(message: str) -> None:
    print(f"eventgate up: {message}", file=sys.stderr, flush=True)


def wait_http(port: int, path: str, timeout: float, child: subprocess.Popen[bytes]) -> bool:
    """Whether ``http://127.0.0.1:{port}{path}`` answered 200 within ``timeout`` seconds while
    ``child`` (the process serving it) stayed alive."""
    import urllib.request

    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}{path}"
    while time.monotonic() < deadline and child.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False


def run_up(env: dict[str, str] | None = None) -> int:
    """Run until Ctrl-C; returns the exit code."""
    env = dict(os.environ if env is None else env)
    home, cache = default_home(), default_cache()
    kafka: KafkaCluster | None = None
    redis: RedisService | None = None
    children: list[tuple[str, subprocess.Popen[bytes]]] = []
    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        del frame
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt(signum)

    # Explicit for SIGINT too: a shell that starts us in the background sets it to "ignore".
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        if "EVENTGATE_KAFKA_BOOTSTRAP" not in env:
            kafka = ensure_kafka(home, cache, port=9092, log=_say)
            env["EVENTGATE_KAFKA_BOOTSTRAP"] = kafka.bootstrap
            # A single local broker cannot hold three replicas.
            env.setdefault("EVENTGATE_TOPIC_REPLICATION_FACTOR", "1")
            env.setdefault("EVENTGATE_TOPIC_MIN_INSYNC_REPLICAS", "1")
        if "EVENTGATE_REDIS_URL" not in env:
            redis = ensure_redis(home, port=6379, log=_say)
            env["EVENTGATE_REDIS_URL"] = redis.url
        token = None
        if not env.get("EVENTGATE_ADMIN_TOKENS"):
            token = secrets.token_urlsafe(24)
            env["EVENTGATE_ADMIN_TOKENS"] = token
        env.setdefault("EVENTGATE_LOG_FORMAT", "text")
        settings = Settings(**_settings_overrides(env))  # type: ignore[arg-type]
        created = asyncio.run(ensure_topics(settings))
        _say(f"topics ready ({len(created)} created) under prefix '{settings.topic_prefix}'")
        python = sys.executable
        for name in ("worker", "api"):
            # A session of its own: Ctrl-C in the terminal signals the whole foreground
            # process group, and a second SIGINT (ours, below) makes uvicorn force its exit,
            # skipping the API's shutdown; its Kafka clients then hung in asyncio's final
            # task cancellation until our 20 s kill. Each child now gets exactly one SIGINT.
            child = subprocess.Popen(  # noqa: S603
                [python, "-m", "eventgate", name], env=env, start_new_session=True
            )
            children.append((name, child))
        worker_ok = wait_http(settings.worker_http_port, "/healthz", 60, children[0][1])
        api_ok = wait_http(settings.api_port, "/healthz", 60, children[1][1])
        if not (worker_ok and api_ok):
            _say("the worker or the API did not come up; see their output above")
            return 1
        host = "localhost" if settings.api_host in ("127.0.0.1", "0.0.0.0") else settings.api_host  # noqa: S104
        print(
            "\n"
            f"  console:  http://{host}:{settings.api_port}/\n"
            f"  API:      http://{host}:{settings.api_port}/api/v1/event-types\n"
            f"  metrics:  http://{host}:{settings.worker_http_port}/metrics (worker)\n"
            f"  ingest:   topic {settings.topic('ingest')} at {settings.kafka_bootstrap}\n"
            + (
                f"  token:    {token}   (admin; generated for this run)\n"
                if token
                else "  token:    one of EVENTGATE_ADMIN_TOKENS\n"
            )
            + "\n  Ctrl-C stops everything this command started.\n",
            flush=True,
        )
        while all(child.poll() is None for _, child in children):
            time.sleep(0.5)
        dead = [name for name, child in children if child.poll() is not None]
        _say(f"{', '.join(dead)} exited; stopping")
        return 1  # noqa: TRY300 - the finally below stops everything on every path
    except KeyboardInterrupt:
        _say("stopping")
        return 0
    except DevstackError as exc:
        _say(f"could not start the local services: {exc}")
        return 1
    finally:
        for _, child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for name, child in reversed(children):
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                _say(f"the {name} did not stop within 20 s of SIGINT; killing it")
                child.kill()
        if redis is not None:
            redis.stop()
        if kafka is not None:
            kafka.stop()


def _settings_overrides(env: dict[str, str]) -> dict[str, str]:
    """Settings fields set in ``env`` (``EVENTGATE_X`` → ``x``)."""
    prefix = "EVENTGATE_"
    return {
        key[len(prefix) :].lower(): value
        for key, value in env.items()
        if key.startswith(prefix) and key[len(prefix) :].lower() in Settings.model_fields
    }
