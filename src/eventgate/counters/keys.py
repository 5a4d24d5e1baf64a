"""Redis key layout of the counters, history and dedupe store. Pure, no I/O.

Every key carries a hash tag, so each Lua call touches one Redis Cluster slot
(DESIGN-NOTES decision 7):

- ingest partition ``p``: tag ``{<prefix>p<p>}``, e.g. ``{eventgate.p3}``;
- error shard ``s`` (failed commandIds, hashed by commandId): tag ``{<prefix>e<s>}``.

Under a tag ``T``:

=====================  ======  =================================================
key                    type    content
=====================  ======  =================================================
``T:m``                hash    ``pos`` (applied up to), ``dw``/``dwt`` (dedupe
                               window at the last cap eviction, and when); in an
                               error shard ``q<n>`` = position of results
                               partition ``n``
``T:tot``              hash    running totals of the buckets in the window:
                               ``<kind><typeKey>`` -> count, ``#wm`` watermark,
                               ``#hi`` newest bucket
``T:c:<b>:<shard>``    hash    one 5-minute bucket, split in 32 small hashes by
                               type (``bucket_shard``): ``<kind><typeKey>`` -> n
``T:dd`` / ``T:ddq``   hash /  dedupe: digest(type, eventId) -> first position;
                       list    insertion order ``<ms>:<digest>`` for eviction
``T:f`` / ``T:fq``     hash /  error shards: failed commandId -> 1; insertion
                       list    order, as above
``T:h``                list    history across types (newest first)
``T:h:<typeKey>``      list    history of one type (newest first)
``T:ht``               zset    typeKey -> last history push (fair-share budget)
=====================  ======  =================================================

Counter kinds: ``v`` volume, ``r`` rejected, ``l`` launched, ``e`` errors.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

VOLUME = "v"
REJECTED = "r"
LAUNCHED = "l"
ERRORS = "e"
INGEST_KINDS = (VOLUME, REJECTED, LAUNCHED)
BUCKET_SHARDS = 32
WATERMARK_FIELD = "#wm"
HIGHEST_FIELD = "#hi"


@dataclass(frozen=True, slots=True)
class Tag:
    """The keys of one hash tag (one ingest partition or one error shard)."""

    tag: str

    @property
    def meta(self) -> str:
        return f"{self.tag}:m"

    @property
    def totals(self) -> str:
        return f"{self.tag}:tot"

    def bucket(self, bucket: int, shard: int) -> str:
        return f"{self.tag}:c:{bucket}:{shard}"

    @property
    def dedupe(self) -> str:
        return f"{self.tag}:dd"

    @property
    def dedupe_queue(self) -> str:
        return f"{self.tag}:ddq"

    @property
    def failed(self) -> str:
        return f"{self.tag}:f"

    @property
    def failed_queue(self) -> str:
        return f"{self.tag}:fq"

    @property
    def history(self) -> str:
        return f"{self.tag}:h"

    def type_history(self, type_key: str) -> str:
        return f"{self.tag}:h:{type_key}"

    @property
    def history_types(self) -> str:
        return f"{self.tag}:ht"


def partition_tag(prefix: str, partition: int) -> Tag:
    return Tag(f"{{{prefix}p{partition}}}")


def shard_tag(prefix: str, shard: int) -> Tag:
    return Tag(f"{{{prefix}e{shard}}}")


def field(kind: str, type_key: str) -> str:
    return f"{kind}{type_key}"


def bucket_shard(type_key: str) -> int:
    """Which of a bucket's small hashes holds a type's fields (stable: CRC-32)."""
    return zlib.crc32(type_key.encode(errors="surrogatepass")) % BUCKET_SHARDS
