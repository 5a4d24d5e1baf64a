"""The family of POST /events' former 500s, on every route that takes a body: numbers
beyond 64 bits or a double, NaN and Infinity literals, lone surrogates, ``-0``, deep
arrays, put in each field of each body. Each answer is a 4xx in the error shape, or a
2xx whose stored value reads back as sent (nothing is silently changed: ``1e400`` never
comes back as ``null``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from test_api_support import Api, ServicesLike, api_settings, api_stack, error_of

EXISTING = "family"
FAMILY = {
    "big_int": b"216042180641550303232",
    "huge_int": b"9" * 5000,
    "huge_float": b"1e400",
    "minus_huge_float": b"-1e400",
    "nan": b"NaN",
    "infinity": b"-Infinity",
    "minus_zero": b"-0",
    "minus_zero_float": b"-0.0",
    "lone_surrogate": b'"\\udb39x"',
    "deep_array": b"[" * 40 + b"]" * 40,
    "very_deep_array": b"[" * 5000 + b"]" * 5000,
    "object": b'{"a": {}}',
    "array": b"[1, [2]]",
}
# (method, path, body with the value at @)
TYPES, TYPE, RULES = (
    "/event-types",
    f"/event-types/{EXISTING}",
    f"/event-types/{EXISTING}/validation",
)
NEW = b'"key": "fam-new", "name": "n"'
PLACES = [
    ("POST", TYPES, b'{"key": "fam-new", "name": @}'),
    ("POST", TYPES, b"{" + NEW + b', "volumeFloor": {"events": @, "hours": 1}}'),
    ("POST", TYPES, b"{" + NEW + b', "validation": {"enabled": true, "rules": {"maximum": @}}}'),
    ("PATCH", TYPE, b'{"volumeFloor": {"events": 1, "hours": @}}'),
    ("PATCH", TYPE, b'{"segmentation": @}'),
    ("PUT", RULES, b'{"enabled": true, "rules": {"enum": [@]}}'),
    ("PUT", RULES, b'{"enabled": true, "rules": [{"name": "a", "required": true, "type": @}]}'),
    ("PUT", RULES, b'{"enabled": @, "rules": null}'),
    ("PUT", "/workflows/fam-w", b'{"name": "n", "status": "active", "launchOn": [@]}'),
    ("PUT", "/segments/fam-s", b'{"name": @}'),
]


@pytest.fixture(scope="module")
async def api(services: ServicesLike) -> AsyncIterator[Api]:
    async with api_stack(api_settings(services.kafka_bootstrap, services.redis_url)) as stack:
        r = await stack.call("POST", "/event-types", json={"key": EXISTING, "name": "family"})
        assert r.status_code == 201
        yield stack


@pytest.mark.parametrize("value", list(FAMILY.values()), ids=list(FAMILY))
@pytest.mark.parametrize(
    "place", PLACES, ids=[f"{m} {p} {i}" for i, (m, p, _) in enumerate(PLACES)]
)
async def test_never_a_5xx_and_never_silently_changed(
    api: Api, place: tuple[str, str, bytes], value: bytes
) -> None:
    method, path, template = place
    body = template.replace(b"@", value)
    r = await api.call(method, path, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code < 500, (r.status_code, r.text[:300])
    if r.status_code >= 400:
        error_of(r)
        return
    assert r.status_code in (200, 201), r.text
    # Accepted: only values JSON carries exactly (-0 is the integer 0), where they fit.
    assert value in (b"-0", b"-0.0", b'{"a": {}}', b"[1, [2]]"), (body, r.text)
    if b"rules" in template:
        sent_body = json.loads(body)
        if method == "POST":
            key, sent = sent_body["key"], sent_body["validation"]["rules"]
        else:
            key, sent = EXISTING, sent_body["rules"]
        stored = (await api.call("GET", f"/event-types/{key}/validation")).json()["rules"]
        # Equal as JSON Schema compares numbers (-0.0 == 0: a PUT of rules equal to the
        # stored ones writes nothing, so -0.0 may read back as a stored 0).
        assert stored == sent, (stored, sent)
