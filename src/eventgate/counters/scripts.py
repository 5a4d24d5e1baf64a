"""The Lua scripts of the counters (``counters/lua/*.lua``), with the window constants of
``windows.py`` substituted, so Python and Lua can never disagree on bucket arithmetic.

Each script is ``common.lua`` (roll, counter, fifo_evict helpers) + its own file. redis-py
runs them by SHA (``EVALSHA``) and loads them on ``NOSCRIPT``, on a single Redis and on
every node of a Redis Cluster alike. Every key a script touches shares the hash tag of
its ``KEYS[1]``; keys are built inside the scripts from that tag (buckets, per-type
history), which a cluster allows because they live in the same slot.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from eventgate.connections import RedisClient
from eventgate.counters import windows
from eventgate.counters.keys import BUCKET_SHARDS

_CONSTANTS = {
    "__BUCKET_MS__": windows.BUCKET_MS,
    "__WINDOW_BUCKETS__": windows.WINDOW_BUCKETS,
    "__DAY_MS__": windows.DAY_MS,
    "__BUCKET_GRACE_MS__": windows.BUCKET_GRACE_MS,
    "__KEY_TTL_MS__": windows.KEY_TTL_MS,
    "__BUCKET_SHARDS__": BUCKET_SHARDS,
}


@cache
def source(name: str) -> str:
    """The full text of script ``name`` (``apply_batch``, ``apply_results``, ``roll``,
    ``clear_type``)."""
    folder = resources.files("eventgate.counters") / "lua"
    text = (folder / "common.lua").read_text() + "\n" + (folder / f"{name}.lua").read_text()
    for token, value in _CONSTANTS.items():
        text = text.replace(token, str(value))
    return text


class Scripts:
    """The registered scripts of one Redis client."""

    def __init__(self, redis: RedisClient) -> None:
        self.apply_batch: Any = redis.register_script(source("apply_batch"))
        self.apply_results: Any = redis.register_script(source("apply_results"))
        self.roll: Any = redis.register_script(source("roll"))
        self.clear_type: Any = redis.register_script(source("clear_type"))
