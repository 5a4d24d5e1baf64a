"""``create_app``: the FastAPI application of ``eventgate api`` (API under ``/api/v1``,
console at ``/``, ``/metrics``, ``/healthz``, ``/readyz``, ``/openapi.json``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from eventgate import __version__
from eventgate.api.auth import TokenTable
from eventgate.api.limits import BodyLimit, RateLimit
from eventgate.api.methods import Methods, method_table
from eventgate.api.openapi import document
from eventgate.api.problems import install_error_handlers
from eventgate.api.ratelimit import RateLimiter
from eventgate.api.routes import dependents, event_types, events, history, type_details
from eventgate.api.routes.events import MAX_EVENTS
from eventgate.api.writes import COMPILE_CONCURRENCY
from eventgate.connections import kafka_common, redis_client
from eventgate.counters.store import CounterStore
from eventgate.health import Readiness, watch
from eventgate.metrics import Metrics
from eventgate.ops_http import ops_routes
from eventgate.registry.service import Registry
from eventgate.settings import Settings

CONSOLE_DIR = Path(__file__).resolve().parent.parent / "console"


def create_app(
    settings: Settings,
    registry: Registry | None = None,
    *,
    max_body_bytes: int | None = None,
    body_limits: Mapping[str, int] | None = None,
) -> FastAPI:
    """The app; it starts (and stops) its own ``Registry`` unless one is given.

    Request bodies over ``max_body_bytes`` are refused with 413; the default is the
    ``api_max_body_bytes`` setting when ``Settings`` has one, else 1 MiB. ``body_limits``
    gives other limits to exact paths (e.g. ``{"/api/v1/events": …}``).
    """
    if max_body_bytes is None:
        max_body_bytes = settings.api_max_body_bytes
    own_registry = registry is None
    reg = registry if registry is not None else Registry(settings, name="api")
    redis = redis_client(settings)  # connects lazily
    counters = CounterStore(redis, settings, history_max_entries=settings.history_max_entries)
    # 500 records of up to max_record_bytes each, as JSON, plus the envelope.
    events_limit = MAX_EVENTS * settings.max_record_bytes + 64 * 1024
    metrics = Metrics()
    readiness = Readiness()
    loaded = False

    async def registry_loaded() -> str | None:
        return None if loaded else "registry not loaded yet"

    async def redis_answers() -> str | None:
        await redis.ping()
        return None

    async def kafka_producer() -> str | None:
        producer = app.state.producer
        if producer is None:
            return "ingest producer not started"
        # Cheap: a metadata request for the topics this producer tracks (ingest).
        if not await producer.client.force_metadata_update():
            return "no Kafka broker answered a metadata request"
        return None

    readiness.add("registry", registry_loaded)
    readiness.add("redis", redis_answers)
    readiness.add("kafka", kafka_producer)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        nonlocal loaded
        if own_registry:
            await reg.start()
        loaded = True
        metrics.watch_registry(reg)  # the API is a registry-writer candidate too
        producer = AIOKafkaProducer(
            **kafka_common(settings, "eventgate-api-events"), enable_idempotence=True, acks="all"
        )
        await producer.start()
        # Track only ingest's metadata: the readiness check then asks for that topic alone.
        await producer.client.add_topic(settings.topic("ingest"))
        app.state.producer = producer
        redis_watch = asyncio.create_task(
            watch(redis.ping, lambda up: metrics.redis_up.set(int(up)), settings.metrics_refresh_s)
        )
        try:
            yield
        finally:
            redis_watch.cancel()
            app.state.producer = None
            await producer.stop()
            await redis.aclose()
            if own_registry:
                await reg.stop()

    app = FastAPI(
        title="eventgate",
        version=__version__,
        description="Event types, their validation, structure and dependencies.",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.openapi = lambda: document(app)  # type: ignore[method-assign]
    app.state.settings = settings
    app.state.registry = reg
    app.state.counters = counters
    app.state.producer = None
    app.state.tokens = TokenTable(settings)
    app.state.compile_slots = asyncio.Semaphore(COMPILE_CONCURRENCY)
    install_error_handlers(app)
    limits = {"/api/v1/events": events_limit, **(body_limits or {})}
    app.add_middleware(BodyLimit, max_body_bytes=max_body_bytes, per_path=limits)
    app.add_middleware(Methods, table=lambda: method_table(app))
    if settings.api_rate_per_s > 0:  # added last, so it runs first: before reading a body
        limiter = RateLimiter(settings.api_rate_per_s, settings.api_burst)
        tokens = app.state.tokens
        app.add_middleware(
            RateLimit, limiter=limiter, tokens=tokens, refused=metrics.api_rate_limited
        )
    routers = (event_types, type_details, dependents, history, events)
    for router in (module.router for module in routers):
        app.include_router(router, prefix="/api/v1")
    for route in ops_routes(metrics, readiness):
        app.router.routes.append(route)
    app.mount("/", StaticFiles(directory=CONSOLE_DIR, html=True), name="console")
    return app
