"""Observability on the real thing: a real Prometheus (Debian's ``prometheus``) scrapes a
running worker and API (processes started here, on free ports), with the repo's alert
rules loaded; a known stream goes through; Prometheus' HTTP API must then report exactly
what was streamed. Then: 10,000 distinct keys through a pipeline leave the label
cardinality bounded, and the volume-floor series stay under the cap on real counters."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml
from prometheus_client import generate_latest
from promstack import ROOT, prometheus_binaries
from streams import event, pipeline, produce, worker_env

from eventgate.counters.batch import BatchEntry, Outcome
from eventgate.counters.store import CounterStore
from eventgate.floors import FloorWatch
from eventgate.ingest.reasons import RejectReason
from eventgate.metrics import OTHER_TYPES, Metrics
from eventgate.registry.model import VolumeFloor
from eventgate.settings import Settings
from eventgate.topics import ensure_topics

ADMIN = "obs-admin-token"
CONTACT = "alice@example.com"
DEADLINE_S = 180  # generous: convergence, not speed, is under test


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def until(
    what: str, check: Callable[[], Awaitable[Any]], deadline_s: float = DEADLINE_S
) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + deadline_s
    last: Any = None
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            last = await check()
            if last:
                return last
        await asyncio.sleep(0.5)
    pytest.fail(f"never happened: {what} (last seen: {last!r})")


@contextlib.contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Any:
    with log.open("wb") as out:
        child = subprocess.Popen(
            args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield child
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


class Prometheus:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def query(self, expr: str) -> list[dict[str, Any]]:
        answer = await self.client.get("/api/v1/query", params={"query": expr})
        body = answer.json()
        assert body["status"] == "success", f"{expr}: {body}"
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    async def value(self, expr: str) -> float | None:
        result = await self.query(expr)
        assert len(result) <= 1, f"{expr}: {result}"
        return float(result[0]["value"][1]) if result else None

    async def by(self, label: str, expr: str) -> dict[str, float]:
        return {r["metric"].get(label, ""): float(r["value"][1]) for r in await self.query(expr)}


def stream() -> list[tuple[bytes | None, bytes]]:
    """16 records: 10 accepted (6 launching), 5 rejected by 3 reasons, 1 duplicate."""
    purchase = [event("purchase", CONTACT, params={"sku": f"A{i}"}) for i in range(5)]
    invalid = [event("purchase", CONTACT, params={"qty": 1}) for _ in range(2)]  # no sku
    dup = event("purchase", CONTACT, params={"sku": "D"}, eventId="dup-1")
    signup = [event("signup", CONTACT, params={"plan": "pro"}) for _ in range(3)]
    no_contact = (None, orjson.dumps({"eventTypeKey": "signup", "params": {}}))
    broken = [(CONTACT.encode(), b'{"eventTypeKey": "purchase", ') for _ in range(2)]
    auto = event("brand.new", CONTACT)
    return [*purchase, *invalid, dup, dup, *signup, no_contact, *broken, auto]


async def test_prometheus_scrapes_the_right_values_from_a_running_stack(
    settings: Settings, tmp_path: Path
) -> None:
    prometheus_bin, _ = prometheus_binaries()
    await ensure_topics(settings)
    worker_port, api_port, prom_port = free_port(), free_port(), free_port()
    env = worker_env(settings) | {
        "EVENTGATE_WORKER_HTTP_PORT": str(worker_port),
        "EVENTGATE_API_PORT": str(api_port),
        "EVENTGATE_API_HOST": "127.0.0.1",
        "EVENTGATE_ADMIN_TOKENS": ADMIN,
        "EVENTGATE_METRICS_REFRESH_S": "1",
        "EVENTGATE_VOLUME_FLOOR_INTERVAL_S": "1",
        "EVENTGATE_LOG_FORMAT": "json",
        "EVENTGATE_LOG_LEVEL": "INFO",
    }
    config = {
        "global": {"scrape_interval": "2s", "scrape_timeout": "2s", "evaluation_interval": "1s"},
        "rule_files": [str(ROOT / "deploy/prometheus/alerts.yml")],
        "scrape_configs": [
            {
                "job_name": "eventgate-worker",
                "static_configs": [{"targets": [f"127.0.0.1:{worker_port}"]}],
            },
            {
                "job_name": "eventgate-api",
                "static_configs": [{"targets": [f"127.0.0.1:{api_port}"]}],
            },
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    eventgate = [sys.executable, "-m", "eventgate"]
    worker_log, api_log = tmp_path / "worker.log", tmp_path / "api.log"
    prom_args = [
        prometheus_bin,
        f"--config.file={tmp_path / 'prometheus.yml'}",
        f"--storage.tsdb.path={tmp_path / 'data'}",
        f"--web.listen-address=127.0.0.1:{prom_port}",
    ]
    with (
        process([*eventgate, "worker"], env, worker_log) as worker,
        process([*eventgate, "api"], env, api_log) as api,
        process(prom_args, dict(os.environ), tmp_path / "prometheus.log"),
    ):
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{worker_port}", timeout=10) as w,
            httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{api_port}",
                headers={"Authorization": f"Bearer {ADMIN}"},
                timeout=30,
            ) as a,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{prom_port}", timeout=10) as p,
        ):

            async def ready(client: httpx.AsyncClient, child: subprocess.Popen[bytes]) -> bool:
                assert child.poll() is None, (worker_log.read_text(), api_log.read_text())
                return (await client.get("/readyz")).status_code == 200

            await until("the worker is ready", lambda: ready(w, worker))
            await until("the API is ready", lambda: ready(a, api))
            assert (await w.get("/readyz")).json() == {"status": "ready"}
            await until("Prometheus is ready", lambda: _ok(p, "/-/ready"))
            prom = Prometheus(p)

            for body in (
                {
                    "key": "purchase",
                    "name": "Purchase",
                    "validation": {
                        "enabled": True,
                        "rules": [{"name": "sku", "required": True, "type": "string"}],
                    },
                    "volumeFloor": {"events": 1000, "hours": 1},
                },
                {"key": "signup", "name": "Signup", "volumeFloor": {"events": 2, "hours": 1}},
            ):
                answer = await a.post("/api/v1/event-types", json=body)
                assert answer.status_code == 201, answer.text
            answer = await a.put(
                "/api/v1/workflows/wf-1",
                json={"name": "Thank you", "status": "active", "launchOn": ["purchase"]},
            )
            assert answer.status_code == 201, answer.text

            await produce(settings, stream())

            # Each figure is polled until it settles: a scrape that fails (a busy machine,
            # a 1 s scrape timeout) leaves a stale marker, and the series is absent until
            # the next scrape. The values are exact; only their arrival is waited for.
            async def settles(expr: str, wanted: Any, by: str | None = None) -> None:
                read = (lambda: prom.by(by, expr)) if by else (lambda: prom.value(expr))
                await until(f"{expr} == {wanted}", lambda: _equals(read(), wanted))

            job = '{job="eventgate-worker"}'
            await settles(f"eventgate_events_in_total{job}", 16)
            await settles(f"eventgate_events_accepted_total{job}", 10)
            await settles(f"eventgate_events_duplicate_total{job}", 1)
            rejected = dict.fromkeys((r.value for r in RejectReason), 0.0)  # a closed label set
            rejected |= {"validation_failed": 2, "invalid_json": 2, "missing_contact": 1}
            await settles(f"eventgate_events_rejected_total{job}", rejected, by="reason")
            await settles(
                f"eventgate_commands_emitted_total{job}", {"launch": 6, "stop": 0}, "kind"
            )
            await settles(f"eventgate_end_to_end_seconds_count{job}", 6)
            await settles(f"eventgate_batch_size_records_sum{job}", 16)
            batches = await until(
                "batches counted", lambda: prom.value(f"eventgate_batch_size_records_count{job}")
            )
            transactions = {"committed": batches, "aborted": 0, "fenced": 0}
            await settles(f"eventgate_transactions_total{job}", transactions, by="outcome")
            await settles(f"eventgate_redis_batch_seconds_count{job} >= bool {batches}", 1)
            await settles(f"eventgate_transaction_seconds_count{job}", batches)
            await settles(f"eventgate_types_auto_registered_total{job}", 1)
            await settles(f"eventgate_registration_limit_hits_total{job}", 0)
            await settles(
                f"eventgate_consumer_lag_records{job}", dict.fromkeys("0123", 0.0), "partition"
            )
            both = {"eventgate-worker": 1, "eventgate-api": 1}
            await settles("eventgate_redis_up", both, by="job")
            await settles("eventgate_registry_types", {k: 3 for k in both}, by="job")
            await settles("count by (job) (eventgate_registry_writer)", both, by="job")
            await settles("sum(eventgate_registry_writer)", 1)
            await settles("sum(eventgate_registry_writer_takeovers_total) >= bool 1", 1)
            await settles("sum(eventgate_registry_malformed_records_total)", 0)
            await settles("up", both, by="job")

            # Volume floors: purchase counted 8 (accepted or rejected, not the duplicate)
            # of 1000 in the last hour; signup 4 of 2. Only the worker evaluates.
            await settles(
                "eventgate_volume_floor_types", {"eventgate-worker": 2, "eventgate-api": 0}, "job"
            )
            await settles(
                "eventgate_volume_floor_types_below",
                {"eventgate-worker": 1, "eventgate-api": 0},
                "job",
            )
            await settles("eventgate_type_below_volume_floor", {"purchase": 1, "signup": 0}, "type")

            # The repo's alert rules evaluate cleanly on these series, and the floor alert
            # is on its way (pending: `for: 5m`) for purchase only.
            rules = (await p.get("/api/v1/rules")).json()["data"]["groups"]
            loaded = [r for g in rules for r in g["rules"]]
            assert len(loaded) == 10
            await until("every rule evaluated", lambda: _rules_ok(p))

            # Signup was below its floor too until its events were counted: its alert may
            # still be listed until the rules' next evaluation after that.
            async def floor_alerts() -> list[tuple[str, str]]:
                alerts = await _alerts(p, "EventTypeBelowVolumeFloor")
                return [(x["labels"]["type"], x["state"]) for x in alerts]

            wanted_alerts = [("purchase", "pending")]
            await until(
                f"floor alerts == {wanted_alerts}", lambda: _equals(floor_alerts(), wanted_alerts)
            )

            # Every dashboard query is valid PromQL that this Prometheus runs.
            dashboard = json.loads((ROOT / "deploy/grafana/dashboards/eventgate.json").read_text())
            for panel in dashboard["panels"]:
                for target in panel.get("targets", []):
                    await prom.query(target["expr"].replace("$__rate_interval", "1m"))

            # Logs: one JSON object per line, rejects with reason and eventId, and no
            # contact identifier anywhere (default settings).
            worker_lines = [
                json.loads(line)
                for line in worker_log.read_text().splitlines()
                if line.startswith("{")
            ]
            rejects = [x for x in worker_lines if x["msg"] == "record rejected"]
            assert sorted(x["reason"] for x in rejects) == sorted(
                ["validation_failed"] * 2 + ["invalid_json"] * 2 + ["missing_contact"]
            )
            assert all(x["eventId"] and x["process"] == "worker" for x in rejects)
            below = [x for x in worker_lines if x["msg"] == "type below its volume floor"]
            assert [(x["eventTypeKey"], x["counted"], x["floorEvents"]) for x in below] == [
                ("purchase", None, 1000)
            ]
            assert CONTACT not in worker_log.read_text()
            assert CONTACT not in api_log.read_text()


async def _ok(client: httpx.AsyncClient, path: str) -> bool:
    return (await client.get(path)).status_code == 200


async def _equals(got: Awaitable[Any], wanted: Any) -> bool:
    return bool(await got == wanted)


async def _rules_ok(client: httpx.AsyncClient) -> bool:
    groups = (await client.get("/api/v1/rules")).json()["data"]["groups"]
    rules = [r for g in groups for r in g["rules"]]
    bad = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
    assert not [b for b in bad if b[1]], bad
    return not bad


async def _alerts(client: httpx.AsyncClient, name: str) -> list[dict[str, Any]]:
    alerts = (await client.get("/api/v1/alerts")).json()["data"]["alerts"]
    return [x for x in alerts if x["labels"]["alertname"] == name]


async def test_ten_thousand_distinct_keys_keep_the_series_bounded(settings: Settings) -> None:
    """10,000 distinct event-type keys through a real pipeline (each auto-registered and
    counted in Redis): no producer-chosen value reaches a label. Then the volume-floor
    evaluator, on the real counters, with a floor on every one of them: at most
    ``metrics_type_series_max`` + 1 per-type series, and the counts still exact."""
    settings = settings.model_copy(
        update={"registration_max_per_minute": 20_000, "registration_max_total": 20_000}
    )
    keys = [f"k{i:05d}.evt" for i in range(10_000)]
    async with pipeline(settings) as running:
        baseline = _samples(running.metrics)
        await produce(settings, [event(k, f"c{i % 97}") for i, k in enumerate(keys)])

        async def drained() -> bool:
            return running.metrics.events_in._value.get() >= len(keys)

        await until("10,000 records processed", drained)
        await running.processor.refresh_lag()
        assert running.metrics.types_registered._value.get() == len(keys)
        text = generate_latest(running.metrics.registry).decode()
        assert not [k for k in keys if k in text]  # no key is a label value
        after = _samples(running.metrics)
        assert len(after) <= len(baseline) + settings.ingest_partitions  # + lag per partition
        assert running.registry.state.type_count() >= len(keys)

        # Floors on all of them: even keys 1 event/hour (met), odd keys 2/hour (not met);
        # a third over 13 hours (the subtracting read) and a few over a day.
        def floor_for(i: int) -> VolumeFloor:
            hours = (1, 13, 24)[i % 3]
            return VolumeFloor(events=1 if i % 2 == 0 else 2, hours=hours)

        floored = [
            dataclasses.replace(running.registry.state.get(k), volume_floor=floor_for(i))  # type: ignore[type-var]
            for i, k in enumerate(keys)
        ]
        metrics = Metrics()
        capped = settings.model_copy(update={"metrics_type_series_max": 500})
        watch = FloorWatch(lambda: floored, running.store, metrics, capped, lambda: True)
        checks = await watch.evaluate()
        assert len(checks) == len(keys)
        assert sum(c.below for c in checks) == 5_000
        assert all(c.counted in (None, 1) for c in checks)  # exact: one record each
        per_type = [
            line
            for line in generate_latest(metrics.registry).decode().splitlines()
            if line.startswith("eventgate_type_below_volume_floor{")
        ]
        assert len(per_type) == 501
        other = [line for line in per_type if f'type="{OTHER_TYPES}"' in line]
        assert other == [f'eventgate_type_below_volume_floor{{type="{OTHER_TYPES}"}} 4500.0']


def _samples(metrics: Metrics) -> list[str]:
    text = generate_latest(metrics.registry).decode()
    return [
        line.rsplit(" ", 1)[0] for line in text.splitlines() if line and not line.startswith("#")
    ]


async def test_recent_volumes_counts_the_last_hours_from_the_buckets(
    settings: Settings, redis: Any
) -> None:
    """``CounterStore.recent_volumes`` against real Redis: records stamped 30 min, 3 h and
    20 h ago count in the windows that hold them (both read directions)."""
    store = CounterStore(redis, settings)
    now = 1_767_225_600_000 + 7 * 60_000
    stamps = [now - 30 * 60_000, now - 3 * 3_600_000, now - 20 * 3_600_000]
    entries = [
        BatchEntry(
            position=i,
            timestamp_ms=ts,
            type_key="t",
            dedupe_id=None,
            outcome=Outcome.ACCEPTED,
            reason=None,
            launched=(),
            stopped=(),
            event_id=f"e{i}",
            key_value="c",
        )
        for i, ts in enumerate(stamps)
    ]
    await store.apply_batch(0, 0, len(entries), entries, now)
    day = (await store.figures(["t"], now))["t"].volume24h
    assert day == 3
    for hours, expected in [(1, 1), (2, 1), (4, 2), (12, 2), (13, 2), (21, 3), (24, 3)]:
        got = await store.recent_volumes({"t": hours}, {"t": day}, now)
        assert got == {"t": expected}, hours
