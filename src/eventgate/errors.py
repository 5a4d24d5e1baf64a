"""Errors of eventgate, each saying whether retrying can help.

    EventgateError                 base; ``retriable`` tells the stream loop retry vs give up
    ├── ConfigurationError         bad settings or rules given by an operator (not retriable)
    ├── RegistryError              a registry request failed
    │   ├── RegistryTimeout        no reply from the writer in time (retriable)
    │   └── RegistryRefused        the writer refused it: conflict, not found, limit…
    ├── DependencyUnavailable      Kafka or Redis unreachable (retriable)
    └── RedisBehind                Redis came back with older data than Kafka committed

Bad *input* (a malformed event, hostile rules) is never an exception on the hot path: it
becomes a rejection with a reason code (``ingest.reasons``) or a 4xx from the API.
"""

from __future__ import annotations

from typing import Any, ClassVar


class EventgateError(Exception):
    """Base of eventgate's own errors."""

    retriable: ClassVar[bool] = False


class ConfigurationError(EventgateError):
    """Settings, topics or rules an operator gave cannot work."""


class RegistryError(EventgateError):
    """A registry request did not succeed."""


class RegistryTimeout(RegistryError):
    """The registry writer did not answer in time (no writer elected yet, or overloaded)."""

    retriable = True


class RegistryRefused(RegistryError):
    """The writer refused the request; ``code`` is one of conflict, not_found,
    precondition_failed, invalid, limit."""

    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class DependencyUnavailable(EventgateError):
    """Kafka or Redis cannot be reached; processing pauses and retries."""

    retriable = True


class RedisBehind(EventgateError):
    """Redis holds an older position for a partition than the processor starts from: it
    lost its latest writes (a restart from a stale AOF/RDB). ``stored`` is where Redis is;
    the processor re-applies the ingest records between it and its own position."""

    def __init__(self, partition: int, stored: int, from_pos: int) -> None:
        super().__init__(
            f"Redis is behind on partition {partition}: at {stored}, the batch starts at {from_pos}"
        )
        self.partition = partition
        self.stored = stored
        self.from_pos = from_pos
