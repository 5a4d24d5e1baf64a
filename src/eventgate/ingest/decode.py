"""Decode: raw ingest records in, decoded events or rejections out. Pure, no I/O.

``decode(record)`` turns one Kafka record of ``{prefix}ingest`` into an ``Event`` (a
structurally valid event, SPEC section 2) or a ``Rejection`` carrying one reason code of
the closed list in ``reasons.py``, a one-line message and, where useful, violations. It
never raises on any record value. ``decode_batch`` does the same for a poll.

Checks, in order (the first failing one decides the reason):

1. value ``None`` (a tombstone) or empty -> ``invalid_json`` (there is no JSON text at
   all; ``not_object`` is kept for JSON that parses to something else);
2. ``len(value) > max_bytes`` -> ``too_large``, before any parsing;
3. parse with orjson. Only when that fails is the cause looked for: bad UTF-8 ->
   ``invalid_utf8``; ``NaN``/``Infinity``/``-Infinity`` or a number that overflows a
   double (``1e400``) -> ``invalid_number``; nesting beyond the parser's own limit ->
   ``too_deep``; anything else -> ``invalid_json`` with the parser's message and
   line/column. A leading UTF-8 byte order mark is ignored (RFC 8259 section 8.1 allows
   parsers to), so BOM-writing producers are not rejected;
4. not an object -> ``not_object``;
5. more than 32 containers open at once (the top-level object counts as 1) ->
   ``too_deep``. The walk only runs when the raw bytes hold more than 32 ``{``/``[``;
6. an integer literal outside [-2**63, 2**64-1] -> ``invalid_number``: orjson would turn
   it into a lossy float (an id like 123456789012345678901234 would change silently) and
   no encoder downstream could write it back exactly. The check only runs when the raw
   bytes hold a run of 19+ digits;
7. ``eventTypeKey``: absent, ``null`` or ``""`` -> ``missing_key``; not a string or not
   matching ``KEY_PATTERN`` -> ``invalid_key``;
8. ``params``: absent/``null`` -> ``{}``; an object is used as parsed (a repeated name:
   the last wins); the list form ``[{"name": n, "value": v}]`` needs every item to be an
   object with a non-empty string ``name`` and a ``value`` (``null`` allowed; other item
   keys are ignored) -> else ``invalid_params`` with every bad item as a violation; a
   name repeated in the list -> ``duplicate_param``, one violation per repeat
   (``params[3].name``). An empty param name is ``invalid_params`` in both forms.
   Anything else -> ``invalid_params``;
9. contact: ``keyValue`` if present, else the first of ``contactId``,
   ``externalCustomerId``, ``email``, ``phone``, ``pushToken`` in params, in that priority
   order, names compared ASCII-case-insensitively (among several spellings of the same
   name, the first in params order). The value must be a non-blank string of at most 300
   characters (Python ``len``, i.e. code points) or an integer, taken as its decimal
   string (CRM ids are often numeric); floats, booleans, objects, arrays, ``""`` and
   all-whitespace strings -> ``invalid_contact``. Nothing found -> ``missing_contact``.
   Values are kept exactly (no trimming, no case folding);
10. ``eventId``: absent -> derived from topic/partition/offset (``explicit_id`` False);
    else the same identifier rule with at most 128 characters -> else
    ``invalid_event_id``;
11. ``occurredAt``: absent -> the record timestamp; else an RFC 3339 string with offset
    (see ``rfc3339.py``: fractions truncated to ms, years 0001-9999) -> else
    ``invalid_occurred_at``; epoch numbers are refused (seconds or milliseconds would be
    a guess). Record timestamps are clamped into 0001..9999 so ``occurred_at`` can
    always be written (Kafka's "no timestamp", -1, stays 1969-12-31T23:59:59.999Z).

General choices: a top-level field whose value is ``null`` counts as absent (so
``eventTypeKey: null`` is ``missing_key``, ``params: null`` is ``{}``, a ``null``
fallback param is skipped); unknown top-level fields are ignored (forward compatibility);
a repeated top-level name: the last wins. The header ``eventgate-replay-of`` (the last
one if repeated; UTF-8, bad bytes replaced; an empty value counts as absent) becomes
``Event.replay_of``. ``Rejection.event_type_key`` is set whenever the record is a JSON
object whose key is well-formed, even when a later check rejects it (so per-type
rejected counters see it); for ``invalid_number`` the key is read with the bad numbers
let through. Records that are not UTF-8, not JSON, too large or too deep for the parser
carry no key. Messages quote user text escaped and cut to 64 characters;
at most 100 violations are listed.

Speed: ``.venv/bin/python bench/decode_micro.py`` builds 100k realistic ~260-byte events
and times ``decode_batch``. Measured on this 2-core machine (Python 3.11.7, orjson 3.13,
load average ~2.5 from parallel work, so treat as a floor):

- common shape (explicit keyValue and eventId, object params, no occurredAt, 257 B):
  ~140,000-150,000 events/s in one 100k call; ~190,000 events/s in polls of 500 whose
  results are dropped (the worker's pattern); ~4.8 us per event on one hot record;
- a mix (a quarter each: common, contact from params, list-form params, occurredAt with
  offset; 275 B): ~105,000 events/s in one call, ~135,000 in polls of 500.

Where the time goes (common shape): orjson.loads ~0.7 us, the two raw-byte pre-checks
(depth, long digit runs) ~0.6 us, building the frozen Event ~1.0 us, writing occurred_at
~0.4 us, the field rules ~0.5 us. CPython's cyclic GC adds ~25 % when many parsed
documents stay alive (one 100k call vs the same with gc disabled); ``gc.freeze()`` after
start-up and a larger generation-0 threshold are the worker's business, not this module's.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from typing import Any, Final, NamedTuple, NoReturn, Protocol

import orjson

from eventgate.ingest.fields import (
    KEY_PATTERN,
    FieldProblem,
    check_event_id,
    check_key,
    check_occurred_at,
    check_params,
    resolve_contact,
    snippet,
)
from eventgate.ingest.reasons import RejectReason, Violation
from eventgate.ingest.rfc3339 import clamp_ms, format_utc_ms

__all__ = [
    "DEFAULT_MAX_BYTES",
    "KEY_PATTERN",
    "MAX_DEPTH",
    "REPLAY_HEADER",
    "Event",
    "IngestRecord",
    "RawRecord",
    "Rejection",
    "decode",
    "decode_batch",
    "derive_event_id",
]

DEFAULT_MAX_BYTES: Final = 65536
MAX_DEPTH: Final = 32
REPLAY_HEADER: Final = "eventgate-replay-of"

_INT_MIN: Final = -(2**63)
_INT_MAX: Final = 2**64 - 1
_DIGITS_AS_ZERO: Final = bytes.maketrans(b"0123456789", b"0000000000")
_LONG_DIGIT_RUN: Final = b"0" * 19  # the shortest literal that can leave the int range
_MAX_DERIVED_ID_CHARS: Final = 128
_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError

# The records of the hot path (``RawRecord``, ``Event``, ``Rejection``, and downstream
# ``Decision``, ``BatchEntry``, ``OutputRecord``) are NamedTuples: immutable like frozen
# dataclasses, but built in ~0.3 µs instead of ~1.1 µs (a frozen dataclass sets each field
# through ``object.__setattr__``); with four of them per event that was ~3 µs of ~24.


class IngestRecord(Protocol):
    """One consumed Kafka record: aiokafka's ``ConsumerRecord`` as the consumer hands it
    over (not copied: a copy per record was ~5 % of a worker's CPU), or a ``RawRecord``."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def timestamp(self) -> int: ...  # epoch milliseconds
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


class RawRecord(NamedTuple):
    """An ``IngestRecord`` built by hand (the HTTP ingest path, tests, benchmarks)."""

    topic: str
    partition: int
    offset: int
    timestamp: int  # epoch milliseconds
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]] = ()


