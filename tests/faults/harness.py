"""The fault suite's shared pieces: a workload with its ground-truth ledger, worker
processes, a paced producer, a read_committed verifier, and the final verdict.

Every scenario does the same thing around a different fault::

    async with FaultRun(settings, ledger_workload, tmp_path) as run:
        await run.start_workers(2)
        feeding = run.feed(rate=2000)           # produce in the background, paced
        await run.reach(0.5)                    # half the stream's commands seen
        ...fault...; run.healed()               # recovery time counts from here
        await run.settle()                      # every expectation met, lag back to 0
    verdict = await run.verdict()               # lost, duplicates, counter error, ...

The ledger (``workload.py``) is what a correct pipeline emits, computed from the workload
alone, never from the product.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from eventgate.connections import kafka_common, redis_client
from eventgate.counters.store import CounterStore
from eventgate.registry.model import WorkflowStatus
from eventgate.registry.requests import CreateType, PutWorkflow, ValidationBody, WorkflowBody
from eventgate.registry.service import Registry
from eventgate.settings import Settings
from eventgate.topics import ensure_topics

sys.path.insert(0, str(Path(__file__).parent.parent / "integration"))
from streams import kill, worker_env
from workload import (
    LAUNCHING,
    POISON_TYPE,
    STRICT_RULES,
    STRICT_TYPE,
    TYPES,
    Ledger,
    Record,
)


async def setup_registry(settings: Settings) -> None:
    """Topics, the workload's types and its launching workflows (as an operator would)."""
    await ensure_topics(settings)
    async with Registry(settings, name="faults-setup", is_writer_candidate=True) as registry:
        for key in (*TYPES, POISON_TYPE):
            (await registry.request(CreateType(key=key, name=key))).raise_for_code()
        strict = CreateType(
            key=STRICT_TYPE,
            name=STRICT_TYPE,
            validation=ValidationBody(enabled=True, rules=STRICT_RULES),
        )
        (await registry.request(strict)).raise_for_code()
        for key, wid in LAUNCHING.items():
            body = WorkflowBody(id=wid, name=wid, status=WorkflowStatus.ACTIVE, launch_on=(key,))
            (await registry.request(PutWorkflow(workflow=body))).raise_for_code()


# -- Kafka helpers -----------------------------------------------------------------------


