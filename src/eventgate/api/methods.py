"""The methods of a resource, for ``OPTIONS`` and ``405`` answers (RFC 9110 §9.3.7 and
§15.5.6: both name them in ``Allow``).

The console's static files are mounted at ``/``, so for a method no API route serves,
Starlette's router fell through to them: a 405 without ``Allow`` (or a 404 for ``HEAD``),
and ``OPTIONS`` was one of those 405s; it picks the first route of a path anyway, and a
path here has several (``GET``, ``PATCH`` and ``DELETE /event-types/{key}``). The methods
come from the app's own OpenAPI document (itself generated from the routes), so ``Allow``
names exactly the documented operations of the path, plus ``OPTIONS``. ``OPTIONS`` needs
no token (it tells no more than ``/openapi.json``, and a browser's CORS preflight carries
none); it is rate-limited like every request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from eventgate.api.problems import error_response

API_PREFIX = "/api/"
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


class MethodTable:
    """Path templates of an OpenAPI document and the methods documented for each."""

    def __init__(self, paths: Mapping[str, Mapping[str, Any]]) -> None:
        self._paths = [
            (_template(path), frozenset(m.upper() for m in operations if m in HTTP_METHODS))
            for path, operations in paths.items()
        ]

    def allowed(self, path: str) -> list[str]:
        """The methods served at ``path``, sorted, with ``OPTIONS``; empty when none is."""
        methods: set[str] = set()
        for pattern, documented in self._paths:
            if pattern.fullmatch(path):
                methods |= documented
        return sorted(methods | {"OPTIONS"}) if methods else []


def _template(path: str) -> re.Pattern[str]:
    """``/a/{key}/b`` as a regex: a parameter is one non-empty path segment."""
    parts = re.split(r"\{[^}]+\}", path)
    return re.compile("[^/]+".join(re.escape(part) for part in parts))


class Methods:
    """Before routing: ``OPTIONS`` on a documented path is 204 with its ``Allow``; another
    method the path does not serve is 405 with ``Allow``; a path under ``/api/`` that no
    operation has is 404. Everything else passes on. ``table`` is called per request (the
    app builds its document once, on first use)."""

    def __init__(self, app: ASGIApp, table: Callable[[], MethodTable]) -> None:
        self.app = app
        self.table = table

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope.get("path", ""), scope.get("method", "")
        if scope["type"] != "http" or not path.startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        allowed = self.table().allowed(path)
        response: Response
        if not allowed:
            response = error_response(404, "not_found", "Not Found")
        elif method == "OPTIONS":
            response = Response(status_code=204, headers={"Allow": ", ".join(allowed)})
        elif method not in allowed:
            response = error_response(
                405,
                "method_not_allowed",
                f"{method} is not a method of this resource",
                {"allow": allowed},
                headers={"Allow": ", ".join(allowed)},
            )
        else:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)


def method_table(app: Any) -> MethodTable:
    """The table of a FastAPI ``app``, built from ``app.openapi()`` once and kept."""
    table: MethodTable | None = getattr(app.state, "method_table", None)
    if table is None:
        table = MethodTable(app.openapi().get("paths", {}))
        app.state.method_table = table
    return table
