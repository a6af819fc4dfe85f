"""JSON Schemas from Python type hints, shaped as FastMCP (pydantic) writes them.

`schema_of(tp)` gives the schema of one type; `parameters_schema(fn)` the
input schema of a function's parameters; `output_schema(tp)` the output
schema of a return annotation (`None` when there is none), with primitives
wrapped under `result` and marked `x-fastmcp-wrap-result`, as FastMCP does.

Supported: `str`, `int`, `float`, `bool`, `bytes`, `None`, `Any`/`object`,
`list`/`set`/`frozenset`/`tuple` (fixed and variadic), `dict[str, X]`,
`Optional`/`Union`/`X | Y`, `Literal`, `Enum`, dataclasses, `TypedDict`,
`BaseModel` (Corral's, see `corral.fields`), and `Annotated[X, Field(...)]`
or `Annotated[X, "description"]`. Nested models are inlined (FastMCP
dereferences pydantic's `$defs` the same way); a recursive model is refused.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import types
import typing
from typing import Any

from corral.fields import CONSTRAINTS, FieldInfo

_NONE_TYPE = type(None)
_PRIMITIVES = {str: "string", int: "integer", float: "number", bool: "boolean"}


class SchemaError(TypeError):
    """A type hint Corral cannot describe as JSON Schema."""


def sort_keys(schema: dict) -> dict:
    """pydantic's key order: keywords sorted, `properties` in declaration order."""
    out = {}
    for key in sorted(schema):
        value = schema[key]
        if key in ("properties", "$defs"):
            value = {k: sort_keys(v) if isinstance(v, dict) else v for k, v in value.items()}
        elif isinstance(value, dict):
            value = sort_keys(value)
        elif isinstance(value, list):
            value = [sort_keys(v) if isinstance(v, dict) else v for v in value]
        out[key] = value
    return out


def hints(obj: Any) -> dict[str, Any]:
    """The resolved type hints of a function or class, `Annotated` kept."""
    try:
        return typing.get_type_hints(obj, include_extras=True)
    except Exception as e:  # an unresolvable forward reference
        raise SchemaError(f"cannot resolve the type hints of {getattr(obj, '__qualname__', obj)!r}: {e}") from e


def split_annotated(tp: Any) -> tuple[Any, list[Any]]:
    """`Annotated[X, a, b]` -> (X, [a, b]); anything else -> (tp, [])."""
    if typing.get_origin(tp) is typing.Annotated:
        return tp.__origin__, list(tp.__metadata__)
    return tp, []


def field_of(metadata: list[Any]) -> FieldInfo | None:
    for item in metadata:
        if isinstance(item, FieldInfo):
            return item
    return None


def apply_field(schema: dict, info: FieldInfo | None, metadata: list[Any]) -> dict:
    """Add a `Field`'s constraints (or a bare string description) to `schema`."""
    for item in metadata:
        if isinstance(item, str):
            schema.setdefault("description", item)
    if info is None:
        return schema
    for key, value in info.constraints.items():
        target = CONSTRAINTS[key]
        if target is None:  # json_schema_extra
            schema.update(value)
        else:
            schema[target] = value
    is_string = schema.get("type") == "string"
    for key, value in info.lengths.items():
        suffix = "Length" if is_string else ("Properties" if schema.get("type") == "object" else "Items")
        schema[("min" if key == "min_length" else "max") + suffix] = value
    return schema


def _literal_schema(values: tuple) -> dict:
    schema: dict[str, Any] = {"enum": [v.value if isinstance(v, enum.Enum) else v for v in values]}
    kinds = {type(v) for v in schema["enum"]}
    if len(kinds) == 1:
        kind = kinds.pop()
        if kind in _PRIMITIVES:
            schema["type"] = _PRIMITIVES[kind]
        elif kind is _NONE_TYPE:
            schema["type"] = "null"
    if len(values) == 1:
        schema["const"] = schema.pop("enum")[0]
    return schema


def schema_of(tp: Any, _seen: tuple = ()) -> dict:
    """The JSON Schema of the type `tp`."""
    base, metadata = split_annotated(tp)
    schema = _bare_schema(base, _seen)
    return sort_keys(apply_field(schema, field_of(metadata), metadata))


