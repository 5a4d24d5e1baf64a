"""The ``eventgate`` command line. ``eventgate --help`` lists the commands.

Exit codes: 0 success, 1 failure, 2 usage error (argparse).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from eventgate import __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eventgate",
        description="Stream-processing backend of marketing-automation event types.",
    )
    parser.add_argument("--version", action="version", version=f"eventgate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser(
        "up",
        help="run Kafka, Redis, a worker and the API/console locally (Ctrl-C stops)",
        description="Start (or reuse) local Kafka and Redis unless EVENTGATE_KAFKA_BOOTSTRAP /"
        " EVENTGATE_REDIS_URL are set, create the topics, run a worker and the API.",
    )
    sub.add_parser("worker", help="run a stream processor (ingest, registry writer candidate)")
    sub.add_parser("api", help="run the HTTP API and the operator console")
    topics = sub.add_parser("topics", help="manage eventgate's Kafka topics")
    topics_sub = topics.add_subparsers(dest="topics_command", required=True, metavar="ACTION")
    topics_sub.add_parser("create", help="create the topics of SPEC §6 that do not exist yet")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "up":
        from eventgate.up import run_up

        return run_up()

    from eventgate.settings import Settings

    settings = Settings()
    if args.command == "worker":
        from eventgate.worker import run_worker

        return run_worker(settings)
    if args.command == "api":
        from eventgate.api.server import run_api

        return run_api(settings)
    if args.command == "topics":
        from eventgate.topics import ensure_topics

        created = asyncio.run(ensure_topics(settings))
        print("\n".join(created) if created else "all topics exist")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