class Event(NamedTuple):
    """A structurally valid ingest event (not yet validated against its type's rules)."""

    event_type_key: str
    key_value: str
    params: dict[str, Any]
    event_id: str
    explicit_id: bool
    occurred_at_ms: int
    occurred_at: str
    replay_of: str | None
    record: IngestRecord


class Rejection(NamedTuple):
    """A record that is not a valid event, bound for ``{prefix}rejected``."""

    reason: RejectReason
    message: str
    violations: tuple[Violation, ...]
    event_type_key: str | None
    record: IngestRecord


def derive_event_id(topic: str, partition: int, offset: int) -> str:
    """The event id of a record without ``eventId``: ``{topic}/{partition}/{offset}``.

    Kafka topic names cannot hold ``/``, so the form is unambiguous. A replay carries this
    id as an explicit ``eventId``, which may hold 128 characters: for a topic name long
    enough to break that, the topic is replaced by ``~`` and a 32-hex-digit BLAKE2b
    digest of it, still deterministic."""
    derived = f"{topic}/{partition}/{offset}"
    if len(derived) <= _MAX_DERIVED_ID_CHARS:
        return derived
    digest = hashlib.blake2b(topic.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    return f"~{digest}/{partition}/{offset}"


def decode(record: IngestRecord, max_bytes: int = DEFAULT_MAX_BYTES) -> Event | Rejection:
    """Decode one ingest record; never raises (see the module docstring for the rules)."""
    value = record.value
    if not value:
        what = "has no value (a tombstone)" if value is None else "value is empty"
        return Rejection(
            RejectReason.INVALID_JSON,
            f"record {what}, expected a JSON object",
            (),
            None,
            record,
        )
    if len(value) > max_bytes:
        message = f"record value is {len(value)} bytes, over the {max_bytes}-byte limit"
        return Rejection(RejectReason.TOO_LARGE, message, (), None, record)
    try:
        doc = _loads(value)
    except _JSONDecodeError as exc:
        parsed = _parse_after_error(value, exc)
        if isinstance(parsed, FieldProblem):
            number = parsed.reason is RejectReason.INVALID_NUMBER
            return _reject(parsed, _lenient_key(value) if number else None, record)
        doc = parsed
    if type(doc) is not dict:
        kind = "an array" if type(doc) is list else "a JSON scalar"
        message = f"record value is {kind}, expected a JSON object"
        return Rejection(RejectReason.NOT_OBJECT, message, (), None, record)

    key = check_key(doc.get("eventTypeKey"))
    known_key = None if isinstance(key, FieldProblem) else key
    if value.count(b"{") + value.count(b"[") > MAX_DEPTH and _deeper_than_max(doc):
        return _reject(_too_deep_problem(doc), known_key, record)
    if _LONG_DIGIT_RUN in value.translate(_DIGITS_AS_ZERO):
        problem = _out_of_range_integer(value)
        if problem is not None:
            return _reject(problem, known_key, record)
    if isinstance(key, FieldProblem):
        return _reject(key, None, record)

    params = check_params(doc.get("params"))
    if isinstance(params, FieldProblem):
        return _reject(params, key, record)
    contact = resolve_contact(doc.get("keyValue"), params)
    if isinstance(contact, FieldProblem):
        return _reject(contact, key, record)
    event_id = check_event_id(doc.get("eventId"))
    explicit = event_id is not None
    if event_id is None:
        event_id = derive_event_id(record.topic, record.partition, record.offset)
    elif isinstance(event_id, FieldProblem):
        return _reject(event_id, key, record)
    occurred = check_occurred_at(doc.get("occurredAt"))
    if occurred is None:
        occurred_ms = clamp_ms(record.timestamp)
        occurred_at = format_utc_ms(occurred_ms)
    elif isinstance(occurred, FieldProblem):
        return _reject(occurred, key, record)
    else:
        occurred_ms, occurred_at = occurred

    replay_of = None
    if record.headers:
        for name, header_value in record.headers:
            if name == REPLAY_HEADER:
                replay_of = header_value.decode("utf-8", "replace") if header_value else None
    return Event(
        key, contact, params, event_id, explicit, occurred_ms, occurred_at, replay_of, record
    )


def decode_batch(
    records: Sequence[IngestRecord], max_bytes: int = DEFAULT_MAX_BYTES
) -> list[Event | Rejection]:
    """``decode`` over a poll, results in record order."""
    return [decode(record, max_bytes) for record in records]


def _reject(problem: FieldProblem, key: str | None, record: IngestRecord) -> Rejection:
    return Rejection(problem.reason, problem.message, problem.violations, key, record)


# ---- the slow paths: only records that are not a plain valid event come here ----------


class _BadNumber(Exception):
    def __init__(self, literal: str, why: str) -> None:
        super().__init__(literal)
        self.literal = literal
        self.why = why


def _refuse_constant(literal: str) -> NoReturn:
    raise _BadNumber(literal, "is not a number JSON allows")


def _checked_int(literal: str) -> int:
    if len(literal) > 21:  # also keeps int() clear of Python's 4300-digit limit
        raise _BadNumber(literal, "is outside the 64-bit integer range")
    number = int(literal)
    if number < _INT_MIN or number > _INT_MAX:
        raise _BadNumber(literal, "is outside the 64-bit integer range")
    return number


def _checked_float(literal: str) -> float:
    number = float(literal)
    if math.isinf(number):
        raise _BadNumber(literal, "overflows a double")
    return number


def _number_problem(err: _BadNumber) -> FieldProblem:
    message = f"number {snippet(err.literal, 32)} {err.why}"
    return FieldProblem(RejectReason.INVALID_NUMBER, message, (Violation("", message),))


def _parse_after_error(value: bytes, exc: orjson.JSONDecodeError) -> Any | FieldProblem:
    """Why orjson refused ``value`` - or the parsed document, for a BOM-prefixed one."""
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as err:
        return FieldProblem(
            RejectReason.INVALID_UTF8,
            f"record value is not valid UTF-8 (byte {err.start}: {err.reason})",
        )
    if text.startswith("\ufeff"):
        try:
            return _loads(value[3:])
        except _JSONDecodeError as again:
            exc, text = again, text[1:]
    if "depth" in exc.msg or "recursion" in exc.msg:
        return FieldProblem(
            RejectReason.TOO_DEEP, f"record value nests deeper than {MAX_DEPTH} levels"
        )
    # Ask the standard parser, with hooks, what orjson's plain message does not say.
    try:
        json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_int=_checked_int,
            parse_float=_checked_float,
        )
    except _BadNumber as err:
        return _number_problem(err)
    except RecursionError:
        return FieldProblem(
            RejectReason.TOO_DEEP, f"record value nests deeper than {MAX_DEPTH} levels"
        )
    except ValueError:  # json.JSONDecodeError is one: orjson's message says it as well
        pass
    return FieldProblem(
        RejectReason.INVALID_JSON,
        f"record value is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
    )


