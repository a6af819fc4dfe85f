"""`Context`: what a handler can ask of the client, FastMCP's way.

A parameter annotated `Context` is filled in by the SDK (it is not part of
the input schema). Logging and progress go straight to the host.

Asking the client (`elicit`, `sample`, `list_roots`) works without a
connection held open: the first `await ctx.elicit(...)` with no answer yet
ends the call with a request; the host asks the client and runs the handler
again from the start, and this time the same `await` returns the answer.
Requests are keyed by the order they are made in, and the answers of every
earlier round travel in the call's `state`, so a handler may ask several
things in turn. A handler must therefore ask in the same order on every run,
and whatever it does before an `await ctx.elicit(...)` happens once per round.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from typing import Any, Literal

from corral.convert import ArgumentError, convert, to_jsonable
from corral.exceptions import ToolError
from corral.schema import SchemaError, schema_of

LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")


class NeedsInput(Exception):
    """Raised inside a handler to end the round with requests for the client."""

    def __init__(self, requests: list[tuple[str, tuple[str, Any]]], state: str) -> None:
        super().__init__("the call needs input from the client")
        self.requests = requests
        self.state = state


class Rounds:
    """The answers so far, and the key of the next request."""

    def __init__(self, responses: list[tuple[str, str]] | None, state: str | None) -> None:
        answers: dict[str, str] = {}
        if state:
            try:
                carried = json.loads(state)
            except ValueError:
                carried = {}
            if isinstance(carried, dict) and isinstance(carried.get("answers"), dict):
                answers.update(carried["answers"])
        answers.update(dict(responses or []))
        self.answers = answers
        self.next = 0

    def ask(self, kind: str, payload: Any) -> Any:
        """The decoded answer to the next request, or `NeedsInput` for it."""
        key = f"{kind}-{self.next}"
        self.next += 1
        if key in self.answers:
            try:
                return json.loads(self.answers[key])
            except ValueError as e:
                raise ToolError(f"the client's answer to {kind} was not JSON: {e}") from None
        raise NeedsInput([(key, (kind, payload))], json.dumps({"answers": self.answers}))


@dataclasses.dataclass
class AcceptedElicitation:
    """The user answered: `data` is the answer, as the requested type."""

    data: Any
    action: Literal["accept"] = "accept"


@dataclasses.dataclass
class DeclinedElicitation:
    """The user said no."""

    action: Literal["decline"] = "decline"


@dataclasses.dataclass
class CancelledElicitation:
    """The user dismissed the question."""

    action: Literal["cancel"] = "cancel"


@dataclasses.dataclass
class SamplingResult:
    """The model's answer: `text` (None if it answered with something else)."""

    text: str | None
    model: str | None
    raw: dict


@dataclasses.dataclass
class Root:
    """One of the client's roots."""

    uri: str
    name: str | None = None


def _elicitation_schema(response_type: Any, title: str | None, description: str | None) -> tuple[dict, bool]:
    """(requested schema, whether the answer is wrapped under `value`)."""
    if response_type is None:
        raise TypeError("elicit() needs a response_type (bool for a plain confirmation)")
    if isinstance(response_type, list):
        if response_type and isinstance(response_type[0], list):  # [["a", "b"]]: pick several
            value: dict = {"items": {"enum": list(response_type[0]), "type": "string"}, "type": "array"}
        else:
            value = {"enum": list(response_type), "type": "string"}
        wrapped = True
    elif isinstance(response_type, type) and (dataclasses.is_dataclass(response_type) or hasattr(response_type, "__corral_fields__") or typing.is_typeddict(response_type)):
        return schema_of(response_type), False
    else:
        try:
            value = schema_of(response_type)
        except SchemaError as e:
            raise TypeError(f"elicit(): {e}") from None
        wrapped = True
    value = {**value, "title": title or "Value"}
    if description:
        value["description"] = description
    return {"properties": {"value": value}, "required": ["value"], "type": "object"}, wrapped


