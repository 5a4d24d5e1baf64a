"""POST /events hands every item to ingest as the exact bytes the producer sent: each bad
item gets the reason code the Kafka path gives the same record (never a 500), and every
good item reaches the ingest topic byte for byte (no parser and encoder in between to
turn ``1e400`` into ``null`` or ``-0`` into ``0``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer
from test_api_support import PRODUCER, Api, ServicesLike, api_settings, api_stack, error_of

from eventgate.ingest.decode import Event, RawRecord, decode

GOOD = b'{"eventTypeKey":"k","keyValue":"c1"'
# (item bytes, the reason the Kafka path gives them; None: a valid event)
ITEMS: list[tuple[bytes, str | None]] = [
    (GOOD + b',"params":{"n":216042180641550303232}}', "invalid_number"),
    (GOOD + b',"params":{"n":"\\udb39x"}}', "invalid_json"),
    (GOOD + b',"params":{"n":1e400}}', "invalid_number"),
    (GOOD + b',"params":{"n":-1e400}}', "invalid_number"),
    (GOOD + b',"params":{"n":NaN}}', "invalid_number"),
    (GOOD + b',"params":{"n":Infinity}}', "invalid_number"),
    (GOOD + b',"params":{"n":[' + b"[" * 40 + b"]" * 40 + b"]}}", "too_deep"),
    (GOOD + b',"params":{"n":"\xff"}}', "invalid_utf8"),
    (GOOD + b',"params":{"n":1,,}}', "invalid_json"),
    (b'"just a string"', "not_object"),
    (b"12", "not_object"),
    (b'{"eventTypeKey":"k","keyValue":"c","params":{"n":' + b"9" * 5000 + b"}}", "invalid_number"),
    # valid events whose bytes a decode-and-encode round trip would change
    (GOOD + b',"params":{"z":-0,"f":1.0E2,"a":1,"a":2}}', None),
    (GOOD + b',\n  "params" : { "s" : "\\u00e9\\/" , "big": 18446744073709551615 } }', None),
    (GOOD + b',"eventId":"id-1","params":{"d":' + b"[" * 30 + b"]" * 30 + b"}}", None),
]


@pytest.fixture(scope="module")
async def api(services: ServicesLike) -> AsyncIterator[Api]:
    async with api_stack(api_settings(services.kafka_bootstrap, services.redis_url)) as stack:
        yield stack


async def _post(api: Api, body: bytes) -> tuple[int, dict[str, object]]:
    r = await api.call(
        "POST",
        "/events",
        token=PRODUCER,
        content=body,
        headers={"Content-Type": "application/json"},
    )
    return r.status_code, r.json()


async def test_each_item_gets_the_kafka_paths_reason_and_good_bytes_reach_ingest(
    api: Api,
) -> None:
    body = b'{"events": [' + b" , ".join(item for item, _ in ITEMS) + b"]}"
    status, answer = await _post(api, body)
    assert status == 202, answer
    items = answer["items"]
    assert isinstance(items, list)
    topic = api.settings.topic("ingest")
    for (value, expected), item in zip(ITEMS, items, strict=True):
        kafka_path = decode(RawRecord(topic, 0, 0, 0, None, value))
        if expected is None:
            assert isinstance(kafka_path, Event), value
            assert item["status"] == "queued", (value, item)
        else:
            assert not isinstance(kafka_path, Event)
            assert kafka_path.reason.value == expected, value
            assert (item["status"], item["reason"]) == ("rejected", expected), (value, item)
            assert item["message"] == kafka_path.message
    good = [value for value, expected in ITEMS if expected is None]
    assert await _ingested(api, len(good)) == good


async def _ingested(api: Api, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        api.settings.topic("ingest"),
        bootstrap_servers=api.settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[bytes] = []
    try:
        async with asyncio.timeout(30):
            while len(found) < count:
                batch = await consumer.getmany(timeout_ms=500)
                found += [r.value for records in batch.values() for r in records if r.value]
    finally:
        await consumer.stop()
    return found


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"events": [1,]}', 400, "invalid_json"),
        (b'{"events": [{"a": "x]}', 400, "invalid_json"),
        (b'{"events": [{]}', 400, "invalid_json"),
        (b'{"events": [1]} trailing', 400, "invalid_json"),
        (b"\xff", 400, "invalid_json"),
        (b'{"events": []}', 422, "invalid_request"),
        (b'{"events": {"a": 1}}', 422, "invalid_request"),
        (b'{"events": [1], "extra": true}', 422, "invalid_request"),
        (b'{"\\udb39": 1}', 422, "invalid_request"),
        (b"[1, 2]", 422, "invalid_request"),
        (b'{"events": [' + b",".join([b"1"] * 501) + b"]}", 422, "invalid_request"),
    ],
)
async def test_a_body_that_cannot_be_split_is_a_4xx_in_the_error_shape(
    api: Api, body: bytes, status: int, code: str
) -> None:
    r = await api.call(
        "POST",
        "/events",
        token=PRODUCER,
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == status, r.text
    assert error_of(r)["code"] == code
