"""Structured logs: JSON lines, rejects rate-limited, no contact data unless allowed."""

from __future__ import annotations

import logging

import orjson
import pytest

from eventgate.ingest.decide import decide_batch
from eventgate.ingest.decode import RawRecord, decode_batch
from eventgate.logs import JsonFormatter, RejectLog, contacts_allowed
from eventgate.settings import Settings

CONTACT = "alice@example.com"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class NoTypes:
    def get(self, key: str) -> None:
        return None

    def launch_workflows(self, key: str) -> tuple[str, ...]:
        return ()

    def stop_workflows(self, key: str) -> tuple[str, ...]:
        return ()


class NoValidators:
    def for_type(self, event_type: object) -> None:
        raise AssertionError("no type, no validation")


def rejected_decisions(n: int) -> list:  # type: ignore[type-arg]
    """n records rejected ``registration_limit`` (their key refused by a cap), each
    carrying a contact identifier and an eventId."""
    raws = [
        RawRecord(
            "eventgate.ingest",
            1,
            offset,
            NOW,
            CONTACT.encode(),
            orjson.dumps({"eventTypeKey": "promo", "keyValue": CONTACT, "eventId": f"e-{offset}"}),
        )
        for offset in range(n)
    ]
    decoded = decode_batch(raws)
    return decide_batch(decoded, NoTypes(), NoValidators(), frozenset({"promo"}))  # type: ignore[arg-type]


NOW = 1_767_225_600_000


def test_json_lines_carry_the_process_and_the_extras() -> None:
    record = logging.LogRecord("eventgate.x", logging.INFO, "", 0, "hello %s", ("you",), None)
    record.eventId = "e-1"
    line = orjson.loads(JsonFormatter("worker").format(record))
    assert line["msg"] == "hello you"
    assert line["process"] == "worker" and line["eventId"] == "e-1" and line["level"] == "INFO"


def test_rejects_are_logged_with_reason_and_event_id_and_rate_limited(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    rejects = RejectLog(Settings(log_rejects_per_minute=3), clock=clock)
    with caplog.at_level(logging.INFO, logger="eventgate.rejects"):
        for d in rejected_decisions(10):
            rejects.note(d)
        clock.now = 61
        rejects.tick()
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["record rejected"] * 3 + ["rejects not logged"]
    first = caplog.records[0]
    assert first.reason == "registration_limit"
    assert first.eventId == "e-0"
    assert first.eventTypeKey == "promo"
    assert first.source == "eventgate.ingest/1/0"
    assert caplog.records[-1].count == 7
    assert caplog.records[-1].byReason == {"registration_limit": 7}
    text = "\n".join(JsonFormatter("worker").format(r) for r in caplog.records)
    assert CONTACT not in text  # default: no contact data in logs


@pytest.mark.parametrize(
    ("mask", "allow", "shown"), [(False, False, False), (True, True, False), (False, True, True)]
)
def test_contacts_reach_logs_only_when_both_settings_allow(
    caplog: pytest.LogCaptureFixture, mask: bool, allow: bool, shown: bool
) -> None:
    settings = Settings(mask_contacts=mask, log_contacts=allow)
    assert contacts_allowed(settings) is shown
    with caplog.at_level(logging.INFO, logger="eventgate.rejects"):
        RejectLog(settings).note(rejected_decisions(1)[0])
    assert (CONTACT in JsonFormatter().format(caplog.records[0])) is shown


def test_zero_per_minute_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="eventgate.rejects"):
        rejects = RejectLog(Settings(log_rejects_per_minute=0))
        for d in rejected_decisions(5):
            rejects.note(d)
        rejects.tick()
    assert caplog.records == []


def test_transient_coordinator_errors_are_not_shouted() -> None:
    import logging

    from eventgate.logs import TransientKafkaNoise

    noise = logging.LogRecord(
        "aiokafka.consumer.group_coordinator",
        logging.ERROR,
        __file__,
        1,
        "Group Coordinator Request failed: [Error 15] GroupCoordinatorNotAvailableError",
        (),
        None,
    )
    real = logging.LogRecord(
        "aiokafka.producer.sender", logging.ERROR, __file__, 1, "Unexpected error", (), None
    )
    keep = TransientKafkaNoise()
    assert keep.filter(real) is True and real.levelname == "ERROR"
    keep.filter(noise)
    assert noise.levelname == "DEBUG"
