"""Structured logs: one JSON object per line (or plain text for a terminal).

Every line carries ``ts``, ``level``, ``logger``, ``process`` (worker, api…) and ``msg``,
plus the fields a call passes in ``extra`` (``eventId``, ``reason``, ``partition``…).
Contact identifiers never reach a log unless ``log_contacts`` is on and
``mask_contacts`` off (:func:`contacts_allowed`); ``docs/operations.md`` lists the lines.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from eventgate.ingest.decode import derive_event_id
from eventgate.settings import LogFormat, Settings

if TYPE_CHECKING:
    from eventgate.ingest.decide import Decision

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "process", "msg", ...extra}``; extras come from
    ``extra={...}``."""

    def __init__(self, process: str = "") -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "process": self.process,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _RESERVED})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


# Retried by aiokafka on its own while a new broker creates its internal topics, or while a
# group rebalances; logged by it at ERROR, they alarm operators for nothing. Down-graded.
_TRANSIENT = (
    "GroupCoordinatorNotAvailableError",
    "CoordinatorLoadInProgressError",
    "NotCoordinatorForGroupError",
    # A member joining or leaving is how a group works (the API and the worker of
    # `eventgate up` both join the registry writer's group, a second apart).
    "because it is rebalancing",
)


class TransientKafkaNoise(logging.Filter):
    """aiokafka's retriable coordinator errors become DEBUG records (kept, not shouted)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING and record.name.startswith("aiokafka"):
            message = record.getMessage()
            if any(marker in message for marker in _TRANSIENT):
                record.levelno, record.levelname = logging.DEBUG, "DEBUG"
                return logging.getLogger().isEnabledFor(logging.DEBUG)
        return True


def setup_logging(settings: Settings, process: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(TransientKafkaNoise())
    if settings.log_format is LogFormat.JSON:
        handler.setFormatter(JsonFormatter(process))
    else:
        handler.setFormatter(logging.Formatter(f"%(asctime)s {process} %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    # aiokafka reports every coordinator hiccup at ERROR/WARNING; keep its noise at WARNING.
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))


def contacts_allowed(settings: Settings) -> bool:
    """Contact identifiers may appear in logs only when both settings say so."""
    return settings.log_contacts and not settings.mask_contacts


class RejectLog:
    """Logs rejected records, at most ``per_minute`` lines a minute per process; the
    rest are counted, by reason, in one ``rejects not logged`` line when the minute is
    over. Each line: ``reason``, ``eventId``, ``eventTypeKey`` (when well-formed),
    ``source`` (topic/partition/offset) and the violations' ``paths``. The message
    (``detail``) and the contact identifier (``keyValue``) may quote what producers sent
    (an email in a param…), so they are logged only when :func:`contacts_allowed`."""

    def __init__(
        self,
        settings: Settings,
        logger: logging.Logger | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = settings.log_rejects_per_minute
        self.contacts = contacts_allowed(settings)
        self.log = logger or logging.getLogger("eventgate.rejects")
        self.clock = clock
        self._window_start = clock()
        self._logged = 0
        self._skipped: Counter[str] = Counter()

    def note(self, decision: Decision) -> None:
        if self.per_minute <= 0 or decision.reason is None:
            return
        self.tick()
        reason = decision.reason.value
        if self._logged >= self.per_minute:
            self._skipped[reason] += 1
            return
        self._logged += 1
        self.log.info("record rejected", extra=self.fields(decision))

    def tick(self) -> None:
        """Close the minute if it is over (the worker calls this once a minute too, so
        the count of lines not logged comes out when rejects stop)."""
        now = self.clock()
        if now - self._window_start >= 60:
            self._flush()
            self._window_start, self._logged = now, 0

    def fields(self, decision: Decision) -> dict[str, Any]:
        item, record = decision.item, decision.item.record
        event = decision.event
        fields: dict[str, Any] = {
            "reason": decision.reason.value if decision.reason is not None else None,
            "eventId": event.event_id
            if event is not None
            else derive_event_id(record.topic, record.partition, record.offset),
            "eventTypeKey": item.event_type_key,
            "source": f"{record.topic}/{record.partition}/{record.offset}",
            "paths": [v.path for v in decision.violations][:20],
        }
        if self.contacts:
            fields["detail"] = decision.message
            if event is not None:
                fields["keyValue"] = event.key_value
        return fields

    def _flush(self) -> None:
        if self._skipped:
            total = sum(self._skipped.values())
            self.log.info(
                "rejects not logged",
                extra={"count": total, "byReason": dict(sorted(self._skipped.items()))},
            )
            self._skipped.clear()
