"""docs/api.md agrees with ``/openapi.json``: its endpoint table lists exactly the
documented operations with their success status, and its error table exactly the codes
each status carries in the document (``problems.CODES``), so the page cannot drift into
a second truth."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from eventgate.api.app import create_app
from eventgate.api.problems import CODES
from eventgate.registry.service import Registry
from eventgate.settings import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
ENDPOINT_ROW = re.compile(
    r"^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \| [^|]+ \| (.*) \|$", re.M
)
SUCCESS = re.compile(r"\b([23]\d\d)\b")
ERROR_ROW = re.compile(r"^\| (\d{3}) \| `([a-z_]+)` \|", re.M)
NOT_PER_OPERATION = {(405, "method_not_allowed")}  # answered before routing (methods.py)


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    settings = Settings(admin_tokens=("t",))
    return create_app(settings, Registry(settings, is_writer_candidate=False)).openapi()


def test_the_endpoint_table_is_the_documents_operations(spec: dict[str, Any]) -> None:
    """The row's success statuses (2xx and 304) are the operation's."""
    documented = {
        (method.upper(), path.removeprefix("/api/v1")): {s for s in op["responses"] if s < "4"}
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
    }
    table = {
        (method, path): set(SUCCESS.findall(cell))
        for method, path, cell in ENDPOINT_ROW.findall(DOC.read_text())
    }
    assert table == documented


def test_the_error_table_is_the_documents_codes() -> None:
    table = {(int(status), code) for status, code in ERROR_ROW.findall(DOC.read_text())}
    codes = {(status, code) for status, all_codes in CODES.items() for code in all_codes}
    assert table == codes | NOT_PER_OPERATION
