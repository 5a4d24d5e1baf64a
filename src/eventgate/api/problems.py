"""API errors: ``{"error": {"code", "message", "details"}}`` with the right 4xx, never a 500
for bad input.

======  ==========================  ===================================================
status  code                        when
======  ==========================  ===================================================
400     ``invalid_json``            the body is not JSON (syntax, invalid UTF-8, numbers
                                    Python cannot read, nesting too deep to parse)
400     ``invalid_header``          an ``If-Match``/``If-None-Match`` off its pattern
401     ``unauthorized``            no bearer token, or one that is not configured
403     ``forbidden``               the token's scopes do not cover the route
404     ``not_found``               no such event type, workflow, segment or route
405     ``method_not_allowed``
409     ``conflict``                duplicate key; dependents block a delete; a segment
                                    names types without segmentation
412     ``precondition_failed``     ``If-Match`` names another version
413     ``payload_too_large``       the body is over the limit (1 MiB by default)
415     ``unsupported_media_type``  a body that is not ``application/json``
422     ``invalid_request``         the body or a parameter breaks the schema (unknown
                                    fields included)
422     ``invalid_rules``           validation rules refused (SPEC §4);
                                    ``details.path`` points into them
422     ``id_mismatch``             a workflow or segment body ``id`` not the path's
422     ``invalid``                 the registry writer refused the values
429     ``limit``                   the registry holds its maximum number of types
429     ``rate_limited``            over the caller's rate limit (``Retry-After``)
503     ``registry_unavailable``    no registry writer answered in time (retriable,
                                    ``Retry-After``)
503     ``kafka_unavailable``       Kafka unreachable (retriable, ``Retry-After``)
503     ``redis_unavailable``       Redis unreachable for a history read (retriable)
======  ==========================  ===================================================
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Literal

from aiokafka.errors import KafkaError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, create_model
from starlette.exceptions import HTTPException as StarletteHTTPException

from eventgate.errors import DependencyUnavailable, RegistryRefused, RegistryTimeout

log = logging.getLogger(__name__)

_REFUSAL_STATUS = {
    "conflict": 409,
    "not_found": 404,
    "precondition_failed": 412,
    "invalid": 422,
    "limit": 429,
}
_HTTP_CODES = {
    400: "invalid_json",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}
MAX_PROBLEMS = 20
RETRY_AFTER_S = "1"


class ErrorDetail(BaseModel):
    code: str = Field(description="a stable, machine-readable code (see docs/api.md)")
    message: str = Field(description="what went wrong, naming the field, key or rule")
    details: Any = Field(None, description="structured facts: paths, keys, dependents")


class ErrorOut(BaseModel):
    """The body of every error answer."""

    error: ErrorDetail


class ApiError(Exception):
    """An error the API answers with ``status`` and a JSON body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details
        self.headers = headers


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    all_headers = dict(headers or {})
    if status == 401:
        all_headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(
        error_body(code, message, details), status_code=status, headers=all_headers or None
    )


_DESCRIPTIONS = {
    400: "The body is not JSON, or an If-Match / If-None-Match cannot be read",
    401: "No valid bearer token",
    403: "The token lacks the scope",
    404: "Not found",
    409: "Conflict",
    412: "If-Match names another version",
    413: "The body is too large",
    415: "The body is not application/json",
    422: "The body or a parameter is invalid (invalid_request), or refused by meaning: rules "
    "that do not compile (invalid_rules), a body id other than the path's (id_mismatch), "
    "values the registry writer refuses (invalid)",
    429: "The registry is full (limit), or too many requests (rate_limited, Retry-After)",
    503: "The registry writer, Kafka or Redis is unavailable; retry (Retry-After)",
}
CODES: dict[int, tuple[str, ...]] = {
    400: ("invalid_json", "invalid_header"),
    401: ("unauthorized",),
    403: ("forbidden",),
    404: ("not_found",),
    409: ("conflict",),
    412: ("precondition_failed",),
    413: ("payload_too_large",),
    415: ("unsupported_media_type",),
    422: ("invalid_request", "invalid_rules", "id_mismatch", "invalid"),
    429: ("limit", "rate_limited"),
    503: ("registry_unavailable", "kafka_unavailable", "redis_unavailable"),
}
"""The codes each error status carries (docs/api.md lists when). ``/openapi.json`` gives
every error answer of a status this closed list as an ``enum``."""
SCHEMA_BREACHES = frozenset(
    {
        "invalid_request",
        "invalid_json",
        "invalid_header",
        "payload_too_large",
        "unsupported_media_type",
    }
)
"""The codes that mean "the request breaks its documented schema" (its body, a parameter,
a header, the body limit, the media type): a request valid by ``/openapi.json`` is never
answered with one of them (the contract test holds the API to that). The other codes are
refusals by meaning the document names: unknown keys, conflicts, rules that do not
compile, an id other than the path's, limits, unavailable dependencies."""
ALWAYS = (401, 403, 413, 422, 429)
"""What any route under /api/v1 may answer: every one needs a token, the body limit and the
rate limit run before routing, and any parameter can break its schema."""
_RETRY_AFTER = {"Retry-After": {"description": "seconds", "schema": {"type": "string"}}}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}}},
    429: _RETRY_AFTER,
    503: _RETRY_AFTER,
}


