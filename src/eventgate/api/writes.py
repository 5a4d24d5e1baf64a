"""What every registry write of the API goes through.

- :func:`check_rules` compiles validation rules with ``compile_rules`` *before* anything
  is sent (SPEC §4, DESIGN-NOTES 5): refused rules are a 422 ``invalid_rules`` naming
  the problem and its JSON pointer. Compilation runs in a worker thread (a 64 KiB schema
  of patterns takes ~1 s to compile; the event loop keeps serving meanwhile), at most
  :data:`COMPILE_CONCURRENCY` at a time, so a burst of hostile rules cannot take every
  core.
- :func:`send` makes sure the request can be encoded (defence in depth: every value
  the registry cannot carry is a 422, never a 500), sends it, and raises
  ``RegistryRefused`` (the error handlers map it to 404/409/412/422/429) unless the
  writer said ok. When it returns, this process's registry view includes the write, so
  the handler answers from ``registry.state`` and a GET right after sees the change.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from eventgate.api.problems import ApiError
from eventgate.registry.requests import Reply, Request, encode_request
from eventgate.registry.service import Registry
from eventgate.validation import RulesError, compile_rules
from eventgate.validation.rules import SIMPLE_TYPES

COMPILE_CONCURRENCY = 2


def _compile(rules: Any) -> None:
    try:
        orjson.dumps(rules)  # what the registry record will need to hold
    except orjson.JSONEncodeError as exc:
        raise RulesError(f"rules cannot be stored as JSON: {exc}") from None
    if isinstance(rules, list):
        _check_simple_types(rules)
    compile_rules(rules)


def _check_simple_types(rules: list[Any]) -> None:
    """A simple-form ``type`` is a string or null, as ``/openapi.json`` says; the rules
    compiler looks an object or array up in a set, which raised ``TypeError`` (a 500)."""
    for index, rule in enumerate(rules):
        if isinstance(rule, dict) and not isinstance(rule.get("type"), str | None):
            raise RulesError(
                f"type must be one of {', '.join(sorted(SIMPLE_TYPES))}", f"/{index}/type"
            )


async def check_rules(slots: asyncio.Semaphore, enabled: bool, rules: Any) -> None:
    """422 ``invalid_rules`` unless ``rules`` compile (``None`` is fine while disabled);
    ``slots`` bounds the compilations running at once (one semaphore per app)."""
    if rules is None:
        if enabled:
            raise ApiError(
                422,
                "invalid_rules",
                "validation is enabled but has no rules: give rules, or enabled: false",
                {"path": "/"},
            )
        return
    async with slots:
        try:
            await asyncio.to_thread(_compile, rules)
        except RulesError as exc:
            raise ApiError(
                422, "invalid_rules", f"rules refused: {exc.message}", {"path": exc.path or "/"}
            ) from None
        except RecursionError:  # cannot happen past the depth check; refuse, never crash
            raise ApiError(422, "invalid_rules", "rules nest too deeply", {"path": "/"}) from None


async def send(registry: Registry, request: Request) -> Reply:
    """Send ``request``; the ok reply once this process has applied it."""
    try:
        encode_request(request)
    except (orjson.JSONEncodeError, TypeError, ValueError) as exc:
        raise ApiError(
            422, "invalid_request", f"the request holds values that cannot be stored: {exc}"
        ) from None
    reply = await registry.request(request)
    return reply.raise_for_code()
