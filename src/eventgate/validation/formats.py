"""RE2-backed regular expressions and the ``format`` checkers validation rules may use.

Everything here runs in linear time: regular expressions are google-re2, never Python's
backtracking ``re``. fastjsonschema's own format checks are Python ``re`` patterns (some
with look-arounds RE2 cannot run), so they are never used: every supported format is
passed to fastjsonschema as a custom format (which overrides its built-in one), and
``format`` values outside :data:`FORMAT_CHECKERS` are refused when rules compile.

The checks are deliberately pragmatic (RFC 3339 dates and times, dotted IPv4, RFC 4291
IPv6 without zone, LDH hostnames, "something@domain.tld" e-mail, absolute URIs without
white space, RFC 6901 pointers, RE2-compilable regexes).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable
from typing import Any

import re2

# google-re2 prints every parse error on stderr unless told not to. Patterns only answer
# "does it match", so no capture groups: RE2 can then run its DFA.
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False
_OPTIONS.never_capture = True
_NO_MATCH = (-1, -1)
_ANCHOR: Any = getattr(getattr(getattr(re2, "_re2", None), "RE2", None), "Anchor", None)
_UNANCHORED: Any = getattr(_ANCHOR, "UNANCHORED", None)


class RegexSyntaxError(ValueError):
    """RE2 cannot compile a pattern (unsupported syntax such as look-arounds or
    back-references, or a program too large for RE2's memory budget)."""


class Re2Pattern:
    """A compiled RE2 pattern with the ``.search`` that fastjsonschema's generated code
    calls (``REGEX_PATTERNS[p].search(value)``), returning a bool, safe on any ``str``.

    Semantics are ECMA-262-like, as JSON Schema wants: ``$`` is the end of the text (not
    "before a final newline" as in Python), ``\\d`` and ``\\w`` are ASCII.

    google-re2's ``search`` builds a match object and maps byte offsets back to
    characters in Python (~10 µs a call here); a yes/no answer needs neither, so this
    calls the compiled ``RE2.Match`` the wrapper itself uses (~1 µs), falling back to the
    public ``search`` should a future google-re2 drop that attribute.
    """

    __slots__ = ("_compiled", "_match", "pattern")

    def __init__(self, pattern: str) -> None:
        try:
            self._compiled: Any = re2.compile(pattern, _OPTIONS)
        except re2.error as exc:
            raise RegexSyntaxError(_re2_reason(exc)) from None
        except UnicodeEncodeError:
            raise RegexSyntaxError("the pattern is not valid Unicode") from None
        self.pattern = pattern
        regexp = getattr(self._compiled, "_regexp", None)
        self._match: Any = getattr(regexp, "Match", None) if _UNANCHORED is not None else None

    def search(self, text: str) -> bool:
        try:
            data = text.encode()
        except UnicodeEncodeError:
            # A lone surrogate cannot be UTF-8 encoded for RE2; match on U+FFFD instead.
            data = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace").encode()
        if self._match is not None:
            return bool(self._match(_UNANCHORED, data, 0, len(data))[0] != _NO_MATCH)
        return self._compiled.search(data.decode()) is not None


def _re2_reason(exc: Exception) -> str:
    reason = exc.args[0] if exc.args else str(exc)
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", "replace")
    return str(reason)


_DATE = Re2Pattern(r"^(\d{4})-(\d{2})-(\d{2})$")
_TIME = Re2Pattern(
    r"^([01]\d|2[0-3]):([0-5]\d):([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$"
)
_EMAIL = Re2Pattern(r"^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$")
_HOST_LABEL = Re2Pattern(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_URI = Re2Pattern(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$")
_URI_REFERENCE = Re2Pattern(r"^[^\s]*$")
_JSON_POINTER = Re2Pattern(r"^(/([^~/]|~[01])*)*$")


def _is_date(value: str) -> bool:
    if not _DATE.search(value):
        return False
    try:
        dt.date(int(value[0:4]), int(value[5:7]), int(value[8:10]))
    except ValueError:
        return False
    return True


def _is_time(value: str) -> bool:
    return _TIME.search(value)


def _is_date_time(value: str) -> bool:
    return len(value) > 11 and value[10] in "Tt" and _is_date(value[:10]) and _is_time(value[11:])


def _is_email(value: str) -> bool:
    return _EMAIL.search(value)


def _is_hostname(value: str) -> bool:
    name = value[:-1] if value.endswith(".") else value
    if not name or len(name) > 253:
        return False
    return all(_HOST_LABEL.search(label) for label in name.split("."))


def _is_ipv4(value: str) -> bool:
    if not value.isascii():
        return False
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def _is_ipv6(value: str) -> bool:
    if not value.isascii() or "%" in value:
        return False
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


def _is_uri(value: str) -> bool:
    return _URI.search(value)


def _is_uri_reference(value: str) -> bool:
    return _URI_REFERENCE.search(value)


def _is_json_pointer(value: str) -> bool:
    return _JSON_POINTER.search(value)


def _is_regex(value: str) -> bool:
    try:
        Re2Pattern(value)
    except RegexSyntaxError:
        return False
    return True


FORMAT_CHECKERS: dict[str, Callable[[str], bool]] = {
    "date": _is_date,
    "date-time": _is_date_time,
    "time": _is_time,
    "email": _is_email,
    "hostname": _is_hostname,
    "ipv4": _is_ipv4,
    "ipv6": _is_ipv6,
    "uri": _is_uri,
    "uri-reference": _is_uri_reference,
    "json-pointer": _is_json_pointer,
    "regex": _is_regex,
}
"""Supported ``format`` values; fastjsonschema calls them only on strings."""
