"""`Field` and `BaseModel`: the part of pydantic's API that tool signatures use.

pydantic's core is a native extension with no WASI build, so the component
cannot carry pydantic itself. These two names cover what FastMCP signatures
use it for: constraints and descriptions on parameters
(`Annotated[int, Field(description=..., ge=1)]`) and plain data models as
arguments or results. `corral build` also makes them importable as
`pydantic` inside the component, so `from pydantic import BaseModel, Field`
works unchanged. Outside the component the real pydantic is used by FastMCP;
this module never shadows it there.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

_MISSING: Any = dataclasses.MISSING

#: `Field` keyword arguments and the JSON Schema keyword each becomes.
CONSTRAINTS = {
    "title": "title",
    "description": "description",
    "examples": "examples",
    "ge": "minimum",
    "le": "maximum",
    "gt": "exclusiveMinimum",
    "lt": "exclusiveMaximum",
    "multiple_of": "multipleOf",
    "pattern": "pattern",
    "json_schema_extra": None,
}
#: Length constraints: JSON Schema spells them per type.
LENGTHS = ("min_length", "max_length")


class FieldInfo:
    """What `Field(...)` returns: a default and schema constraints."""

    __slots__ = ("default", "default_factory", "alias", "constraints", "lengths")

    def __init__(self, default: Any, default_factory, alias, constraints, lengths):
        self.default = default
        self.default_factory = default_factory
        self.alias = alias
        self.constraints = constraints
        self.lengths = lengths

    def has_default(self) -> bool:
        return self.default is not _MISSING or self.default_factory is not None

    def get_default(self) -> Any:
        if self.default_factory is not None:
            return self.default_factory()
        return self.default

    def __repr__(self) -> str:
        return f"Field(default={self.default!r}, {self.constraints!r})"


def Field(  # noqa: N802 - pydantic's name
    default: Any = _MISSING,
    *,
    default_factory=None,
    alias: str | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    **kwargs: Any,
) -> Any:
    """pydantic's `Field`: a default and constraints for a parameter or model field.

    Supported: `default`, `default_factory`, `alias`, `title`, `description`,
    `examples`, `ge`, `le`, `gt`, `lt`, `multiple_of`, `pattern`,
    `min_length`, `max_length`, `json_schema_extra` (a dict). `...` as the
    default means required, as in pydantic.
    """
    unknown = sorted(set(kwargs) - set(CONSTRAINTS))
    if unknown:
        raise TypeError(f"Field() got unsupported arguments {unknown} (Corral's Field supports {sorted(CONSTRAINTS) + list(LENGTHS)})")
    if default is ...:
        default = _MISSING
    lengths = {k: v for k, v in (("min_length", min_length), ("max_length", max_length)) if v is not None}
    constraints = {k: v for k, v in kwargs.items() if v is not None}
    return FieldInfo(default, default_factory, alias, constraints, lengths)


class _ModelMeta(type):
    def __new__(mcs, name, bases, namespace, **kwargs):
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        fields: dict[str, FieldInfo] = {}
        for base in reversed(cls.__mro__[1:]):
            fields.update(getattr(base, "__corral_fields__", {}))
        for field_name in namespace.get("__annotations__", {}):
            if field_name.startswith("_"):
                continue
            value = namespace.get(field_name, _MISSING)
            if not isinstance(value, FieldInfo):
                value = FieldInfo(value, None, None, {}, {})
            fields[field_name] = value
            if field_name in namespace:
                delattr(cls, field_name)
        cls.__corral_fields__ = fields
        return cls


class BaseModel(metaclass=_ModelMeta):
    """A data model: typed fields with defaults, checked when built.

    The subset of pydantic's `BaseModel` that tools use: declare fields as
    annotations (with `Field(...)` for defaults and constraints), build with
    keyword arguments (values are converted to the annotated types, as
    pydantic does in lax mode), read them as attributes, `model_dump()` to a
    dict, `model_json_schema()` for the schema.
    """

    __corral_fields__: typing.ClassVar[dict[str, FieldInfo]] = {}

    def __init__(self, **data: Any) -> None:
        from corral.convert import convert_model_fields

        for name, value in convert_model_fields(type(self), data).items():
            object.__setattr__(self, name, value)

    @classmethod
    def model_validate(cls, data: Any):
        if isinstance(data, cls):
            return data
        if not isinstance(data, dict):
            raise TypeError(f"{cls.__name__} needs an object, got {type(data).__name__}")
        return cls(**data)

    def model_dump(self, mode: str = "python", **_: Any) -> dict:
        from corral.convert import to_jsonable

        values = {name: getattr(self, name) for name in type(self).__corral_fields__}
        return to_jsonable(values) if mode == "json" else values

    @classmethod
    def model_json_schema(cls) -> dict:
        from corral.schema import schema_of

        return schema_of(cls)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.model_dump() == other.model_dump()  # type: ignore[union-attr]

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v!r}" for k, v in self.model_dump().items())
        return f"{type(self).__name__}({body})"
