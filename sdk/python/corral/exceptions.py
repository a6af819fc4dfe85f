"""Errors a handler raises, under FastMCP's names (`fastmcp.exceptions`).

- `ToolError`: a user-facing failure; the client sees its message in an
  `isError` result (never masked).
- `ResourceError`, `PromptError`: the same for resources and prompts.
- `NotFoundError`: no such tool, resource or prompt.
- `ValidationError`: the arguments do not fit (MCP: invalid params).

Any other exception is an internal error: the host logs it and, when error
masking is on, hides its text from the client.
"""

from __future__ import annotations


class FastMCPError(Exception):
    """Base error for everything a handler may raise on purpose."""


CorralError = FastMCPError


class ValidationError(FastMCPError):
    """The arguments or a value do not fit (MCP: invalid params)."""


class ToolError(FastMCPError):
    """A tool failed in a way the client should see."""


class ResourceError(FastMCPError):
    """A resource could not be read, in a way the client should see."""


class PromptError(FastMCPError):
    """A prompt could not be rendered, in a way the client should see."""


class NotFoundError(FastMCPError):
    """No such tool, resource or prompt."""


__all__ = [
    "CorralError",
    "FastMCPError",
    "NotFoundError",
    "PromptError",
    "ResourceError",
    "ToolError",
    "ValidationError",
]