def _error_model(status: int) -> type[BaseModel]:
    code_type: Any = Literal[CODES[status]]  # a Literal of the status's codes
    detail = create_model(
        f"Error{status}Detail",
        __base__=ErrorDetail,
        code=(code_type, Field(description="a stable, machine-readable code")),
    )
    return create_model(
        f"Error{status}", __base__=ErrorOut, __doc__=ErrorOut.__doc__, error=(detail, ...)
    )


_ERROR_MODELS = {status: _error_model(status) for status in CODES}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: the error shape, with the codes of each status, under
    each of ``statuses`` and under :data:`ALWAYS` (422 also replaces FastAPI's default
    schema, which is not our shape)."""
    answers: dict[int | str, dict[str, Any]] = {}
    for status in sorted({*statuses, *ALWAYS}):
        answers[status] = {"model": _ERROR_MODELS[status], "description": _DESCRIPTIONS[status]}
        if status in _HEADERS:
            answers[status]["headers"] = _HEADERS[status]
    return answers


def _validation_problems(exc: RequestValidationError) -> list[dict[str, str]]:
    problems = []
    for err in exc.errors()[:MAX_PROBLEMS]:
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        problems.append({"path": ".".join(loc), "message": str(err.get("msg", "invalid"))})
    return problems


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(RegistryRefused)
    async def refused(_: Request, exc: RegistryRefused) -> JSONResponse:
        status = _REFUSAL_STATUS.get(exc.code, 400)
        return error_response(status, exc.code, exc.message, exc.details)

    @app.exception_handler(RegistryTimeout)
    async def timeout(_: Request, exc: RegistryTimeout) -> JSONResponse:
        return error_response(
            503, "registry_unavailable", str(exc), headers={"Retry-After": RETRY_AFTER_S}
        )

    @app.exception_handler(DependencyUnavailable)
    async def redis_down(_: Request, exc: DependencyUnavailable) -> JSONResponse:
        log.warning("Redis unavailable while serving a request: %s", exc)
        return error_response(
            503, "redis_unavailable", str(exc), headers={"Retry-After": RETRY_AFTER_S}
        )

    @app.exception_handler(KafkaError)
    async def kafka_down(_: Request, exc: KafkaError) -> JSONResponse:
        log.warning("Kafka error while serving a request: %r", exc)
        return error_response(
            503,
            "kafka_unavailable",
            f"Kafka refused or did not answer: {type(exc).__name__}",
            headers={"Retry-After": RETRY_AFTER_S},
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            err = next(e for e in errors if e.get("type") == "json_invalid")
            reason = (err.get("ctx") or {}).get("error", "syntax error")
            position = err.get("loc", ("body", 0))[-1]
            return error_response(
                400,
                "invalid_json",
                f"the body is not valid JSON: {reason} at position {position}",
                {"position": position},
            )
        if any(e.get("type") == "missing" and tuple(e.get("loc", ())) == ("body",) for e in errors):
            return error_response(422, "invalid_request", "a JSON body is required")
        problems = _validation_problems(exc)
        first = problems[0] if problems else {"path": "", "message": "invalid request"}
        message = f"{first['path']}: {first['message']}" if first["path"] else first["message"]
        return error_response(422, "invalid_request", message, problems)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = str(exc.detail)
        headers = dict(exc.headers or {})
        if exc.status_code == 400:
            message = "the body could not be parsed as JSON (syntax, size of a number or depth)"
        return error_response(exc.status_code, code, message, headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error in a request", exc_info=exc)
        return error_response(500, "internal", "internal error; see the API's log")
