"""``/openapi.json``: FastAPI's document, with what it says of parameters made true to
the wire.

An optional query or header parameter is declared ``str | None`` in the code, and FastAPI
documents it as ``anyOf: [string, null]``. A parameter cannot be null on the wire: it is
absent, or a string. A client that takes the document at its word sends ``If-Match: null``
or ``?cursor=null``, which the API reads as the text ``null`` and refuses. The ``null``
branch is removed here, the remaining one keeps the parameter's pattern, bounds and
description.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

NULL = {"type": "null"}


def without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` of an optional parameter without its ``null`` branch."""
    branches = schema.get("anyOf")
    if not isinstance(branches, list) or NULL not in branches:
        return schema
    rest = [b for b in branches if b != NULL]
    out = {k: v for k, v in schema.items() if k != "anyOf"}
    if len(rest) == 1:
        return {**rest[0], **out}
    return {**out, "anyOf": rest}


def document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document (built once, then served from ``app.openapi_schema``)."""
    if app.openapi_schema is None:
        spec = get_openapi(
            title=app.title,
            version=app.version,
            openapi_version=app.openapi_version,
            description=app.description,
            routes=app.routes,
        )
        for operations in spec.get("paths", {}).values():
            for operation in operations.values():
                for parameter in operation.get("parameters", []):
                    if "schema" in parameter:
                        parameter["schema"] = without_null(parameter["schema"])
        app.openapi_schema = spec
    return app.openapi_schema