async def ingest_lag(settings: Settings) -> int:
    """Ingest records not yet committed by the processors' group (end minus committed)."""
    consumer = AIOKafkaConsumer(
        **kafka_common(settings, "faults-lag"),
        group_id=settings.consumer_group,
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        topic = settings.topic("ingest")
        tps = [TopicPartition(topic, p) for p in range(settings.ingest_partitions)]
        ends = await consumer.end_offsets(tps)
        total = 0
        for tp in tps:
            committed = await consumer.committed(tp)
            total += ends[tp] - (committed or 0)
        return total
    finally:
        await consumer.stop()


class Verifier:
    """Reads ``workflow.launch`` and ``rejected`` with read_committed from the start, for
    the whole run, counting each commandId and each reject reason."""

    def __init__(self, settings: Settings, expected: set[str]) -> None:
        self.settings = settings
        self.expected = expected
        self.commands: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.last_expected_at = 0.0  # monotonic time the last missing command arrived
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        launch, rejected = self.settings.topic("workflow.launch"), self.settings.topic("rejected")
        consumer = AIOKafkaConsumer(
            launch,
            rejected,
            **kafka_common(self.settings, "faults-verifier"),
            group_id=None,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            enable_auto_commit=False,
            metadata_max_age_ms=5000,
        )
        await consumer.start()
        try:
            while not self._stop.is_set():
                batch = await consumer.getmany(timeout_ms=300)
                for tp, messages in batch.items():
                    for m in messages:
                        body = orjson.loads(m.value)
                        if tp.topic == launch:
                            cid = body["commandId"]
                            if cid in self.expected and cid not in self.commands:
                                self.last_expected_at = time.monotonic()
                            self.commands[cid] += 1
                        else:
                            self.reasons[body["reason"]] += 1
        finally:
            await consumer.stop()


# -- workers -----------------------------------------------------------------------------


def fault_worker_env(settings: Settings) -> dict[str, str]:
    """The integration tests' worker environment plus what the fault suite varies."""
    env = worker_env(settings)
    env.update(
        {
            "EVENTGATE_TOPIC_REPLICATION_FACTOR": str(settings.topic_replication_factor),
            "EVENTGATE_TOPIC_MIN_INSYNC_REPLICAS": str(settings.topic_min_insync_replicas),
            "EVENTGATE_REGISTRATION_MAX_PER_MINUTE": str(settings.registration_max_per_minute),
            "EVENTGATE_REGISTRATION_MAX_TOTAL": str(settings.registration_max_total),
            # INFO shows why a worker stopped (a failing scenario's log); WARNING keeps the
            # logs of a passing run short.
            "EVENTGATE_LOG_LEVEL": os.environ.get("FAULTS_WORKER_LOG_LEVEL", "WARNING"),
        }
    )
    return env


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    killed_by_us: bool = False


# -- the run -----------------------------------------------------------------------------


@dataclass
class Verdict:
    """One scenario's figures, as the results table shows them."""

    scenario: str
    events: int
    lost: int
    duplicates: int
    unexpected: int
    counter_error: int
    reasons_ok: bool
    registry_ok: bool
    worker_crashes: int
    recovery_s: float | None
    duration_s: float
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            self.lost == self.duplicates == self.unexpected == self.counter_error == 0
            and self.reasons_ok
            and self.registry_ok
            and self.worker_crashes == 0
        )


