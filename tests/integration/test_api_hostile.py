"""Hostile input through HTTP (SPEC §4, §10): every hostile rule through ``PUT
/validation`` and ``POST /event-types`` is a 4xx naming the problem, never a 500, never
written; nothing fetches a remote ``$ref``; nothing blocks the process; malformed, wrongly
typed and huge bodies are 4xx too."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from test_api_support import (
    Api,
    ServicesLike,
    api_settings,
    api_stack,
    error_of,
    json_text,
    unique,
)

from eventgate.validation.checks import MAX_DEPTH


@pytest.fixture(scope="module")
async def api(services: ServicesLike) -> AsyncIterator[Api]:
    async with api_stack(api_settings(services.kafka_bootstrap, services.redis_url)) as stack:
        yield stack


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    opened: list[str] = []

    def urlopen(url: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(url))
        raise AssertionError(f"tried to fetch {url}")

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    yield opened
    assert opened == []


def nested(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {}
    depth = 1
    while depth + 2 <= levels:
        schema = {"properties": {"a": schema}}
        depth += 2
    return {"not": schema} if depth + 1 == levels else schema


def array_schema(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = {"items": schema}
    return schema


def exponential_refs() -> dict[str, Any]:
    definitions: dict[str, Any] = {"d30": {"type": "string"}}
    for level in range(29, -1, -1):
        nxt = {"$ref": f"#/definitions/d{level + 1}"}
        definitions[f"d{level}"] = {"anyOf": [{"allOf": [nxt, {"maxLength": 0}]}, nxt]}
    return {"definitions": definitions, "properties": {"s": {"$ref": "#/definitions/d0"}}}


def branches(count: int) -> list[dict[str, Any]]:
    return [{"type": "integer", "minimum": i + 1} for i in range(count)]


COSTLY = "checks to validate one event, over the limit of 400,000"

# (rules, words the message must hold)
HOSTILE: list[tuple[Any, str]] = [
    ({"$schema": "https://json-schema.org/draft/2020-12/schema"}, "$schema"),
    ({"$schema": "http://json-schema.org/draft-04/schema#"}, "draft-07"),
    ({"$schema": 7}, "$schema"),
    ({"properties": {"a": {"$id": "x"}}}, "only allowed at the root"),
    ({"properties": {"a": {"unevaluatedProperties": False}}}, "unevaluatedProperties"),
    ({"dependentRequired": {"a": ["b"]}}, "dependentRequired"),
    ({"$defs": {"a": {}}}, "$defs"),
    ({"prefixItems": [{}]}, "prefixItems"),
    ({"maxLenght": 3}, "unknown keyword 'maxLenght'"),
    ({"nullable": True}, "unknown keyword 'nullable'"),
    ({"$ref": "#/definitions/a", "definitions": {"a": {}}, "maxLength": 2}, "beside $ref"),
    ({"then": {"type": "string"}}, "then without if"),
    ({"format": "uuid"}, "format 'uuid' is not supported"),
    ({"properties": {"a": {"$ref": "http://example.com/schema.json"}}}, "leaves the schema"),
    ({"properties": {"a": {"$ref": "https://example.com/s.json#/x"}}}, "leaves the schema"),
    ({"properties": {"a": {"$ref": "file:///etc/passwd"}}}, "leaves the schema"),
    ({"properties": {"a": {"$ref": "other.json"}}}, "leaves the schema"),
    ({"properties": {"a": {"$ref": "#foo"}}}, "only JSON pointers"),
    ({"properties": {"a": {"$ref": "#/definitions/missing"}}}, "does not point to a subschema"),
    (
        {"properties": {f"p{i}": {"type": "string", "maxLength": i} for i in range(3000)}},
        "larger than 64 KiB",
    ),
    ([{"name": f"param{i:06d}", "required": False} for i in range(2000)], "larger than 64 KiB"),
    (nested(MAX_DEPTH + 1), "deeper than 32"),
    (nested(200), "deeper than 32"),
    (array_schema(MAX_DEPTH - 1), "too deeply nested"),
    ({"properties": {"a": {"pattern": "(?=a)b"}}}, "cannot be compiled by RE2"),
    ({"properties": {"a": {"pattern": "(a)\\1"}}}, "cannot be compiled by RE2"),
    ({"properties": {"a": {"pattern": "a{1001}"}}}, "cannot be compiled by RE2"),
    ({"patternProperties": {"(": {}}}, "cannot be compiled by RE2"),
    ({"$ref": "#"}, "$ref cycle"),
    ({"definitions": {"a": {"$ref": "#/definitions/a"}}, "$ref": "#/definitions/a"}, "$ref cycle"),
    (exponential_refs(), "expands the schema to more than"),
    ({"type": "strnig"}, "type must be one of"),
    ({"minLength": -1}, "minLength must be a non-negative integer"),
    ({"minimum": float("nan")}, "NaN"),
    ({"maximum": float("inf")}, "NaN and Infinity"),
    ({"maximum": 10**30}, "cannot be stored"),
    ({"const": "\ud800"}, "cannot be stored"),
    ("object", "rules must be a list"),
    (3, "rules must be a list"),
    ([{"name": "a", "required": "yes"}], "required must be true or false"),
    ([{"name": "a", "required": True, "type": "date"}], "type must be one of"),
    ([{"name": "a", "required": True}, {"name": "a", "required": False}], "listed twice"),
    ([{"name": "a", "required": True, "extra": 1}], "unknown field"),
    ({"properties": {"a": {"maxItems": 3000, "items": {"anyOf": branches(600)}}}}, COSTLY),
    ({"properties": {"a": {"items": {"oneOf": branches(8)}}}}, COSTLY),
    ({"properties": {"a": {"items": {"required": [f"p{i}" for i in range(6000)]}}}}, COSTLY),
    ({"properties": {"a": {"items": {"enum": [f"v{i:04d}" for i in range(5000)]}}}}, COSTLY),
    ({"patternProperties": {f"^x{i}$": {} for i in range(1500)}}, COSTLY),
    ({"anyOf": [{"items": {"$ref": "#"}}, {"items": {"$ref": "#"}}]}, COSTLY),
]


def _id(case: tuple[Any, str]) -> str:
    return case[1][:40] if case[1] != COSTLY else f"costly-{json_text(case[0])[:30]!r}"


@pytest.mark.parametrize("case", HOSTILE, ids=_id)
async def test_hostile_rules_through_put_validation(api: Api, case: tuple[Any, str]) -> None:
    rules, words = case
    key = unique("hostile")
    r = await api.call("POST", "/event-types", json={"key": key, "name": "n"})
    assert r.status_code == 201
    r = await api.call(
        "PUT", f"/event-types/{key}/validation", json={"enabled": True, "rules": rules}
    )
    assert r.status_code == 422, r.text
    error = error_of(r)
    assert error["code"] == "invalid_rules"
    assert words in error["message"], error["message"]
    assert error["details"]["path"].startswith("/")
    t = (await api.call("GET", f"/event-types/{key}")).json()
    assert t["version"] == 1 and t["validation"] == {"enabled": False, "rules": None}


@pytest.mark.parametrize("case", HOSTILE, ids=_id)
async def test_hostile_rules_through_post_event_types(api: Api, case: tuple[Any, str]) -> None:
    rules, words = case
    key = unique("hostile-new")
    for enabled in (True, False):  # rules are checked even while validation is off
        r = await api.call(
            "POST",
            "/event-types",
            json={"key": key, "name": "n", "validation": {"enabled": enabled, "rules": rules}},
        )
        assert r.status_code == 422, r.text
        error = error_of(r)
        assert error["code"] == "invalid_rules" and words in error["message"]
    assert (await api.call("GET", f"/event-types/{key}")).status_code == 404


async def test_rules_nested_beyond_what_json_can_parse_are_400(api: Api) -> None:
    deep = b'{"enabled": true, "rules": ' + b'{"not": ' * 100_000 + b"{}" + b"}" * 100_001
    key = unique("deep")
    await api.call("POST", "/event-types", json={"key": key, "name": "n"})
    r = await api.call(
        "PUT",
        f"/event-types/{key}/validation",
        content=deep,
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 400 and error_of(r)["code"] == "invalid_json"


async def test_a_huge_integer_literal_is_400(api: Api) -> None:
    body = b'{"enabled": true, "rules": {"maximum": ' + b"9" * 5000 + b"}}"
    key = unique("bigint")
    await api.call("POST", "/event-types", json={"key": key, "name": "n"})
    r = await api.call(
        "PUT",
        f"/event-types/{key}/validation",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 400 and error_of(r)["code"] == "invalid_json"


async def test_catastrophic_patterns_are_accepted_and_run_on_re2(api: Api) -> None:
    key = unique("redos")
    await api.call("POST", "/event-types", json={"key": key, "name": "n"})
    rules = {"properties": {"a": {"type": "string", "pattern": "^(a+)+$"}}}
    r = await api.call(
        "PUT", f"/event-types/{key}/validation", json={"enabled": True, "rules": rules}
    )
    assert r.status_code == 200 and r.json()["rules"] == rules


async def test_the_costliest_rules_the_bound_accepts_are_stored(api: Api) -> None:
    """The worst cases measured in docs/registry.md (bench/validation_micro.py --hostile)
    are accepted: the bound refuses only what exceeds it."""
    for rules in (
        {"properties": {"a": {"maxItems": 39, "items": {"anyOf": branches(600)}}}},
        {"properties": {"a": {"maxItems": 19000, "items": {"allOf": branches(20)}}}},
        {"properties": {"a": {"maxItems": 1000, "items": {"anyOf": branches(2)}}}},
    ):
        key = unique("costly")
        await api.call("POST", "/event-types", json={"key": key, "name": "n"})
        r = await api.call(
            "PUT", f"/event-types/{key}/validation", json={"enabled": True, "rules": rules}
        )
        assert r.status_code == 200, r.text


async def test_compiling_a_large_schema_does_not_block_the_process(api: Api) -> None:
    """A 64 KiB schema of 1,100 patterns takes a good part of a second to compile; the
    compilation runs off the event loop, so other requests are answered meanwhile."""
    key = unique("slow")
    await api.call("POST", "/event-types", json={"key": key, "name": "n"})
    schema = {
        "properties": {
            f"p{i:04d}": {"type": "string", "pattern": f"^[a-z]{{1,{i % 50 + 1}}}x$"}
            for i in range(1100)
        }
    }
    put = asyncio.create_task(
        api.call("PUT", f"/event-types/{key}/validation", json={"enabled": True, "rules": schema})
    )
    await asyncio.sleep(0)  # let the PUT start and hand its compilation to a thread
    answered_meanwhile = 0
    while not put.done():
        r = await api.call("GET", "/event-types", params={"limit": 1})
        assert r.status_code == 200
        answered_meanwhile += 1
        await asyncio.sleep(0)  # an in-memory ASGI call never yields to the loop by itself
    assert (await put).status_code == 200
    assert answered_meanwhile > 1


async def test_malformed_bodies_are_4xx(api: Api) -> None:
    key = unique("malformed")
    await api.call("POST", "/event-types", json={"key": key, "name": "n"})
    json_ct = {"Content-Type": "application/json"}
    cases: list[tuple[str, str, bytes, dict[str, str], int]] = [
        ("POST", "/event-types", b"", json_ct, 422),
        ("POST", "/event-types", b"null", json_ct, 422),
        ("POST", "/event-types", b"[]", json_ct, 422),
        ("POST", "/event-types", b'"text"', json_ct, 422),
        ("POST", "/event-types", b"{", json_ct, 400),
        ("POST", "/event-types", b"\xff\xfe{}", json_ct, 400),
        ("POST", "/event-types", b'{"key": NaN}', json_ct, 422),
        ("POST", "/event-types", b"{}", {"Content-Type": "text/plain"}, 415),
        ("POST", "/event-types", b"{}", {"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ("PATCH", f"/event-types/{key}", b"{'name': 1}", json_ct, 400),
        ("PUT", f"/event-types/{key}/validation", b"true", json_ct, 422),
        ("PUT", "/workflows/w1", b'{"name": "n", "status": "active",', json_ct, 400),
        ("PUT", "/segments/s1", b"\x00", json_ct, 400),
    ]
    for method, path, body, headers, status in cases:
        r = await api.call(method, path, content=body, headers=headers)
        assert r.status_code == status, (method, path, body[:20], r.text)
        error_of(r)


async def test_huge_bodies_are_413_with_or_without_content_length(api: Api) -> None:
    big = b'{"key": "k", "name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    json_ct = {"Content-Type": "application/json"}
    r = await api.call("POST", "/event-types", content=big, headers=json_ct)
    assert r.status_code == 413
    error = error_of(r)
    assert error["code"] == "payload_too_large" and error["details"]["maxBytes"] == 1024 * 1024

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked
        for start in range(0, len(big), 64 * 1024):
            yield big[start : start + 64 * 1024]

    r = await api.call("POST", "/event-types", content=chunks(), headers=json_ct)
    assert r.status_code == 413 and error_of(r)["code"] == "payload_too_large"
    # just under the limit is parsed (and refused for what it says, not its size)
    fits = b'{"key": "k", "name": "' + b"x" * (1024 * 1024 - 100) + b'"}'
    r = await api.call("POST", "/event-types", content=fits, headers=json_ct)
    assert r.status_code == 422 and "name" in error_of(r)["message"]


async def test_the_body_limit_is_configurable(services: ServicesLike) -> None:
    settings = api_settings(services.kafka_bootstrap, services.redis_url)
    async with api_stack(settings, max_body_bytes=100) as small:
        body = {"key": unique("small"), "name": "n" * 120}
        r = await small.call("POST", "/event-types", json=body)
        assert r.status_code == 413
        r = await small.call("POST", "/event-types", json={"key": unique("small"), "name": "n"})
        assert r.status_code == 201