class Context:
    """The handler's view of its call (FastMCP's `Context`, the parts that
    make sense for a sandboxed, stateless call)."""

    def __init__(self, host: Any, rounds: Rounds) -> None:
        self._host = host
        self._rounds = rounds

    # --- logging and progress --------------------------------------------

    async def log(self, message: str, level: str | None = None, logger_name: str | None = None, extra: Any = None) -> None:
        """Send a log message to the client (`notifications/message`)."""
        level = level or "info"
        if level not in LEVELS:
            raise ValueError(f"log level must be one of {LEVELS}, not {level!r}")
        if extra:
            message = f"{message} {json.dumps(to_jsonable(extra))}"
        self._host.log(level, f"{logger_name}: {message}" if logger_name else message)

    async def debug(self, message: str, logger_name: str | None = None, extra: Any = None) -> None:
        await self.log(message, "debug", logger_name, extra)

    async def info(self, message: str, logger_name: str | None = None, extra: Any = None) -> None:
        await self.log(message, "info", logger_name, extra)

    async def warning(self, message: str, logger_name: str | None = None, extra: Any = None) -> None:
        await self.log(message, "warning", logger_name, extra)

    async def error(self, message: str, logger_name: str | None = None, extra: Any = None) -> None:
        await self.log(message, "error", logger_name, extra)

    async def report_progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        """Report progress (`notifications/progress`), if the client asked for it."""
        self._host.progress(float(progress), None if total is None else float(total), message)

    def is_cancelled(self) -> bool:
        """Whether the client has cancelled this call; long loops should stop."""
        return self._host.cancelled()

    # --- asking the client -------------------------------------------------

    async def elicit(self, message: str, response_type: Any = None, *, response_title: str | None = None, response_description: str | None = None) -> AcceptedElicitation | DeclinedElicitation | CancelledElicitation:
        """Ask the user; returns `AcceptedElicitation(data=...)`,
        `DeclinedElicitation()` or `CancelledElicitation()`.

        `response_type`: a scalar type, `Literal`, `Enum`, a list of choices
        (`["low", "high"]`, or `[["a", "b"]]` to pick several), or a
        dataclass / model / TypedDict for a form."""
        schema, wrapped = _elicitation_schema(response_type, response_title, response_description)
        answer = self._rounds.ask("elicit", {"message": message, "requestedSchema": schema})
        action = answer.get("action") if isinstance(answer, dict) else None
        if action == "decline":
            return DeclinedElicitation()
        if action == "cancel":
            return CancelledElicitation()
        if action != "accept":
            raise ToolError(f"the client answered the elicitation with {action!r}")
        content = answer.get("content") or {}
        try:
            if wrapped:
                data = content.get("value")
                if isinstance(response_type, list):
                    return AcceptedElicitation(data=data)
                return AcceptedElicitation(data=convert(data, response_type, "value"))
            return AcceptedElicitation(data=convert(content, response_type, "answer"))
        except ArgumentError as e:
            raise ToolError(f"the client's answer does not fit the question: {e}") from None

    async def sample(self, messages: Any, system_prompt: str | None = None, temperature: float | None = None, max_tokens: int | None = None, **_: Any) -> SamplingResult:
        """Ask the client's model; `messages` is a string, or a list of strings
        and `Message`s. Returns a result with `.text`."""
        from corral.prompts import Message

        if isinstance(messages, (str, Message)):
            messages = [messages]
        wire = []
        for m in messages:
            m = m if isinstance(m, Message) else Message(m)
            wire.append({"role": m.role, "content": m.to_block()})
        answer = self._rounds.ask("sample", {"messages": wire, "maxTokens": int(max_tokens or 512), "systemPrompt": system_prompt})
        content = answer.get("content") if isinstance(answer, dict) else None
        blocks = content if isinstance(content, list) else [content]
        text = next((b.get("text") for b in blocks if isinstance(b, dict) and b.get("type") == "text"), None)
        return SamplingResult(text=text, model=answer.get("model") if isinstance(answer, dict) else None, raw=answer if isinstance(answer, dict) else {})

    async def list_roots(self) -> list[Root]:
        """The client's roots."""
        answer = self._rounds.ask("roots", None)
        roots = answer.get("roots", []) if isinstance(answer, dict) else []
        return [Root(uri=r.get("uri", ""), name=r.get("name")) for r in roots if isinstance(r, dict)]


def is_context_type(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, Context)


__all__ = [
    "AcceptedElicitation",
    "CancelledElicitation",
    "Context",
    "DeclinedElicitation",
    "Root",
    "SamplingResult",
]
