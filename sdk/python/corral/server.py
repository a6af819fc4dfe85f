"""`FastMCP`: the server object plugins decorate their functions with.

The same API as FastMCP's server (`@mcp.tool`, `@mcp.resource`,
`@mcp.prompt`), so a FastMCP file becomes a Corral plugin by changing its
import. What the decorators collect is served by the component layer
(`corral._component`); nothing here touches the WIT, so the same module runs,
and is tested, under plain CPython.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from typing import Any, Callable

from corral.content import to_blocks
from corral.context import Context, Rounds
from corral.convert import ArgumentError, to_jsonable
from corral.exceptions import NotFoundError, PromptError
from corral.functions import Signature, default_title
from corral.prompts import Message
from corral.schema import output_schema as derive_output_schema
from corral.schema import schema_of, split_annotated

#: Every server created, in order; the component serves the last one.
SERVERS: list[FastMCP] = []

#: FastMCP decorator arguments that have no meaning in a sandboxed,
#: stateless call. They are accepted (so a FastMCP file builds unchanged)
#: and have no effect.
IGNORED = frozenset({"version", "meta", "app", "timeout", "auth", "run_in_thread", "security", "serializer"})

_ANNOTATION_KEYS = {
    "readOnlyHint": "read_only",
    "destructiveHint": "destructive",
    "idempotentHint": "idempotent",
    "openWorldHint": "open_world",
}
_TEMPLATE_VARIABLE = re.compile(r"\{[+#./;?&]?([A-Za-z_][A-Za-z0-9_]*)\*?\}")
_TASK_MODES = {True: "optional", False: "forbidden", None: None, "optional": "optional", "required": "required", "forbidden": "forbidden"}


def _check_kwargs(what: str, extra: dict[str, Any]) -> None:
    unknown = sorted(set(extra) - IGNORED)
    if unknown:
        raise TypeError(f"{what}() got unexpected keyword arguments {unknown}")


def _annotations(value: Any) -> tuple[dict[str, bool], str | None]:
    """(hints by WIT name, title) from a dict or a `ToolAnnotations`-like object."""
    if value is None:
        return {}, None
    get = value.get if isinstance(value, dict) else (lambda k: getattr(value, k, None))
    hints = {}
    for key, wit in _ANNOTATION_KEYS.items():
        hint = get(key)
        if hint is None:
            hint = get(wit)  # snake_case, as ToolAnnotations' attributes are named
        if hint is not None:
            hints[wit] = bool(hint)
    return hints, get("title")


@dataclasses.dataclass
class Tool:
    name: str
    title: str | None
    description: str | None
    signature: Signature
    input_schema: dict
    output_schema: dict | None
    annotations: dict[str, bool]
    tags: list[str]
    icons: list[Any]
    task: str | None

    def describe(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "inputSchema": self.input_schema,
            "outputSchema": self.output_schema,
            "annotations": self.annotations or None,
            "tags": self.tags,
        }


@dataclasses.dataclass
class Resource:
    uri: str
    name: str
    title: str | None
    description: str | None
    mime_type: str
    tags: list[str]
    signature: Signature
    template: bool

    def describe(self) -> dict:
        key = "uriTemplate" if self.template else "uri"
        return {key: self.uri, "name": self.name, "title": self.title, "description": self.description, "mimeType": self.mime_type, "tags": self.tags}


@dataclasses.dataclass
class Prompt:
    name: str
    title: str | None
    description: str | None
    arguments: list[dict]
    tags: list[str]
    signature: Signature

    def describe(self) -> dict:
        return {"name": self.name, "title": self.title, "description": self.description, "arguments": self.arguments, "tags": self.tags}


@dataclasses.dataclass
class Complete:
    """A finished call: MCP-shaped content blocks and structured content."""

    content: list[dict]
    structured: Any = None
    is_error: bool = False


class FastMCP:
    """A server: the tools, resources and prompts of one plugin.

    `FastMCP(name, instructions=...)`; any other FastMCP constructor argument
    is accepted and ignored (the host, not the plugin, decides transports,
    auth and limits)."""

    def __init__(self, name: str | None = None, instructions: str | None = None, **settings: Any) -> None:
        self.name = name or "corral"
        self.instructions = instructions
        self.settings = settings
        self.tools: dict[str, Tool] = {}
        self.resources: dict[str, Resource] = {}
        self.templates: dict[str, Resource] = {}
        self.prompts: dict[str, Prompt] = {}
        SERVERS.append(self)

    def __repr__(self) -> str:
        return f"FastMCP({self.name!r})"

    # --- registration ------------------------------------------------------

    def tool(self, name_or_fn: Any = None, *, name: str | None = None, title: str | None = None, description: str | None = None, tags: Any = None, annotations: Any = None, output_schema: Any = ..., icons: Any = None, exclude_args: Any = None, enabled: bool = True, task: Any = None, **ignored: Any) -> Any:
        """Register a tool: `@mcp.tool`, `@mcp.tool()`, `@mcp.tool("name")`,
        `@mcp.tool(name=..., description=..., tags={...}, annotations={...})`,
        or `mcp.tool(fn, ...)`."""
        _check_kwargs("tool", ignored)
        if isinstance(name_or_fn, str):
            if name is not None:
                raise TypeError("tool(): the name is given twice")
            name, name_or_fn = name_or_fn, None

        def register(fn: Callable) -> Callable:
            if enabled:
                self.add_tool(fn, name=name, title=title, description=description, tags=tags, annotations=annotations, output_schema=output_schema, icons=icons, exclude_args=exclude_args, task=task)
            return fn

        return register(name_or_fn) if name_or_fn is not None else register

    def add_tool(self, fn: Callable, *, name: str | None = None, title: str | None = None, description: str | None = None, tags: Any = None, annotations: Any = None, output_schema: Any = ..., icons: Any = None, exclude_args: Any = None, task: Any = None) -> Tool:
        """Register `fn` as a tool (what `@mcp.tool` does)."""
        tool_name = name or fn.__name__
        signature = Signature.of(fn, f"tool '{tool_name}'", set(exclude_args or ()))
        hints, hinted_title = _annotations(annotations)
        if task not in _TASK_MODES:
            raise TypeError(f"tool '{tool_name}': task must be True, False or one of 'optional', 'required', 'forbidden'")
        tool = Tool(
            name=tool_name,
            title=title or hinted_title or default_title(tool_name),
            description=description if description is not None else signature.description,
            signature=signature,
            input_schema=signature.input_schema(),
            output_schema=derive_output_schema(signature.returns) if output_schema is ... else output_schema,
            annotations=hints,
            tags=sorted(tags or ()),
            icons=list(icons or ()),
            task=_TASK_MODES[task],
        )
        self.tools[tool_name] = tool
        return tool

    def resource(self, uri: str, *, name: str | None = None, title: str | None = None, description: str | None = None, mime_type: str | None = None, tags: Any = None, icons: Any = None, annotations: Any = None, enabled: bool = True, **ignored: Any) -> Callable:
        """Register a resource (`@mcp.resource("data://config")`) or a
        resource template (`@mcp.resource("users://{user_id}/profile")`,
        whose variables are the function's parameters)."""
        _check_kwargs("resource", ignored)
        if callable(uri):
            raise TypeError("resource() needs a URI: write @mcp.resource(\"scheme://path\")")

        def register(fn: Callable) -> Callable:
            if enabled:
                self.add_resource_fn(fn, uri, name=name, title=title, description=description, mime_type=mime_type, tags=tags)
            return fn

        return register

    def add_resource_fn(self, fn: Callable, uri: str, *, name: str | None = None, title: str | None = None, description: str | None = None, mime_type: str | None = None, tags: Any = None) -> Resource:
        resource_name = name or fn.__name__
        signature = Signature.of(fn, f"resource '{uri}'")
        variables = _TEMPLATE_VARIABLE.findall(uri)
        params = {p.name for p in signature.params}
        required = {p.name for p in signature.params if p.required}
        if variables:
            if not required <= set(variables) or not set(variables) <= params:
                raise TypeError(f"resource template '{uri}': its variables {sorted(variables)} must be parameters of {fn.__name__}() and every required parameter a variable (parameters: {sorted(params)})")
        elif required:
            raise TypeError(f"resource '{uri}' has no template variables, so {fn.__name__}() cannot take required parameters {sorted(required)}")
        resource = Resource(uri, resource_name, title, description if description is not None else signature.description, mime_type or "text/plain", sorted(tags or ()), signature, bool(variables))
        (self.templates if variables else self.resources)[uri] = resource
        return resource

    def prompt(self, name_or_fn: Any = None, *, name: str | None = None, title: str | None = None, description: str | None = None, tags: Any = None, icons: Any = None, enabled: bool = True, **ignored: Any) -> Any:
        """Register a prompt: `@mcp.prompt`, `@mcp.prompt()`, `@mcp.prompt("name")`
        or `@mcp.prompt(name=..., description=..., tags={...})`."""
        _check_kwargs("prompt", ignored)
        if isinstance(name_or_fn, str):
            name, name_or_fn = name_or_fn, None

        def register(fn: Callable) -> Callable:
            if enabled:
                self.add_prompt_fn(fn, name=name, title=title, description=description, tags=tags)
            return fn

        return register(name_or_fn) if name_or_fn is not None else register

    def add_prompt_fn(self, fn: Callable, *, name: str | None = None, title: str | None = None, description: str | None = None, tags: Any = None) -> Prompt:
        prompt_name = name or fn.__name__
        signature = Signature.of(fn, f"prompt '{prompt_name}'")
        arguments = []
        for p in signature.params:
            text = signature.property_schema(p).get("description")
            if split_annotated(p.hint)[0] is not str or split_annotated(p.hint)[1]:
                note = f"Provide a value matching the following JSON schema: {json.dumps(schema_of(p.hint), separators=(',', ':'))}. Encode non-string values as JSON."
                text = f"{text}\n\n{note}" if text else note
            arguments.append({"name": p.name, "description": text, "required": p.required})
        prompt = Prompt(prompt_name, title, description if description is not None else signature.description, arguments, sorted(tags or ()), signature)
        self.prompts[prompt_name] = prompt
        return prompt

    def run(self, *args: Any, **kwargs: Any) -> None:
        """Harmless in a component (the host serves the plugin); outside one,
        says how to build it. Any FastMCP arguments are accepted."""
        if sys.platform != "wasi":
            raise SystemExit(f"{self.name}: this is a Corral plugin; build it with `corral build {sys.argv[0] or 'app.py'}` and serve it with `corral serve`")

    async def run_async(self, *args: Any, **kwargs: Any) -> None:
        self.run(*args, **kwargs)

    # --- serving -----------------------------------------------------------

    def call_tool(self, name: str, arguments: str, rounds: Rounds, host: Any) -> Complete:
        """Run a tool; raises `NeedsInput`, `ToolError`, `ArgumentError`, `NotFoundError`."""
        tool = self.tools.get(name)
        if tool is None:
            raise NotFoundError(f"Unknown tool: '{name}'")
        try:
            values = json.loads(arguments) if arguments.strip() else {}
        except ValueError as e:
            raise ArgumentError(f"the arguments are not JSON: {e}") from None
        if not isinstance(values, dict):
            raise ArgumentError("the arguments must be a JSON object")
        kwargs = tool.signature.bind(values, f"tool '{name}'")
        result = tool.signature.call(kwargs, Context(host, rounds))
        structured = None
        if tool.output_schema is not None:
            value = to_jsonable(result)
            if tool.output_schema.get("x-fastmcp-wrap-result"):
                structured = {"result": value}  # `{"result": null}` fits `X | None`
            elif value is not None:
                structured = value
        return Complete(to_blocks(result), structured)

    def read_resource(self, uri: str, params: list[tuple[str, str]], rounds: Rounds, host: Any) -> list[dict]:
        """Read a resource or a template instance: MCP-shaped contents."""
        resource = self.resources.get(uri)
        kwargs: dict[str, Any] = {}
        if resource is None:
            # The host matched the template and gives its variables; without
            # them (a direct call), the SDK matches the URI itself.
            variables = {k for k, _ in params}
            resource = next(
                (t for t in self.templates.values() if _matches(t.uri, uri) and (not params or set(_TEMPLATE_VARIABLE.findall(t.uri)) == variables)),
                None,
            )
            if resource is None:
                raise NotFoundError(f"Unknown resource: '{uri}'")
            values = dict(params) if params else _match_values(resource.uri, uri)
            kwargs = resource.signature.bind_strings(values, f"resource '{uri}'")
        value = resource.signature.call(kwargs, Context(host, rounds))
        if isinstance(value, bytes):
            body = {"blob": value}
        elif isinstance(value, str):
            body = {"text": value}
        else:
            body = {"text": json.dumps(to_jsonable(value), ensure_ascii=False)}
        return [{"uri": uri, "mimeType": resource.mime_type, **body}]

    def get_prompt(self, name: str, arguments: list[tuple[str, str]], rounds: Rounds, host: Any) -> tuple[str | None, list[dict]]:
        """Render a prompt: (description, messages as {role, content block})."""
        prompt = self.prompts.get(name)
        if prompt is None:
            raise NotFoundError(f"Unknown prompt: '{name}'")
        kwargs = prompt.signature.bind_strings(dict(arguments), f"prompt '{name}'")
        value = prompt.signature.call(kwargs, Context(host, rounds))
        return prompt.description, [_message(m, name) for m in (value if isinstance(value, (list, tuple)) else [value])]


def _message(value: Any, prompt: str) -> dict:
    if isinstance(value, str):
        value = Message(value)
    elif isinstance(value, dict) and "role" in value and "content" in value:
        content = value["content"]
        value = Message(content.get("text", content) if isinstance(content, dict) else content, value["role"])
    elif not isinstance(value, Message):
        raise PromptError(f"prompt '{prompt}' returned {type(value).__name__}; a prompt returns a string, a Message, or a list of them")
    return {"role": value.role, "content": value.to_block()}


def _pattern(template: str) -> re.Pattern:
    parts = []
    last = 0
    for m in _TEMPLATE_VARIABLE.finditer(template):
        parts.append(re.escape(template[last:m.start()]))
        star = m.group(0).endswith("*}")
        parts.append(f"(?P<{m.group(1)}>{'.+' if star else '[^/]+'})")
        last = m.end()
    parts.append(re.escape(template[last:]))
    return re.compile("".join(parts) + r"\Z")


def _matches(template: str, uri: str) -> bool:
    return _pattern(template).match(uri) is not None


def _match_values(template: str, uri: str) -> dict[str, str]:
    m = _pattern(template).match(uri)
    return {k: v for k, v in m.groupdict().items()} if m else {}


def serving() -> FastMCP:
    """The server a component serves: the last one created."""
    if not SERVERS:
        raise RuntimeError("no FastMCP server was created: a plugin module makes one with `mcp = FastMCP(\"name\")`")
    return SERVERS[-1]


__all__ = ["FastMCP", "SERVERS", "serving"]