def _bare_schema(tp: Any, seen: tuple) -> dict:
    if tp is Any or tp is object or tp is inspect.Parameter.empty:
        return {}
    if tp is None or tp is _NONE_TYPE:
        return {"type": "null"}
    if tp in _PRIMITIVES:
        return {"type": _PRIMITIVES[tp]}
    if tp is bytes:
        return {"format": "binary", "type": "string"}
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Literal:
        return _literal_schema(args)
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [schema_of(arg, seen) for arg in args]}
    if tp in (list, set, frozenset, tuple) or origin in (list, set, frozenset):
        schema: dict[str, Any] = {"type": "array"}
        if args:
            schema["items"] = schema_of(args[0], seen)
        if origin in (set, frozenset) or tp in (set, frozenset):
            schema["uniqueItems"] = True
        return schema
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return {"items": schema_of(args[0], seen), "type": "array"}
        items = [schema_of(arg, seen) for arg in args]
        return {"maxItems": len(items), "minItems": len(items), "prefixItems": items, "type": "array"}
    if tp is dict or origin is dict:
        schema = {"additionalProperties": True, "type": "object"}
        if len(args) == 2:
            schema["additionalProperties"] = schema_of(args[1], seen)
        return schema
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _literal_schema(tuple(tp))
    if isinstance(tp, type) and _is_record(tp):
        if tp in seen:
            raise SchemaError(f"{tp.__name__} refers to itself: recursive models are not supported")
        return _record_schema(tp, seen + (tp,))
    raise SchemaError(f"cannot describe the type {tp!r} as JSON Schema (see corral.schema for the supported types)")


def _is_record(tp: type) -> bool:
    return dataclasses.is_dataclass(tp) or hasattr(tp, "__corral_fields__") or typing.is_typeddict(tp)


def record_fields(tp: type) -> list[tuple[str, Any, FieldInfo | None, bool, Any]]:
    """(name, type hint, Field info, required, default) for each field of a record type."""
    type_hints = hints(tp)
    out = []
    if dataclasses.is_dataclass(tp):
        for f in dataclasses.fields(tp):
            base, metadata = split_annotated(type_hints.get(f.name, Any))
            info = field_of(metadata)
            if f.default is not dataclasses.MISSING:
                default, required = f.default, False
            elif f.default_factory is not dataclasses.MISSING:
                default, required = f.default_factory(), False
            else:
                default, required = None, True
            out.append((f.name, type_hints.get(f.name, Any), info, required, default))
    elif hasattr(tp, "__corral_fields__"):
        for name, info in tp.__corral_fields__.items():
            required = not info.has_default()
            out.append((name, type_hints.get(name, Any), info, required, None if required else info.get_default()))
    else:  # TypedDict
        required_keys = getattr(tp, "__required_keys__", set(type_hints))
        for name, hint in type_hints.items():
            out.append((name, hint, field_of(split_annotated(hint)[1]), name in required_keys, None))
    return out


def _record_schema(tp: type, seen: tuple) -> dict:
    properties: dict[str, Any] = {}
    required = []
    for name, hint, info, is_required, default in record_fields(tp):
        key = info.alias if info is not None and info.alias else name
        prop = schema_of(hint, seen)
        if info is not None and info not in split_annotated(hint)[1]:
            prop = sort_keys(apply_field(prop, info, []))  # `x: int = Field(...)`
        if not is_required and not typing.is_typeddict(tp):
            prop = sort_keys({**prop, "default": jsonable_default(default)})
        properties[key] = prop
        if is_required:
            required.append(key)
    schema: dict[str, Any] = {"properties": properties, "type": "object"}
    if required:
        schema["required"] = required
    return schema


def jsonable_default(value: Any) -> Any:
    """A default value as it appears in a schema."""
    from corral.convert import to_jsonable

    return to_jsonable(value)


def output_schema(annotation: Any) -> dict | None:
    """The output schema of a return annotation, as FastMCP derives it.

    No annotation, `None`, and content types (`Image`, `Audio`) give none;
    objects (dict, dataclass, model, TypedDict) are used as they are; any
    other type is wrapped as `{"result": ...}` and marked
    `x-fastmcp-wrap-result` so that clients unwrap it.
    """
    from corral.content import is_content_type

    if annotation is inspect.Parameter.empty or annotation is None or annotation is _NONE_TYPE:
        return None
    if is_content_type(annotation):
        return None
    schema = schema_of(annotation)
    if schema.get("type") == "object":
        return schema
    return {
        "properties": {"result": schema},
        "required": ["result"],
        "type": "object",
        "x-fastmcp-wrap-result": True,
    }
