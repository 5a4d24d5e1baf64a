"""Bearer tokens by scope (SPEC §10): read, admin, engine, producer; admin may do everything.

Tokens are compared in constant time (``hmac.compare_digest``) against every configured
token, so neither a token's presence nor its prefix leaks through timing.

A route declares what it needs with ``dependencies=[Depends(Require(Scope.READ))]``.
Routes of a router built with ``route_class=ScopedRoute`` check the token *before* the
body is read and parsed, so a caller without a valid token learns nothing from the
answer (401/403, never a 422 about a body it should not be sending). The dependency
runs again inside FastAPI (it is what puts the bearer scheme into ``/openapi.json``); it
then reuses the first answer.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from eventgate.api.problems import ApiError
from eventgate.settings import Settings

_SCOPES_KEY = "eventgate.scopes"
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="A token from EVENTGATE_{READ,ADMIN,ENGINE,PRODUCER}_TOKENS.",
)


class Scope(StrEnum):
    READ = "read"
    ADMIN = "admin"
    ENGINE = "engine"
    PRODUCER = "producer"


class TokenTable:
    """The configured tokens and their scopes."""

    def __init__(self, settings: Settings) -> None:
        self._tokens: list[tuple[bytes, Scope]] = [
            (token.encode(), scope)
            for scope, tokens in (
                (Scope.READ, settings.read_tokens),
                (Scope.ADMIN, settings.admin_tokens),
                (Scope.ENGINE, settings.engine_tokens),
                (Scope.PRODUCER, settings.producer_tokens),
            )
            for token in tokens
        ]

    def scopes_of(self, token: str) -> set[Scope]:
        given = token.encode("utf-8", "surrogateescape")
        found: set[Scope] = set()
        for known, scope in self._tokens:  # no early exit: time does not depend on the match
            if hmac.compare_digest(given, known):
                found.add(scope)
        return found


def bearer_token(authorization: str) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value, else None."""
    kind, _, token = authorization.partition(" ")
    token = token.strip()
    return token if kind.lower() == "bearer" and token else None


def authorize(request: Request, allowed: frozenset[Scope]) -> set[Scope]:
    """The token's scopes; ``ApiError`` 401 without a valid bearer token, 403 when none of
    its scopes is in ``allowed`` (admin is always allowed)."""
    cached: set[Scope] | None = request.scope.get(_SCOPES_KEY)
    if cached is not None:
        return cached
    token = bearer_token(request.headers.get("authorization", ""))
    if token is None:
        raise ApiError(401, "unauthorized", "a bearer token is required")
    table: TokenTable = request.app.state.tokens
    scopes = table.scopes_of(token)
    if not scopes:
        raise ApiError(401, "unauthorized", "the bearer token is not valid")
    if Scope.ADMIN not in scopes and not scopes & allowed:
        needed = " or ".join(f"'{s}'" for s in sorted(allowed))
        raise ApiError(403, "forbidden", f"this token lacks the {needed} scope")
    request.scope[_SCOPES_KEY] = scopes
    return scopes


class Require:
    """A FastAPI dependency: the request's token must carry one of ``scopes`` (or admin)."""

    def __init__(self, *scopes: Scope) -> None:
        self.scopes = frozenset(scopes)

    async def __call__(
        self,
        request: Request,
        _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> set[Scope]:
        return authorize(request, self.scopes)


def require(*scopes: Scope) -> Require:
    return Require(*scopes)


def _required_scopes(route: APIRoute) -> frozenset[Scope] | None:
    for dependency in route.dependant.dependencies:
        if isinstance(dependency.call, Require):
            return dependency.call.scopes
    return None


_JSON_SUBTYPES = ("json",)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype in _JSON_SUBTYPES or subtype.endswith("+json"))


class ScopedRoute(APIRoute):
    """Checks the token, then the body's media type, before FastAPI reads the body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        scopes = _required_scopes(self)
        # A route may read its body itself (POST /events) and document it in openapi_extra.
        takes_body = self.body_field is not None or "requestBody" in (self.openapi_extra or {})

        async def guarded(request: Request) -> Response:
            if scopes is not None:
                authorize(request, scopes)
            if takes_body:
                content_type = request.headers.get("content-type")
                has_body = request.headers.get("content-length", "0") != "0" or (
                    "transfer-encoding" in request.headers
                )
                if has_body and not (content_type and _is_json(content_type)):
                    raise ApiError(
                        415,
                        "unsupported_media_type",
                        "the body must be JSON (Content-Type: application/json)",
                        {"contentType": content_type},
                    )
            return await handler(request)

        return guarded
