"""Secured services of the security tests: SASL_SSL Kafka with ACLs and TLS Redis with ACL
users, both on ports of their own (``TEST_SECURE_KAFKA_PORT``, default 29592, controller
+100; ``TEST_REDIS_TLS_PORT``, default 26579), in a fresh folder per test session, and
stopped by the module fixture that started them. They never touch the shared services."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from eventgate.devstack import default_cache
from eventgate.devstack.kafka_secure import SecureKafka, ensure_secure_kafka
from eventgate.devstack.redis_tls import RedisTls, ensure_redis_tls
from eventgate.settings import Settings

OUTSIDER = "outsider"  # a user that exists, with no ACL at all
USERS = ("eventgate", OUTSIDER)


def kafka_port() -> int:
    return int(os.environ.get("TEST_SECURE_KAFKA_PORT", "29592"))


def redis_port() -> int:
    return int(os.environ.get("TEST_REDIS_TLS_PORT", "26579"))


def quiet(_: str) -> None:
    """The launcher's progress lines are noise in a test run."""


@contextlib.contextmanager
def tls_redis(home: Path) -> Iterator[RedisTls]:
    service = ensure_redis_tls(home, redis_port(), users=USERS, log=quiet)
    try:
        yield service
    finally:
        service.stop()


@contextlib.contextmanager
def secure_kafka(home: Path) -> Iterator[SecureKafka]:
    kafka = ensure_secure_kafka(home, default_cache(), kafka_port(), users=USERS, log=quiet)
    try:
        yield kafka
    finally:
        kafka.stop()


def unique_prefix() -> str:
    """A topic prefix inside the ``eventgate.`` prefix the ACLs grant."""
    return f"eventgate.t{uuid.uuid4().hex[:8]}."


def secured_settings(
    kafka: SecureKafka | None, redis: RedisTls | None, user: str = "eventgate", **extra: Any
) -> Settings:
    """Settings of eventgate as ``user`` on the secured services, built from the very
    ``EVENTGATE_*`` variables ``python -m eventgate.devstack up --secure`` prints."""
    env: dict[str, str] = {}
    if kafka is not None:
        env.update(kafka.settings_env(user))
    if redis is not None:
        env.update(redis.settings_env(user))
    fields: dict[str, Any] = {k.removeprefix("EVENTGATE_").lower(): v for k, v in env.items()}
    for secret in ("kafka_sasl_password", "redis_url"):
        if secret in fields:
            fields[secret] = SecretStr(fields[secret])
    prefix = unique_prefix()
    defaults: dict[str, Any] = {
        "topic_prefix": prefix,
        "consumer_group": f"{prefix}processors",
        "topic_replication_factor": 1,
        "topic_min_insync_replicas": 1,
        "ingest_partitions": 2,
        "output_partitions": 1,
    }
    return Settings(**{**defaults, **fields, **extra})
