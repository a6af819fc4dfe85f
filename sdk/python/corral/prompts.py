"""Prompt messages under FastMCP's names (`fastmcp.prompts`)."""

from __future__ import annotations

from typing import Any, Literal

from corral.content import _Media, serialize


class Message:
    """One prompt message: `Message("text")`, `Message(image, role="assistant")`.

    Content that is not a string or an `Image`/`Audio` is sent as JSON text.
    """

    def __init__(self, content: Any, role: Literal["user", "assistant"] = "user") -> None:
        if role not in ("user", "assistant"):
            raise ValueError(f"a message's role is 'user' or 'assistant', not {role!r}")
        self.role = role
        self.content = content

    def to_block(self) -> dict:
        if isinstance(self.content, str):
            return {"type": "text", "text": self.content}
        if isinstance(self.content, _Media):
            return self.content.to_block()
        if isinstance(self.content, dict) and self.content.get("type") == "text":
            return {"type": "text", "text": str(self.content.get("text", ""))}
        return {"type": "text", "text": serialize(self.content)}

    def __repr__(self) -> str:
        return f"Message({self.content!r}, role={self.role!r})"


PromptMessage = Message

__all__ = ["Message", "PromptMessage"]
