"""``python -m eventgate.devstack up|down|status``: the local services of eventgate.

``up --secure`` starts the secured pair instead: Kafka with SASL_SSL (SCRAM-SHA-512) and
ACLs, Redis on TLS only with ACL users, both with certificates of a local CA, and prints
the ``EVENTGATE_*`` variables of the restricted ``eventgate`` principal.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from eventgate.devstack.kafka import ensure_kafka
from eventgate.devstack.kafka_secure import ensure_secure_kafka
from eventgate.devstack.process import (
    DevstackError,
    all_states,
    default_cache,
    default_home,
    port_open,
    stop,
)
from eventgate.devstack.redis import ensure_redis
from eventgate.devstack.redis_tls import ensure_redis_tls

SECURE_KAFKA_PORT = 9093
SECURE_REDIS_PORT = 6380


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eventgate.devstack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start (or reuse) Kafka and Redis and print their addresses")
    up.add_argument("--kafka-port", type=int, help="default 9092 (9093 with --secure)")
    up.add_argument("--kafka-nodes", type=int, choices=(1, 3), default=1)
    up.add_argument("--redis-port", type=int, help="default 6379 (6380 with --secure)")
    up.add_argument("--redis-cluster", action="store_true", help="a 3-master Redis Cluster")
    up.add_argument("--no-kafka", action="store_true")
    up.add_argument("--no-redis", action="store_true")
    up.add_argument(
        "--secure",
        action="store_true",
        help="SASL_SSL Kafka with ACLs and TLS-only Redis with ACL users (one node each)",
    )
    up.add_argument(
        "--topic-prefix", default="eventgate.", help="with --secure: the prefix the ACLs grant"
    )
    up.add_argument(
        "--consumer-group", default="eventgate", help="with --secure: the group the ACLs grant"
    )
    sub.add_parser("down", help="stop every service the launcher started")
    sub.add_parser("status", help="list the services the launcher started")
    args = parser.parse_args(argv)
    if args.command == "up" and args.secure and (args.kafka_nodes != 1 or args.redis_cluster):
        parser.error("--secure starts one Kafka node and one Redis server")
    home, cache = default_home(), default_cache()

    def log(message: str) -> None:
        print(message, file=sys.stderr)

    try:
        if args.command == "up" and args.secure:
            _up_secure(args, log)
        elif args.command == "up":
            if not args.no_kafka:
                kafka_port = args.kafka_port or 9092
                kafka = ensure_kafka(home, cache, kafka_port, args.kafka_nodes, log)
                print(f"EVENTGATE_KAFKA_BOOTSTRAP={kafka.bootstrap}")
            if not args.no_redis:
                redis = ensure_redis(home, args.redis_port or 6379, args.redis_cluster, log)
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


def _up_secure(args: argparse.Namespace, log: Callable[[str], None]) -> None:
    """Start the secured Kafka and/or Redis; print the restricted principal's variables."""
    home, cache = default_home(), default_cache()
    env: dict[str, str] = {}
    if not args.no_kafka:
        kafka = ensure_secure_kafka(
            home,
            cache,
            args.kafka_port or SECURE_KAFKA_PORT,
            topic_prefix=args.topic_prefix,
            consumer_group=args.consumer_group,
            log=log,
        )
        env |= kafka.settings_env()
        env |= {"EVENTGATE_TOPIC_PREFIX": args.topic_prefix}
        env |= {"EVENTGATE_CONSUMER_GROUP": args.consumer_group}
    if not args.no_redis:
        redis = ensure_redis_tls(
            home, args.redis_port or SECURE_REDIS_PORT, topic_prefix=args.topic_prefix, log=log
        )
        env |= redis.settings_env()
    log(f"passwords and certificates: {home / 'security'} (admin users: 'admin')")
    for name, value in env.items():
        print(f"{name}={value}")


if __name__ == "__main__":
    sys.exit(main())
