"""The WIT side: Corral's `corral:mcp/full` exports, served from `FastMCP`.

componentize-py binds each exported interface to the class of the same name
in the component's main module; the module `corral build` writes imports the
plugin (which registers its functions) and then these classes. Only this
module touches the generated `wit_world` bindings.
"""

from __future__ import annotations

import json
from typing import Any

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import completions, prompts, resources, tasks, tools
from wit_world.imports import context, types

from corral.context import NeedsInput, Rounds
from corral.convert import ArgumentError
from corral.exceptions import NotFoundError, PromptError, ResourceError, ToolError, ValidationError
from corral.server import serving

_LEVELS = {level.name.lower(): level for level in context.LogLevel}
_SUPPORT = {"optional": tasks.TaskSupport.OPTIONAL, "required": tasks.TaskSupport.REQUIRED, "forbidden": tasks.TaskSupport.FORBIDDEN}


class _Host:
    """What a `Context` calls: the host's `context` import."""

    def log(self, level: str, message: str) -> None:
        context.log(_LEVELS[level], message)

    def progress(self, progress: float, total: float | None, message: str | None) -> None:
        context.progress(progress, total, message)

    def cancelled(self) -> bool:
        return context.cancelled()


_HOST = _Host()


def _rounds(input: types.Input | None) -> Rounds:
    return Rounds(list(input.responses), input.state) if input is not None else Rounds(None, None)


def _error(e: Exception, what: str) -> Err:
    """The WIT error for an exception a handler raised."""
    if isinstance(e, NotFoundError):
        return Err(types.Error_NotFound(str(e)))
    if isinstance(e, (ArgumentError, ValidationError)):
        return Err(types.Error_InvalidParams(str(e)))
    if isinstance(e, (ToolError, ResourceError, PromptError)):
        return Err(types.Error_ToolError(str(e)))
    return Err(types.Error_Internal(f"Error calling {what}: {type(e).__name__}: {e}"))


def _content(block: dict) -> types.Content:
    kind = block["type"]
    if kind == "text":
        return types.Content_Text(block["text"])
    if kind == "image":
        return types.Content_Image(types.Blob(data=block["data"], mime_type=block["mimeType"]))
    if kind == "audio":
        return types.Content_Audio(types.Blob(data=block["data"], mime_type=block["mimeType"]))
    if kind == "resource":
        return types.Content_Embedded(_contents(block["resource"]))
    raise ToolError(f"unsupported content block {kind!r}")


def _contents(item: dict) -> types.ResourceContents:
    body = types.ResourceBody_Blob(item["blob"]) if "blob" in item else types.ResourceBody_Text(item["text"])
    return types.ResourceContents(uri=item["uri"], mime_type=item.get("mimeType"), body=body)


def _message(message: dict) -> types.PromptMessage:
    role = types.Role.ASSISTANT if message["role"] == "assistant" else types.Role.USER
    return types.PromptMessage(role=role, content=_content(message["content"]))


def _request(kind: str, payload: Any) -> types.InputRequest:
    if kind == "elicit":
        return types.InputRequest_Elicit(types.ElicitRequest(message=payload["message"], requested_schema=json.dumps(payload["requestedSchema"])))
    if kind == "sample":
        return types.InputRequest_Sample(types.SampleRequest(messages=[_message(m) for m in payload["messages"]], max_tokens=payload["maxTokens"], system_prompt=payload["systemPrompt"]))
    return types.InputRequest_Roots()


def _needs(e: NeedsInput) -> types.InputRequired:
    return types.InputRequired(requests=[(key, _request(kind, payload)) for key, (kind, payload) in e.requests], state=e.state)


class Tools(exports.Tools):
    def list_tools(self) -> list[tools.Tool]:
        out = []
        for tool in serving().tools.values():
            hints = tool.annotations
            out.append(tools.Tool(
                name=tool.name,
                title=tool.title,
                description=tool.description,
                input_schema=json.dumps(tool.input_schema),
                output_schema=None if tool.output_schema is None else json.dumps(tool.output_schema),
                annotations=tools.Annotations(
                    read_only=hints.get("read_only"),
                    destructive=hints.get("destructive"),
                    idempotent=hints.get("idempotent"),
                    open_world=hints.get("open_world"),
                ) if hints else None,
                tags=tool.tags,
                icons=[],
            ))
        return out

    def call_tool(self, name: str, arguments: str, input: types.Input | None) -> tools.Outcome:
        try:
            done = serving().call_tool(name, arguments, _rounds(input), _HOST)
        except NeedsInput as e:
            return tools.Outcome_NeedsInput(_needs(e))
        except Exception as e:
            raise _error(e, f"tool '{name}'") from None
        return tools.Outcome_Complete(tools.ToolResult(
            content=[_content(b) for b in done.content],
            structured=None if done.structured is None else json.dumps(done.structured),
            is_error=False,
        ))


class Resources(exports.Resources):
    def list_resources(self) -> list[resources.ResourceInfo]:
        return [
            resources.ResourceInfo(uri=r.uri, name=r.name, title=r.title, description=r.description, mime_type=r.mime_type, size=None, tags=r.tags, icons=[])
            for r in serving().resources.values()
        ]

    def list_templates(self) -> list[resources.ResourceTemplate]:
        return [
            resources.ResourceTemplate(uri_template=t.uri, name=t.name, title=t.title, description=t.description, mime_type=t.mime_type, tags=t.tags, icons=[])
            for t in serving().templates.values()
        ]

    def read_resource(self, uri: str, params: list[tuple[str, str]], input: types.Input | None) -> resources.ReadOutcome:
        try:
            contents = serving().read_resource(uri, list(params), _rounds(input), _HOST)
        except NeedsInput as e:
            return resources.ReadOutcome_NeedsInput(_needs(e))
        except Exception as e:
            raise _error(e, f"resource '{uri}'") from None
        return resources.ReadOutcome_Complete([_contents(c) for c in contents])


class Prompts(exports.Prompts):
    def list_prompts(self) -> list[prompts.Prompt]:
        return [
            prompts.Prompt(
                name=p.name,
                title=p.title,
                description=p.description,
                arguments=[prompts.PromptArgument(name=a["name"], description=a["description"], required=a["required"]) for a in p.arguments],
                tags=p.tags,
                icons=[],
            )
            for p in serving().prompts.values()
        ]

    def get_prompt(self, name: str, arguments: list[tuple[str, str]], input: types.Input | None) -> prompts.GetOutcome:
        try:
            description, messages = serving().get_prompt(name, list(arguments), _rounds(input), _HOST)
        except NeedsInput as e:
            return prompts.GetOutcome_NeedsInput(_needs(e))
        except Exception as e:
            raise _error(e, f"prompt '{name}'") from None
        return prompts.GetOutcome_Complete(prompts.PromptResult(description=description, messages=[_message(m) for m in messages]))


class Completions(exports.Completions):
    def complete(self, reference: completions.Reference, argument: str, value: str) -> list[str]:
        return []


class Tasks(exports.Tasks):
    def list_task_support(self) -> list[tasks.ToolTaskSupport]:
        return [
            tasks.ToolTaskSupport(tool=t.name, support=_SUPPORT[t.task])
            for t in serving().tools.values()
            if t.task is not None
        ]
