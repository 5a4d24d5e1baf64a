"""The Quix Streams peer: the same job as an ordinary Quix Streams application, with
``processing_guarantee="exactly-once"`` (confluent-kafka/librdkafka underneath).

Pipeline (StreamingDataFrame):

- decode + validate + decide (``common.Job``) on every record;
- commands: expanded one row per command, header ``eventgate-event-id``, keyed by the
  contact, to the launch or stop topic;
- dead letters to the rejected topic;
- per-type counts in the application's own state: re-keyed by event type (``group_by``,
  which goes through a repartition topic, as Quix requires for a new key) and counted in
  RocksDB-backed state with its changelog.

Runs from its own virtualenv (``bench/.venv-quix``: quixstreams pins pydantic below what
eventgate uses). Stops after ``--target`` records are fully done (commands out and the
count updated), or at ``--deadline`` (``--target 0``: run until then or SIGTERM);
writes ``{processed, firstMs, doneMs, ...}`` to ``--result``.
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

from common import EVENT_ID_HEADER, Job, load_spec, now_ms, write_result
from quixstreams import Application, State


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--launch-topic", required=True)
    parser.add_argument("--stop-topic", required=True)
    parser.add_argument("--rejected-topic", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--target", type=int, default=0)
    parser.add_argument("--deadline", type=float, default=120.0)
    parser.add_argument("--commit-interval", type=float, default=1.0)
    parser.add_argument("--guarantee", default="exactly-once", help="or at-least-once")
    parser.add_argument("--state-dir", required=True)
    parser.add_argument(
        "--no-count", action="store_true", help="skip the per-type counts (diagnosis only)"
    )
    parser.add_argument("--result", required=True)
    args = parser.parse_args()
    started = time.monotonic()
    job = Job(load_spec(args.spec))

    app = Application(
        broker_address=args.bootstrap,
        consumer_group=args.group,
        auto_offset_reset="earliest",
        processing_guarantee=args.guarantee,
        commit_interval=args.commit_interval,
        state_dir=args.state_dir,
        loglevel=logging.WARNING,
    )
    ingest = app.topic(args.topic, key_deserializer="bytes", value_deserializer="bytes")
    launch = app.topic(args.launch_topic, key_serializer="str", value_serializer="json")
    stop = app.topic(args.stop_topic, key_serializer="str", value_serializer="json")
    rejected = app.topic(args.rejected_topic, key_serializer="bytes", value_serializer="json")

    stats: dict[str, Any] = {"processed": 0, "commands": 0, "rejected": 0, "firstMs": None}
    done = {"untyped": 0, "counted": 0}

    def check_done() -> None:
        finished = done["untyped"] + done["counted"]
        if args.target and finished >= args.target:
            app.stop()
        elif time.monotonic() - started > args.deadline:
            stats["timedOut"] = bool(args.target)
            app.stop()

    def handle(value: bytes, key: bytes | None, timestamp: int, headers: Any) -> dict[str, Any]:
        if stats["firstMs"] is None:
            stats["firstMs"] = now_ms()
        stats["processed"] += 1
        outcome = job.handle(key, value, timestamp, "")
        stats["commands"] += len(outcome.commands)
        if outcome.rejection is not None:
            stats["rejected"] += 1
        if outcome.event_type_key is None or args.no_count:
            done["untyped"] += 1
            check_done()
        return {
            "type": outcome.event_type_key,
            "commands": outcome.commands,
            "rejection": outcome.rejection,
        }

    def count(value: dict[str, Any], state: State) -> None:
        state.set("volume", state.get("volume", 0) + 1)
        if not value["ok"]:
            state.set("rejected", state.get("rejected", 0) + 1)
        done["counted"] += 1
        check_done()

    sdf = app.dataframe(ingest)
    sdf = sdf.apply(handle, metadata=True)

    commands = sdf.apply(lambda o: o["commands"], expand=True)
    commands = commands.set_headers(
        lambda value, key, timestamp, headers: [(EVENT_ID_HEADER, value["eventId"].encode())]
    )
    commands.filter(lambda c: c["kind"] == "launch").to_topic(launch, key=lambda c: c["keyValue"])
    commands.filter(lambda c: c["kind"] == "stop").to_topic(stop, key=lambda c: c["keyValue"])

    sdf.filter(lambda o: o["rejection"] is not None).apply(lambda o: o["rejection"]).to_topic(
        rejected
    )

    if not args.no_count:
        typed = sdf.filter(lambda o: o["type"] is not None)
        typed = typed.apply(lambda o: {"t": o["type"], "ok": o["rejection"] is None})
        typed = typed.group_by("t")
        typed.update(count, stateful=True)

    app.run()
    stats["doneMs"] = now_ms()
    stats["counted"] = done["counted"]
    stats.setdefault("timedOut", False)
    write_result(args.result, stats)


if __name__ == "__main__":
    main()
