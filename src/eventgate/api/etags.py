"""ETags of event types: the type's ``version`` as a strong entity tag, ``"7"``.

``If-Match`` (RFC 9110 §13.1.1) on PATCH, PUT and DELETE of a type:

- absent: no precondition (SPEC §3 lets clients write without one);
- ``*``: the type must exist (it must anyway), so no version check;
- one or more strong tags: the write goes through only at one of those versions. The
  writer checks the version atomically; with several tags, the one equal to this
  process's view is sent (the process reads its own writes, so a client that read the
  type here sees at least that version), and none equal means 412 at once;
- weak tags (``W/"7"``) never match (If-Match uses the strong comparison); a bare number
  (``7``) is accepted as a convenience for hand-written requests;
- anything unreadable: 400 ``invalid_header``.

``If-None-Match`` on GET answers 304 when the client's copy is current.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from eventgate.api.problems import ApiError

MAX_HEADER = 1024
TAGS_PATTERN = r'^\s*(?:\*|[0-9]{1,18}|(?:W/)?"[^"]*"(?:\s*,\s*(?:W/)?"[^"]*")*\s*,?)\s*$'
"""The grammar of an ``If-Match``/``If-None-Match`` read here: ``*``, a bare version, or
entity tags separated by commas (a trailing comma is tolerated). ``/openapi.json`` states it
as the headers' pattern; a header that breaks it is 400 ``invalid_header``."""
_TAGS = re.compile(TAGS_PATTERN)
_TAG = re.compile(r'(W/)?"([^"]*)"')
_BARE = re.compile(r"\s*([0-9]{1,18})\s*")


def etag(version: int) -> str:
    return f'"{version}"'


@dataclass(frozen=True, slots=True)
class Tags:
    """A parsed ``If-Match``/``If-None-Match``: ``any`` for ``*``, else the versions the
    tags name (``None`` for a non-numeric tag: it matches nothing) and whether each is
    weak."""

    any: bool
    tags: tuple[tuple[int | None, bool], ...]

    def versions(self, *, weak_ok: bool) -> list[int]:
        return [v for v, weak in self.tags if v is not None and (weak_ok or not weak)]


def parse_tags(header: str, name: str) -> Tags:
    if len(header) > MAX_HEADER:
        raise ApiError(400, "invalid_header", f"{name} is longer than {MAX_HEADER} characters")
    if not _TAGS.fullmatch(header):
        raise ApiError(
            400,
            "invalid_header",
            f'{name} must be * or entity tags such as "3"',
            {"header": name},
        )
    if header.strip() == "*":
        return Tags(True, ())
    bare = _BARE.fullmatch(header)
    if bare:
        return Tags(False, ((int(bare.group(1)), False),))
    tags: list[tuple[int | None, bool]] = []
    for match in _TAG.finditer(header):
        value = match.group(2)
        number = int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None
        tags.append((number, match.group(1) is not None))
    return Tags(False, tuple(tags))


def if_match_version(header: str | None, current: int | None, key: str) -> int | None:
    """The version to send as ``ifMatchVersion`` for ``If-Match: header``; ``None`` for
    no check. ``current`` is this process's version of the type (``None``: not known
    here yet, the writer decides). Raises 412 when no tag can match."""
    if header is None:
        return None
    tags = parse_tags(header, "If-Match")
    if tags.any:
        return None
    strong = tags.versions(weak_ok=False)
    if current is not None and current in strong:
        return current
    if strong and (current is None or (len(strong) == 1 and strong[0] > current)):
        return strong[0]  # this process may lag the writer: let the writer decide
    raise ApiError(
        412,
        "precondition_failed",
        f"event type {key!r} is at version {current}, not {header.strip()}",
        {"key": key, "version": current},
    )


def none_match(header: str | None, current: int) -> bool:
    """True when ``If-None-Match: header`` matches ``current`` (answer 304)."""
    if header is None:
        return False
    tags = parse_tags(header, "If-None-Match")
    return tags.any or current in tags.versions(weak_ok=True)
