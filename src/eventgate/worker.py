"""``eventgate worker``: a stream processor, a registry-writer candidate, and its
``/metrics``, ``/healthz``, ``/readyz`` on ``EVENTGATE_WORKER_HTTP_PORT``.

Beside the processor run its timers: counters upkeep (once a minute), consumer lag and
Redis reachability (every ``metrics_refresh_s``) and, on the owner of ingest partition 0,
the volume floors (every ``volume_floor_interval_s``; ``floors.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal

import uvicorn
from aiokafka import TopicPartition

from eventgate.connections import redis_client
from eventgate.counters.results import ResultsConsumer, ResultStats, registry_known
from eventgate.counters.store import CounterStore
from eventgate.errors import DependencyUnavailable
from eventgate.floors import FloorWatch
from eventgate.health import Readiness, watch
from eventgate.ingest.processor import IngestProcessor
from eventgate.logs import setup_logging
from eventgate.metrics import Metrics
from eventgate.ops_http import ops_app
from eventgate.registry.service import Registry
from eventgate.settings import Settings
from eventgate.topics import ensure_topics

log = logging.getLogger(__name__)

# The cyclic GC, tuned for the hot path: a poll allocates ~10 containers per event (decoded
# params, decisions, outputs), nearly all freed by reference counting, yet every
# collection of the oldest generation re-scanned everything start-up built (the registry
# snapshot, the clients, compiled validators). Freezing those objects once the registry is
# loaded cut the pure stages from ~29 to ~22 CPU µs per event (``bench/hotpath_micro.py``
# prints both). Young collections every 10,000 allocations (not 700) saved a little more;
# the older generations keep the default ratios, so cyclic garbage (asyncio futures,
# exceptions) is still collected: with the oldest generation collected almost never
# ((50,000, 50, 100)), a worker's RSS grew with every event it processed.
GC_THRESHOLDS = (10_000, 10, 10)


def tune_gc() -> None:
    """Move everything alive now out of the collector's sight; collect young objects less
    often (cycles still go: the thresholds only space the passes out)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def serve_worker(settings: Settings, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set."""
    metrics = Metrics()
    readiness = Readiness()
    await ensure_topics(settings)
    redis = redis_client(settings)
    registry = Registry(settings, is_writer_candidate=True, name="worker")
    store = CounterStore(redis, settings, history_max_entries=settings.history_max_entries)
    processor = IngestProcessor(settings, registry, store, metrics)
    results = ResultsConsumer(settings, store, registry_known(registry))

    loaded = False

    async def registry_loaded() -> str | None:
        return None if loaded else "registry not loaded yet"

    async def redis_answers() -> str | None:
        await redis.ping()
        return None if processor.redis_ok else "the last Redis batch call failed"

    async def partitions() -> str | None:
        return None if processor.assigned else "no ingest partitions assigned yet"

    async def kafka_answers() -> str | None:
        # Cheap: one ListOffsets round trip to the leaders of our partitions (metadata
        # of every topic only while none is assigned, which fails readiness anyway).
        owned = list(processor.assigned)
        if owned:
            await processor.consumer.end_offsets(owned)
        else:
            await processor.consumer.topics()
        return None

    readiness.add("registry", registry_loaded)
    readiness.add("kafka", kafka_answers)
    readiness.add("redis", redis_answers)
    readiness.add("partitions", partitions)
    floors = FloorWatch(
        lambda: registry.state.types.values(),
        store,
        metrics,
        settings,
        is_evaluator=lambda: TopicPartition(processor.topic, 0) in processor.assigned,
    )
    http = uvicorn.Server(
        uvicorn.Config(
            ops_app(metrics, readiness),
            host=settings.api_host,
            port=settings.worker_http_port,
            log_level="warning",
            lifespan="off",
        )
    )
    http_task = asyncio.create_task(http.serve())
    timers: list[asyncio.Task[None]] = []
    try:
        await registry.start()
        loaded = True
        tune_gc()
        metrics.watch_registry(registry)
        await processor.start()
        await results.start()
        log.info("worker started", extra={"topic": settings.topic("ingest")})
        timers += [
            asyncio.create_task(_upkeep(store, results, metrics, processor)),
            asyncio.create_task(_watch_lag(processor, settings.metrics_refresh_s)),
            asyncio.create_task(
                watch(
                    redis.ping, lambda up: metrics.redis_up.set(int(up)), settings.metrics_refresh_s
                )
            ),
            asyncio.create_task(floors.run()),
        ]
        run = asyncio.create_task(processor.run())
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({run, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if run.done():
            run.result()  # the processor failed: raise its error
        run.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await run
    finally:
        log.info("worker stopping")
        for task in timers:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await results.stop()
        await processor.stop()
        await registry.stop()
        await redis.aclose()
        http.should_exit = True
        await http_task


async def _upkeep(
    store: CounterStore, results: ResultsConsumer, metrics: Metrics, processor: IngestProcessor
) -> None:
    """Once a minute: roll the counters' windows forward (so readers rarely correct idle
    partitions), publish the dedupe window and the workflow-results figures, and close
    the reject log's minute."""
    reported = ResultStats()
    while True:
        await asyncio.sleep(60)
        processor.rejects.tick()
        try:
            await store.roll()
            metrics.dedupe_window.set(await store.dedupe_window_ms() / 1000)
        except DependencyUnavailable as exc:
            log.warning("counters upkeep skipped: Redis unavailable", extra={"error": str(exc)})
        seen = results.stats
        for outcome in ("started", "failed", "counted", "malformed", "unknown"):
            delta = getattr(seen, outcome) - getattr(reported, outcome)
            if delta > 0:
                metrics.results.labels(outcome).inc(delta)
                setattr(reported, outcome, getattr(seen, outcome))


async def _watch_lag(processor: IngestProcessor, interval_s: float) -> None:
    while True:
        try:
            await processor.refresh_lag()
        except Exception as exc:  # noqa: BLE001 - Kafka away: the gauge keeps its last value
            log.warning("consumer lag not refreshed", extra={"error": repr(exc)})
        await asyncio.sleep(interval_s)


def run_worker(settings: Settings) -> int:
    setup_logging(settings, "worker")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve_worker(settings, stop)

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
    return 0
