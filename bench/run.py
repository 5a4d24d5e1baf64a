"""``make bench``: eventgate against its peers, same machine, same input, same run.

1. Starts (or reuses) a local Apache Kafka and Redis on dedicated ports (19292, 16379)
   with the repo's launcher, creates a fresh set of topics under a per-run prefix.
2. Builds the workload (``workload.py``, deterministic from ``--seed``), registers its
   event types, validation rules and workflows through the registry client, and
   pre-fills ``{prefix}ingest`` with ``--events`` records BEFORE anything is timed.
3. Drain runs, one system at a time, each with its own consumer group on the same
   pre-filled topic: the floor (aiokafka + orjson), the Quix Streams application
   (exactly-once), the naive faust agent (first ``--faust-events`` only: it is slow), and
   ``eventgate worker`` processes (``--workers``, black boxes, progress read from their
   group's committed offsets).
4. Latency runs: a paced producer appends at fixed rates while the system runs;
   latency = command visible to a ``read_committed`` consumer - ingest record timestamp.
5. Prints the table and ratios; writes ``bench/results/<stamp>.json`` and ``.png``
   (and ``latest.*``); stops what it started and deletes its topics.

Run: ``make bench`` or ``.venv/bin/python bench/run.py [--quick] [--workers 1,2]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
import urllib.request
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cpusplit
import kafka_io
import redis
import report
from cpusplit import Sampler
from kafka_io import Collector, GroupProgress, now_ms
from procs import Proc, cpu_split, cpu_totals
from registry_load import fill_registry
from workload import Records, Workload, build_workload

from eventgate.devstack import KafkaCluster, RedisService, ensure_kafka, ensure_redis
from eventgate.devstack.process import default_cache
from eventgate.registry.requests import (
    CreateType,
    PutWorkflow,
    ReplyCode,
    SetValidation,
    WorkflowBody,
)
from eventgate.registry.service import Registry
from eventgate.settings import Settings
from eventgate.topics import ensure_topics

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / ".work"
RESULTS = BENCH / "results"
PY = Path(sys.executable)
QUIX_PY = BENCH / ".venv-quix" / "bin" / "python"
TAGS = "0123456789abcdefghijklmnopqrstuvwxyz"  # event-id tags of paced runs: r0, r1, ...
PEERS = ("floor", "quix-eos", "quix-eos-nostate", "faust-naive")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Run:
    args: argparse.Namespace
    bootstrap: str
    redis_url: str
    prefix: str
    settings: Settings
    workload: Workload
    records: Records
    prefill_end: dict[int, int]
    spec_path: Path
    drain: list[dict[str, Any]] = field(default_factory=list)
    latency: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    redis_figures: dict[str, Any] = field(default_factory=dict)
    procs: list[Proc] = field(default_factory=list)
    eventgate_src: Path | None = None
    pyspy: Path | None = None  # the sampler of --profile-split, None when off or missing
    pyspy_version: str = ""
    # pids of the local Kafka nodes and Redis: the drains report their CPU beside the workers'
    services: dict[str, list[int]] = field(default_factory=dict)

    def topic(self, name: str) -> str:
        return f"{self.prefix}{name}"

    @property
    def ingest(self) -> str:
        return self.topic("ingest")

    def peer_topics(self, peer: str) -> dict[str, str]:
        return {kind: self.topic(f"peer.{peer}.{kind}") for kind in ("launch", "stop", "rejected")}


# ---------------------------------------------------------------- services and setup


def replication(args: argparse.Namespace) -> int:
    """Replication of the bench's topics: 3 on a 3-broker cluster (acks=all waits for the
    in-sync replicas, as in production), else 1."""
    return 3 if args.kafka_nodes == 3 else 1


def min_insync(args: argparse.Namespace) -> int:
    return 2 if args.kafka_nodes == 3 else 1


def start_services(args: argparse.Namespace) -> tuple[KafkaCluster, RedisService]:
    home = WORK / "devstack"
    node_dir = home / f"kafka-{args.kafka_nodes}n-{args.kafka_port}"
    from eventgate.devstack.process import port_open

    if not port_open(args.kafka_port) and node_dir.exists():
        shutil.rmtree(node_dir)  # a broker we start afresh: no topics of old runs
    kafka = ensure_kafka(
        home, default_cache(), port=args.kafka_port, nodes=args.kafka_nodes, log=log
    )
    try:
        redis_service = ensure_redis(home, port=args.redis_port, log=log)
    except BaseException:
        kafka.stop()
        raise
    return kafka, redis_service


async def register(settings: Settings, workload: Workload) -> None:
    """Types with rules or workflows are created by hand, as an operator would; the others
    auto-register when their first event arrives."""
    async with Registry(settings, is_writer_candidate=True, name="bench") as registry:
        wanted = [t for t in workload.types if t.rules_form or t.launch or t.stop]
        for t in wanted:
            reply = await registry.request(CreateType(key=t.key, name=f"Bench {t.key}"))
            if reply.code is not ReplyCode.CONFLICT:
                reply.raise_for_code()
        for t in wanted:
            if t.rules_form:
                reply = await registry.request(
                    SetValidation(key=t.key, enabled=True, rules=t.rules)
                )
                reply.raise_for_code()
        for w in workload.workflows:
            body = WorkflowBody(
                id=w.id, name=w.name, status=w.status, launch_on=w.launch_on, stop_on=w.stop_on
            )
            (await registry.request(PutWorkflow(workflow=body))).raise_for_code()
    log(
        f"registered {len(wanted)} types ({sum(1 for t in wanted if t.rules_form)} with rules)"
        f" and {len(workload.workflows)} workflows"
    )


async def setup(args: argparse.Namespace, bootstrap: str, redis_url: str) -> Run:
    stamp = datetime.now(UTC).strftime("%m%d%H%M%S")
    prefix = f"bench{stamp}."
    settings = Settings(
        kafka_bootstrap=bootstrap,
        redis_url=redis_url,
        topic_prefix=prefix,
        ingest_partitions=args.partitions,
        output_partitions=args.partitions,
        topic_replication_factor=replication(args),
        topic_min_insync_replicas=min_insync(args),
    )
    await ensure_topics(settings)
    peer_topics = [f"{prefix}peer.{p}.{k}" for p in PEERS for k in ("launch", "stop", "rejected")]
    await kafka_io.create_topics(bootstrap, peer_topics, args.partitions)
    workload = build_workload(seed=args.seed, types=args.types)
    await register(settings, workload)
    if args.extra_types:
        started = time.perf_counter()
        await fill_registry(settings, args.extra_types, params=10)
        log(
            f"wrote {args.extra_types:,} more event types (10 params each) to the registry in"
            f" {time.perf_counter() - started:.1f} s: the workers load them at start"
        )
    started = time.perf_counter()
    records = workload.records(args.events, "p0")
    log(
        f"generated {len(records):,} records in {time.perf_counter() - started:.1f} s"
        f" (sizes {records.sizes()}, invalid {sum(records.invalid().values())})"
    )
    seconds = await kafka_io.prefill(
        bootstrap, f"{prefix}ingest", records.keys, records.values, log
    )
    end = await kafka_io.end_offsets(bootstrap, f"{prefix}ingest")
    log(f"pre-filled {sum(end.values()):,} records in {seconds:.1f} s over {len(end)} partitions")
    WORK.mkdir(parents=True, exist_ok=True)
    spec_path = WORK / f"{prefix}spec.json"
    spec_path.write_text(json.dumps(workload.peer_spec()))
    run = Run(args, bootstrap, redis_url, prefix, settings, workload, records, end, spec_path)
    run.redis_figures["prefillSeconds"] = round(seconds, 2)
    return run


# ---------------------------------------------------------------- helpers


def redis_memory(url: str) -> dict[str, float]:
    client = redis.Redis.from_url(url)
    try:
        info = client.info("memory")
        return {
            "usedMiB": round(int(info["used_memory"]) / 2**20, 2),
            "peakMiB": round(int(info["used_memory_peak"]) / 2**20, 2),
            "keys": int(client.dbsize()),
        }
    finally:
        client.close()


def redis_flush(url: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        client.flushall()
    finally:
        client.close()


async def sample_until_exit(procs: list[Proc], deadline_s: float) -> bool:
    """Sample RSS until every process has exited; False if the deadline came first."""
    until = time.monotonic() + deadline_s
    while time.monotonic() < until:
        for p in procs:
            p.sample()
        if not any(p.alive() for p in procs):
            return True
        await asyncio.sleep(0.25)
    return False


def worker_env(run: Run, group: str, index: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTGATE_")}
    env.update(
        EVENTGATE_KAFKA_BOOTSTRAP=run.bootstrap,
        EVENTGATE_REDIS_URL=run.redis_url,
        EVENTGATE_TOPIC_PREFIX=run.prefix,
        EVENTGATE_INGEST_PARTITIONS=str(run.args.partitions),
        EVENTGATE_OUTPUT_PARTITIONS=str(run.args.partitions),
        EVENTGATE_TOPIC_REPLICATION_FACTOR=str(replication(run.args)),
        EVENTGATE_TOPIC_MIN_INSYNC_REPLICAS=str(min_insync(run.args)),
        EVENTGATE_CONSUMER_GROUP=group,
        EVENTGATE_API_HOST="127.0.0.1",
        EVENTGATE_WORKER_HTTP_PORT=str(run.args.worker_port + index),
        EVENTGATE_LOG_LEVEL="WARNING",
    )
    return env


def eventgate_source(ref: str | None) -> Path | None:
    """The Python source folder of git revision ``ref``, exported under ``.work/rev-<sha>``
    (``git archive`` of the whole tree: read only, the work tree and index stay untouched)
    with its kernel extension built when the revision has one (``kernel_build``), to bench
    a committed worker while the work tree is mid-change; None: the work tree's own
    (installed, editable) eventgate. Cached per sha."""
    if not ref:
        return None
    git = shutil.which("git") or "git"
    sha = subprocess.run(  # noqa: S603 - git with a revision the user named
        [git, "rev-parse", "--short", ref], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    target = WORK / f"rev-{sha}"
    exported = target / ".exported"
    if not exported.exists():
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        archive = subprocess.run(  # noqa: S603
            [git, "archive", "--format=tar", sha], cwd=ROOT, capture_output=True, check=True
        )
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(target, filter="data")
        exported.touch()
    source = target / python_source(target)
    if (target / "kernel" / "Cargo.toml").exists():
        kernel_build(target, source, sha)
    check_import(source, kernel=(target / "kernel" / "Cargo.toml").exists())
    log(f"eventgate of {ref} ({sha}) from {source.relative_to(ROOT)}")
    return source


def python_source(tree: Path) -> str:
    """Where the revision keeps its Python package: maturin's ``python-source``, else src."""
    try:
        config = tomllib.loads((tree / "pyproject.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return "src"
    return str(config.get("tool", {}).get("maturin", {}).get("python-source", "src"))


def kernel_build(tree: Path, source: Path, sha: str) -> None:
    """Build the revision's ``eventgate._kernel`` the way its own ``pip install`` would
    (``maturin build`` with the revision's pyproject: its manifest path, module name,
    profile, features, ``Cargo.lock``) for this interpreter, and put the extension from the
    wheel next to the exported package. One cargo target folder for every revision
    (``.work/cargo-target``), so only the kernel crate itself is compiled again."""
    if any((source / "eventgate").glob("_kernel*.so")):
        return
    maturin = Path(sys.executable).parent / "maturin"
    if not maturin.exists():
        raise SystemExit(f"--eventgate-ref {sha}: it has a kernel, and {maturin} is missing")
    dist = tree / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    build_log = WORK / "logs" / f"kernel-build-{sha}.log"
    build_log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CARGO_TARGET_DIR": str(WORK / "cargo-target")}
    log(f"building the kernel of {sha} (maturin build --release; log {build_log.name})")
    started = time.perf_counter()
    with build_log.open("wb") as out:
        code = subprocess.call(  # noqa: S603 - maturin of this venv, the revision's tree
            [str(maturin), "build", "--release", "--interpreter", str(PY), "--out", str(dist)],
            cwd=tree,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=3600,
        )
    if code != 0:
        tail = "\n".join(build_log.read_text(errors="replace").splitlines()[-30:])
        raise SystemExit(f"the kernel of {sha} did not build ({code}):\n{tail}")
    wheels = sorted(dist.glob("*.whl"))
    if not wheels:
        raise SystemExit(f"the kernel of {sha}: maturin wrote no wheel into {dist}")
    with zipfile.ZipFile(wheels[-1]) as wheel:
        members = [n for n in wheel.namelist() if re.fullmatch(r"eventgate/_kernel[.\w-]*\.so", n)]
        if len(members) != 1:
            raise SystemExit(f"the kernel of {sha}: not one eventgate/_kernel*.so in {wheels[-1]}")
        (source / members[0]).write_bytes(wheel.read(members[0]))
    log(f"built the kernel of {sha} in {time.perf_counter() - started:.0f} s")


def check_import(source: Path, kernel: bool) -> None:
    """The workers (``PYTHONPATH=source``) import eventgate, and its kernel when the
    revision has one, from ``source``: not the editable install of the work tree."""
    probe = "import eventgate; print(eventgate.__file__)"
    if kernel:
        probe += "; import eventgate._kernel as k; print(k.__file__)"
    env = {**os.environ, "PYTHONPATH": str(source)}
    out = subprocess.run(  # noqa: S603 - this interpreter
        [str(PY), "-c", probe], env=env, cwd=WORK, capture_output=True, text=True, check=False
    )
    files = out.stdout.split()
    if (
        out.returncode != 0
        or not files
        or not all(Path(f).resolve().is_relative_to(source.resolve()) for f in files)
    ):
        raise SystemExit(
            f"the exported eventgate in {source} does not import from there:"
            f" {out.stdout.strip()} {out.stderr.strip()[-2000:]}"
        )


def start_workers(run: Run, group: str, count: int, label: str) -> list[Proc]:
    procs = []
    for i in range(count):
        env = worker_env(run, group, i)
        if run.eventgate_src is not None:
            env["PYTHONPATH"] = str(run.eventgate_src)
        argv = [str(PY), "-m", "eventgate", "worker"]
        log_path = WORK / "logs" / f"{run.prefix}eventgate-{label}-{i}.log"
        procs.append(Proc(f"eventgate-{label}-{i}", argv, log_path, env=env, cwd=WORK).start())
    run.procs += procs
    return procs


def stop_all(procs: list[Proc]) -> None:
    for p in procs:
        p.stop()


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def command_topics(run: Run, system: str) -> list[str]:
    if system == "eventgate":
        return [run.topic("workflow.launch"), run.topic("workflow.stop")]
    topics = run.peer_topics(system)
    return [topics["launch"], topics["stop"]]


async def collector_for(run: Run, system: str) -> Collector:
    """A collector of ``system``'s commands from now on, running alongside it."""
    topics = command_topics(run, system)
    collector = Collector(run.bootstrap, topics)
    await collector.start(await kafka_io.topic_ends(run.bootstrap, topics))
    return collector


async def count_commands(
    run: Run, system: str, since: dict[str, dict[int, int]], expected: int | None
) -> int:
    """Commands ``system`` wrote since ``since``, read ``read_committed`` AFTER its drain
    run, so the harness does not take CPU from the system while it is timed."""
    collector = Collector(run.bootstrap, command_topics(run, system))
    await collector.start(since)
    try:
        await collector.wait_for(expected, quiet_s=3, deadline_s=60)
    finally:
        await collector.stop()
    return collector.count


# ---------------------------------------------------------------- drain runs


async def drain_peer(run: Run, system: str) -> None:
    args = run.args
    group = f"{run.prefix}{system}"
    result_path = WORK / f"{run.prefix}{system}.result.json"
    result_path.unlink(missing_ok=True)
    target = len(run.records)
    note = ""
    topics = run.peer_topics(system)
    common = [
        "--bootstrap",
        run.bootstrap,
        "--topic",
        run.ingest,
        "--group",
        group,
        "--result",
        str(result_path),
    ]
    job = [
        "--spec",
        str(run.spec_path),
        "--launch-topic",
        topics["launch"],
        "--stop-topic",
        topics["stop"],
        "--rejected-topic",
        topics["rejected"],
    ]
    if system == "floor":
        argv = [str(PY), str(BENCH / "peers" / "floor.py"), *common]
    elif system.startswith("quix-eos"):
        if not QUIX_PY.exists():
            run.problems.append(f"quix peer skipped: {QUIX_PY} missing (make bench creates it)")
            return
        state_dir = WORK / f"{run.prefix}quix-state"
        argv = [str(QUIX_PY), str(BENCH / "peers" / "quix_app.py"), *common, *job]
        argv += ["--state-dir", str(state_dir)]
        argv += ["--commit-interval", str(args.quix_commit_interval)]
        if system == "quix-eos-nostate":
            argv.append("--no-count")
            note = "informational: the same job without the per-type counts (no state)"
    else:
        target = min(target, args.faust_events)
        note = f"first {target:,} events only (per-event path is slow)"
        datadir = WORK / f"{run.prefix}faust-data"
        argv = [str(PY), str(BENCH / "peers" / "faust_naive.py"), *common, *job]
        argv += ["--redis", run.redis_url, "--datadir", str(datadir)]
        argv += ["--partitions", str(args.partitions)]
    deadline = args.drain_timeout
    argv += ["--target", str(target), "--deadline", str(deadline)]
    since = await kafka_io.topic_ends(run.bootstrap, command_topics(run, system))
    log(f"drain: {system} on {target:,} events")
    proc = Proc(system, argv, WORK / "logs" / f"{run.prefix}{system}.log", cwd=ROOT).start()
    run.procs.append(proc)
    exited = await sample_until_exit([proc], deadline + 60)
    if not exited:
        run.problems.append(f"{system}: still running after {deadline + 60:.0f} s, stopped")
    proc.stop()
    row: dict[str, Any] = {"system": system, "mode": "drain", "note": note}
    row["peakRssMiB"] = proc.peak_rss_mib
    if not result_path.exists():
        run.problems.append(f"{system}: no result; log tail:\n{proc.tail()}")
        row["note"] = "failed (see problems)"
    else:
        got = json.loads(result_path.read_text())
        seconds = (got["doneMs"] - (got["firstMs"] or got["doneMs"])) / 1000
        row.update(
            events=got["processed"],
            seconds=round(seconds, 3),
            eventsPerS=round(got["processed"] / seconds) if seconds > 0 else None,
            selfReport={k: v for k, v in got.items() if k not in ("firstMs", "doneMs")},
        )
        row["peakRssMiB"] = max(proc.peak_rss_mib, got.get("maxRssMiB", 0))
        if got.get("timedOut"):
            row["note"] = f"timed out at {got['processed']:,} events; {note}".strip("; ")
    if system != "floor":
        expected = None
        if system.startswith("quix-eos"):
            expected = run.records.launches + run.records.stops
        if system == "faust-naive":
            expected = row.get("selfReport", {}).get("commands")
        row["commandsSeen"] = await count_commands(run, system, since, expected)
        row["commandsExpected"] = expected
    if system == "faust-naive":
        row["redis"] = redis_memory(run.redis_url)
    run.drain.append(row)
    log(f"  {system}: {row.get('eventsPerS')} events/s over {row.get('seconds')} s")


async def drain_eventgate(run: Run, workers: int, sampled: bool = False) -> None:
    """One drain by ``workers`` worker processes; ``sampled``: py-spy samples them from the
    first observed commit to the last (``cpusplit``), for the split of their CPU."""
    args = run.args
    label = f"w{workers}" + ("-sampled" if sampled else "")
    group = f"{run.prefix}eventgate-{label}"
    redis_flush(run.redis_url)
    target = len(run.records)
    expected = run.records.launches + run.records.stops
    start = {p: 0 for p in run.prefill_end}
    since = await kafka_io.topic_ends(run.bootstrap, command_topics(run, "eventgate"))
    log(
        f"drain: eventgate, {workers} worker(s), {target:,} events"
        + (f", sampled by py-spy at {args.profile_rate} Hz" if sampled else "")
    )
    row: dict[str, Any] = {"system": "eventgate", "workers": workers, "mode": "drain"}
    if sampled:
        row["variant"] = "sampled"
    procs = start_workers(run, group, workers, label)
    first: tuple[float, int] | None = None
    cpu_groups = {"workers": [p.pid for p in procs], **run.services}
    cpu_before: dict[str, float] = {}
    cpu: dict[str, Any] | None = None
    samplers: list[Sampler] = []
    kernel_label = "pure stages"
    worker_died = False
    done_at: float | None = None
    progress = 0
    launched = time.monotonic()
    try:
        async with GroupProgress(run.bootstrap, group, run.ingest) as watch:
            while time.monotonic() - launched < args.drain_timeout:
                for p in procs:
                    p.sample()
                dead = [p for p in procs if not p.alive()]
                if dead:
                    worker_died = True
                    code = dead[0].popen.returncode if dead[0].popen else "?"
                    run.problems.append(
                        f"eventgate worker {dead[0].name} exited ({code}), log:\n{dead[0].tail()}"
                    )
                    break
                progress = kafka_io.done_count(await watch.committed(), start, run.prefill_end)
                at = time.monotonic()
                if first is None and progress > 0:
                    first = (at, progress)
                    cpu_before = cpu_totals(cpu_groups)
                    if sampled and run.pyspy is not None:
                        samplers = start_samplers(run, run.pyspy, procs, label)
                        cpu_groups["py-spy"] = [s.sampler_pid for s in samplers if s.sampler_pid]
                        if any(cpusplit.kernel_loaded(p.pid) for p in procs):
                            kernel_label = "kernel"
                if progress >= target:
                    done_at = at
                    for s in samplers:
                        s.stopped = time.monotonic()
                    if first is not None and at - first[0] > 0.2:
                        cpu = cpu_split(cpu_groups, cpu_before, target - first[1], at - first[0])
                    break
                await asyncio.sleep(0.05)
        for s in samplers:
            s.stop()
        for p in procs:
            p.sample()
        row["peakRssMiB"] = max((p.peak_rss_mib for p in procs), default=None)
        row["peakRssMiBEach"] = [p.peak_rss_mib for p in procs]
    finally:
        for s in samplers:
            s.stop()
        stop_all(procs)
    seen = await count_commands(run, "eventgate", since, expected)
    row["commandsSeen"] = seen
    row["commandsExpected"] = expected
    row["redis"] = redis_memory(run.redis_url)
    if cpu is not None:
        row["cpu"] = cpu
        if samplers:
            figures = cpusplit.split(
                samplers,
                cpu["usPerEvent"]["workers"],
                cpu["busyCores"]["workers"],
                kernel_label,
                run.pyspy_version,
            )
            if figures["samples"]:
                cpu["split"] = figures
            else:
                tails = "\n".join(s.proc.tail(5) for s in samplers if s.proc is not None)
                run.problems.append(f"eventgate x{workers}: py-spy took no samples:\n{tails}")
    notes = []
    if sampled:
        notes.append("informational: py-spy attached, for the CPU split (cpusplit.py)")
    if done_at is not None and first is not None:
        seconds = done_at - first[0]
        counted = target - first[1]
        if seconds <= 0.2:  # one poll saw it all: fall back to the time since start-up
            seconds, counted = done_at - launched, target
            notes.append("timed from process start")
        row.update(events=target, seconds=round(seconds, 3), eventsPerS=round(counted / seconds))
    else:
        row.update(events=progress, seconds=None, eventsPerS=None)
        notes.append(f"did not finish within {args.drain_timeout:.0f} s ({progress:,} committed)")
    if worker_died:
        notes.append("a worker exited (see problems)")
    elif seen == 0:
        notes.append("no launch/stop commands appeared")
        run.problems.append(
            f"eventgate x{workers}: no launch/stop commands visible (read_committed) on"
            f" {run.topic('workflow.launch')} / workflow.stop, {expected:,} expected: the worker"
            " does not emit them yet (its processor decodes and auto-registers only)"
        )
    elif seen != expected:
        notes.append(f"commands {seen:,} != expected {expected:,}")
    row["note"] = "; ".join(notes)
    run.drain.append(row)
    log(f"  eventgate x{workers}: {row.get('eventsPerS')} events/s, commands {seen:,}")
    if cpu is not None and cpu.get("split"):
        log(cpusplit.summary_line(f"x{workers}", cpu["split"]).strip())


def start_samplers(run: Run, pyspy: Path, procs: list[Proc], label: str) -> list[Sampler]:
    """A py-spy per worker; raw stacks under ``.work/profiles`` (kept after the run)."""
    folder = WORK / "profiles"
    return [
        Sampler(
            pyspy,
            p.pid,
            run.args.profile_rate,
            folder / f"{run.prefix}eventgate-{label}-{i}.raw",
            WORK / "logs" / f"{run.prefix}py-spy-{label}-{i}.log",
        ).start()
        for i, p in enumerate(procs)
    ]


async def drains_eventgate(run: Run) -> None:
    """The eventgate drain rows. With ``--profile-split`` each worker count drains the
    same topic twice: plain (the figure that counts: ratios, targets), then sampled by
    py-spy for the split of the workers' CPU. A native-stack sample pauses the worker for
    about 2 ms, so sampling the counted drain would slow it by ~a quarter at 100 Hz (and
    by less for a revision with shallower stacks, which would bias before/after ratios);
    the pair also shows what the sampler costs, every run."""
    for workers in run.args.workers:
        await drain_eventgate(run, workers)
        if run.pyspy is not None:
            await drain_eventgate(run, workers, sampled=True)
            plain, sampled = run.drain[-2], run.drain[-1]
            figures = sampled.get("cpu", {}).get("split")
            if figures and plain.get("cpu"):
                cpusplit.at_plain_cpu(figures, plain["cpu"]["usPerEvent"]["workers"])


# ---------------------------------------------------------------- latency runs


async def latency_run(
    run: Run, system: str, rate: int, tag: str, group: str, workers: list[Proc]
) -> None:
    args = run.args
    collector = await collector_for(run, system)
    sent_at: dict[str, float] = {}
    lags: list[tuple[float, int]] = []  # (time ms, lag)
    window: dict[str, float | None] = {"start": None}

    def window_start() -> float | None:
        if window["start"] is None and collector.first_ms is not None:
            window["start"] = collector.first_ms + args.warmup * 1000
        return window["start"]

    samples: list[tuple[float, dict[int, int]]] = []

    async def watch_lag(stop: asyncio.Event) -> None:
        """Committed offsets every ~20 ms (commit latency), lag every ~0.5 s."""
        async with GroupProgress(run.bootstrap, group, run.ingest) as watch:
            last_lag = 0.0
            while not stop.is_set():
                committed = await watch.committed()
                samples.append((now_ms(), committed))
                if time.monotonic() - last_lag > 0.5:
                    last_lag = time.monotonic()
                    ends = await watch.ends()
                    lag = sum(max(0, e - committed.get(p, e)) for p, e in ends.items())
                    lags.append((now_ms(), lag))
                    for proc in workers:
                        proc.sample()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.02)

    stop_watch = asyncio.Event()
    watcher = asyncio.create_task(watch_lag(stop_watch))
    # A system that emitted no command in its drain run will not start now: measure the
    # commit latency over a normal window instead of waiting for commands.
    silent = any(d["system"] == system and d.get("commandsSeen") == 0 for d in run.drain)
    give_up = args.warmup + args.latency_seconds if silent else args.ready_timeout
    log(f"latency: {system} at {rate:,} events/s")
    try:
        stats = await kafka_io.paced_produce(
            run.bootstrap,
            run.ingest,
            run.records.retagged(tag),
            rate,
            sent_at,
            window_start,
            args.latency_seconds,
            give_up,
            args.warmup,
            log,
        )
        produced_until = now_ms()
        # Committed past every sent record = (exactly-once) its outputs are visible.
        caught_up = await wait_caught_up(samples, stats.positions, deadline_s=30)
        await collector.wait_for(None, quiet_s=2, deadline_s=20)
    finally:
        stop_watch.set()
        with contextlib.suppress(Exception):
            await watcher
        await collector.stop()
    start = stats.window_started_ms
    latencies: list[float] = []
    if start is not None:
        end = start + args.latency_seconds * 1000
        for eid, visible in collector.seen:
            sent = sent_at.get(eid) if eid is not None else None
            if sent is not None and start <= sent < end:
                latencies.append(visible - sent)
    latencies.sort()
    commits = sorted(kafka_io.commit_latencies(stats.positions, samples))
    # The measured window (or, with no output, everything after the warm-up).
    window_from = (
        start if start is not None else min((ts for _, _, ts in stats.positions), default=0)
    )
    in_window = [lag for at, lag in lags if window_from <= at <= produced_until]
    end_lag = next((lag for at, lag in reversed(lags) if at <= produced_until), None)
    # Sustained: at most two seconds of input still waiting when the producer stopped.
    sustained = caught_up and end_lag is not None and end_lag <= 2 * rate
    row: dict[str, Any] = {
        "system": system,
        "rate": rate,
        "achievedRate": round(stats.sent / stats.seconds) if stats.seconds else None,
        "sent": stats.sent,
        "windowSeconds": args.latency_seconds if start is not None else None,
        "windowCommandsExpected": stats.window_expected,
        "matched": len(latencies),
        "p50Ms": report.percentile(latencies, 0.5),
        "p99Ms": report.percentile(latencies, 0.99),
        "p999Ms": report.percentile(latencies, 0.999),
        "maxMs": report.percentile(latencies, 1.0),
        "maxLag": max(in_window) if in_window else None,
        "maxLagIncludingStartUp": max((lag for _, lag in lags), default=None),
        "commitMatched": len(commits),
        "commitP50Ms": report.percentile(commits, 0.5),
        "commitP99Ms": report.percentile(commits, 0.99),
        "commitP999Ms": report.percentile(commits, 0.999),
        "lagWhenProducerStopped": end_lag,
        "sustained": sustained,
        "producerMaxBehind": stats.behind_max,
        "caughtUp": caught_up,
    }
    notes = ["paced producer runs concurrently on the same cores"]
    if start is None:
        notes.insert(0, f"no commands appeared within {give_up:.0f} s")
        if system == "eventgate":
            run.problems.append(
                f"eventgate latency at {rate:,}/s not measurable: no launch commands visible"
            )
    if not sustained and end_lag is not None:
        notes.insert(
            0,
            f"rate NOT sustained: {end_lag:,} events ({end_lag / rate:.1f} s of input) behind"
            " when the producer stopped" + ("" if caught_up else ", still behind 30 s later"),
        )
    if caught_up and len(latencies) < stats.window_expected:
        notes.insert(0, f"{stats.window_expected - len(latencies):,} window commands missing")
    if row["achievedRate"] and row["achievedRate"] < rate * 0.95:
        notes.insert(0, f"producer reached only {row['achievedRate']:,}/s")
    row["note"] = "; ".join(notes)
    run.latency.append(row)
    log(
        f"  {system} @ {rate:,}/s: p50 {row['p50Ms']} p99 {row['p99Ms']} p99.9 {row['p999Ms']} ms,"
        f" matched {len(latencies):,}/{stats.window_expected:,}, max lag {row['maxLag']}"
    )


async def wait_caught_up(
    samples: list[tuple[float, dict[int, int]]],
    positions: list[tuple[int, int, float]],
    deadline_s: float,
) -> bool:
    """Until the sampled committed offsets pass every sent record (True), or the deadline."""
    last: dict[int, int] = {}
    for partition, offset, _ in positions:
        last[partition] = max(last.get(partition, -1), offset)
    until = time.monotonic() + deadline_s
    while time.monotonic() < until:
        committed = samples[-1][1] if samples else {}
        if all(committed.get(p, -1) > off for p, off in last.items()):
            return True
        await asyncio.sleep(0.1)
    return False


async def latency_eventgate(run: Run, rates: list[int], workers: int) -> None:
    group = f"{run.prefix}eventgate-lat"
    await kafka_io.commit_group(
        run.bootstrap, group, run.ingest, await kafka_io.end_offsets(run.bootstrap, run.ingest)
    )
    redis_flush(run.redis_url)
    procs = start_workers(run, group, workers, "lat")
    try:
        until = time.monotonic() + run.args.ready_timeout
        ports = [run.args.worker_port + i for i in range(workers)]
        while time.monotonic() < until and not all(
            await asyncio.gather(*(asyncio.to_thread(ready, port) for port in ports))
        ):
            if not all(p.alive() for p in procs):
                break
            await asyncio.sleep(0.5)
        for n, rate in enumerate(rates):
            if not all(p.alive() for p in procs):
                run.problems.append(f"eventgate worker died before the {rate:,}/s run")
                break
            previous = run.latency[-1] if run.latency else None
            if previous and previous["system"] == "eventgate" and not previous.get("sustained"):
                note = "skipped: a lower rate was not sustained (its backlog would be measured)"
                run.latency.append({"system": "eventgate", "rate": rate, "note": note})
                continue
            await latency_run(run, "eventgate", rate, f"r{TAGS[n % len(TAGS)]}", group, procs)
        for p in procs:
            p.sample()
        for row in run.latency:
            if row["system"] == "eventgate" and "caughtUp" in row:
                row["peakRssMiB"] = max(p.peak_rss_mib for p in procs)
    finally:
        stop_all(procs)


async def latency_quix(run: Run, rate: int) -> None:
    if not QUIX_PY.exists():
        return
    group = f"{run.prefix}quix-eos-lat{rate}"
    await kafka_io.commit_group(
        run.bootstrap, group, run.ingest, await kafka_io.end_offsets(run.bootstrap, run.ingest)
    )
    topics = run.peer_topics("quix-eos")
    argv = [
        str(QUIX_PY),
        str(BENCH / "peers" / "quix_app.py"),
        "--bootstrap",
        run.bootstrap,
        "--topic",
        run.ingest,
        "--group",
        group,
        "--spec",
        str(run.spec_path),
        "--launch-topic",
        topics["launch"],
        "--stop-topic",
        topics["stop"],
        "--rejected-topic",
        topics["rejected"],
        "--state-dir",
        str(WORK / f"{run.prefix}quix-lat{rate}-state"),
        "--commit-interval",
        str(run.args.quix_commit_interval),
        "--target",
        "0",
        "--deadline",
        str(run.args.ready_timeout + run.args.latency_seconds + 60),
        "--result",
        str(WORK / f"{run.prefix}quix-lat{rate}.result.json"),
    ]
    proc = Proc("quix-lat", argv, WORK / "logs" / f"{run.prefix}quix-lat.log", cwd=ROOT).start()
    run.procs.append(proc)
    try:
        await latency_run(run, "quix-eos", rate, "q0", group, [proc])
        run.latency[-1]["note"] += f"; commit_interval {run.args.quix_commit_interval} s"
    finally:
        proc.stop()


# ---------------------------------------------------------------- main


def machine(kafka_version: str, redis_version: str, kafka_nodes: int) -> dict[str, Any]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    return {
        "cpus": os.cpu_count(),
        "cpuModel": model,
        "memGiB": round(mem, 1),
        "python": platform.python_version(),
        "kafka": kafka_version,
        "kafkaNodes": kafka_nodes,
        "redis": redis_version,
        "loadBefore": [round(x, 2) for x in os.getloadavg()],
    }


def broker_jit(pids: list[int]) -> str:
    """Which JIT the broker runs (a reused broker may have been started with other flags):
    C1 only with ``-XX:TieredStopAtLevel`` 1-3, else tiered with C2."""
    flags: list[str] = []
    with contextlib.suppress(OSError, IndexError):
        flags = Path(f"/proc/{pids[0]}/cmdline").read_bytes().decode().split("\0")
    levels = [f.split("=", 1)[1] for f in flags if f.startswith("-XX:TieredStopAtLevel=")]
    if not flags:
        return "unknown"
    return "C1" if levels and levels[-1] in ("1", "2", "3") else "C2"


async def bench(args: argparse.Namespace, kafka: KafkaCluster, redis_service: RedisService) -> int:
    from eventgate.devstack.kafka import KAFKA_VERSION

    started_at = datetime.now(UTC)
    info = redis.Redis.from_url(redis_service.url).info("server")
    box = machine(KAFKA_VERSION, str(info.get("redis_version")), args.kafka_nodes)
    run = await setup(args, kafka.bootstrap, redis_service.url)
    run.eventgate_src = eventgate_source(args.eventgate_ref)
    if args.profile_split:
        run.pyspy = cpusplit.pyspy_binary()
        if run.pyspy is None:
            run.problems.append("py-spy not found (make bench installs it): no CPU split")
        else:
            run.pyspy_version = cpusplit.pyspy_version(run.pyspy)
    run.services = {
        "kafka": [p.pid for p in kafka.broker_processes()],
        "redis": [p.pid for p in redis_service.processes()],
    }
    box["kafkaJit"] = broker_jit(run.services["kafka"])
    skip = set(args.skip)
    try:
        if "floor" not in skip:
            await drain_peer(run, "floor")
        if "quix" not in skip:
            await drain_peer(run, "quix-eos")
            if not args.quick:
                await drain_peer(run, "quix-eos-nostate")
        if "faust" not in skip:
            await drain_peer(run, "faust-naive")
        if "eventgate" not in skip:
            await drains_eventgate(run)
        if "latency" not in skip:
            if "eventgate" not in skip:
                await latency_eventgate(run, args.rates, args.workers[0])
            if "quix" not in skip:
                for rate in args.quix_latency_rates:
                    await latency_quix(run, rate)
    finally:
        for p in run.procs:
            p.stop()
        if not args.keep_topics:
            with contextlib.suppress(Exception):
                await kafka_io.delete_topics(run.bootstrap, run.prefix)
            for path in WORK.glob(f"{run.prefix}*"):
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
    box["loadAfter"] = [round(x, 2) for x in os.getloadavg()]
    sizes = run.records.sizes()
    result: dict[str, Any] = {
        "startedAt": started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": box,
        "config": {k: v for k, v in vars(args).items()},
        "workload": {
            **run.workload.summary(),
            "events": len(run.records),
            "partitions": args.partitions,
            "sizes": sizes,
            "invalid": run.records.invalid(),
            "invalidCount": sum(run.records.invalid().values()),
            "expectedLaunches": run.records.launches,
            "expectedStops": run.records.stops,
            "expectedCommands": run.records.launches + run.records.stops,
        },
        "prefill": {
            "seconds": run.redis_figures.pop("prefillSeconds"),
        },
        "drain": run.drain,
        "latency": run.latency,
        "problems": run.problems,
    }
    result["prefill"]["eventsPerS"] = round(len(run.records) / result["prefill"]["seconds"])
    eg = [d for d in run.drain if d["system"] == "eventgate"]
    if eg:
        result["redis"] = {"afterEventgateDrain": eg[0].get("redis")}
    result["ratios"] = report.ratios(run.drain)
    result["profileOverhead"] = report.profile_overhead(run.drain)
    result["verdicts"] = report.verdicts(result)
    stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
    print()
    print(report.table(result))
    print()
    for path in report.write(result, RESULTS, stamp):
        log(f"wrote {path.relative_to(ROOT)}")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="eventgate vs faust, Quix Streams and the aiokafka floor, same run."
    )
    ints = lambda text: [int(x) for x in text.split(",") if x]  # noqa: E731
    parser.add_argument("--quick", action="store_true", help="small run (~3 minutes)")
    parser.add_argument("--events", type=int, default=300_000, help="pre-filled events")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--types", type=int, default=50, help="event types in the mix")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--workers",
        type=ints,
        default=[1, 2],
        help="drain runs with 1 and 2 workers by default; ratios and latency use the first",
    )
    parser.add_argument("--rates", type=ints, default=[5000, 20000, 40000], help="events/s")
    parser.add_argument("--latency-seconds", type=float, default=15.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=3.0, help="s after first output")
    parser.add_argument("--ready-timeout", type=float, default=45.0)
    parser.add_argument("--drain-timeout", type=float, default=240.0)
    parser.add_argument("--faust-events", type=int, default=30_000)
    parser.add_argument("--quix-commit-interval", type=float, default=1.0)
    parser.add_argument(
        "--quix-latency-rates", type=ints, default=[5000], help="Quix paced runs ('' skips)"
    )
    parser.add_argument(
        "--skip", type=lambda t: t.split(","), default=[], help="floor,quix,faust,eventgate,latency"
    )
    parser.add_argument("--kafka-port", type=int, default=19292)
    parser.add_argument(
        "--kafka-nodes", type=int, choices=(1, 3), default=1, help="3: a local 3-broker cluster"
    )
    parser.add_argument(
        "--extra-types",
        type=int,
        default=0,
        help="register this many more event types (e.g. 100000) before the workers start",
    )
    parser.add_argument("--redis-port", type=int, default=16379)
    parser.add_argument("--worker-port", type=int, default=19181)  # below the ephemeral ports
    parser.add_argument("--keep-services", action="store_true", help="leave Kafka/Redis up")
    parser.add_argument("--keep-topics", action="store_true")
    parser.add_argument(
        "--eventgate-ref",
        default=None,
        help="bench the worker of this git revision (e.g. HEAD) instead of the work tree's",
    )
    parser.add_argument(
        "--profile-split",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="after each eventgate drain, drain again with py-spy sampling the workers, and"
        " split their CPU by component (bench/cpusplit.py)",
    )
    parser.add_argument("--profile-rate", type=int, default=100, help="py-spy samples/s")
    given = sys.argv[1:] if argv is None else argv
    if "--quick" in given:  # smaller defaults; options given explicitly still win
        parser.set_defaults(
            events=60_000, rates=[5000, 20000], latency_seconds=8.0, faust_events=8_000
        )
    args = parser.parse_args(argv)
    return args


def main() -> int:
    args = parse_args()
    log(f"eventgate bench: {args.events:,} events, workers {args.workers}, rates {args.rates}")
    kafka, redis_service = start_services(args)
    try:
        return asyncio.run(bench(args, kafka, redis_service))
    finally:
        if not args.keep_services:
            started_kafka = bool(kafka.started)
            kafka.stop()
            redis_service.stop()
            if started_kafka:  # the broker's data is only this run's topics: drop it
                shutil.rmtree(WORK / "devstack" / f"kafka-1n-{args.kafka_port}", ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
