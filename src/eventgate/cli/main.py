"""Argument parsing and dispatch of the ``eventgate`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from eventgate import __version__
from eventgate.cli import ops_cmd, send_cmd, types_cmd
from eventgate.cli.api_client import ApiFailure
from eventgate.settings import Settings

OK, FAILED, USAGE, NOT_FOUND = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eventgate",
        description="Stream-processing backend of marketing-automation event types. "
        "Settings come from EVENTGATE_* variables (see the README).",
        epilog="Exit codes: 0 success, 1 failure, 2 usage error, 3 not found.",
    )
    parser.add_argument("--version", action="version", version=f"eventgate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser(
        "up",
        help="run Kafka, Redis, a worker and the API/console locally (Ctrl-C stops)",
        description="Start (or reuse) local Kafka and Redis unless EVENTGATE_KAFKA_BOOTSTRAP /"
        " EVENTGATE_REDIS_URL are set, create the topics, run a worker and the API.",
    ).set_defaults(handler=_up)
    sub.add_parser(
        "worker", help="run a stream processor (ingest, results, registry writer candidate)"
    ).set_defaults(handler=_worker)
    sub.add_parser("api", help="run the HTTP API and the operator console").set_defaults(
        handler=_api
    )
    types_cmd.add_parsers(sub)
    send_cmd.add_parsers(sub)
    ops_cmd.add_parsers(sub)
    return parser


def _up(settings: Settings, args: argparse.Namespace) -> int:
    from eventgate.up import run_up

    return run_up()


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from eventgate.worker import run_worker

    return run_worker(settings)


def _api(settings: Settings, args: argparse.Namespace) -> int:
    from eventgate.api.server import run_api

    return run_api(settings)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
    except ValueError as exc:
        print(f"error: bad EVENTGATE_* setting:\n{exc}", file=sys.stderr)
        return USAGE
    try:
        code: int = args.handler(settings, args)
    except ApiFailure as exc:
        print(f"error: {exc.message} ({exc.status} {exc.code})", file=sys.stderr)
        if exc.details:
            print(f"details: {exc.details}", file=sys.stderr)
        return NOT_FOUND if exc.status == 404 else FAILED
    except KeyboardInterrupt:
        return FAILED
    return code


if __name__ == "__main__":
    sys.exit(main())
