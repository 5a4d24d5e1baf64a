"""Rules for each field of the ingest event (SPEC section 2), as pure functions.

Each ``check_*`` function takes the raw JSON value of one field (``None`` when the field
is absent or ``null``) and returns the clean value, or a ``FieldProblem`` naming the
reject reason. ``eventgate.ingest.decode`` runs them in order and documents the choices
made where SPEC is silent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from eventgate.ingest.reasons import RejectReason, Violation
from eventgate.ingest.rfc3339 import format_utc_ms, parse_rfc3339_ms

__all__ = [
    "CONTACT_FALLBACK_NAMES",
    "KEY_PATTERN",
    "MAX_EVENT_ID_CHARS",
    "MAX_KEY_VALUE_CHARS",
    "MAX_VIOLATIONS",
    "FieldProblem",
    "check_event_id",
    "check_key",
    "check_occurred_at",
    "check_params",
    "describe",
    "resolve_contact",
    "snippet",
]

KEY_PATTERN: Final = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\Z")
"""An event type key (SPEC section 3). ``\\A``/``\\Z`` rather than ``^``/``$``: ``$``
also matches before a trailing newline, so ``"buy\\n"`` would pass ``match``. Any of
``match``, ``fullmatch`` and ``search`` is therefore safe with this pattern."""

MAX_KEY_VALUE_CHARS: Final = 300
MAX_EVENT_ID_CHARS: Final = 128
MAX_VIOLATIONS: Final = 100
"""Violations listed per rejection at most, so a dead letter stays bounded."""

CONTACT_FALLBACK_NAMES: Final = ("contactId", "externalCustomerId", "email", "phone", "pushToken")
"""Where the contact comes from when ``keyValue`` is absent, in priority order."""
_FALLBACK_RANK: Final = {name.lower(): rank for rank, name in enumerate(CONTACT_FALLBACK_NAMES)}
_FALLBACK_LENGTHS: Final = frozenset(len(name) for name in CONTACT_FALLBACK_NAMES)

_valid_keys: set[str] = set()
"""Keys that matched KEY_PATTERN: a set lookup is ~5x cheaper than the regex. Bounded."""
_VALID_KEYS_CAP: Final = 8192


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """Why a field makes the record a rejection."""

    reason: RejectReason
    message: str
    violations: tuple[Violation, ...] = ()


def snippet(text: str, limit: int = 64) -> str:
    """``text`` quoted and escaped on one line, cut to ``limit`` characters."""
    if len(text) > limit:
        return repr(text[:limit]) + f"... ({len(text)} chars)"
    return repr(text)


def describe(value: object) -> str:
    """What a JSON value is, for messages: ``"a number"``, ``"an empty string"``..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        if not value:
            return "an empty string"
        if value.isspace():
            return "a blank string"
        return f"a string of {len(value)} characters"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def _identifier(value: object, max_chars: int) -> str | None:
    """``value`` as an identifier (a non-blank string of at most ``max_chars`` characters,
    or an integer as its decimal string), else ``None``."""
    kind = type(value)
    if kind is str:
        text: str = value  # type: ignore[assignment]
        if 0 < len(text) <= max_chars and not text.isspace():
            return text
        return None
    if kind is int:  # bool is a subclass of int, but type() is bool for it
        return str(value)
    return None


def check_key(value: object) -> str | FieldProblem:
    """``eventTypeKey``: required, a string matching ``KEY_PATTERN``."""
    if value is None or value == "":
        return FieldProblem(
            RejectReason.MISSING_KEY,
            "eventTypeKey is missing" if value is None else "eventTypeKey is empty",
            (Violation("eventTypeKey", "required"),),
        )
    if type(value) is str:
        if value in _valid_keys:
            return value
        if KEY_PATTERN.match(value) is not None:
            if len(_valid_keys) >= _VALID_KEYS_CAP:
                _valid_keys.clear()
            _valid_keys.add(value)
            return value
        detail = f"eventTypeKey {snippet(value)} does not match {KEY_PATTERN.pattern}"
    else:
        detail = f"eventTypeKey must be a string, got {describe(value)}"
    return FieldProblem(RejectReason.INVALID_KEY, detail, (Violation("eventTypeKey", detail),))


def check_params(value: object) -> dict[str, Any] | FieldProblem:
    """``params``: absent -> ``{}``; an object as is (the parser already kept the last of a
    repeated name); the list form ``[{"name": n, "value": v}]`` turned into an object."""
    if value is None:
        return {}
    if type(value) is dict:
        params: dict[str, Any] = value
        if "" in params:
            return _params_problem([Violation("params", "a param name is empty")])
        return params
    if type(value) is list:
        return _params_from_list(value)
    message = f"params must be an object or a list of {{name, value}}, got {describe(value)}"
    return FieldProblem(RejectReason.INVALID_PARAMS, message, (Violation("params", message),))


