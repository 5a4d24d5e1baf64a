"""The request/reply messages of the registry writer (``registry.requests`` /
``registry.replies``): pydantic models, camelCase on the wire, discriminated by ``op``.

Every request carries a ``requestId`` chosen by the requester; the writer answers each
with exactly one :class:`Reply` carrying the same id (a retried id gets the first
answer again). Unknown fields are ignored, so requesters and writer can be upgraded in
any order.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

from eventgate.errors import RegistryRefused
from eventgate.registry.model import NAME_MAX, Category, WorkflowStatus

ID_MAX = 200


def new_request_id() -> str:
    return uuid.uuid4().hex


class Message(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="ignore"
    )


class ValidationBody(Message):
    enabled: bool = False
    rules: Any = None


class VolumeFloorBody(Message):
    events: int = Field(ge=1)
    hours: int = Field(ge=1, le=24 * 366)


class SegmentCondition(Message):
    segment_id: str = Field(min_length=1, max_length=80)
    segment_name: str = Field(max_length=NAME_MAX)


class ContactFieldCondition(Message):
    contact_field_id: str = Field(min_length=1, max_length=80)
    contact_field_name: str = Field(max_length=NAME_MAX)


class _Request(Message):
    request_id: str = Field(default_factory=new_request_id, min_length=1, max_length=ID_MAX)


class EnsureTypes(_Request):
    """Auto-register the unknown, well-formed keys among ``keys`` (one poll's worth)."""

    op: Literal["ensure_types"] = "ensure_types"
    keys: tuple[str, ...] = Field(max_length=10_000)
    seen_at_ms: int


class CreateType(_Request):
    op: Literal["create_type"] = "create_type"
    key: str
    name: str = Field(min_length=1, max_length=NAME_MAX)
    category: Category = Category.OTHER
    segmentation: bool = False
    validation: ValidationBody = ValidationBody()
    volume_floor: VolumeFloorBody | None = None


class TypePatch(Message):
    """PATCH body: only the fields present change; ``volumeFloor: null`` clears it."""

    name: str | None = Field(None, min_length=1, max_length=NAME_MAX)
    category: Category | None = None
    segmentation: bool | None = None
    volume_floor: VolumeFloorBody | None = None


class UpdateType(_Request):
    op: Literal["update_type"] = "update_type"
    key: str
    patch: TypePatch
    if_match_version: int | None = None


class SetValidation(_Request):
    op: Literal["set_validation"] = "set_validation"
    key: str
    enabled: bool
    rules: Any = None
    if_match_version: int | None = None


class DeleteType(_Request):
    op: Literal["delete_type"] = "delete_type"
    key: str
    if_match_version: int | None = None


class MergeStructure(_Request):
    op: Literal["merge_structure"] = "merge_structure"
    key: str
    additions: Any


class Touch(_Request):
    """Record activity: ``seen`` maps keys to their latest event time (ms)."""

    op: Literal["touch"] = "touch"
    seen: dict[str, int] = Field(max_length=10_000)


class WorkflowBody(Message):
    id: str = Field(min_length=1, max_length=ID_MAX)
    name: str = Field("", max_length=NAME_MAX)
    status: WorkflowStatus
    launch_on: tuple[str, ...] = ()
    stop_on: tuple[str, ...] = ()
    launch_condition: SegmentCondition | ContactFieldCondition | None = None


class PutWorkflow(_Request):
    op: Literal["put_workflow"] = "put_workflow"
    workflow: WorkflowBody


class DeleteWorkflow(_Request):
    op: Literal["delete_workflow"] = "delete_workflow"
    id: str


class SegmentBody(Message):
    id: str = Field(min_length=1, max_length=ID_MAX)
    name: str = Field("", max_length=NAME_MAX)
    event_type_keys: tuple[str, ...] = ()


class PutSegment(_Request):
    op: Literal["put_segment"] = "put_segment"
    segment: SegmentBody


class DeleteSegment(_Request):
    op: Literal["delete_segment"] = "delete_segment"
    id: str


Request = Annotated[
    EnsureTypes
    | CreateType
    | UpdateType
    | SetValidation
    | DeleteType
    | MergeStructure
    | Touch
    | PutWorkflow
    | DeleteWorkflow
    | PutSegment
    | DeleteSegment,
    Field(discriminator="op"),
]
_REQUEST: TypeAdapter[Request] = TypeAdapter(Request)


def encode_request(request: Request) -> bytes:
    # exclude_unset keeps a PATCH's "absent" apart from "null"; ``op`` always goes.
    body = request.model_dump(mode="json", by_alias=True, exclude_unset=True)
    body["op"] = request.op
    body["requestId"] = request.request_id
    return orjson.dumps(body)


class BadRequest(Exception):
    """A request the writer cannot read; ``request_id`` is set when it could be found."""

    def __init__(self, message: str, request_id: str | None, details: Any = None) -> None:
        super().__init__(message)
        self.request_id = request_id
        self.details = details


def decode_request(value: bytes | None) -> Request:
    """Parse a request; raises :class:`BadRequest` (with the id if one was readable)."""
    try:
        body = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        raise BadRequest("request is not JSON", None) from None
    if not isinstance(body, dict):
        raise BadRequest("request is not an object", None)
    rid = body.get("requestId")
    request_id = rid if isinstance(rid, str) and 0 < len(rid) <= ID_MAX else None
    try:
        return _REQUEST.validate_python(body)
    except ValidationError as exc:
        details = [
            {"path": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in exc.errors()[:20]
        ]
        raise BadRequest("request does not match its schema", request_id, details) from None


class ReplyCode(StrEnum):
    OK = "ok"
    CONFLICT = "conflict"
    NOT_FOUND = "not_found"
    PRECONDITION_FAILED = "precondition_failed"
    INVALID = "invalid"
    LIMIT = "limit"


class Reply(Message):
    """The writer's answer. ``registry_offset``: the registry offset the answer depends
    on (its own last record, or the writer's position when it wrote none); a requester
    waits until its reader has applied it, so it reads its own write."""

    request_id: str
    code: ReplyCode
    message: str = ""
    details: Any = None
    result: dict[str, Any] = Field(default_factory=dict)
    registry_offset: int = -1

    @property
    def ok(self) -> bool:
        return self.code is ReplyCode.OK

    def raise_for_code(self) -> Reply:
        """Return self when ``ok``, else raise :class:`eventgate.errors.RegistryRefused`."""
        if not self.ok:
            raise RegistryRefused(self.code.value, self.message, self.details)
        return self


def encode_reply(reply: Reply) -> bytes:
    return orjson.dumps(reply.model_dump(mode="json", by_alias=True))


def decode_reply(value: bytes | None) -> Reply | None:
    """Parse a reply; ``None`` for anything unreadable (counted by the caller)."""
    try:
        return Reply.model_validate_json(value or b"")
    except ValidationError:
        return None
