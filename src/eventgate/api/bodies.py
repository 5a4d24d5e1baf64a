"""Request bodies of the API (camelCase, pydantic), and what is refused before the
registry writer sees them.

- **Unknown fields are refused** (422 naming them): this is a configuration API, and a
  misspelt ``segmentaton: true`` silently ignored would be a setting the operator
  believes in. Only the camelCase names are accepted.
- Booleans and integers are strict: ``"true"`` or ``1.0`` are not coerced.
- Text may not hold lone UTF-16 surrogates (JSON allows ``"\\ud800"``; the registry's
  records are UTF-8 and could not carry it).
- Lists of keys are capped (:data:`MAX_KEYS`), so a registry request stays far below
  Kafka's record size limit whatever the body limit.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import SkipJsonSchema

from eventgate.registry.model import KEY_PATTERN, NAME_MAX, Category, WorkflowStatus
from eventgate.validation.rules import SIMPLE_TYPES

MAX_KEYS = 1000
ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,200}$"
"""Workflow and segment ids: 1-200 of letters, digits, ``_ . : -`` (URL-safe as they are)."""
REF_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,80}$"
"""Segment and contact-field ids of a launch condition: they become part of a type key."""


def _no_surrogates(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text holds a lone UTF-16 surrogate (not valid Unicode)") from None
    return text


NOT_BLANK = r"\S"
"""Names hold a character other than whitespace (the pattern ``/openapi.json`` states)."""
_NOT_BLANK = re.compile(NOT_BLANK)


def _not_blank(text: str) -> str:
    if not _NOT_BLANK.search(text):
        raise ValueError("must not be blank")
    return text


Text = Annotated[str, AfterValidator(_no_surrogates)]
Name = Annotated[
    Text,
    Field(min_length=1, max_length=NAME_MAX, pattern=NOT_BLANK),
    AfterValidator(_not_blank),
]
TypeKey = Annotated[
    str,
    Field(
        pattern=KEY_PATTERN.pattern,
        description="event-type key: 1-100 of letters, digits, _ . - (first a letter or digit)",
        examples=["purchase"],
    ),
]


class Body(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        extra="forbid",
        frozen=True,
    )


def _integral(value: Any) -> Any:
    """JSON Schema's ``integer`` is a number without a fractional part, so ``24.0`` is one;
    strings and booleans are still refused (the integers are strict otherwise)."""
    if type(value) is float and value.is_integer():
        return int(value)
    return value


Integer = Annotated[StrictInt, BeforeValidator(_integral)]


class VolumeFloorIn(Body):
    """Alert when fewer than ``events`` arrive in ``hours`` hours."""

    events: Integer = Field(ge=1, le=1_000_000_000)
    hours: Integer = Field(ge=1, le=24 * 366)


SIMPLE_RULE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "a parameter of the simple form: its name, whether it is required, and "
    "optionally its type; a name listed twice is 422 invalid_rules",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "required": {"type": "boolean"},
        "type": {"anyOf": [{"enum": sorted(SIMPLE_TYPES)}, {"type": "null"}]},
    },
    "required": ["name", "required"],
    "additionalProperties": False,
}


class ValidationIn(Body):
    """``{"enabled", "rules"}``: rules are the simple form ``[{name, required, type?}]``
    or a draft-07 JSON Schema for the params object (SPEC §4). Enabled validation needs
    rules (``[]``: no params allowed)."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"properties": {"enabled": {"const": False}}},
                {"required": ["rules"], "properties": {"rules": {"type": ["array", "object"]}}},
            ]
        }
    )

    enabled: StrictBool
    rules: Any = Field(
        None,
        description="simple form (a list) or a JSON Schema (an object; what it may hold is "
        "SPEC §4's: one that does not compile is 422 invalid_rules); null for none",
        json_schema_extra={
            "anyOf": [
                {"type": "array", "items": SIMPLE_RULE_SCHEMA},
                {"type": "object"},
                {"type": "null"},
            ]
        },
    )


class CreateTypeIn(Body):
    """``POST /event-types``."""

    key: TypeKey
    name: Name
    category: Category = Category.OTHER
    segmentation: StrictBool = False
    validation: ValidationIn = ValidationIn(enabled=False)
    volume_floor: VolumeFloorIn | None = None


class TypePatchIn(Body):
    """``PATCH /event-types/{key}``: only the fields present change; ``volumeFloor: null``
    removes the floor. The other fields may be absent but not null."""

    name: Name | SkipJsonSchema[None] = None
    category: Category | SkipJsonSchema[None] = None
    segmentation: StrictBool | SkipJsonSchema[None] = None
    volume_floor: VolumeFloorIn | None = None

    @field_validator("name", "category", "segmentation", mode="after")
    @classmethod
    def _present_means_a_value(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be left out but not null")
        return value


class SegmentConditionIn(Body):
    """Launch condition: a dynamic segment (type ``segment.{segmentId}``)."""

    segment_id: Annotated[str, Field(pattern=REF_ID_PATTERN)]
    segment_name: Name


class ContactFieldConditionIn(Body):
    """Launch condition: a change of a contact field (type ``contactField.{id}``)."""

    contact_field_id: Annotated[str, Field(pattern=REF_ID_PATTERN)]
    contact_field_name: Name


class WorkflowIn(Body):
    """``PUT /workflows/{id}``: the whole workflow (PUT replaces it)."""

    id: Annotated[str, Field(pattern=ID_PATTERN)] | None = Field(
        None,
        description="optional (null: left out); when given it must equal the id in the "
        "path, else 422 id_mismatch",
    )
    name: Name
    status: WorkflowStatus
    launch_on: list[TypeKey] = Field(default_factory=list, max_length=MAX_KEYS)
    stop_on: list[TypeKey] = Field(default_factory=list, max_length=MAX_KEYS)
    launch_condition: SegmentConditionIn | ContactFieldConditionIn | None = None


class SegmentIn(Body):
    """``PUT /segments/{id}``: the whole segment (PUT replaces it)."""

    id: Annotated[str, Field(pattern=ID_PATTERN)] | None = Field(
        None,
        description="optional (null: left out); when given it must equal the id in the "
        "path, else 422 id_mismatch",
    )
    name: Name
    event_type_keys: list[TypeKey] = Field(default_factory=list, max_length=MAX_KEYS)
