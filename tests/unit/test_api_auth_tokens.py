"""Token comparison (SPEC §10) leaks nothing through timing: every presented token is
compared with ``hmac.compare_digest`` against every configured token, match or not,
with no early exit."""

from __future__ import annotations

import hmac
from collections.abc import Iterator

import pytest

from eventgate.api.auth import Scope, TokenTable
from eventgate.settings import Settings

CONFIGURED = {
    "read_tokens": ("r-1", "r-2"),
    "admin_tokens": ("a-1",),
    "engine_tokens": ("e-1", "e-2"),
    "producer_tokens": ("p-1",),
}
ALL = [t for tokens in CONFIGURED.values() for t in tokens]


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[bytes, bytes]]]:
    """Every (given, known) pair handed to ``hmac.compare_digest``, in order."""
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def counting(given: bytes, known: bytes) -> bool:
        calls.append((given, known))
        return real(given, known)

    monkeypatch.setattr(hmac, "compare_digest", counting)  # auth looks it up at each call
    yield calls


@pytest.mark.parametrize("token", [*ALL, "nope", "", "r-1x", "a-"])
def test_every_configured_token_is_compared_whatever_the_answer(
    compared: list[tuple[bytes, bytes]], token: str
) -> None:
    table = TokenTable(Settings(**CONFIGURED))  # type: ignore[arg-type]
    table.scopes_of(token)
    assert sorted(known for _, known in compared) == sorted(t.encode() for t in ALL)
    assert all(given == token.encode() for given, _ in compared)


def test_the_first_configured_token_still_costs_every_comparison(
    compared: list[tuple[bytes, bytes]],
) -> None:
    table = TokenTable(Settings(**CONFIGURED))  # type: ignore[arg-type]
    assert table.scopes_of(ALL[0]) == {Scope.READ}
    assert len(compared) == len(ALL)


def test_scopes_are_found_by_comparison_only() -> None:
    table = TokenTable(Settings(**CONFIGURED))  # type: ignore[arg-type]
    assert table.scopes_of("a-1") == {Scope.ADMIN}
    assert table.scopes_of("e-2") == {Scope.ENGINE}
    assert table.scopes_of("p-1") == {Scope.PRODUCER}
    assert table.scopes_of("r-1\udcff") == set()  # undecodable bytes: no crash, no match
    both = TokenTable(Settings(read_tokens=("same",), engine_tokens=("same",)))
    assert both.scopes_of("same") == {Scope.READ, Scope.ENGINE}