def _params_problem(violations: list[Violation]) -> FieldProblem:
    first = violations[0]
    more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
    return FieldProblem(
        RejectReason.INVALID_PARAMS,
        f"invalid params: {first.path}: {first.message}{more}",
        tuple(violations[:MAX_VIOLATIONS]),
    )


def _params_from_list(items: list[Any]) -> dict[str, Any] | FieldProblem:
    params: dict[str, Any] = {}
    bad: list[Violation] = []
    repeats: list[int] = []
    for index, item in enumerate(items):
        if type(item) is dict:
            name = item.get("name")
            if type(name) is str and name and "value" in item:
                if name in params:
                    repeats.append(index)
                else:
                    params[name] = item["value"]
                continue
        bad.append(_list_item_violation(index, item))
    if bad:
        return _params_problem(bad)
    if repeats:
        return _duplicates_problem(items, repeats)
    return params


def _list_item_violation(index: int, item: object) -> Violation:
    path = f"params[{index}]"
    if type(item) is not dict:
        return Violation(path, f"expected an object {{name, value}}, got {describe(item)}")
    name = item.get("name")
    if type(name) is not str or not name:
        return Violation(f"{path}.name", f"expected a non-empty string, got {describe(name)}")
    return Violation(f"{path}.value", "missing")


def _duplicates_problem(items: list[Any], repeats: list[int]) -> FieldProblem:
    first_at: dict[str, int] = {}
    for index, item in enumerate(items):
        first_at.setdefault(item["name"], index)
    violations = []
    names: list[str] = []
    for index in repeats:
        name = items[index]["name"]
        violations.append(
            Violation(
                f"params[{index}].name", f"param {snippet(name)} repeats params[{first_at[name]}]"
            )
        )
        if snippet(name) not in names:
            names.append(snippet(name))
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    return FieldProblem(
        RejectReason.DUPLICATE_PARAM,
        f"params list repeats the name {', '.join(names[:5])}{more}",
        tuple(violations[:MAX_VIOLATIONS]),
    )


def resolve_contact(key_value: object, params: dict[str, Any]) -> str | FieldProblem:
    """The contact: ``keyValue`` when present, else the first fallback param found."""
    if key_value is not None:
        contact = _identifier(key_value, MAX_KEY_VALUE_CHARS)
        if contact is not None:
            return contact
        return _contact_problem("keyValue", key_value)
    best_rank = len(CONTACT_FALLBACK_NAMES)
    best_name = ""
    for name in params:
        if len(name) in _FALLBACK_LENGTHS and name.isascii():
            rank = _FALLBACK_RANK.get(name.lower())
            if rank is not None and rank < best_rank and params[name] is not None:
                best_rank, best_name = rank, name
                if rank == 0:
                    break
    if not best_name:
        names = ", ".join(CONTACT_FALLBACK_NAMES)
        return FieldProblem(
            RejectReason.MISSING_CONTACT,
            f"no contact: keyValue is absent and params has none of {names}",
            (Violation("keyValue", "required when params has no contact identifier"),),
        )
    value = params[best_name]
    contact = _identifier(value, MAX_KEY_VALUE_CHARS)
    if contact is not None:
        return contact
    return _contact_problem(f"params.{best_name}", value)


def _contact_problem(path: str, value: object) -> FieldProblem:
    detail = (
        f"expected a non-blank string of at most {MAX_KEY_VALUE_CHARS} characters"
        f" or an integer, got {describe(value)}"
    )
    return FieldProblem(
        RejectReason.INVALID_CONTACT,
        f"invalid contact in {path}: {detail}",
        (Violation(path, detail),),
    )


def check_event_id(value: object) -> str | FieldProblem | None:
    """``eventId``: absent -> ``None`` (the caller derives one); else an identifier of at
    most 128 characters."""
    if value is None:
        return None
    event_id = _identifier(value, MAX_EVENT_ID_CHARS)
    if event_id is not None:
        return event_id
    detail = (
        f"expected a non-blank string of at most {MAX_EVENT_ID_CHARS} characters"
        f" or an integer, got {describe(value)}"
    )
    return FieldProblem(
        RejectReason.INVALID_EVENT_ID, f"invalid eventId: {detail}", (Violation("eventId", detail),)
    )


def check_occurred_at(value: object) -> tuple[int, str] | FieldProblem | None:
    """``occurredAt``: absent -> ``None`` (the caller uses the record timestamp); else an
    RFC 3339 time with offset, as (epoch ms, normalised UTC text)."""
    if value is None:
        return None
    if type(value) is str:
        ms = parse_rfc3339_ms(value)
        if ms is not None:
            return ms, format_utc_ms(ms)
        detail = f"{snippet(value)} is not an RFC 3339 time with offset (e.g. 2026-11-26T21:50:53Z)"
    else:
        detail = f"expected an RFC 3339 time string, got {describe(value)}"
    return FieldProblem(
        RejectReason.INVALID_OCCURRED_AT,
        f"invalid occurredAt: {detail}",
        (Violation("occurredAt", detail),),
    )
