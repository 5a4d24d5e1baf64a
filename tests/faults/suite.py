"""The fault suite's sizes (``--faults-scale``) and its own services' ports."""

from __future__ import annotations

from dataclasses import dataclass

# Fixed ports stay below Linux's ephemeral range (32768-60999): a client connection's
# source port there can hold a port a service (or the proxy) wants to listen on.
REDIS_PORT = 26479
CLUSTER_PORT = 29292  # nodes 29292-29294, controllers 29392-29394
# The Kafka-link broker: plain listener (harness), its controller, the proxied listener
# (workers) and the proxy in front of it, which that listener advertises. Clear of every
# other fixed port and its controller (+100): the secured broker's controller is 29692.
LINK_KAFKA_PORT, LINK_PROXIED_PORT, LINK_PROXY_PORT = 29892, 29893, 29894
# everysec: a kill -9 of redis-server loses nothing already written to the kernel (the
# page cache survives the process); only a machine crash can lose the last second,
# which test_redis_faults.py simulates by restoring an older copy of the AOF.
APPENDFSYNC = "everysec"


@dataclass(frozen=True)
class Scale:
    name: str
    crash_events: int  # scenario 1, three kill -9 of a worker
    events: int  # most scenarios
    rate: int  # records/s the paced producer aims at
    broker_events: int
    broker_kills: int
    storm_every_s: float
    storm_for_s: float
    poison_events: int
    flood_keys: int


SCALES = {
    "short": Scale("short", 20_000, 8_000, 1_000, 12_000, 1, 5, 30, 10_000, 10_000),
    "full": Scale("full", 100_000, 30_000, 2_000, 40_000, 3, 10, 90, 50_000, 100_000),
}
