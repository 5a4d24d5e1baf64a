"""Operations commands: ``topics create``, ``dlq replay``, ``counters rebuild``, ``bench``."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

from eventgate.settings import Settings


def add_parsers(sub: Any) -> None:
    topics = sub.add_parser("topics", help="manage eventgate's Kafka topics")
    topics_sub = topics.add_subparsers(dest="topics_command", required=True, metavar="ACTION")
    create = topics_sub.add_parser("create", help="create the topics of SPEC §6 that are missing")
    create.set_defaults(handler=topics_create)

    dlq = sub.add_parser("dlq", help="dead letters on the rejected topic")
    dlq_sub = dlq.add_subparsers(dest="dlq_command", required=True, metavar="ACTION")
    replay = dlq_sub.add_parser(
        "replay",
        help="replay chosen dead letters into ingest (after fixing rules)",
        description="Replays the dead letters present when it starts. A replay keeps the "
        "original eventId, so replaying twice launches once.",
    )
    replay.add_argument("--reason", action="append", default=[], help="only this reason (repeat)")
    replay.add_argument("--type", action="append", default=[], help="only this event type key")
    replay.add_argument("--since", help="only dead letters written at or after (RFC 3339)")
    replay.add_argument("--until", help="only dead letters written before (RFC 3339)")
    replay.add_argument("--limit", type=int, help="replay at most this many")
    replay.add_argument("--dry-run", action="store_true", help="count, do not produce")
    replay.set_defaults(handler=dlq_replay)

    counters = sub.add_parser("counters", help="the 24 h counters in Redis")
    counters_sub = counters.add_subparsers(dest="counters_command", required=True, metavar="ACTION")
    rebuild = counters_sub.add_parser(
        "rebuild",
        help="rebuild counters, history and dedupe from the last 24 h of the topics",
        description="After Redis lost its data: stop the workers, run this, start them again.",
    )
    rebuild.set_defaults(handler=counters_rebuild)

    bench = sub.add_parser(
        "bench",
        help="run the benchmark harness (from a source checkout: bench/run.py)",
        description="Arguments after 'bench' go to bench/run.py; see bench/README.md.",
    )
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)
    bench.set_defaults(handler=run_bench)


def topics_create(settings: Settings, args: argparse.Namespace) -> int:
    from eventgate.topics import ensure_topics

    created = asyncio.run(ensure_topics(settings))
    print("\n".join(created) if created else "all topics exist")
    return 0


def dlq_replay(settings: Settings, args: argparse.Namespace) -> int:
    from eventgate.dlq import Selection, parse_time, print_progress, replay

    try:
        selection = Selection(
            reasons=tuple(args.reason),
            type_keys=tuple(args.type),
            since_ms=parse_time(args.since) if args.since else None,
            until_ms=parse_time(args.until) if args.until else None,
            limit=args.limit,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = asyncio.run(replay(settings, selection, args.dry_run, print_progress))
    print(file=sys.stderr)
    verb = "would replay" if args.dry_run else "replayed"
    print(f"scanned {report.scanned}, {verb} {report.replayed}")
    for why, count in sorted(report.skipped.items()):
        print(f"skipped {count}: {why}")
    return 0


def counters_rebuild(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_rebuild(settings))


async def _rebuild(settings: Settings) -> int:
    from eventgate.connections import redis_client
    from eventgate.counters.rebuild import rebuild_counters
    from eventgate.counters.results import registry_known
    from eventgate.counters.store import CounterStore
    from eventgate.registry.service import Registry

    redis = redis_client(settings)
    store = CounterStore(redis, settings, history_max_entries=settings.history_max_entries)
    try:
        async with Registry(settings, is_writer_candidate=False, name="rebuild") as registry:
            report = await rebuild_counters(
                settings,
                store,
                lambda key: registry.state.get(key) is not None,
                registry_known(registry),
            )
    finally:
        await redis.aclose()
    print(
        f"rebuilt from {report.ingest_records} ingest records: {report.rejected} rejected, "
        f"{report.launch_commands} launch commands, {report.duplicates} duplicates, "
        f"{report.failures_counted} failed commands"
    )
    if report.skipped_partitions:
        print(
            f"skipped partitions {report.skipped_partitions}: a worker wrote to them after the "
            "loss; stop the workers and run again",
            file=sys.stderr,
        )
        return 1
    return 0


def run_bench(settings: Settings, args: argparse.Namespace) -> int:
    script = Path("bench") / "run.py"
    if not script.exists():
        print("error: run 'eventgate bench' from a source checkout (bench/run.py)", file=sys.stderr)
        return 1
    return subprocess.call([sys.executable, str(script), *args.bench_args])  # noqa: S603
