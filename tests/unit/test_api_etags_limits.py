"""Pure parts of the API: ETag / If-Match parsing, and the body-size limit middleware."""

from __future__ import annotations

import re
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.types import Receive, Scope, Send

from eventgate.api.etags import (
    MAX_HEADER,
    TAGS_PATTERN,
    etag,
    if_match_version,
    none_match,
    parse_tags,
)
from eventgate.api.limits import BodyLimit
from eventgate.api.problems import ApiError


def test_etag_is_the_quoted_version() -> None:
    assert etag(7) == '"7"'


@pytest.mark.parametrize(
    ("header", "current", "sent"),
    [
        (None, 3, None),
        ("*", 3, None),
        (' "3" ', 3, 3),
        ("3", 3, 3),
        ('"1", "3"', 3, 3),
        ('"1","3",', 3, 3),
        ('"5"', 3, 5),  # the process may lag the writer: the writer decides
        ('"5"', None, 5),
    ],
)
def test_if_match_versions(header: str | None, current: int | None, sent: int | None) -> None:
    assert if_match_version(header, current, "k") == sent


@pytest.mark.parametrize("header", ['"2"', 'W/"3"', '"1", "2"', '"abc"', '"1", "5"'])
def test_if_match_that_cannot_match_is_412(header: str) -> None:
    with pytest.raises(ApiError) as caught:
        if_match_version(header, 3, "k")
    assert caught.value.status == 412 and caught.value.details == {"key": "k", "version": 3}


@pytest.mark.parametrize("header", ["", "garbage", '"1" "2"', "W/3", '"unterminated', "x" * 2000])
def test_unreadable_if_match_is_400(header: str) -> None:
    with pytest.raises(ApiError) as caught:
        if_match_version(header, 3, "k")
    assert caught.value.status == 400 and caught.value.code == "invalid_header"


def test_if_none_match_uses_the_weak_comparison() -> None:
    assert none_match('W/"3"', 3) and none_match('"3"', 3) and none_match("*", 3)
    assert not none_match('"2"', 3) and not none_match(None, 3)


header_like = st.text(max_size=60) | st.from_regex(TAGS_PATTERN) | st.sampled_from(["null", "*"])


@settings(max_examples=500)
@given(header_like)
def test_a_header_is_read_exactly_when_it_matches_the_documented_pattern(header: str) -> None:
    """The pattern ``/openapi.json`` gives If-Match / If-None-Match is the parser's own:
    what matches it is read, anything else is a 400 (and nothing else is raised)."""
    documented = re.fullmatch(TAGS_PATTERN, header) is not None and len(header) <= MAX_HEADER
    try:
        parse_tags(header, "If-Match")
    except ApiError as exc:
        assert exc.status == 400 and not documented, header
    else:
        assert documented, header


# -- BodyLimit -------------------------------------------------------------------------------


async def echo_size(scope: Scope, receive: Receive, send: Send) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(len(body)).encode()})


def client(limit: int, per_path: dict[str, int] | None = None) -> httpx.AsyncClient:
    app = BodyLimit(echo_size, max_body_bytes=limit, per_path=per_path)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_bodies_up_to_the_limit_pass_whole() -> None:
    async with client(100) as c:
        r = await c.post("/", content=b"x" * 100)
        assert r.status_code == 200 and r.text == "100"
        r = await c.get("/")
        assert r.status_code == 200 and r.text == "0"


async def test_a_declared_length_over_the_limit_is_413() -> None:
    async with client(100) as c:
        r = await c.post("/", content=b"x" * 101)
    assert r.status_code == 413
    assert orjson.loads(r.content)["error"]["code"] == "payload_too_large"


async def test_paths_can_have_their_own_limit() -> None:
    async with client(100, {"/big": 1000}) as c:
        assert (await c.post("/big", content=b"x" * 1000)).text == "1000"
        r = await c.post("/big", content=b"x" * 1001)
        assert r.status_code == 413
        assert orjson.loads(r.content)["error"]["details"] == {"maxBytes": 1000}
        assert (await c.post("/big/other", content=b"x" * 101)).status_code == 413


async def test_a_chunked_body_over_the_limit_is_413() -> None:
    async def chunks() -> Any:
        for _ in range(10):
            yield b"x" * 30

    async with client(100) as c:
        r = await c.post("/", content=chunks())
    assert r.status_code == 413
    assert orjson.loads(r.content)["error"]["details"] == {"maxBytes": 100}


@settings(max_examples=50, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=8), st.integers(min_value=0, max_value=200))
async def test_the_limit_is_exact(parts: list[bytes], limit: int) -> None:
    async def chunks() -> Any:
        for part in parts:
            yield part

    total = sum(map(len, parts))
    async with client(limit) as c:
        r = await c.post("/", content=chunks())
    if total > limit:
        assert r.status_code == 413
    else:
        assert r.status_code == 200 and r.text == str(total)
