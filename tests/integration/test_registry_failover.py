"""Writer failover with separate OS processes: the writer is killed (SIGKILL) or paused
(SIGSTOP, then resumed as a zombie) in the middle of a burst of writes. Another candidate
takes over; every acknowledged write is present exactly once, nothing is applied twice,
and a retried request id gets its first answer, never a 409.

Run as a script, this file is one registry node: ``python test_registry_failover.py
<bootstrap> <prefix> <name>`` prints ``{"writer": bool}`` lines until killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from eventgate.connections import kafka_common
from eventgate.errors import RegistryTimeout
from eventgate.registry.requests import CreateType, Reply, ReplyCode
from eventgate.registry.service import Registry
from eventgate.settings import Settings
from eventgate.topics import ensure_topics

SESSION_MS = 6000


class Node:
    """A registry writer candidate in its own OS process."""

    def __init__(self, proc: asyncio.subprocess.Process, name: str) -> None:
        self.proc, self.name = proc, name
        self.writer = False
        self.generation = -1  # of the writer group, as this node last saw it
        self._task = asyncio.create_task(self._follow())

    @classmethod
    async def start(cls, settings: Settings, name: str) -> Node:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(Path(__file__)),
            settings.kafka_bootstrap,
            settings.topic_prefix,
            name,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        return cls(proc, name)

    async def _follow(self) -> None:
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            with contextlib.suppress(orjson.JSONDecodeError):
                status = orjson.loads(line)
                self.writer = bool(status.get("writer"))
                self.generation = int(status.get("generation", -1))

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()
        self._task.cancel()


async def wait_writer(nodes: list[Node], timeout: float = 60) -> Node:
    """The writer once the writer group is stable: every node of ``nodes`` that is alive
    has joined the same group generation, and exactly one of them serves. (Only one
    writer is not enough: a node that joins later triggers a rebalance that may hand
    the partition, and the writer's role, to the other.)"""
    writers: list[Node] = []
    live: list[Node] = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                live = [n for n in nodes if n.proc.returncode is None]
                writers = [n for n in live if n.writer]
                generations = {n.generation for n in live}
                if len(writers) == 1 and len(generations) == 1 and min(generations) > 0:
                    return writers[0]
                await asyncio.sleep(0.1)
    except TimeoutError:
        seen = [(n.name, n.writer, n.generation) for n in live]
        raise AssertionError(
            f"no stable single writer after {timeout:g} s: (name, writer, generation) {seen}"
        ) from None


async def registry_records(settings: Settings) -> list[tuple[str, dict[str, object] | None]]:
    """Every committed record of the registry topic, in order: (key, value)."""
    tp = TopicPartition(settings.topic("registry"), 0)
    consumer = AIOKafkaConsumer(
        **kafka_common(settings, "test-registry-dump"),
        isolation_level="read_committed",
        enable_auto_commit=False,
    )
    await consumer.start()
    out: list[tuple[str, dict[str, object] | None]] = []
    try:
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        async with asyncio.timeout(30):
            while await consumer.position(tp) < end:
                for m in (await consumer.getmany(tp, timeout_ms=500)).get(tp, []):
                    out.append((m.key.decode(), None if m.value is None else orjson.loads(m.value)))
    finally:
        await consumer.stop()
    return out


async def send_with_retries(client: Registry, request: CreateType) -> tuple[Reply, int]:
    """The requester's side: on timeout, retry the SAME request (same id)."""
    attempts = 0
    while True:
        attempts += 1
        try:
            return await client.request(request), attempts
        except RegistryTimeout:
            if attempts >= 30:
                raise


# Two causes of failure this test once had, both fixed:
# 1. (the test) wait_writer used to return as soon as one node served, before the other
#    had joined the writer group; its late join then moved the writer's role, and the test
#    paused a node that was no longer the writer (no outage: "retried > 0" failed). It
#    now waits for both nodes in the same group generation.
# 2. (the product, about 1 pause run in 10 under load) a writer paused mid-transaction
#    resumed fenced, and aiokafka's IllegalOperation (not a KafkaError) ended its task for
#    good: nobody served once the group handed the partition back. The writer now treats
#    it as fencing (tests/integration/test_registry_writer_errors.py). With both fixed, 9
#    pause and 6 kill runs in a row passed (3 of them beside a CPU hog), so no re-runs.
@pytest.mark.parametrize("how", ["kill", "pause"])
async def test_writer_failover_mid_burst(settings: Settings, how: str) -> None:
    await ensure_topics(settings)
    nodes = [await Node.start(settings, f"node{i}") for i in range(2)]
    client = Registry(settings, is_writer_candidate=False, name="client", request_timeout_s=3)
    try:
        await client.start()
        first = await wait_writer(nodes)
        requests = [CreateType(key=f"burst.{i:04d}", name=f"Burst {i}") for i in range(400)]
        results: dict[str, tuple[Reply, int]] = {}
        semaphore = asyncio.Semaphore(16)

        async def one(request: CreateType) -> None:
            async with semaphore:
                results[request.request_id] = await send_with_retries(client, request)

        tasks = [asyncio.create_task(one(r)) for r in requests]
        async with asyncio.timeout(60):
            while len(results) < 100:
                await asyncio.sleep(0.01)
        first.signal(signal.SIGKILL if how == "kill" else signal.SIGSTOP)
        # Requests sent while no writer answers wait for the takeover (at least the writer
        # group's session timeout, longer than the client's): they are certainly retried,
        # however fast the burst before the crash went.
        outage = [CreateType(key=f"outage.{i:02d}", name=f"Outage {i}") for i in range(30)]
        requests += outage
        tasks += [asyncio.create_task(one(r)) for r in outage]
        async with asyncio.timeout(180):
            await asyncio.gather(*tasks)
        second = await wait_writer([n for n in nodes if n is not first])
        assert second is not first

        if how == "pause":
            # The zombie wakes up believing it is the writer: its transaction is fenced
            # (it may become the writer again later, through a fresh group assignment).
            first.signal(signal.SIGCONT)
            await asyncio.sleep(SESSION_MS / 1000 + 3)
            await wait_writer(nodes)
        extra = [CreateType(key=f"after.{i:02d}", name="After") for i in range(20)]
        for reply in await asyncio.gather(*(client.request(r) for r in extra)):
            assert reply.code is ReplyCode.OK

        # every write acknowledged, none refused as a duplicate of itself
        assert all(reply.code is ReplyCode.OK for reply, _ in results.values()), [
            (r.code, r.message) for r, _ in results.values() if not r.ok
        ][:5]
        retried = sum(1 for _, attempts in results.values() if attempts > 1)

        # a retry of an acknowledged request after the takeover gets its first answer
        for request in requests[:20]:
            again = await client.request(request)
            assert again.code is ReplyCode.OK
            assert again.result == results[request.request_id][0].result

        # exactly once in the log: one record per key, from its own request
        log = await registry_records(settings)
        per_key = Counter(key for key, _ in log)
        assert retried > 0  # some requests were in flight at the crash and were re-sent
        assert len(log) == 450, (len(log), per_key.most_common(3), retried)
        assert set(per_key.values()) == {1}
        for _key, value in log:
            assert value is not None and value["data"]["version"] == 1  # type: ignore[index]
        by_request = {v["requestId"]: k for k, v in log if v is not None}
        assert by_request == {r.request_id: f"type/{r.key}" for r in (*requests, *extra)}
        assert sorted(client.state.types) == sorted(r.key for r in (*requests, *extra))
    finally:
        await client.stop()
        for node in nodes:
            if node.proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    node.signal(signal.SIGCONT)
            await node.kill()


async def _node_main(bootstrap: str, prefix: str, name: str) -> None:
    # The writer's own steps (serving, stepping down, fenced) on stderr, which the test
    # shows when it fails.
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s {name} %(name)s %(levelname)s %(message)s"
    )
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    settings = Settings(
        kafka_bootstrap=bootstrap,
        topic_prefix=prefix,
        topic_replication_factor=1,
        topic_min_insync_replicas=1,
    )
    registry = Registry(settings, name=name, writer_session_timeout_ms=SESSION_MS)
    await registry.start()
    last = ""
    while True:
        status = {"writer": registry.is_writer, "generation": _generation(registry)}
        sys.stdout.write(orjson.dumps(status).decode() + "\n")
        sys.stdout.flush()
        state = _writer_state(registry)
        if state != last:  # where a candidate that does not serve is stuck, when it fails
            logging.getLogger("failover-node").info("writer state: %s", state)
            last = state
        await asyncio.sleep(0.1)


