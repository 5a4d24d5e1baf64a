"""Client construction for Kafka and Redis from ``Settings`` (TLS, SASL/SCRAM, ACL users).

Every I/O client of eventgate is built here and passed in, so tests can inject their own.
"""

from __future__ import annotations

import ssl
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from eventgate.settings import KafkaSecurityProtocol, Settings

RedisClient = Redis | RedisCluster


def kafka_common(settings: Settings, client_id: str) -> dict[str, Any]:
    """Keyword arguments shared by every aiokafka client: address, security, client id."""
    kwargs: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "client_id": client_id,
        "security_protocol": settings.kafka_security_protocol.value,
    }
    protocol = settings.kafka_security_protocol
    if protocol in (KafkaSecurityProtocol.SSL, KafkaSecurityProtocol.SASL_SSL):
        context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile or None)
        if settings.kafka_ssl_certfile:
            context.load_cert_chain(settings.kafka_ssl_certfile, settings.kafka_ssl_keyfile or None)
        kwargs["ssl_context"] = context
    if protocol in (KafkaSecurityProtocol.SASL_PLAINTEXT, KafkaSecurityProtocol.SASL_SSL):
        kwargs["sasl_mechanism"] = settings.kafka_sasl_mechanism.value
        kwargs["sasl_plain_username"] = settings.kafka_sasl_username
        kwargs["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    return kwargs


def redis_client(settings: Settings) -> RedisClient:
    """An asyncio Redis (or Redis Cluster) client; ``rediss://`` turns TLS on."""
    url = settings.redis_url.get_secret_value()
    extra: dict[str, Any] = {"health_check_interval": 15, "socket_timeout": 10}
    if settings.redis_ssl_cafile:
        extra["ssl_ca_certs"] = settings.redis_ssl_cafile
    if settings.redis_cluster:
        return RedisCluster.from_url(url, **extra)
    return Redis.from_url(url, **extra)
