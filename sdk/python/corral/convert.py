"""Arguments in, results out: JSON values to annotated Python types and back.

`convert(value, tp, where)` turns a decoded JSON value into the Python value
a parameter annotated `tp` expects (an `int` stays an `int`, an object
becomes the dataclass or model, a string the `Enum` member, a list a
`tuple` or `set`), checking it the way pydantic's lax mode does, and raises
`ArgumentError` naming the path of the first value that does not fit.
`to_jsonable(value)` is the way back, for structured content.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import math
import re
import types
import typing
from typing import Any

from corral.fields import FieldInfo
from corral.schema import field_of, record_fields, split_annotated

_NONE_TYPE = type(None)


class ArgumentError(ValueError):
    """A value does not fit its parameter's type (MCP: invalid params)."""


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _fail(where: str, wanted: str, value: Any) -> typing.NoReturn:
    raise ArgumentError(f"{where}: expected {wanted}, got {_describe(value)}")


def convert(value: Any, tp: Any, where: str) -> Any:
    """`value` (decoded JSON) as the Python value annotated `tp`."""
    base, metadata = split_annotated(tp)
    result = _convert_bare(value, base, where)
    info = field_of(metadata)
    if info is not None:
        _check_constraints(result, info, where)
    return result


def _convert_bare(value: Any, tp: Any, where: str) -> Any:
    if tp is Any or tp is object:
        return value
    if tp is None or tp is _NONE_TYPE:
        if value is not None:
            _fail(where, "null", value)
        return None
    if tp is bool:
        if not isinstance(value, bool):
            _fail(where, "a boolean", value)
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _fail(where, "an integer", value)
        if isinstance(value, float):
            if not value.is_integer():
                raise ArgumentError(f"{where}: expected an integer, got {value}")
            return int(value)
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _fail(where, "a number", value)
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            _fail(where, "a string", value)
        return value
    if tp is bytes:
        if not isinstance(value, str):
            _fail(where, "a string", value)
        return value.encode()
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Literal:
        for allowed in args:
            plain = allowed.value if isinstance(allowed, enum.Enum) else allowed
            if value == plain and type(value) is type(plain):
                return allowed
        raise ArgumentError(f"{where}: expected one of {[getattr(a, 'value', a) for a in args]!r}, got {value!r}")
    if origin in (typing.Union, types.UnionType):
        return _convert_union(value, args, where)
    if tp in (list, set, frozenset, tuple) or origin in (list, set, frozenset, tuple):
        return _convert_sequence(value, tp, origin, args, where)
    if tp is dict or origin is dict:
        if not isinstance(value, dict):
            _fail(where, "an object", value)
        if len(args) == 2:
            return {k: convert(v, args[1], f"{where}.{k}") for k, v in value.items()}
        return dict(value)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        for member in tp:
            if member.value == value:
                return member
        raise ArgumentError(f"{where}: expected one of {[m.value for m in tp]!r}, got {value!r}")
    if isinstance(tp, type) and (dataclasses.is_dataclass(tp) or hasattr(tp, "__corral_fields__")):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            _fail(where, f"an object ({tp.__name__})", value)
        return tp(**convert_record_fields(tp, value, where))
    if isinstance(tp, type) and typing.is_typeddict(tp):
        if not isinstance(value, dict):
            _fail(where, "an object", value)
        return convert_record_fields(tp, value, where)
    raise ArgumentError(f"{where}: the type {tp!r} is not supported")


def _convert_union(value: Any, args: tuple, where: str) -> Any:
    # Exact kinds first (an int stays an int in `int | float`), then lax.
    if value is None and _NONE_TYPE in args:
        return None
    errors = []
    for arg in sorted(args, key=lambda a: 0 if _exact(value, a) else 1):
        if arg is _NONE_TYPE:
            continue
        try:
            return convert(value, arg, where)
        except ArgumentError as e:
            errors.append(str(e))
    raise ArgumentError(errors[0] if len(errors) == 1 else f"{where}: fits none of the allowed types ({'; '.join(errors)})")


def _exact(value: Any, tp: Any) -> bool:
    base = split_annotated(tp)[0]
    return isinstance(base, type) and type(value) is base


def _convert_sequence(value: Any, tp: Any, origin: Any, args: tuple, where: str) -> Any:
    if not isinstance(value, list):
        _fail(where, "an array", value)
    kind = origin or tp
    if kind is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
        if len(value) != len(args):
            raise ArgumentError(f"{where}: expected {len(args)} items, got {len(value)}")
        return tuple(convert(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
    item = args[0] if args else Any
    items = [convert(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    return kind(items) if kind is not list else items


def convert_record_fields(tp: type, data: dict, where: str) -> dict:
    """The fields of record type `tp` from the object `data`, converted."""
    out = {}
    known = set()
    for name, hint, info, required, default in record_fields(tp):
        key = info.alias if info is not None and info.alias else name
        known.add(key)
        if key in data:
            out[name] = convert(data[key], hint, f"{where}.{key}")
        elif required:
            raise ArgumentError(f"{where}: missing required field '{key}'")
        elif not typing.is_typeddict(tp):
            out[name] = default
    return out


def convert_model_fields(model: type, data: dict) -> dict:
    """A `BaseModel`'s field values from keyword arguments (its `__init__`)."""
    unknown = sorted(set(data) - {
        (info.alias or name) for name, info in model.__corral_fields__.items()
    } - set(model.__corral_fields__))
    if unknown:
        raise ArgumentError(f"{model.__name__}: unexpected fields {unknown}")
    by_alias = dict(data)
    for name, info in model.__corral_fields__.items():
        if info.alias and name in by_alias and info.alias not in by_alias:
            by_alias[info.alias] = by_alias.pop(name)
    return convert_record_fields(model, {k: to_jsonable(v) if _is_object(v) else v for k, v in by_alias.items()}, model.__name__)


def _is_object(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type) or hasattr(type(value), "__corral_fields__")


def _check_constraints(value: Any, info: FieldInfo, where: str) -> None:
    c = info.constraints
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        checks = (("ge", lambda v, b: v >= b, ">="), ("le", lambda v, b: v <= b, "<="),
                  ("gt", lambda v, b: v > b, ">"), ("lt", lambda v, b: v < b, "<"))
        for key, ok, sign in checks:
            if key in c and not ok(value, c[key]):
                raise ArgumentError(f"{where}: must be {sign} {c[key]}, got {value}")
        if "multiple_of" in c and not math.isclose(value / c["multiple_of"], round(value / c["multiple_of"])):
            raise ArgumentError(f"{where}: must be a multiple of {c['multiple_of']}, got {value}")
    if isinstance(value, (str, list, tuple, set, frozenset, dict, bytes)):
        n = len(value)
        if "min_length" in info.lengths and n < info.lengths["min_length"]:
            raise ArgumentError(f"{where}: must have at least {info.lengths['min_length']} items/characters, got {n}")
        if "max_length" in info.lengths and n > info.lengths["max_length"]:
            raise ArgumentError(f"{where}: must have at most {info.lengths['max_length']} items/characters, got {n}")
    if isinstance(value, str) and "pattern" in c and re.search(c["pattern"], value) is None:
        raise ArgumentError(f"{where}: must match the pattern {c['pattern']!r}")


def to_jsonable(value: Any) -> Any:
    """`value` as plain JSON data: models and dataclasses as objects, enums
    as their values, tuples and sets as arrays, bytes as base64."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if hasattr(type(value), "__corral_fields__"):
        return to_jsonable(value.model_dump())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if hasattr(value, "model_dump"):  # a real pydantic model, outside the component
        return value.model_dump(mode="json")
    return str(value)
