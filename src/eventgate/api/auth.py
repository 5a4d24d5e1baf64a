"""Bearer tokens by scope (SPEC §10): read, admin, engine, producer; admin may do everything.

Tokens are compared in constant time (``hmac.compare_digest``) against every configured
token, so neither a token's presence nor its prefix leaks through timing.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from enum import StrEnum

from fastapi import Request

from eventgate.api.problems import ApiError
from eventgate.settings import Settings


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
        given = token.encode()
        found: set[Scope] = set()
        for known, scope in self._tokens:  # no early exit: time does not depend on the match
            if hmac.compare_digest(given, known):
                found.add(scope)
        return found


def require(scope: Scope) -> Callable[[Request], Awaitable[set[Scope]]]:
    """A FastAPI dependency: 401 without a valid bearer token, 403 outside ``scope``."""

    async def check(request: Request) -> set[Scope]:
        header = request.headers.get("authorization", "")
        kind, _, token = header.partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            raise ApiError(401, "unauthorized", "a bearer token is required")
        table: TokenTable = request.app.state.tokens
        scopes = table.scopes_of(token.strip())
        if not scopes:
            raise ApiError(401, "unauthorized", "the bearer token is not valid")
        if Scope.ADMIN not in scopes and scope not in scopes:
            raise ApiError(403, "forbidden", f"this token lacks the '{scope}' scope")
        return scopes

    return check