def _generation(registry: Registry) -> int:
    """The writer group's generation this node is in (-1 while it is not a member)."""
    consumer = registry.writer._consumer if registry.writer is not None else None
    coordinator = getattr(consumer, "_coordinator", None)
    return int(getattr(coordinator, "generation", -1))


def _writer_state(registry: Registry) -> str:
    """The writer candidate's ownership flags and where its task waits (diagnostics)."""
    w = registry.writer
    if w is None:
        return "no candidate"
    coordinator = getattr(w._consumer, "_coordinator", None)
    rebalancing = getattr(coordinator, "_coordination_task", None)
    return (
        f"owns={w._owns} assignments={w._assignments} "
        f"blocked_until={w._blocked_until_assignment} producer={w._producer is not None} "
        f"task=[{_awaiting(w._task)}] group=[{_awaiting(rebalancing)}]{_ended(w._task)}"
    )


def _ended(task: asyncio.Task[Any] | None) -> str:
    """How the writer task ended, if it did (it should run until stop())."""
    if task is None or not task.done():
        return ""
    if task.cancelled():
        return " ENDED: cancelled"
    error = task.exception()
    trace = "".join(traceback.format_exception(error)[-6:]) if error is not None else ""
    return f" ENDED: {error!r}\n{trace}"


def _awaiting(task: asyncio.Task[Any] | None) -> str:
    """Where ``task`` waits: its chain of awaits, outermost first."""
    steps: list[str] = []
    awaited: object = task.get_coro() if task is not None and not task.done() else None
    while awaited is not None and len(steps) < 14:
        frame = getattr(awaited, "cr_frame", None)
        if frame is None:
            steps.append(type(awaited).__name__)
            break
        steps.append(f"{frame.f_code.co_name}:{frame.f_lineno}")
        awaited = getattr(awaited, "cr_await", None)
    return " > ".join(steps)


if __name__ == "__main__":
    asyncio.run(_node_main(*sys.argv[1:4]))
