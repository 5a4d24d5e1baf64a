"""``POST /events``'s body split into the exact bytes of each event, none of them decoded.

The body is ``{"events": [e0, e1, …]}``. Each ``e`` goes to the ingest decode
(:func:`eventgate.ingest.decode.decode`) as the very bytes the producer sent, as if it had
been published to Kafka, and the same bytes are what is written to ingest. So the HTTP
path gives each item the answer and reason code the Kafka path gives the same record
(an integer beyond 64 bits or ``NaN`` is ``invalid_number``, a lone surrogate escape
``invalid_json``, bad UTF-8 ``invalid_utf8``, 40 nested arrays ``too_deep``), and nothing
a producer sends is changed on its way: a parser and an encoder in between would turn
``1e400`` into ``inf`` and then ``null``, ``-0`` into ``0``, and fail on what they cannot
write back.

Only the envelope is parsed here: its whitespace, the object, its member names (JSON
strings, read with the standard parser), the ``events`` array and the commas between
elements. Inside an element only strings and brackets are followed, to find where it
ends, without recursion (any depth costs a list, never the stack). What cannot be split
that way (an unterminated string, brackets that do not pair, an empty element, bytes
after the object) is not a JSON body: :class:`BodyError` with its byte position, a 400.
A well-formed envelope of the wrong shape (no ``events``, not an array, other members,
more than ``max_items``) is :class:`ShapeError`, a 422 like every other body's.
"""

from __future__ import annotations

import json
import re
from typing import Final

_WS: Final = re.compile(rb"[ \t\n\r]*")
_STRING: Final = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
# A whole string, a lone '"' (an unterminated string), or a bracket or comma; the bytes
# between them are skipped by the regex engine.
_TOKENS: Final = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|"|[\[\]{},]', re.S)
_CLOSER: Final = {ord("]"): ord("["), ord("}"): ord("{")}
_OPEN: Final = frozenset(b"[{")
FIELD: Final = "events"


class BodyError(ValueError):
    """The body is not JSON that can be split into events (400 ``invalid_json``)."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at byte {position}")
        self.position = position


class ShapeError(ValueError):
    """The body is JSON but not ``{"events": [1..max_items elements]}`` (422)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


def split_events(body: bytes, max_items: int) -> list[bytes]:
    """The exact bytes of each element of ``body``'s ``events`` array, in order (JSON
    whitespace around an element left out). A repeated ``events`` member: the last wins,
    as in the ingest decode."""
    position = _skip_ws(body, 0)
    if position == len(body):
        raise ShapeError("", "a JSON body is required")
    if body[position] != ord("{"):
        try:
            json.loads(body)
        except json.JSONDecodeError as exc:
            raise BodyError(exc.msg, exc.pos) from None
        except (ValueError, RecursionError):  # bad UTF-8, a 5,000-digit number, depth
            raise BodyError("not a JSON value", position) from None
        raise ShapeError("", 'the body must be a JSON object {"events": [...]}')
    events: list[bytes] | None = None
    not_array = False
    unknown: list[str] = []
    position = _skip_ws(body, position + 1)
    if body[position : position + 1] == b"}":
        position += 1
    else:
        while True:
            name, position = _member_name(body, position)
            position = _expect(body, _skip_ws(body, position), b":", "':' after a member name")
            position = _skip_ws(body, position)
            if name == FIELD and body[position : position + 1] == b"[":
                events, position = _array(body, position + 1, max_items)
                not_array = False
            else:
                end = _element_end(body, position)
                if end == position:
                    raise BodyError("a value is missing", position)
                if name == FIELD:
                    events, not_array = None, True
                else:
                    unknown.append(name)
                position = end
            position = _skip_ws(body, position)
            if body[position : position + 1] == b",":
                position = _skip_ws(body, position + 1)
                continue
            position = _expect(body, position, b"}", "',' or '}' in the object")
            break
    if _skip_ws(body, position) != len(body):
        raise BodyError("unexpected data after the JSON object", _skip_ws(body, position))
    if unknown:
        raise ShapeError(_printable(unknown[0]), "Extra inputs are not permitted")
    if not_array:
        raise ShapeError(FIELD, "Input should be a valid list")
    if events is None:
        raise ShapeError(FIELD, "Field required")
    if not events:
        raise ShapeError(FIELD, "List should have at least 1 item after validation, not 0")
    return events


def _skip_ws(body: bytes, position: int) -> int:
    match = _WS.match(body, position)
    return match.end() if match else position


def _expect(body: bytes, position: int, token: bytes, what: str) -> int:
    if body[position : position + 1] != token:
        raise BodyError(f"expected {what}", position)
    return position + 1


def _member_name(body: bytes, position: int) -> tuple[str, int]:
    match = _STRING.match(body, position)
    if match is None:
        raise BodyError("expected a member name (a JSON string)", position)
    try:
        name = json.loads(match.group())
    except (ValueError, UnicodeDecodeError):
        raise BodyError("a member name is not a valid JSON string", position) from None
    return str(name), match.end()


def _array(body: bytes, position: int, max_items: int) -> tuple[list[bytes], int]:
    """The elements of the array whose ``[`` was just before ``position``, and the
    position after its ``]``."""
    items: list[bytes] = []
    position = _skip_ws(body, position)
    if body[position : position + 1] == b"]":
        return items, position + 1
    while True:
        start = _skip_ws(body, position)
        end = _element_end(body, start)
        if end == start:
            raise BodyError("an array element is missing", start)
        if len(items) == max_items:
            raise ShapeError(FIELD, f"List should have at most {max_items} items after validation")
        items.append(body[start:end].rstrip(b" \t\n\r"))
        position = _skip_ws(body, end)
        if body[position : position + 1] == b",":
            position += 1
            continue
        return items, _expect(body, position, b"]", "',' or ']' in the array")


def _element_end(body: bytes, position: int) -> int:
    """Where the element starting at ``position`` ends: the first ``,``, ``]`` or ``}``
    outside its own strings and brackets (or the end of the body when its brackets are
    all closed)."""
    stack: list[int] = []
    for token in _TOKENS.finditer(body, position):
        byte = body[token.start()]
        if byte == 0x22:  # '"'
            if token.end() - token.start() == 1:
                raise BodyError("unterminated string", token.start())
        elif byte in _OPEN:
            stack.append(byte)
        elif byte == 0x2C:  # ','
            if not stack:
                return token.start()
        elif not stack:
            return token.start()
        elif stack.pop() != _CLOSER[byte]:
            raise BodyError(f"'{chr(byte)}' does not close the bracket it meets", token.start())
    if stack:
        raise BodyError("the body ends inside an element", len(body))
    return len(body)


def _printable(name: str) -> str:
    """A member name for an error message: escaped (a lone surrogate must not reach the
    JSON answer unescaped) and cut to 64 characters."""
    text = json.dumps(name)[1:-1]
    return text if len(text) <= 64 else text[:64] + "…"
