"""Property: whatever a client sends to any route — junk JSON, near-miss bodies built from
the real field names, raw bytes, odd path segments, query parameters and headers — the
answer is never a 5xx, and every error has the ``{"error": {code, message, details}}``
shape. Runs against the real registry on the real broker (writes that happen to be valid
are really written)."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_api_support import ADMIN, ENGINE, Api, ServicesLike, api_settings, api_stack, error_of

EXISTING = "fuzz-existing"
FIELDS = [
    "key",
    "name",
    "category",
    "segmentation",
    "validation",
    "enabled",
    "rules",
    "volumeFloor",
    "events",
    "hours",
    "status",
    "launchOn",
    "stopOn",
    "launchCondition",
    "segmentId",
    "segmentName",
    "contactFieldId",
    "contactFieldName",
    "eventTypeKeys",
    "id",
]
ROUTES = [
    ("GET", "/event-types"),
    ("POST", "/event-types"),
    ("GET", "/event-types/{key}"),
    ("PATCH", "/event-types/{key}"),
    ("DELETE", "/event-types/{key}"),
    ("GET", "/event-types/{key}/validation"),
    ("PUT", "/event-types/{key}/validation"),
    ("GET", "/event-types/{key}/structure"),
    ("GET", "/event-types/{key}/dependencies"),
    ("GET", "/workflows"),
    ("GET", "/workflows/{key}"),
    ("PUT", "/workflows/{key}"),
    ("DELETE", "/workflows/{key}"),
    ("GET", "/segments"),
    ("GET", "/segments/{key}"),
    ("PUT", "/segments/{key}"),
    ("DELETE", "/segments/{key}"),
]
QUERY_NAMES = ["status", "dependency", "q", "limit", "offset", "sort", "eventTypeKey"]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["active", "other", "click", "segment.1", EXISTING, "", "*"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=25,
)
near_miss_bodies = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=7)
raw_bodies = st.binary(max_size=300) | st.sampled_from(
    [b"{", b"[]", b"null", b'{"a":NaN}', b"\xff", b'{"key":"a","key":"b"}', b"1e99999"]
)
segments = st.sampled_from([EXISTING, "w-1", "s-1", "segment.x"]) | st.text(
    min_size=1, max_size=120
)
ascii_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
headers = st.fixed_dictionaries(
    {},
    optional={
        "If-Match": ascii_text | st.sampled_from(['"1"', 'W/"1"', "*", '"1", "2"', '"99"']),
        "If-None-Match": ascii_text,
        "Content-Type": st.sampled_from(
            ["application/json", "text/plain", "application/merge-patch+json", "", "a/b; x"]
        ),
    },
)
queries = st.dictionaries(st.sampled_from(QUERY_NAMES) | ascii_text, ascii_text, max_size=4)


# Bodies of the right shape with values from valid to junk: these reach the registry.
junk = st.none() | st.integers() | st.floats() | st.lists(st.integers(), max_size=2)
key_like = (
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,30}", fullmatch=True)
    | st.sampled_from([EXISTING, "segment.1"])
    | st.text(max_size=12)
)
name_like = st.text(min_size=1, max_size=60) | st.text(max_size=3) | junk
pattern_like = st.sampled_from(["^a+$", "(a+)+$", "(?=x)", "[", "\\d{2,}", "^[$]"]) | st.text(
    max_size=10
)
schema_like = st.recursive(
    st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(["string", "integer", "object", "array", "strnig"]),
            "pattern": pattern_like,
            "maxLength": st.integers(min_value=-2, max_value=50),
            "format": st.sampled_from(["email", "date", "uuid"]),
            "$ref": st.sampled_from(["#", "#/definitions/a", "http://x/y", "file:///etc/x"]),
            "enum": st.lists(scalars, max_size=3),
        },
    ),
    lambda inner: st.fixed_dictionaries(
        {},
        optional={
            "properties": st.dictionaries(st.text(max_size=6), inner, max_size=3),
            "items": inner,
            "anyOf": st.lists(inner, max_size=3),
            "not": inner,
            "definitions": st.dictionaries(st.sampled_from(["a", "b"]), inner, max_size=2),
            "additionalProperties": st.booleans() | inner,
            "required": st.lists(st.text(max_size=4), max_size=3),
        },
    ),
    max_leaves=12,
)
simple_form = st.lists(
    st.fixed_dictionaries(
        {"name": st.text(max_size=10), "required": st.booleans() | junk},
        optional={"type": st.sampled_from(["string", "number", "boolean", "date"])},
    ),
    max_size=5,
)
rules_like = st.none() | schema_like | simple_form | json_values
validation_like = st.fixed_dictionaries(
    {"enabled": st.booleans() | junk}, optional={"rules": rules_like}
)
floor_like = st.fixed_dictionaries(
    {"events": st.integers(min_value=-1, max_value=2**64), "hours": st.integers(-1, 10_000)}
)
category_like = st.sampled_from(["click", "rfm", "other", "regular_workflow", "nope"])
type_body = st.fixed_dictionaries(
    {"key": key_like, "name": name_like},
    optional={
        "category": category_like,
        "segmentation": st.booleans() | junk,
        "validation": validation_like,
        "volumeFloor": floor_like | st.none(),
    },
)
patch_body = st.fixed_dictionaries(
    {},
    optional={
        "name": name_like,
        "category": category_like,
        "segmentation": st.booleans() | junk,
        "volumeFloor": floor_like | st.none(),
    },
)
condition_like = (
    st.fixed_dictionaries({"segmentId": key_like, "segmentName": name_like})
    | st.fixed_dictionaries({"contactFieldId": key_like, "contactFieldName": name_like})
    | junk
)
workflow_body = st.fixed_dictionaries(
    {"name": name_like, "status": st.sampled_from(["active", "inactive", "paused"])},
    optional={
        "launchOn": st.lists(key_like, max_size=4),
        "stopOn": st.lists(key_like, max_size=4),
        "launchCondition": condition_like,
    },
)
segment_body = st.fixed_dictionaries(
    {"name": name_like}, optional={"eventTypeKeys": st.lists(key_like, max_size=4)}
)
ident_like = st.from_regex(r"[A-Za-z0-9_.:-]{1,20}", fullmatch=True) | st.text(max_size=10)
shaped_requests = st.one_of(
    st.tuples(st.just("POST"), st.just("/event-types"), type_body),
    st.tuples(
        st.just("PATCH"), key_like.map(lambda k: f"/event-types/{quote(k, safe='')}"), patch_body
    ),
    st.tuples(st.just("PUT"), st.just(f"/event-types/{EXISTING}/validation"), validation_like),
    st.tuples(
        st.just("PUT"), ident_like.map(lambda i: f"/workflows/{quote(i, safe='')}"), workflow_body
    ),
    st.tuples(
        st.just("PUT"), ident_like.map(lambda i: f"/segments/{quote(i, safe='')}"), segment_body
    ),
)


@pytest.fixture(scope="module")
async def api(services: ServicesLike) -> AsyncIterator[Api]:
    async with api_stack(api_settings(services.kafka_bootstrap, services.redis_url)) as stack:
        r = await stack.call(
            "POST", "/event-types", json={"key": EXISTING, "name": "fuzz", "segmentation": True}
        )
        assert r.status_code == 201
        # a dependent keeps the fuzzed DELETEs from removing the type the others use
        r = await stack.call(
            "PUT",
            "/workflows/fuzz-keeper",
            json={"name": "k", "status": "active", "launchOn": [EXISTING]},
        )
        assert r.status_code == 201
        yield stack


JSON = {"Content-Type": "application/json"}


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=True, allow_nan=True).encode()


def check(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:500])
    if response.status_code >= 400:
        error_of(response)
    elif response.status_code not in (204, 304):
        response.json()


FUZZ = settings(
    max_examples=250,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FUZZ
@given(
    route=st.sampled_from(ROUTES),
    segment=segments,
    body=near_miss_bodies | json_values,
    query=queries,
    extra_headers=headers,
)
async def test_junk_json_never_gives_a_5xx(
    api: Api,
    route: tuple[str, str],
    segment: str,
    body: Any,
    query: dict[str, str],
    extra_headers: dict[str, str],
) -> None:
    method, template = route
    path = template.format(key=quote(segment, safe=""))
    sent_headers = {"Content-Type": "application/json", **extra_headers}
    token = ENGINE if "/workflows" in path or "/segments" in path else None
    r = await api.call(
        method,
        path,
        token=token or ADMIN,
        content=_json_bytes(body),
        headers=sent_headers,
        params=query,
    )
    check(r)


@FUZZ
@given(route=st.sampled_from(ROUTES), segment=segments, body=raw_bodies, extra_headers=headers)
async def test_raw_bytes_never_give_a_5xx(
    api: Api, route: tuple[str, str], segment: str, body: bytes, extra_headers: dict[str, str]
) -> None:
    method, template = route
    path = template.format(key=quote(segment, safe=""))
    r = await api.call(method, path, content=body, headers=extra_headers)
    check(r)


@FUZZ
@given(request=shaped_requests)
async def test_well_shaped_bodies_with_junk_values_never_give_a_5xx(
    api: Api, request: tuple[str, str, Any]
) -> None:
    method, path, body = request
    r = await api.call(method, path, content=_json_bytes(body), headers=JSON)
    check(r)


@settings(max_examples=150, deadline=None, database=None)
@given(
    rules=rules_like,
    enabled=st.booleans() | json_values,
)
async def test_junk_rules_never_give_a_5xx(api: Api, rules: Any, enabled: Any) -> None:
    r = await api.call(
        "PUT",
        f"/event-types/{EXISTING}/validation",
        content=_json_bytes({"enabled": enabled, "rules": rules}),
        headers={"Content-Type": "application/json"},
    )
    check(r)
    if r.status_code == 200:  # accepted rules are stored exactly as sent
        stored = (await api.call("GET", f"/event-types/{EXISTING}/validation")).json()
        assert _same_json(stored["rules"], rules)


def _same_json(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, int | float) and isinstance(b, int | float) and math.isclose(a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b) and type(a) is type(b)
