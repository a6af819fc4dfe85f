"""A registered function: its parameters, schema, and how to call it.

Shared by tools, resource templates and prompts: the signature is read once
(when the module is imported, which `corral build` does at build time, so
the schemas are part of the component's snapshot), and each call converts
the incoming values to the annotated types, fills in a `Context`, and runs
the function, `async def` included, to completion.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from typing import Any, Callable

from corral import docstrings
from corral.context import Context, is_context_type
from corral.convert import ArgumentError, convert
from corral.fields import FieldInfo
from corral.schema import (
    SchemaError,
    apply_field,
    field_of,
    hints,
    jsonable_default,
    schema_of,
    sort_keys,
    split_annotated,
)


@dataclasses.dataclass
class Param:
    name: str
    hint: Any
    required: bool
    default: Any
    info: FieldInfo | None


@dataclasses.dataclass
class Signature:
    """What the SDK knows about a registered function."""

    fn: Callable
    params: list[Param]
    context: str | None  # the name of the `Context` parameter, if any
    description: str | None
    param_docs: dict[str, str]
    returns: Any

    @classmethod
    def of(cls, fn: Callable, what: str, exclude: set[str] = frozenset()) -> Signature:
        if not callable(fn):
            raise TypeError(f"{what}: {fn!r} is not a function")
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError) as e:
            raise TypeError(f"{what}: cannot read the signature of {fn!r}: {e}") from None
        type_hints = hints(fn)
        description, param_docs = docstrings.parse(inspect.getdoc(fn))
        params = []
        context = None
        for p in sig.parameters.values():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise SchemaError(f"{what}: *args and **kwargs are not supported (parameter '{p.name}')")
            hint = type_hints.get(p.name, Any)
            if is_context_type(split_annotated(hint)[0]):
                context = p.name
                continue
            if p.name in exclude:
                if p.default is p.empty:
                    raise SchemaError(f"{what}: excluded parameter '{p.name}' needs a default")
                continue
            info = field_of(split_annotated(hint)[1])
            default = p.default
            if isinstance(default, FieldInfo):
                info = default
                default = inspect.Parameter.empty
            if default is p.empty and info is not None and info.has_default():
                default = info.get_default()
            params.append(Param(p.name, hint, default is p.empty, None if default is p.empty else default, info))
        returns = type_hints.get("return", inspect.Parameter.empty)
        return cls(fn, params, context, description, param_docs, returns)

    def property_schema(self, p: Param) -> dict:
        schema = schema_of(p.hint)
        if p.info is not None and p.info not in split_annotated(p.hint)[1]:
            # `x: int = Field(3, ge=1)`: the Field is the default, not in the hint.
            schema = sort_keys(apply_field(dict(schema), p.info, []))
        if not p.required:
            schema = sort_keys({**schema, "default": jsonable_default(p.default)})
        if "description" not in schema and p.name in self.param_docs:
            schema["description"] = self.param_docs[p.name]
        return schema

    def input_schema(self) -> dict:
        """The arguments as one JSON Schema object, FastMCP's shape."""
        schema: dict[str, Any] = {
            "type": "object",
            "additionalProperties": False,
            "properties": {p.name: self.property_schema(p) for p in self.params},
        }
        required = [p.name for p in self.params if p.required]
        if required:
            schema["required"] = required
        return schema

    def bind(self, values: dict[str, Any], where: str) -> dict[str, Any]:
        """Keyword arguments from decoded JSON `values`."""
        known = {p.name for p in self.params}
        unexpected = sorted(set(values) - known)
        if unexpected:
            raise ArgumentError(f"{where}: unexpected argument{'s' if len(unexpected) > 1 else ''} {', '.join(repr(u) for u in unexpected)}")
        kwargs = {}
        for p in self.params:
            if p.name in values:
                kwargs[p.name] = convert(values[p.name], p.hint, p.name)
            elif p.required:
                raise ArgumentError(f"missing required argument '{p.name}'")
        return kwargs

    def bind_strings(self, values: dict[str, str], where: str) -> dict[str, Any]:
        """Keyword arguments from string values (prompt arguments, URI
        template variables): a `str` parameter takes the text as it is, any
        other type is read as JSON first, as FastMCP does."""
        decoded: dict[str, Any] = {}
        for name, text in values.items():
            param = next((p for p in self.params if p.name == name), None)
            if param is None or _takes_text(param.hint):
                decoded[name] = text
                continue
            try:
                decoded[name] = json.loads(text)
            except ValueError:
                decoded[name] = text
        try:
            return self.bind(decoded, where)
        except ArgumentError as e:
            raise ArgumentError(f"{where}: {e}") from None

    def call(self, kwargs: dict[str, Any], context: Context) -> Any:
        if self.context is not None:
            kwargs = {**kwargs, self.context: context}
        return run_to_completion(self.fn(**kwargs))


def _takes_text(hint: Any) -> bool:
    base = split_annotated(hint)[0]
    return base is str or base is Any or base is inspect.Parameter.empty


def run_to_completion(result: Any) -> Any:
    """The value of `result`, running it first if it is a coroutine.

    There is no event loop in a component: a coroutine runs until it
    returns; awaiting something that needs a loop (a timer, a socket) is an
    error that says so."""
    if not inspect.iscoroutine(result):
        return result
    try:
        while True:
            yielded = result.send(None)
            if yielded is not None:
                result.close()
                raise RuntimeError(f"the handler awaited {type(yielded).__name__}, {_NO_LOOP}")
    except StopIteration as done:
        return done.value
    except RuntimeError as e:
        if "event loop" in str(e) and _NO_LOOP not in str(e):
            raise RuntimeError(f"the handler asked for an event loop ({e}), {_NO_LOOP}") from None
        raise


_NO_LOOP = (
    "which needs an event loop; a Corral plugin's async handler may await other "
    "coroutines and the Context, not timers or sockets"
)


def default_title(name: str) -> str:
    """FastMCP's title for a name: `none_ret` -> `None Ret`."""
    return name.replace("_", " ").replace("-", " ").title()
