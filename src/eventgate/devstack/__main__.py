"""``python -m eventgate.devstack up|down|status``: the local services of eventgate."""

from __future__ import annotations

import argparse
import sys

from eventgate.devstack.kafka import ensure_kafka
from eventgate.devstack.process import (
    DevstackError,
    all_states,
    default_cache,
    default_home,
    port_open,
    stop,
)
from eventgate.devstack.redis import ensure_redis


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eventgate.devstack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start (or reuse) Kafka and Redis and print their addresses")
    up.add_argument("--kafka-port", type=int, default=9092)
    up.add_argument("--kafka-nodes", type=int, choices=(1, 3), default=1)
    up.add_argument("--redis-port", type=int, default=6379)
    up.add_argument("--redis-cluster", action="store_true", help="a 3-master Redis Cluster")
    up.add_argument("--no-kafka", action="store_true")
    up.add_argument("--no-redis", action="store_true")
    sub.add_parser("down", help="stop every service the launcher started")
    sub.add_parser("status", help="list the services the launcher started")
    args = parser.parse_args(argv)
    home, cache = default_home(), default_cache()

    def log(message: str) -> None:
        print(message, file=sys.stderr)

    try:
        if args.command == "up":
            if not args.no_kafka:
                kafka = ensure_kafka(home, cache, args.kafka_port, args.kafka_nodes, log)
                print(f"EVENTGATE_KAFKA_BOOTSTRAP={kafka.bootstrap}")
            if not args.no_redis:
                redis = ensure_redis(home, args.redis_port, args.redis_cluster, log)
                print(f"EVENTGATE_REDIS_URL={redis.url}")
                if redis.cluster:
                    print("EVENTGATE_REDIS_CLUSTER=true")
        elif args.command == "down":
            for service in all_states(home):
                log(f"stopping {service.name} (pid {service.pid})")
                stop(home, service)
        else:
            for service in all_states(home):
                alive = "running" if service.alive() else "dead"
                answering = all(port_open(p) for p in service.ports)
                print(
                    f"{service.name}\tpid {service.pid}\t{alive}\tports {list(service.ports)}"
                    f"\t{'answering' if answering else 'not answering'}\tlog {service.log}"
                )
    except DevstackError as exc:
        log(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
