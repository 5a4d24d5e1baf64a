"""Schemathesis checks of eventgate's contract, beyond the built-in ones (loaded through
``SCHEMATHESIS_HOOKS`` by ``tests/integration/test_api_contract.py`` and ``make contract``).

``no_undeclared_refusal``: a request valid by ``/openapi.json`` is never refused for a
reason the document does not state. Every error answer carries a code from the closed
list of its status (the response schemas enforce that); of those codes, the ones below
mean "the request breaks its documented schema"
(``eventgate.api.problems.SCHEMA_BREACHES``): answering one of them to a request that
Schemathesis generated as valid (positive mode) shows a constraint the document leaves
out. Refusals by meaning stay allowed (404 for an unknown key, 409, 412, ``invalid_rules``
for a JSON Schema that does not compile, ``id_mismatch``, 429, 503): the document names
them, with their codes, and no schema can hold them.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from schemathesis import Case, CheckContext, Response

from eventgate.api.problems import SCHEMA_BREACHES


def _error_code(response: Response) -> str | None:
    try:
        body: Any = json.loads(response.content)
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


@schemathesis.check
def no_undeclared_refusal(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    del ctx
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code < 400:
        return None
    code = _error_code(response)
    if code in SCHEMA_BREACHES:
        raise AssertionError(
            f"a request valid by the document was refused: {response.status_code} {code}: "
            f"{response.content[:300]!r}. Either /openapi.json states the constraint "
            "(pattern, maxLength, format, enum, minimum…) or the API accepts the request."
        )
    return None
