"""Local Apache Kafka and Redis for development and tests, without Docker.

``python -m eventgate.devstack up`` starts (or reuses) a broker and Redis; ``down`` stops
what it started; ``status`` lists them. Logs go to ``$DEVSTACK_HOME/logs`` (default
``./.devstack/logs``); downloads are cached in ``$DEVSTACK_CACHE``
(default ``~/.cache/eventgate-devstack``).
"""

from eventgate.devstack.kafka import KafkaCluster, ensure_kafka
from eventgate.devstack.process import DevstackError, default_cache, default_home
from eventgate.devstack.redis import RedisService, ensure_redis

__all__ = [
    "DevstackError",
    "KafkaCluster",
    "RedisService",
    "default_cache",
    "default_home",
    "ensure_kafka",
    "ensure_redis",
]