class FaultRun:
    """One scenario's pipeline: its workload, workers, producer and verifier."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        records: Sequence[Record],
        ledger: Ledger,
        logdir: Path,
        worker_settings: Settings | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.worker_settings = worker_settings or settings
        self.records = list(records)
        self.ledger = ledger
        self.log = logdir / "workers.log"
        self.workers: list[Worker] = []
        self.verifier = Verifier(settings, ledger.commands)
        self.produced = 0
        self.started = time.monotonic()
        self.healed_at: float | None = None
        self.settled_at: float | None = None
        self.crashes = 0
        self.notes: list[str] = []
        self.recovered_at: float | None = None
        self._feeder: asyncio.Task[None] | None = None
        self._recovery: asyncio.Task[None] | None = None

    async def __aenter__(self) -> FaultRun:
        await setup_registry(self.settings)
        self.verifier.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._feeder is not None and not self._feeder.done():
            self._feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._feeder
        if self._recovery is not None:
            self._recovery.cancel()
        await self.stop_workers()
        await self.verifier.stop()

    # workers

    def start_worker(self) -> Worker:
        with open(self.log, "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "eventgate", "worker"],
                env=fault_worker_env(self.worker_settings),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        worker = Worker(process)
        self.workers.append(worker)
        return worker

    def start_workers(self, n: int) -> None:
        for _ in range(n):
            self.start_worker()

    def live(self) -> list[Worker]:
        return [w for w in self.workers if w.process.poll() is None]

    async def kill_worker(self, worker: Worker, sig: int = signal.SIGKILL) -> int | None:
        """Signal ``worker`` (a fault we inject, not a crash), reap it (off the loop: a
        SIGTERM'd worker takes a moment) and return its exit code."""
        worker.killed_by_us = True
        await asyncio.to_thread(kill, worker.process, sig)
        return worker.process.returncode

    def check_no_crash(self) -> None:
        """Count workers that died without our signal (a crash on bad input, say)."""
        for w in self.workers:
            if not w.killed_by_us and w.process.poll() is not None:
                w.killed_by_us = True  # count once
                self.crashes += 1
                self.notes.append(f"worker exited by itself with {w.process.returncode}")

    async def stop_workers(self) -> None:
        self.check_no_crash()
        for w in self.workers:
            if w.process.poll() is None:
                w.killed_by_us = True
                with contextlib.suppress(ProcessLookupError):
                    w.process.send_signal(signal.SIGCONT)  # a paused one must hear SIGTERM
                await asyncio.to_thread(kill, w.process, signal.SIGTERM)
                if w.process.returncode not in (0, -signal.SIGKILL):
                    self.crashes += 1
                    self.notes.append(f"worker exit code {w.process.returncode} on SIGTERM")

    # producing

    def feed(self, rate: float, chunk: int = 200) -> asyncio.Task[None]:
        """Produce the workload in the background at about ``rate`` records/s."""
        self._feeder = asyncio.create_task(self._feed(rate, chunk))
        return self._feeder

    async def _feed(self, rate: float, chunk: int) -> None:
        producer = AIOKafkaProducer(
            **kafka_common(self.settings, "faults-producer"),
            acks="all",
            enable_idempotence=True,
            request_timeout_ms=60_000,
            max_batch_size=1024 * 1024,
            max_request_size=2 * 1024 * 1024,
        )
        await producer.start()
        topic = self.settings.topic("ingest")
        begun = time.monotonic()
        try:
            for start in range(0, len(self.records), chunk):
                part = self.records[start : start + chunk]
                futures = [await producer.send(topic, v, key=k) for k, v in part]
                await asyncio.gather(*futures)
                self.produced = start + len(part)
                ahead = self.produced / rate - (time.monotonic() - begun)
                if ahead > 0:
                    await asyncio.sleep(ahead)
        finally:
            await producer.stop()

    # waiting

    async def reach(self, fraction: float, timeout: float = 300) -> None:
        """Wait until ``fraction`` of the expected commands (or, for a stream without
        commands, of the records produced) has been seen."""
        async with asyncio.timeout(timeout):
            while True:
                self.check_no_crash()
                if self.crashes:
                    return  # no point waiting: the verdict will show the crash
                if self.ledger.commands:
                    if len(self.verifier.commands) >= fraction * len(self.ledger.commands):
                        return
                elif self.produced >= fraction * self.ledger.events:
                    return
                await asyncio.sleep(0.05)

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def healed(self) -> None:
        """The fault is over: recovery time counts from now until the group's lag on
        ingest is first back at 0 (everything produced so far processed)."""
        self.healed_at = time.monotonic()
        self.recovered_at = None
        if self._recovery is not None:
            self._recovery.cancel()
        self._recovery = asyncio.create_task(self._watch_recovery())

    async def _watch_recovery(self) -> None:
        while True:
            with contextlib.suppress(Exception):  # a broker still restarting: ask again
                if await ingest_lag(self.settings) == 0:
                    self.recovered_at = time.monotonic()
                    return
            await asyncio.sleep(0.2)

    async def settle(self, timeout: float = 300, quiet_s: float = 3.0) -> None:
        """Wait until everything was produced, every expected command and reject arrived
        and the group's lag is 0; then a quiet spell in which a duplicate would show."""
        async with asyncio.timeout(timeout):
            if self._feeder is not None:
                await self._feeder
                self._feeder = None
            while True:
                self.check_no_crash()
                if self.crashes:
                    return  # no point waiting: the verdict will show the crash
                seen = set(self.verifier.commands)
                rejects = sum(self.verifier.reasons.values())
                if (
                    self.ledger.commands <= seen
                    and rejects >= self.ledger.reasons.total()
                    and await ingest_lag(self.settings) == 0
                ):
                    break
                await asyncio.sleep(0.25)
        self.settled_at = time.monotonic()
        await asyncio.sleep(quiet_s)

    # the verdict

    async def verdict(self, **extra: Any) -> Verdict:
        seen = self.verifier.commands
        expected = self.ledger.commands
        redis = redis_client(self.settings)
        try:
            store = CounterStore(redis, self.settings)
            figures = await store.figures(list(self.ledger.types))
        finally:
            await redis.aclose()
        counter_error = sum(
            abs(figures[k].volume24h - self.ledger.volume[k])
            + abs(figures[k].launched24h - self.ledger.launched[k])
            + abs(figures[k].rejected24h - self.ledger.rejected[k])
            for k in self.ledger.types
        )
        if counter_error:
            self.notes.append(
                "counters "
                + ", ".join(
                    f"{k}: {figures[k].volume24h}/{self.ledger.volume[k]}"
                    for k in self.ledger.types
                    if figures[k].volume24h != self.ledger.volume[k]
                )
            )
        reasons = Counter({r: n for r, n in self.verifier.reasons.items()})
        want = Counter(self.ledger.reasons)
        if self.ledger.flood_keys:
            reasons.pop("registration_limit", None)
        if reasons != want:
            self.notes.append(f"reasons seen {dict(reasons)} != expected {dict(want)}")
        registry_ok = await registry_consistent(self.settings, self.ledger.types)
        recovery = None
        back = self.recovered_at or self.settled_at
        if self.healed_at is not None and back is not None:
            recovery = round(max(0.0, back - self.healed_at), 1)
        return Verdict(
            scenario=self.name,
            events=self.ledger.events,
            lost=len(expected - set(seen)),
            duplicates=sum(n - 1 for n in seen.values() if n > 1),
            unexpected=len(set(seen) - expected),
            counter_error=counter_error,
            reasons_ok=reasons == want,
            registry_ok=registry_ok,
            worker_crashes=self.crashes,
            recovery_s=recovery,
            duration_s=round(time.monotonic() - self.started, 1),
            notes="; ".join(self.notes),
            extra=extra,
        )


async def registry_consistent(settings: Settings, keys: Sequence[str]) -> bool:
    """Two fresh readers load the registry from the log: both hold every expected type,
    and their states are identical."""
    readers = [
        Registry(settings, name=f"faults-check{i}", is_writer_candidate=False) for i in range(2)
    ]
    try:
        for r in readers:
            await r.start()
        first, second = (r.state.snapshot() for r in readers)
        return first == second and all(k in first[0] for k in keys)
    finally:
        for r in readers:
            await r.stop()


def rss_kib(pid: int) -> int:
    """Resident memory of a process (KiB), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def registry_state_size(settings: Settings) -> int:
    """How many event types a fresh reader of the registry holds."""
    async with Registry(settings, name="faults-count", is_writer_candidate=False) as registry:
        return len(registry.state.types)


# -- one scenario, start to verdict -----------------------------------------------------

Step = Callable[[FaultRun], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True)
class Plan:
    """A scenario: its workload, pace, and the fault it plays while the stream runs.

    ``fault`` runs once the workers and the producer have started; it calls
    ``run.healed()`` when the fault is over (recovery time counts from there) and may
    return figures for the notes. ``after`` runs once everything settled, workers still
    up (to measure them)."""

    name: str
    settings: Settings
    records: Sequence[Record]
    ledger: Ledger
    fault: Step
    rate: float
    workers: int = 2
    worker_settings: Settings | None = None
    settle_timeout: float = 600
    after: Step | None = None


async def play(
    plan: Plan, logdir: Path, record: Callable[[Verdict], None]
) -> tuple[Verdict, FaultRun]:
    """Run ``plan`` and record its verdict; the caller asserts on it."""
    extra: dict[str, Any] = {}
    async with FaultRun(
        plan.name, plan.settings, plan.records, plan.ledger, logdir, plan.worker_settings
    ) as run:
        run.start_workers(plan.workers)
        run.feed(rate=plan.rate)
        extra |= await plan.fault(run) or {}
        await run.settle(timeout=plan.settle_timeout)
        if plan.after is not None:
            extra |= await plan.after(run) or {}
    verdict = await run.verdict(**extra)
    record(verdict)
    return verdict, run


async def no_fault(run: FaultRun) -> None:
    """The stream is the test (poison, flood): no fault, no recovery time."""