def _lenient_int(literal: str) -> int:
    return 0 if len(literal) > 21 else int(literal)


def _lenient_key(value: bytes) -> str | None:
    """The well-formed ``eventTypeKey`` of a record refused only for a bad number, read with
    the bad numbers let through, so the rejection still counts for its type."""
    text = value.decode("utf-8", "replace").removeprefix("\ufeff")
    try:
        doc = json.loads(text, parse_constant=float, parse_int=_lenient_int)
    except (ValueError, RecursionError):
        return None
    if type(doc) is not dict:
        return None
    key = check_key(doc.get("eventTypeKey"))
    return None if isinstance(key, FieldProblem) else key


def _out_of_range_integer(value: bytes) -> FieldProblem | None:
    """An integer literal orjson would have turned into a float, if ``value`` holds one."""
    text = value.decode("utf-8", "replace").removeprefix("\ufeff")
    try:
        json.loads(text, parse_int=_checked_int)
    except _BadNumber as err:
        return _number_problem(err)
    except (ValueError, RecursionError):  # orjson parsed it: not expected, and not a number
        return None
    return None


def _deeper_than_max(doc: dict[str, Any]) -> bool:
    """Whether more than MAX_DEPTH containers nest, ``doc`` being level 1. Level by level,
    without recursion or paths."""
    level: list[Any] = [doc]
    depth = 1
    while level:
        if depth > MAX_DEPTH:
            return True
        below: list[Any] = []
        for node in level:
            for child in node.values() if type(node) is dict else node:
                kind = type(child)
                if kind is dict or kind is list:
                    below.append(child)
        level = below
        depth += 1
    return False


def _too_deep_problem(doc: dict[str, Any]) -> FieldProblem:
    """The too_deep rejection, naming the path of the first container past the limit."""
    path = ""
    stack: list[tuple[Any, str, int]] = [(doc, "", 1)]
    while stack:
        node, node_path, depth = stack.pop()
        if depth > MAX_DEPTH:
            path = node_path
            break
        if type(node) is dict:
            children = [(f"{node_path}.{k}" if node_path else k, v) for k, v in node.items()]
        else:
            children = [(f"{node_path}[{i}]", v) for i, v in enumerate(node)]
        for child_path, child in reversed(children):
            if type(child) is dict or type(child) is list:
                stack.append((child, child_path, depth + 1))
    if len(path) > 200:
        path = path[:200] + "..."
    message = f"record value nests deeper than {MAX_DEPTH} levels at {path or 'the top'}"
    return FieldProblem(RejectReason.TOO_DEEP, message, (Violation(path, message),))
