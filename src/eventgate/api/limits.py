"""Request limits, as pure ASGI middlewares answering with the API's error shape:
``BodyLimit`` (413) and ``RateLimit`` (429).

``BodyLimit`` refuses request bodies over a size limit with a JSON 413.

A pure ASGI middleware. A ``Content-Length`` over the limit is refused before a byte of
the body is read; otherwise the body is read (counting, so a chunked upload cannot slip
past) into memory up to the limit and replayed to the application. Starlette's own
limiter answers in plain text on some paths; this one always answers with the API's
error shape.

``per_path`` sets other limits for exact paths (``POST /api/v1/events`` takes up to 500
events of up to 64 KiB each, far more than a configuration body).

``RateLimit`` takes one request from the caller's token bucket
(:mod:`eventgate.api.ratelimit`): the caller is its bearer token when the token is
valid, else its client address, so inventing tokens buys no fresh bucket. Over the
limit: 429 ``rate_limited`` with ``Retry-After``. ``/healthz``, ``/readyz`` and
``/metrics`` are exempt: probes and scrapes must never be refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from prometheus_client import Counter
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from eventgate.api.auth import TokenTable, bearer_token
from eventgate.api.problems import error_response
from eventgate.api.ratelimit import RateLimiter, retry_after_header

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class BodyLimit:
    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        per_path: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.per_path = dict(per_path or {})

    @staticmethod
    async def _refuse(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413,
            "payload_too_large",
            f"the body is larger than {limit} bytes",
            {"maxBytes": limit},
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope.get("path", ""), self.max_body_bytes)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(limit, scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: pass it on
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(limit, scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        await self.app(scope, _replay([{"type": "http.request", "body": body}], receive), send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class RateLimit:
    """429 past ``limiter``'s rate for the caller; ``refused`` counts by caller kind
    (``token`` or ``address``: bounded labels, never the caller itself)."""

    def __init__(
        self, app: ASGIApp, limiter: RateLimiter, tokens: TokenTable, refused: Counter
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.tokens = tokens
        self.refused = refused

    def caller(self, scope: Scope) -> tuple[str, str]:
        """(kind, bucket key): a valid token's digest (the token itself is not kept as a
        key), else the client address."""
        token = bearer_token(Headers(scope=scope).get("authorization", ""))
        if token is not None and self.tokens.scopes_of(token):
            digest = hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()
            return "token", f"t:{digest}"
        client = scope.get("client")
        return "address", f"a:{client[0] if client else 'unknown'}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "") in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        kind, key = self.caller(scope)
        wait = self.limiter.take(key)
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        self.refused.labels(kind).inc()
        limiter = self.limiter
        response = error_response(
            429,
            "rate_limited",
            f"too many requests: over {limiter.rate_per_s:g} per second (bursts of "
            f"{limiter.burst}) for this {'token' if kind == 'token' else 'client address'}",
            {"ratePerS": limiter.rate_per_s, "burst": limiter.burst, "retryAfterS": wait},
            headers={"Retry-After": retry_after_header(wait)},
        )
        await response(scope, receive, send)
